"""Which programmes an academy runs: the regional default until it adopts its own, then its own versions.

An academy's first certification act adopts the regional programmes as version 1 of its own. Importing a file
afterwards makes a new version of each programme that changed and retires the programmes the file leaves out;
decisions keep the version they met. Every change is audited.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Collection
from functools import lru_cache
from pathlib import Path

import tomli_w
from flask import g, has_request_context
from sqlalchemy import select

from ibm_lms.audit import service as audit
from ibm_lms.content import service as content
from ibm_lms.errors import N_, Phrase
from ibm_lms.extensions import db

from .data import ProgrammeRecord
from .errors import ProgrammeNotFound, ProgrammesRefused
from .models import ProgrammeVersion
from .rules import Programme, ProgrammeProblem, programme_from, programme_to_table, programmes_from

REGIONAL_FILE = Path(__file__).with_name("regional_programmes.toml")
MAX_FILE_BYTES = 256 * 1024


@lru_cache(maxsize=1)
def regional() -> tuple[Programme, ...]:
    return tuple(programmes_from(tomllib.loads(REGIONAL_FILE.read_text(encoding="utf-8"))))


def _rows(tenant_id: int, *, current_only: bool = True) -> list[ProgrammeVersion]:
    query = select(ProgrammeVersion).where(ProgrammeVersion.tenant_id == tenant_id)
    if current_only:
        query = query.where(ProgrammeVersion.current.is_(True))
    return list(db.session.execute(query.order_by(ProgrammeVersion.key)).scalars())


def _adopted(tenant_id: int) -> bool:
    return db.session.execute(select(ProgrammeVersion.id).where(ProgrammeVersion.tenant_id == tenant_id)
                              .limit(1)).first() is not None


def current(tenant_id: int) -> list[ProgrammeRecord]:
    """The academy's programmes now; read once per request (a page asks several times), forgotten on change."""
    memo = g.setdefault("certification_programmes", {}) if has_request_context() else {}
    if tenant_id not in memo:
        if not _adopted(tenant_id):
            memo[tenant_id] = [ProgrammeRecord(p, 1, "regional") for p in regional()]
        else:
            memo[tenant_id] = [ProgrammeRecord(programme_from(row.definition), row.version, "academy")
                               for row in _rows(tenant_id)]
    return memo[tenant_id]


def _forget(tenant_id: int) -> None:
    if has_request_context():
        g.setdefault("certification_programmes", {}).pop(tenant_id, None)


def get(tenant_id: int, key: str) -> ProgrammeRecord:
    found = next((record for record in current(tenant_id) if record.key == key), None)
    if found is None:
        raise ProgrammeNotFound(key=str(key)[:64])
    return found


def version(tenant_id: int, key: str, number: int) -> Programme:
    row = db.session.execute(select(ProgrammeVersion).where(
        ProgrammeVersion.tenant_id == tenant_id, ProgrammeVersion.key == key,
        ProgrammeVersion.version == number)).scalar_one_or_none()
    if row is None:
        return next(p for p in regional() if p.key == key)
    return programme_from(row.definition)


def adopt(tenant_id: int, actor: str) -> None:
    """Makes the regional programmes the academy's own version 1 (once). The caller commits."""
    if _adopted(tenant_id):
        return
    for programme in regional():
        db.session.add(ProgrammeVersion(tenant_id=tenant_id, key=programme.key, version=1,
                                        definition=programme_to_table(programme), created_by=actor[:300]))
    db.session.flush()
    _forget(tenant_id)
    audit.record(actor=actor, action="programme.adopted", subject=f"tenant {tenant_id}", tenant_id=tenant_id,
                 details={"programmes": [p.key for p in regional()], "source": "regional default"})


def export_text(tenant_id: int) -> str:
    return tomli_w.dumps({"programmes": [programme_to_table(r.programme) for r in current(tenant_id)]})


def parse(text: str, known_courses: set[str], quizzes_of: Callable[[str], Collection[str]]) -> list[Programme]:
    """The programmes of a file; ProgrammesRefused names the line and what is wrong. `quizzes_of` gives the quiz
    keys of a known course."""
    if len(text.encode("utf-8")) > MAX_FILE_BYTES:
        raise ProgrammesRefused(reason=Phrase(N_("the file is larger than %(size)d KiB"), size=MAX_FILE_BYTES // 1024))
    raw, problem = content.read_toml_text(text)
    if problem is not None:
        raise ProgrammesRefused(reason=Phrase(N_("line %(line)s: %(problem)s"), line=problem.line,
                                              problem=problem.message) if problem.line else problem.message)
    try:
        found = programmes_from(raw)
    except ProgrammeProblem as problem:
        raise ProgrammesRefused(reason=_located(text, raw, problem)) from None
    for programme in found:
        unknown = sorted(programme.requirement_courses() - known_courses)
        if programme.area not in known_courses or unknown:
            raise ProgrammesRefused(reason=_located(text, raw, ProgrammeProblem(
                programme.key, N_("names a course this tool does not have: %(course)s"),
                course=", ".join(unknown) or programme.area)))
        paths = programme.requirements + (programme.renewal.requirements if programme.renewal else ())
        for r in paths:
            # A programme naming a quiz nobody can take could never be met.
            if r.quiz is not None and r.course is not None and r.quiz not in quizzes_of(r.course):
                raise ProgrammesRefused(reason=_located(text, raw, ProgrammeProblem(
                    programme.key, N_("names a quiz the course %(course)s does not have: %(quiz)s"),
                    course=r.course, quiz=r.quiz)))
    return found


def _located(text: str, raw: object, problem: ProgrammeProblem) -> Phrase:
    line = None
    if problem.key and isinstance(raw, dict) and isinstance(raw.get("programmes"), list):
        index = next((i for i, p in enumerate(raw["programmes"]) if isinstance(p, dict) and p.get("key") == problem.key),
                     None)
        if index is not None:
            line = content.toml_line(text, ("programmes", index, "key"))
    detail = Phrase(problem.message, **problem.params)
    if problem.key:
        detail = Phrase(N_("programme %(key)s: %(problem)s"), key=problem.key, problem=detail)
    return Phrase(N_("line %(line)s: %(problem)s"), line=line or "?", problem=detail) if line else detail


def replace(tenant_id: int, found: list[Programme], actor: str) -> dict[str, list[str]]:
    """Stores a new version of each changed programme and retires those left out. The caller commits."""
    adopt(tenant_id, actor)
    rows = {row.key: row for row in _rows(tenant_id)}
    latest = {}
    for row in _rows(tenant_id, current_only=False):
        latest[row.key] = max(latest.get(row.key, 0), row.version)
    changes = {"added": [], "changed": [], "retired": [], "unchanged": []}
    for programme in found:
        table = programme_to_table(programme)
        row = rows.get(programme.key)
        if row is not None and row.definition == table:
            changes["unchanged"].append(programme.key)
            continue
        if row is not None:
            row.current = False
        changes["changed" if row is not None else "added"].append(programme.key)
        db.session.add(ProgrammeVersion(tenant_id=tenant_id, key=programme.key,
                                        version=latest.get(programme.key, 0) + 1, definition=table,
                                        created_by=actor[:300]))
    kept = {p.key for p in found}
    for key, row in rows.items():
        if key not in kept:
            row.current = False
            changes["retired"].append(key)
    db.session.flush()
    _forget(tenant_id)
    if changes["added"] or changes["changed"] or changes["retired"]:
        audit.record(actor=actor, action="programme.changed", subject=f"tenant {tenant_id}", tenant_id=tenant_id,
                     details={k: v for k, v in changes.items() if k != "unchanged"})
    return changes

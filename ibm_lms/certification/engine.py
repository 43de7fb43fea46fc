"""The status engine's storage: each candidate's standing per programme, recomputed from facts whenever a fact or
a rule changes (and nightly, for dates), so dashboards read it instead of evaluating 100,000 people per page."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict
from datetime import date

from sqlalchemy import select, update

from ibm_lms.audit import service as audit
from ibm_lms.clock import utcnow
from ibm_lms.extensions import db

from . import facts, programmes
from .models import Candidate
from .rules import Programme, Shortfall, Standing, evaluate

CHUNK = 1000


def shortfall_table(shortfall: Shortfall) -> dict:
    requirement = {k: (v.value if hasattr(v, "value") else v) for k, v in asdict(shortfall.requirement).items()
                   if v is not None}
    return {**requirement, "have": round(shortfall.have, 2), "need": round(shortfall.need, 2)}


def _values(standing: Standing) -> dict:
    return {"stage": standing.stage.value, "met": standing.met, "of": standing.of,
            "missing": [shortfall_table(s) for s in standing.missing], "valid_until": standing.valid_until}


def standing_of(tenant_id: int, user_id: int, programme: Programme, today: date | None = None) -> Standing:
    return evaluate(programme, facts.facts_of(tenant_id, [user_id])[user_id], today or utcnow().date())


def recompute(tenant_id: int, *, user_ids: Iterable[int] | None = None, programme_keys: Iterable[str] | None = None,
              today: date | None = None) -> int:
    """Evaluates the named candidates (all of the academy's by default) and stores what changed; returns how many
    standings changed. The caller commits."""
    today = today or utcnow().date()
    query = select(Candidate.id, Candidate.user_id, Candidate.programme_key, Candidate.stage, Candidate.met,
                   Candidate.of, Candidate.missing, Candidate.valid_until).where(Candidate.tenant_id == tenant_id)
    if user_ids is not None:
        query = query.where(Candidate.user_id.in_(list(user_ids)))
    if programme_keys is not None:
        query = query.where(Candidate.programme_key.in_(list(programme_keys)))
    rows = db.session.execute(query.order_by(Candidate.user_id)).all()
    if not rows:
        return 0
    by_key = {record.key: record.programme for record in programmes.current(tenant_id)}
    changed, now = 0, utcnow()
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start:start + CHUNK]
        known = facts.facts_of(tenant_id, {row.user_id for row in chunk})
        updates = []
        for row in chunk:
            programme = by_key.get(row.programme_key)
            if programme is None:
                continue
            values = _values(evaluate(programme, known[row.user_id], today))
            old = {"stage": row.stage, "met": row.met, "of": row.of, "missing": row.missing,
                   "valid_until": row.valid_until}
            if values != old:
                updates.append({"id": row.id, **values, "computed_at": now})
        if updates:
            db.session.execute(update(Candidate), updates)
            changed += len(updates)
    return changed


def ensure_candidate(tenant_id: int, user_id: int, programme: Programme, actor: str, *,
                     through: str = "nomination") -> Candidate:
    """The person's row on the programme (made with their standing now if new, and audited with what put them
    there: a nomination, or a proposal or a paper grant for someone not nominated before). The caller commits."""
    row = db.session.execute(select(Candidate).where(Candidate.tenant_id == tenant_id, Candidate.user_id == user_id,
                                                     Candidate.programme_key == programme.key)).scalar_one_or_none()
    if row is None:
        standing = standing_of(tenant_id, user_id, programme)
        row = Candidate(tenant_id=tenant_id, user_id=user_id, programme_key=programme.key, area=programme.area,
                        nominated_by=actor[:300], **_values(standing))
        db.session.add(row)
        db.session.flush()
        audit.record(actor=actor, action="candidate.nominated", subject=f"user {user_id}", tenant_id=tenant_id,
                     details={"programme": programme.key, "through": through})
    return row

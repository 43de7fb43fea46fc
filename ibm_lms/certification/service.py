"""The certification room's door: programmes, candidates and their standing, evidence, four-eyes decisions,
credentials and their verification, dashboards. Every function that changes something is one unit of work."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from sqlalchemy import select

from ibm_lms.audit import service as audit
from ibm_lms.clock import utcnow
from ibm_lms.content import service as content
from ibm_lms.errors import N_, DomainError, Phrase
from ibm_lms.extensions import db
from ibm_lms.quiz import service as quiz
from ibm_lms.tenancy import service as tenancy
from ibm_lms.tenancy.data import Identity, Role
from ibm_lms.text import person_name
from ibm_lms.unit_of_work import unit_of_work

from . import credentials, dashboard, decisions, engine, evidence, facts, issuing, keys, programmes
from .data import CandidateRecord, CertificationRecord, EvidenceRecord, ProgrammeRecord
from .errors import CredentialNotFound, NotAuthorised, PersonNotFound
from .evidence import Details, Upload
from .models import Candidate, Certification
from .rules import EvidenceKind, Level, Stage

__all__ = ["Details", "EvidenceKind", "Filters", "Level", "Stage", "Upload"]
Filters = dashboard.Filters


# --- who may do what -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Access:
    approver: bool
    administrator: bool
    master_areas: frozenset[str]
    regional: bool = False  # a regional coordinator: every academy's counts, no person

    @property
    def academy(self) -> bool:
        """Sees the academy's dashboard, candidates and decisions."""
        return self.approver or self.administrator


def _areas(tenant_id: int) -> dict[str, list]:
    found: dict[str, list] = {}
    for record in programmes.current(tenant_id):
        found.setdefault(record.programme.area, []).append(record.programme)
    return found


def access(identity: Identity) -> Access:
    held = facts.valid_programmes(identity.tenant_id, identity.user_id, utcnow().date())
    master = frozenset(record.programme.area for record in programmes.current(identity.tenant_id)
                       if record.programme.level is Level.MASTER_TRAINER and record.key in held)
    return Access(approver=facts.is_approver(identity.tenant_id, identity.user_id),
                  administrator=identity.role is Role.ADMINISTRATOR, master_areas=master,
                  regional=tenancy.holds(tenancy.REGIONAL_COORDINATOR, identity.tenant_id, identity.user_id))


def academy_refusal() -> NotAuthorised:
    """Why someone may not read the academy's certification records, for every door to them (pages and API)."""
    return NotAuthorised(reason=Phrase(N_("the academy's certification records are for its administrators and "
                                          "approvers")))


def require_academy(identity: Identity) -> Access:
    found = access(identity)
    if not found.academy:
        raise academy_refusal()
    return found


def actor_of(identity: Identity) -> str:
    return tenancy.audit_name(identity.tenant_id, identity.user_id)


def find_person(tenant_id: int, who: str) -> int:
    """The academy's user named ISSUER:SUB (the issuer is a URL, so every colon is tried as the divider)."""
    text = who.strip() if isinstance(who, str) else ""
    for position in [i for i, c in enumerate(text) if c == ":"]:
        found = tenancy.user_id_of(tenant_id, text[:position], text[position + 1:])
        if found is not None:
            return found
    raise PersonNotFound(who=text[:200])


def _name(tenant_id: int, user_id: int) -> str | None:
    """The holder's name as printed and signed; a name stored before launches removed bidirectional controls
    loses them here, so a credential never signs a name that reads as another."""
    return person_name(tenancy.person_of(tenant_id, user_id).display_name)


# --- programmes ------------------------------------------------------------------------------------------------

def programme_list(tenant_id: int) -> list[ProgrammeRecord]:
    return programmes.current(tenant_id)


def export_programmes(tenant_id: int) -> str:
    return programmes.export_text(tenant_id)


def import_programmes(tenant_id: int, text: str, *, actor: str) -> dict[str, list[str]]:
    """Replaces the academy's programmes with a file's; every standing of a changed programme is recomputed."""
    known = {course.slug for course in content.catalogue("en", tenant_id)}
    found = programmes.parse(text, known, lru_cache(maxsize=None)(lambda slug: quiz.quiz_titles(slug, tenant_id)))
    with unit_of_work():
        changes = programmes.replace(tenant_id, found, actor)
        touched = changes["added"] + changes["changed"]
        if touched:
            engine.recompute(tenant_id, programme_keys=touched)
    return changes


def programme_title(tenant_id: int, key: str, locale: str) -> str:
    return issuing.programme_title(programmes.get(tenant_id, key).programme, tenant_id, locale)


def titles(tenant_id: int, locale: str):
    return issuing.titles(tenant_id, locale)


# --- candidates -------------------------------------------------------------------------------------------------

def nominate(tenant_id: int, programme_key: str, user_id: int, *, actor: str, by: Identity | None = None) -> Stage:
    """Puts someone on a programme's path (by an approver, or from the command line); returns their stage."""
    if by is not None:
        require_academy(by)
    if user_id not in tenancy.people(tenant_id, [user_id]):
        raise PersonNotFound(who=str(user_id))
    record = programmes.get(tenant_id, programme_key)
    with unit_of_work():
        programmes.adopt(tenant_id, actor)
        return Stage(engine.ensure_candidate(tenant_id, user_id, record.programme, actor).stage)


def candidates(tenant_id: int, filters: Filters) -> tuple[list[CandidateRecord], int]:
    return dashboard.candidates(tenant_id, filters)


def candidate_standings(tenant_id: int, user_id: int) -> list[CandidateRecord]:
    rows = db.session.execute(select(Candidate).where(Candidate.tenant_id == tenant_id, Candidate.user_id == user_id)
                              .order_by(Candidate.programme_key)).scalars().all()
    return dashboard.records(tenant_id, rows)


def recompute(tenant_id: int | None = None) -> int:
    """Every standing again (nightly: dates move stages), for one academy or all."""
    changed = 0
    for tenant in tenancy.list_tenants():
        if tenant_id is None or tenant.id == tenant_id:
            with unit_of_work():
                changed += engine.recompute(tenant.id)
    return changed


def overview(tenant_id: int) -> dict:
    certified = dashboard.certified_counts(tenant_id)
    ending, ending_total = dashboard.expiring(tenant_id)
    return {"programmes": programmes.current(tenant_id), "pipeline": dashboard.pipeline(tenant_id),
            "certified": certified, "expiring": ending, "expiring_total": ending_total,
            "gaps": dashboard.coverage_gaps(tenant_id, certified), "by_region": dashboard.certified_by_region(tenant_id)}


def export_candidates(tenant_id: int, filters: Filters, fmt: str) -> bytes:
    records = dashboard.all_candidates(tenant_id, filters)
    return dashboard.to_xlsx(records) if fmt == "xlsx" else dashboard.to_csv(records).encode("utf-8")


def roster(tenant_id: int, filters: Filters) -> list[CandidateRecord]:
    return dashboard.all_candidates(tenant_id, filters)


def regional_overview() -> list[dict]:
    return dashboard.regional_overview()


# --- evidence ---------------------------------------------------------------------------------------------------

def record_observation(identity: Identity, candidate_id: int, kind: EvidenceKind, scores: dict, details: Details,
                       upload: Upload | None = None) -> int:
    if candidate_id not in tenancy.people(identity.tenant_id, [candidate_id]):
        raise PersonNotFound(who=str(candidate_id))
    with unit_of_work():
        return evidence.record_observation(identity.tenant_id, observer_id=identity.user_id, candidate_id=candidate_id,
                                           kind=kind, scores=scores, details=details,
                                           area_programmes=_areas(identity.tenant_id), upload=upload,
                                           actor=actor_of(identity))


def log_session(identity: Identity, hours: float, details: Details, upload: Upload | None = None) -> int:
    with unit_of_work():
        return evidence.log_session(identity.tenant_id, candidate_id=identity.user_id, hours=hours, details=details,
                                    areas=set(_areas(identity.tenant_id)), upload=upload, actor=actor_of(identity))


def review_evidence(identity: Identity, evidence_id: int, *, approve: bool, note: str | None) -> None:
    with unit_of_work():
        evidence.review(identity.tenant_id, evidence_id, reviewer_id=identity.user_id, approve=approve, note=note,
                        area_programmes=_areas(identity.tenant_id), actor=actor_of(identity))


def evidence_list(tenant_id: int, *, candidate_id: int | None = None, state: str | None = None,
                  areas: frozenset[str] | None = None) -> list[EvidenceRecord]:
    rows = evidence.evidence_rows(tenant_id, candidate_id=candidate_id, state=state)
    if areas is not None:
        rows = [row for row in rows if row.area in areas]
    known = tenancy.people(tenant_id, {r.candidate_id for r in rows} | {r.recorded_by_id for r in rows}
                           | {r.reviewed_by_id for r in rows if r.reviewed_by_id})

    def name(user_id: int | None) -> str | None:
        person = known.get(user_id) if user_id else None
        return (person.display_name or person.subject) if person else None

    return [EvidenceRecord(id=r.id, candidate_id=r.candidate_id, candidate_name=name(r.candidate_id) or "",
                           area=r.area, kind=EvidenceKind(r.kind), occurred_on=r.occurred_on, average=r.average,
                           hours=r.hours, scores=r.scores, course_delivered=r.course_delivered,
                           participants=r.participants, feedback_summary=r.feedback_summary, comments=r.comments,
                           recorded_by=name(r.recorded_by_id) or "", state=r.state,
                           reviewed_by=name(r.reviewed_by_id), review_note=r.review_note,
                           attachment_name=r.attachment_name) for r in rows]


def evidence_attachment(identity: Identity, evidence_id: int) -> tuple[bytes, str, str]:
    """The file attached to evidence, for the person it is about, who recorded it, and the academy's reviewers."""
    row = evidence.evidence_row(identity.tenant_id, evidence_id)
    if not row.attachment_digest:
        raise evidence.EvidenceNotFound()
    allowed = identity.user_id in (row.candidate_id, row.recorded_by_id) or access(identity).academy \
        or row.area in access(identity).master_areas
    if not allowed:
        raise evidence.EvidenceNotFound()
    stored = evidence.attachment(identity.tenant_id, row.attachment_digest)
    return stored.data, stored.media_type, row.attachment_name or "attachment"


# --- decisions --------------------------------------------------------------------------------------------------

def propose(identity: Identity, programme_key: str, holder_id: int, locale: str) -> str:
    if holder_id not in tenancy.people(identity.tenant_id, [holder_id]):
        raise PersonNotFound(who=str(holder_id))
    with unit_of_work():
        row = decisions.propose(identity.tenant_id, programme_key, holder_id, by=identity.user_id,
                                holder_name=_name(identity.tenant_id, holder_id), locale=_holder_locale(locale),
                                actor=actor_of(identity))
        return row.id


def confirm(identity: Identity, certification_id: str) -> CertificationRecord:
    with unit_of_work():
        row = decisions.confirm(identity.tenant_id, certification_id, by=identity.user_id, actor=actor_of(identity))
        return _certification(row)


def withdraw(identity: Identity, certification_id: str, reason: str) -> None:
    with unit_of_work():
        decisions.withdraw(identity.tenant_id, certification_id, by=identity.user_id, reason=reason,
                           actor=actor_of(identity))


def grant(tenant_slug: str, programme_key: str, holder: str, approved_by: tuple[str, ...], *,
          valid_from: date | None = None, locale: str = "en", actor: str) -> CertificationRecord:
    """A certification made on paper, recorded with the two approvers who decided it (command line)."""
    tenant = tenancy.get_tenant(tenant_slug)
    if len(approved_by) != 2:
        raise decisions.DecisionRefused(reason=Phrase(N_("name exactly two approvers")))
    holder_id = find_person(tenant.id, holder)
    approvers = (find_person(tenant.id, approved_by[0]), find_person(tenant.id, approved_by[1]))
    with unit_of_work():
        row = decisions.grant(tenant.id, programme_key, holder_id, approvers, holder_name=_name(tenant.id, holder_id),
                              locale=_holder_locale(locale), valid_from=valid_from, actor=actor)
        return _certification(row)


def revoke(certification_id: str, reason: str, *, actor: str, by: Identity | None = None) -> CertificationRecord:
    tenant_id = None
    if by is not None:
        require_academy(by)
        decisions.require_approver(by.tenant_id, by.user_id)
        tenant_id = by.tenant_id
    with unit_of_work():
        return _certification(decisions.revoke(certification_id, reason=reason, actor=actor, tenant_id=tenant_id))


def _holder_locale(locale: str) -> str:
    from ibm_lms.locales import LOCALES

    return locale if locale in LOCALES else "en"


def certifications(tenant_id: int, *, holder_id: int | None = None, state: str | None = None,
                   limit: int = 1000) -> list[CertificationRecord]:
    query = select(Certification).where(Certification.tenant_id == tenant_id)
    if holder_id is not None:
        query = query.where(Certification.holder_id == holder_id)
    if state is not None:
        query = query.where(Certification.state == state)
    rows = db.session.execute(query.order_by(Certification.proposed_at.desc()).limit(limit)).scalars().all()
    return [_certification(row, known) for known in [_people_of(tenant_id, rows)] for row in rows]


def _people_of(tenant_id: int, rows) -> dict:
    ids = set()
    for row in rows:
        ids.update(i for i in (row.holder_id, row.proposed_by_id, row.confirmed_by_id) if i)
    return tenancy.people(tenant_id, ids)


def _certification(row: Certification, known: dict | None = None) -> CertificationRecord:
    known = known if known is not None else _people_of(row.tenant_id, [row])

    def label(user_id: int | None) -> str | None:
        person = known.get(user_id) if user_id else None
        return (person.display_name or f"{person.issuer}:{person.subject}") if person else None

    holder = known.get(row.holder_id)
    return CertificationRecord(
        id=row.id, tenant_id=row.tenant_id, programme_key=row.programme_key, area=row.area, holder_id=row.holder_id,
        holder_name=row.holder_name or label(row.holder_id) or "",
        holder=f"{holder.issuer}:{holder.subject}" if holder else "", path=row.path, state=row.state,
        proposed_by=label(row.proposed_by_id) or "", confirmed_by=label(row.confirmed_by_id),
        proposed_at=row.proposed_at, confirmed_at=row.confirmed_at, valid_from=row.valid_from,
        valid_until=row.valid_until, revoked_reason=row.revoked_reason, locale=row.locale,
        revoked_at=row.revoked_at, proposed_by_id=row.proposed_by_id)


def _row(certification_id: str, tenant_id: int | None = None) -> Certification:
    if not isinstance(certification_id, str) or len(certification_id) != 36:
        raise CredentialNotFound()
    # Ids are stored in lower case; UUIDs are case-insensitive (RFC 4122), and an address typed from paper or read
    # by a QR app may come in upper case.
    query = select(Certification).where(Certification.id == certification_id.lower())
    if tenant_id is not None:
        query = query.where(Certification.tenant_id == tenant_id)
    row = db.session.execute(query).scalar_one_or_none()
    if row is None or row.credential is None:
        raise CredentialNotFound()
    return row


def certification(tenant_id: int, certification_id: str) -> CertificationRecord:
    """One of the academy's issued or revoked credentials."""
    return _certification(_row(certification_id, tenant_id))


def credential_token(certification_id: str, *, tenant_id: int | None = None) -> str:
    return _row(certification_id, tenant_id).credential


def holder_credential(identity: Identity, certification_id: str) -> Certification:
    """A credential for its holder or the academy's administrators and approvers; 404 for anyone else."""
    row = _row(certification_id, identity.tenant_id)
    if row.holder_id != identity.user_id and not access(identity).academy:
        raise CredentialNotFound()
    return row


def approver_list(tenant_id: int) -> list[dict]:
    found = decisions.approvers(tenant_id)
    known = tenancy.people(tenant_id, [user for user, _ in found])
    return [{"user_id": user, "source": source, "who": f"{known[user].issuer}:{known[user].subject}",
             "name": known[user].display_name} for user, source in found if user in known]


def name_approver(tenant_slug: str, who: str, *, actor: str, remove: bool = False) -> bool:
    tenant = tenancy.get_tenant(tenant_slug)
    user_id = find_person(tenant.id, who)
    with unit_of_work():
        if remove:
            return decisions.remove_approver(tenant.id, user_id, actor)
        return decisions.name_approver(tenant.id, user_id, actor)


# --- publishing and verification --------------------------------------------------------------------------------

def jwks(tenant_slug: str) -> dict:
    tenant = tenancy.get_tenant(tenant_slug)
    with unit_of_work():
        keys.active(tenant.id)  # an academy publishes a key before its first credential
    return keys.jwks(tenant.id)


def rotate_key(tenant_slug: str, *, actor: str) -> str:
    tenant = tenancy.get_tenant(tenant_slug)
    with unit_of_work():
        kid = keys.rotate(tenant.id)
        audit.record(actor=actor, action="certification.key_rotated", subject=f"tenant {tenant.slug}",
                     tenant_id=tenant.id, details={"kid": kid})
    return kid


def status_list(tenant_slug: str) -> str:
    tenant = tenancy.get_tenant(tenant_slug)
    with unit_of_work():
        return issuing.status_list_token(tenant.id)


def issuer_profile(tenant_slug: str) -> dict:
    tenant = tenancy.get_tenant(tenant_slug)
    from ibm_lms.web import tool_url

    return {"@context": [credentials.VC_CONTEXT, credentials.OB_CONTEXT], "id": issuing.issuer_id(tenant.slug),
            "type": ["Profile"], "name": tenant.name,
            "url": tool_url("content.home") if _has_endpoint("content.home") else issuing.issuer_id(tenant.slug),
            "publicKey": tool_url("certification.jwks", tenant=tenant.slug)}


def _has_endpoint(name: str) -> bool:
    from flask import current_app

    return name in current_app.view_functions


def achievement(tenant_slug: str, key: str, locale: str) -> dict:
    tenant = tenancy.get_tenant(tenant_slug)
    record = programmes.get(tenant.id, key)
    title = issuing.titles(tenant.id, locale)
    from ibm_lms.web import tool_url

    from .rules import programme_to_table
    from .texts import requirement

    table = programme_to_table(record.programme)
    return {"@context": [credentials.VC_CONTEXT, credentials.OB_CONTEXT],
            "id": tool_url("certification.achievement", tenant=tenant.slug, key=key), "type": ["Achievement"],
            "achievementType": "Certificate", "name": issuing.programme_title(record.programme, tenant.id, locale),
            "creator": {"id": issuing.issuer_id(tenant.slug), "type": ["Profile"], "name": tenant.name},
            "criteria": {"narrative": " ".join(requirement(item, title) for item in table["requirements"])},
            "validityMonths": record.programme.validity_months}


@dataclass(frozen=True)
class Verification:
    verdict: credentials.Verdict
    record: CertificationRecord | None
    academy: str | None


def verify_stored(certification_id: str) -> Verification:
    """Checks a credential this service issued as any verifier would: its signature against the published keys,
    its dates, and the published revocation list; the stored row only says where to look."""
    row = _row(certification_id)
    verdict, _tenant_id = issuing.verify_token(row.credential)
    return Verification(verdict, _certification(row), tenancy.get_tenant_by_id(row.tenant_id).name)


def verify_token(token: str) -> Verification:
    verdict, tenant_id = issuing.verify_token(token)
    academy = tenancy.get_tenant_by_id(tenant_id).name if tenant_id else None
    record = None
    if verdict.credential and tenant_id is not None:
        found = db.session.get(Certification, str(verdict.credential.get("id", "")).rsplit("/", 1)[-1][:36])
        if found is not None and found.tenant_id == tenant_id and found.credential == token.strip():
            record = _certification(found)
    return Verification(verdict, record, academy)


def certificate_pdf(row: Certification) -> bytes:
    from .certificate import render

    verification = verify_stored(row.id)
    tenant = tenancy.get_tenant_by_id(row.tenant_id)
    programme = programmes.version(row.tenant_id, row.programme_key, row.programme_version)
    return render(row, programme, tenant.name, verification.verdict)


def today() -> date:
    return utcnow().date()


def programme_title_or_key(tenant_id: int, key: str, locale: str) -> str:
    """A programme's title; a programme the academy has since retired is named by its key."""
    try:
        return programme_title(tenant_id, key, locale)
    except DomainError:
        return key


def credential_row(certification_id: str) -> Certification:
    """An issued (or revoked) credential's row, for the command line."""
    return _row(certification_id)

"""Certification decisions under four eyes: one approver proposes, a second confirms, and only then is the
credential issued; trainers certified on paper are brought in by two approvers at once; revocation is final.
Nobody certifies themselves, and nobody approves the same decision twice."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import delete, select

from ibm_lms.audit import service as audit
from ibm_lms.clock import utcnow
from ibm_lms.errors import N_, Phrase
from ibm_lms.extensions import db
from ibm_lms.tenancy import service as tenancy
from ibm_lms.text import is_bounded_text

from . import engine, facts, issuing, programmes
from .errors import CredentialNotFound, DecisionRefused, NotAuthorised, SeparationOfDuties
from .models import Approver, Certification
from .rules import DECISION_STAGES, Stage, add_months, next_validity


def _refuse(msgid: str, **params) -> DecisionRefused:
    return DecisionRefused(reason=Phrase(msgid, **params))


def require_approver(tenant_id: int, user_id: int) -> None:
    if not facts.is_approver(tenant_id, user_id):
        raise NotAuthorised(reason=Phrase(N_("certification decisions are taken by the academy's approvers")))


def name_approver(tenant_id: int, user_id: int, actor: str) -> bool:
    """Adds a named approver; False when they already were one. The caller commits."""
    exists = db.session.execute(select(Approver.id).where(Approver.user_id == user_id, Approver.source == facts.NAMED)
                                ).first()
    if exists:
        return False
    db.session.add(Approver(tenant_id=tenant_id, user_id=user_id, source=facts.NAMED, added_by=actor[:300]))
    audit.record(actor=actor, action="approver.named", subject=f"user {user_id}", tenant_id=tenant_id, details={})
    return True


def remove_approver(tenant_id: int, user_id: int, actor: str) -> bool:
    removed = db.session.execute(delete(Approver).where(Approver.tenant_id == tenant_id, Approver.user_id == user_id,
                                                        Approver.source == facts.NAMED)).rowcount
    if removed:
        audit.record(actor=actor, action="approver.removed", subject=f"user {user_id}", tenant_id=tenant_id,
                     details={})
    return bool(removed)


def approvers(tenant_id: int) -> list[tuple[int, str]]:
    """(user, source): the academy's administrators, then the people it named."""
    found = [(user, facts.ADMINISTRATOR) for user in sorted(tenancy.academy_administrators(tenant_id))]
    return found + [(row.user_id, row.source) for row in db.session.execute(
        select(Approver).where(Approver.tenant_id == tenant_id).order_by(Approver.user_id)).scalars()]


def _open_proposal(tenant_id: int, holder_id: int, key: str) -> Certification | None:
    return db.session.execute(select(Certification).where(
        Certification.tenant_id == tenant_id, Certification.holder_id == holder_id,
        Certification.programme_key == key, Certification.state == facts.PROPOSED)).scalar_one_or_none()


def propose(tenant_id: int, programme_key: str, holder_id: int, *, by: int, holder_name: str | None, locale: str,
            actor: str) -> Certification:
    """The first of two approvals: the candidate must be ready now. The caller commits."""
    require_approver(tenant_id, by)
    if by == holder_id:
        raise SeparationOfDuties(reason=Phrase(N_("nobody certifies themselves")))
    record = programmes.get(tenant_id, programme_key)
    engine.ensure_candidate(tenant_id, holder_id, record.programme, actor, through="proposal")
    standing = engine.standing_of(tenant_id, holder_id, record.programme)
    if standing.stage not in DECISION_STAGES:
        raise _refuse(N_("the candidate does not meet the programme's requirements yet (%(missing)d missing)"),
                      missing=len(standing.missing))
    if _open_proposal(tenant_id, holder_id, programme_key):
        raise _refuse(N_("a proposal for this person and programme already waits for a second approver"))
    programmes.adopt(tenant_id, actor)
    row = Certification(id=str(uuid.uuid4()), tenant_id=tenant_id, programme_key=programme_key,
                        programme_version=programmes.get(tenant_id, programme_key).version, area=record.programme.area,
                        holder_id=holder_id, holder_name=holder_name, locale=locale,
                        path="renewal" if standing.stage is Stage.RENEWAL_READY else "initial",
                        state=facts.PROPOSED, proposed_by_id=by)
    db.session.add(row)
    db.session.flush()
    audit.record(actor=actor, action="certification.proposed", subject=f"certification {row.id}", tenant_id=tenant_id,
                 details={"programme": programme_key, "holder": holder_id, "proposed_by": by, "path": row.path})
    return row


def _decision(tenant_id: int, certification_id: str, state: str) -> Certification:
    row = db.session.execute(select(Certification).where(Certification.id == certification_id,
                                                         Certification.tenant_id == tenant_id)).scalar_one_or_none()
    if row is None:
        raise CredentialNotFound()
    if row.state != state:
        raise _refuse(N_("this decision is no longer open"))
    return row


def confirm(tenant_id: int, certification_id: str, *, by: int, actor: str) -> Certification:
    """The second approval, by someone else: the standing is checked again, then the credential is issued."""
    row = _decision(tenant_id, certification_id, facts.PROPOSED)
    require_approver(tenant_id, by)
    if by == row.proposed_by_id:
        raise SeparationOfDuties(reason=Phrase(N_("the second approval must come from a different person")))
    if by == row.holder_id:
        raise SeparationOfDuties(reason=Phrase(N_("nobody certifies themselves")))
    if not facts.is_approver(tenant_id, row.proposed_by_id):
        # Four eyes means two approvers at the moment of issue, not one approver and a former one.
        raise NotAuthorised(reason=Phrase(N_("the person who proposed this is no longer an approver; withdraw the "
                                             "proposal and propose it again")))
    programme = programmes.version(tenant_id, row.programme_key, row.programme_version)
    standing = engine.standing_of(tenant_id, row.holder_id, programme)
    if standing.stage not in DECISION_STAGES:
        raise _refuse(N_("the candidate no longer meets the programme's requirements (%(missing)d missing)"),
                      missing=len(standing.missing))
    row.valid_from, row.valid_until = next_validity(programme, standing, utcnow().date())
    row.confirmed_by_id, row.confirmed_at, row.state = by, utcnow(), facts.ISSUED
    issuing.issue(row, programme)
    audit.record(actor=actor, action="certification.approved", subject=f"certification {row.id}",
                 tenant_id=tenant_id, details=_decision_details(row))
    engine.recompute(tenant_id, user_ids=[row.holder_id])
    return row


def withdraw(tenant_id: int, certification_id: str, *, by: int, reason: str, actor: str) -> None:
    row = _decision(tenant_id, certification_id, facts.PROPOSED)
    require_approver(tenant_id, by)
    row.state, row.revoked_reason, row.revoked_by, row.revoked_at = facts.WITHDRAWN, _reason(reason), actor, utcnow()
    audit.record(actor=actor, action="certification.withdrawn", subject=f"certification {row.id}",
                 tenant_id=tenant_id, details={"reason": row.revoked_reason, "by": by})


def grant(tenant_id: int, programme_key: str, holder_id: int, approved_by: tuple[int, int], *, holder_name: str | None,
          locale: str, valid_from: date | None, actor: str) -> Certification:
    """Records a certification made before the tool kept records (on paper): two distinct approvers at once."""
    first, second = approved_by
    for approver in approved_by:
        require_approver(tenant_id, approver)
    if first == second:
        raise SeparationOfDuties(reason=Phrase(N_("the second approval must come from a different person")))
    if holder_id in approved_by:
        raise SeparationOfDuties(reason=Phrase(N_("nobody certifies themselves")))
    programmes.adopt(tenant_id, actor)
    record = programmes.get(tenant_id, programme_key)
    start = valid_from or utcnow().date()
    end = add_months(start, record.programme.validity_months)
    if end < utcnow().date():
        raise _refuse(N_("a certification from %(start)s would have ended on %(end)s; record only what is still "
                         "valid"), start=start.isoformat(), end=end.isoformat())
    if start > utcnow().date():
        raise _refuse(N_("a certification cannot start in the future"))
    engine.ensure_candidate(tenant_id, holder_id, record.programme, actor, through="grant")
    row = Certification(id=str(uuid.uuid4()), tenant_id=tenant_id, programme_key=programme_key,
                        programme_version=record.version, area=record.programme.area, holder_id=holder_id,
                        holder_name=holder_name, locale=locale, path="imported", state=facts.ISSUED,
                        proposed_by_id=first, confirmed_by_id=second, confirmed_at=utcnow(), valid_from=start,
                        valid_until=end)
    db.session.add(row)
    db.session.flush()
    issuing.issue(row, record.programme)
    audit.record(actor=actor, action="certification.granted", subject=f"certification {row.id}",
                 tenant_id=tenant_id, details=_decision_details(row))
    engine.recompute(tenant_id, user_ids=[holder_id])
    return row


def revoke(certification_id: str, *, reason: str, actor: str, tenant_id: int | None = None) -> Certification:
    """Revokes an issued credential (published in the academy's status list at once); final."""
    query = select(Certification).where(Certification.id == certification_id)
    if tenant_id is not None:
        query = query.where(Certification.tenant_id == tenant_id)
    row = db.session.execute(query).scalar_one_or_none()
    if row is None:
        raise CredentialNotFound()
    if row.state != facts.ISSUED:
        raise _refuse(N_("only an issued credential can be revoked"))
    row.state, row.revoked_reason, row.revoked_by, row.revoked_at = facts.REVOKED, _reason(reason), actor[:300], \
        utcnow()
    audit.record(actor=actor, action="certification.revoked", subject=f"certification {row.id}",
                 tenant_id=row.tenant_id, details={"reason": row.revoked_reason, "holder": row.holder_id,
                                                   "programme": row.programme_key})
    engine.recompute(row.tenant_id, user_ids=[row.holder_id])
    return row


def _reason(reason: str) -> str:
    cleaned = " ".join(reason.split()) if isinstance(reason, str) else ""
    if not cleaned or not is_bounded_text(cleaned, 500):
        raise _refuse(N_("give a reason of 1 to 500 characters"))
    return cleaned


def _decision_details(row: Certification) -> dict:
    """Both approvers by name and platform id, so that the trail names the two people without another lookup."""
    known = tenancy.people(row.tenant_id, [row.holder_id, row.proposed_by_id, row.confirmed_by_id])

    def who(user_id: int) -> dict:
        person = known[user_id]
        return {"id": user_id, "who": f"{person.issuer}:{person.subject}", "name": person.display_name}

    return {"programme": row.programme_key, "version": row.programme_version, "holder": who(row.holder_id),
            "path": row.path, "approvers": [who(row.proposed_by_id), who(row.confirmed_by_id)],
            "valid_from": row.valid_from.isoformat(), "valid_until": row.valid_until.isoformat(), "key": row.key_id}

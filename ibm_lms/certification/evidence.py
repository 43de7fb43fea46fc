"""Evidence: Master Trainers' observations (rubric scores) and candidates' logs of sessions they delivered, with
attached files; who may record and who may approve what, so that nobody rates or approves their own work."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from datetime import date

from flask_babel import get_locale
from sqlalchemy import select

from ibm_lms.audit import service as audit
from ibm_lms.clock import utcnow
from ibm_lms.errors import N_, Phrase
from ibm_lms.extensions import db
from ibm_lms.text import BIDI_CONTROLS, is_bounded_text

from . import engine, facts, issuing
from .errors import EvidenceNotFound, EvidenceRefused, NotAuthorised, NotCandidate, SeparationOfDuties
from .models import Attachment, Candidate, EvidenceRow
from .rules import EvidenceKind, Level, rubric_average

MAX_ATTACHMENT_BYTES = 5 * 1024 * 1024
# Recognised by their first bytes, never by the name or the type the browser claims.
_SIGNATURES = ((b"%PDF-", "application/pdf"), (b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"))
MAX_HOURS_PER_SESSION = 12
EARLIEST = date(2000, 1, 1)


@dataclass(frozen=True)
class Upload:
    filename: str
    data: bytes


@dataclass(frozen=True)
class Details:
    """What a form or the API says about one piece of evidence."""

    area: str
    occurred_on: date
    course_delivered: str | None = None
    participants: int | None = None
    feedback_summary: str | None = None
    comments: str | None = None


def _refuse(msgid: str, **params) -> EvidenceRefused:
    return EvidenceRefused(reason=Phrase(msgid, **params))


def _check_details(details: Details, areas: set[str]) -> None:
    if details.area not in areas:
        raise _refuse(N_("the area is not one of this academy's programmes"))
    if not isinstance(details.occurred_on, date) or not EARLIEST <= details.occurred_on <= utcnow().date():
        raise _refuse(N_("the date must be a real day, not in the future"))
    if details.participants is not None and not 0 <= details.participants <= 500:
        raise _refuse(N_("the number of participants must be from 0 to 500"))
    for value, limit in ((details.course_delivered, 255), (details.feedback_summary, 4000), (details.comments, 4000)):
        if value is not None and not _free_text(value, limit):
            raise _refuse(N_("a text is too long or holds control characters"))


def _free_text(value: str, limit: int) -> bool:
    # Bidirectional overrides would let a text show reviewers other words than it holds.
    return is_bounded_text(value, limit, multiline=True, empty=True) and not BIDI_CONTROLS.search(value)


def stored_attachment(tenant_id: int, upload: Upload | None) -> tuple[str, str, str, int] | None:
    """Keeps a checked file once per academy; (digest, name, media type, size). The caller commits."""
    if upload is None or not upload.data:
        return None
    if len(upload.data) > MAX_ATTACHMENT_BYTES:
        raise _refuse(N_("the attached file is larger than %(size)d MB"), size=MAX_ATTACHMENT_BYTES // (1024 * 1024))
    media_type = next((kind for magic, kind in _SIGNATURES if upload.data.startswith(magic)), None)
    if media_type is None:
        raise _refuse(N_("attach a PDF, PNG or JPEG file"))
    if media_type != "application/pdf":
        _check_image(upload.data)
    digest = hashlib.sha256(upload.data).hexdigest()
    if db.session.execute(select(Attachment.id).where(Attachment.tenant_id == tenant_id,
                                                      Attachment.digest == digest)).first() is None:
        db.session.add(Attachment(tenant_id=tenant_id, digest=digest, media_type=media_type, size=len(upload.data),
                                  data=upload.data))
    name = "".join(c for c in upload.filename if c.isprintable() and c not in '/\\"')[:120] or "attachment"
    return digest, name, media_type, len(upload.data)


def _check_image(data: bytes) -> None:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.width * image.height > 40_000_000:
                raise _refuse(N_("the attached image is too large"))
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise _refuse(N_("the attached image cannot be read")) from None


def _candidate_in_area(tenant_id: int, user_id: int, area: str) -> None:
    if db.session.execute(select(Candidate.id).where(Candidate.tenant_id == tenant_id, Candidate.user_id == user_id,
                                                     Candidate.area == area).limit(1)).first() is None:
        # Named as the reader knows it (the course's title in the page's language), not by its key.
        raise NotCandidate(area=issuing.area_title(area, tenant_id, str(get_locale() or "en")))


def master_trainer_keys(area_programmes: dict[str, list], area: str) -> list[str]:
    return [p.key for p in area_programmes.get(area, []) if p.level is Level.MASTER_TRAINER]


def is_master_trainer(tenant_id: int, user_id: int, area: str, area_programmes: dict[str, list]) -> bool:
    return facts.holds_valid(tenant_id, user_id, master_trainer_keys(area_programmes, area), utcnow().date())


def record_observation(tenant_id: int, *, observer_id: int, candidate_id: int, kind: EvidenceKind,
                       scores: dict, details: Details, area_programmes: dict[str, list],
                       upload: Upload | None = None, actor: str) -> int:
    """A Master Trainer's rating of a candidate's co-delivery or micro-teaching; it counts at once (the observer
    is the qualified assessor). The caller commits."""
    if not kind.is_observation:
        raise _refuse(N_("an observation is of a co-delivery or a micro-teaching session"))
    if observer_id == candidate_id:
        raise SeparationOfDuties(reason=Phrase(N_("nobody rates their own delivery")))
    _check_details(details, set(area_programmes))
    if not is_master_trainer(tenant_id, observer_id, details.area, area_programmes):
        raise NotAuthorised(reason=Phrase(N_("only a Master Trainer of this area, certified now, records "
                                             "observations")))
    _candidate_in_area(tenant_id, candidate_id, details.area)
    try:
        average = rubric_average(scores)
    except ValueError as error:
        raise EvidenceRefused(reason=Phrase(str(error))) from None
    return _add(tenant_id, candidate_id, kind, details, recorded_by=observer_id, state=facts.APPROVED,
                upload=upload, actor=actor, scores=dict(scores), average=average, reviewed_by=observer_id)


def log_session(tenant_id: int, *, candidate_id: int, hours: float, details: Details, areas: set[str],
                upload: Upload | None = None, actor: str) -> int:
    """A session the candidate delivered: it counts once someone else approves it. The caller commits."""
    _check_details(details, areas)
    if not (isinstance(hours, int | float) and 0.5 <= hours <= MAX_HOURS_PER_SESSION):
        raise _refuse(N_("a session lasts from 0.5 to %(hours)d hours"), hours=MAX_HOURS_PER_SESSION)
    _candidate_in_area(tenant_id, candidate_id, details.area)
    return _add(tenant_id, candidate_id, EvidenceKind.SESSION, details, recorded_by=candidate_id,
                state=facts.PENDING, upload=upload, actor=actor, hours=round(float(hours), 2))


def _add(tenant_id: int, candidate_id: int, kind: EvidenceKind, details: Details, *, recorded_by: int, state: str,
         upload: Upload | None, actor: str, scores: dict | None = None, average: float | None = None,
         hours: float | None = None, reviewed_by: int | None = None) -> int:
    attached = stored_attachment(tenant_id, upload)
    row = EvidenceRow(tenant_id=tenant_id, candidate_id=candidate_id, area=details.area, kind=kind.value,
                      occurred_on=details.occurred_on, scores=scores, average=average, hours=hours,
                      course_delivered=details.course_delivered, participants=details.participants,
                      feedback_summary=details.feedback_summary, comments=details.comments,
                      recorded_by_id=recorded_by, state=state, reviewed_by_id=reviewed_by,
                      reviewed_at=utcnow() if reviewed_by else None)
    if attached:
        row.attachment_digest, row.attachment_name, row.attachment_type, row.attachment_size = attached
    db.session.add(row)
    db.session.flush()
    audit.record(actor=actor, action="evidence.recorded", subject=f"evidence {row.id}", tenant_id=tenant_id,
                 details={"candidate": candidate_id, "kind": kind.value, "area": details.area, "state": state,
                          "average": average, "hours": hours, "on": details.occurred_on.isoformat(),
                          "attachment": attached[0] if attached else None})
    if state == facts.APPROVED:
        engine.recompute(tenant_id, user_ids=[candidate_id])
    return row.id


def review(tenant_id: int, evidence_id: int, *, reviewer_id: int, approve: bool, note: str | None,
           area_programmes: dict[str, list], actor: str) -> None:
    """Approves or rejects a logged session: by an approver or a Master Trainer of its area, never by the person
    it is about or who logged it. A decision is final; a correction is a new log. The caller commits."""
    row = db.session.execute(select(EvidenceRow).where(EvidenceRow.id == evidence_id,
                                                       EvidenceRow.tenant_id == tenant_id)).scalar_one_or_none()
    if row is None:
        raise EvidenceNotFound()
    if row.state != facts.PENDING:
        raise _refuse(N_("this evidence was already decided"))
    if reviewer_id in (row.candidate_id, row.recorded_by_id):
        raise SeparationOfDuties(reason=Phrase(N_("nobody approves their own evidence")))
    if not (facts.is_approver(tenant_id, reviewer_id)
            or is_master_trainer(tenant_id, reviewer_id, row.area, area_programmes)):
        raise NotAuthorised(reason=Phrase(N_("evidence is approved by an approver of the academy or a Master "
                                             "Trainer of its area")))
    if note is not None and not _free_text(note, 2000):
        raise _refuse(N_("a text is too long or holds control characters"))
    row.state = facts.APPROVED if approve else facts.REJECTED
    row.reviewed_by_id, row.reviewed_at, row.review_note = reviewer_id, utcnow(), note or None
    audit.record(actor=actor, action="evidence.approved" if approve else "evidence.rejected",
                 subject=f"evidence {row.id}", tenant_id=tenant_id,
                 details={"candidate": row.candidate_id, "kind": row.kind, "area": row.area, "note": note or None})
    if approve:
        engine.recompute(tenant_id, user_ids=[row.candidate_id])


def attachment(tenant_id: int, digest: str) -> Attachment:
    row = db.session.execute(select(Attachment).where(Attachment.tenant_id == tenant_id,
                                                      Attachment.digest == digest)).scalar_one_or_none()
    if row is None:
        raise EvidenceNotFound()
    return row


def evidence_row(tenant_id: int, evidence_id: int) -> EvidenceRow:
    row = db.session.execute(select(EvidenceRow).where(EvidenceRow.id == evidence_id,
                                                       EvidenceRow.tenant_id == tenant_id)).scalar_one_or_none()
    if row is None:
        raise EvidenceNotFound()
    return row


def evidence_rows(tenant_id: int, *, candidate_id: int | None = None, state: str | None = None,
                  area: str | None = None, limit: int = 500) -> list[EvidenceRow]:
    query = select(EvidenceRow).where(EvidenceRow.tenant_id == tenant_id)
    if candidate_id is not None:
        query = query.where(EvidenceRow.candidate_id == candidate_id)
    if state is not None:
        query = query.where(EvidenceRow.state == state)
    if area is not None:
        query = query.where(EvidenceRow.area == area)
    return list(db.session.execute(query.order_by(EvidenceRow.occurred_on.desc(), EvidenceRow.id.desc())
                                   .limit(limit)).scalars())

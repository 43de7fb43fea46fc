"""Certification tables: programmes (versioned), candidates with their computed standing, results heard from
course and quiz events, evidence, approvers, certifications with their credentials, and the academies' signing
keys. Every row names its academy; every query of this room filters by it."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ibm_lms.clock import utcnow
from ibm_lms.extensions import db


class ProgrammeVersion(db.Model):
    """A programme as an academy adopted it; a change is a new version, and decisions keep the one they met."""

    __tablename__ = "cert_programmes"
    __table_args__ = (UniqueConstraint("tenant_id", "key", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    key: Mapped[str] = mapped_column(String(64))
    version: Mapped[int]
    definition: Mapped[dict] = mapped_column(JSON)
    # False once a newer version replaced it, or the academy dropped the programme.
    current: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(300))


class Candidate(db.Model):
    """A person on a programme's path (nominated, or holding it), with the standing the engine last computed."""

    __tablename__ = "cert_candidates"
    __table_args__ = (UniqueConstraint("tenant_id", "user_id", "programme_key"),
                      Index("ix_cert_candidates_dashboard", "tenant_id", "programme_key", "stage"))

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    programme_key: Mapped[str] = mapped_column(String(64))
    area: Mapped[str] = mapped_column(String(64))
    nominated_by: Mapped[str] = mapped_column(String(300))
    nominated_at: Mapped[datetime] = mapped_column(default=utcnow)
    stage: Mapped[str] = mapped_column(String(16))
    met: Mapped[int] = mapped_column(default=0)
    of: Mapped[int] = mapped_column(default=0)
    missing: Mapped[list] = mapped_column(JSON, default=list)
    valid_until: Mapped[date | None]
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)


class LearningResult(db.Model):
    """A course completion (quiz empty) or a quiz attempt's grade, as the content and quiz rooms announced it."""

    __tablename__ = "cert_results"
    __table_args__ = (Index("ix_cert_results_user", "tenant_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    course: Mapped[str] = mapped_column(String(64))
    quiz: Mapped[str | None] = mapped_column(String(64))
    score: Mapped[float] = mapped_column(Float)
    achieved_on: Mapped[date]
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    # "attempt" (or a course completion); "override" when an instructor set the quiz grade, which then stands
    # for every attempt at that quiz; "override_ended" when the attempts' grades count again.
    source: Mapped[str] = mapped_column(String(16), server_default="attempt")


class EvidenceRow(db.Model):
    __tablename__ = "cert_evidence"
    __table_args__ = (Index("ix_cert_evidence_candidate", "tenant_id", "candidate_id"),
                      Index("ix_cert_evidence_state", "tenant_id", "state"))

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    candidate_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    area: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(24))
    occurred_on: Mapped[date]
    scores: Mapped[dict | None] = mapped_column(JSON)
    average: Mapped[float | None] = mapped_column(Float)
    hours: Mapped[float | None] = mapped_column(Float)
    course_delivered: Mapped[str | None] = mapped_column(String(255))
    participants: Mapped[int | None] = mapped_column(Integer)
    feedback_summary: Mapped[str | None] = mapped_column(Text)
    comments: Mapped[str | None] = mapped_column(Text)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    state: Mapped[str] = mapped_column(String(16))
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None]
    review_note: Mapped[str | None] = mapped_column(Text)
    attachment_digest: Mapped[str | None] = mapped_column(String(64))
    attachment_name: Mapped[str | None] = mapped_column(String(255))
    attachment_type: Mapped[str | None] = mapped_column(String(64))
    attachment_size: Mapped[int | None]


class Approver(db.Model):
    """A person the academy named to take part in certification decisions, besides its administrators (whom
    tenancy knows from their launches)."""

    __tablename__ = "cert_approvers"
    __table_args__ = (UniqueConstraint("user_id", "source"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    source: Mapped[str] = mapped_column(String(16))
    added_at: Mapped[datetime] = mapped_column(default=utcnow)
    added_by: Mapped[str] = mapped_column(String(300))


class Certification(db.Model):
    """A decision: proposed by one approver, confirmed by a second, then issued as a signed credential."""

    __tablename__ = "cert_certifications"
    __table_args__ = (UniqueConstraint("tenant_id", "status_index"),
                      Index("ix_cert_certifications_holder", "tenant_id", "holder_id", "programme_key"))

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    programme_key: Mapped[str] = mapped_column(String(64))
    programme_version: Mapped[int]
    area: Mapped[str] = mapped_column(String(64))
    holder_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    path: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16))
    proposed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    proposed_at: Mapped[datetime] = mapped_column(default=utcnow)
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    confirmed_at: Mapped[datetime | None]
    valid_from: Mapped[date | None]
    valid_until: Mapped[date | None]
    locale: Mapped[str] = mapped_column(String(8))
    holder_name: Mapped[str | None] = mapped_column(String(255))
    credential: Mapped[str | None] = mapped_column(Text)
    key_id: Mapped[str | None] = mapped_column(String(64))
    status_index: Mapped[int | None]
    revoked_at: Mapped[datetime | None]
    revoked_by: Mapped[str | None] = mapped_column(String(300))
    revoked_reason: Mapped[str | None] = mapped_column(Text)


class SigningKey(db.Model):
    """An academy's credential-signing key; a rotated key stays published so that what it signed still verifies."""

    __tablename__ = "cert_signing_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    kid: Mapped[str] = mapped_column(String(64), unique=True)
    algorithm: Mapped[str] = mapped_column(String(16))
    private_key: Mapped[str] = mapped_column(Text)  # sealed
    public_jwk: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    retired_at: Mapped[datetime | None]


class Attachment(db.Model):
    """A file attached to evidence (an observation form, an attendance sheet), kept in the database so that it is
    backed up, and scoped, with the rest of the academy's records."""

    __tablename__ = "cert_attachments"
    __table_args__ = (UniqueConstraint("tenant_id", "digest"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    digest: Mapped[str] = mapped_column(String(64))
    media_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int]
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

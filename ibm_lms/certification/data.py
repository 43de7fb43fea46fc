"""Records the certification room hands out (never ORM rows); the rules' own types come from rules.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from .rules import EvidenceKind, Level, Programme, Shortfall, Stage

__all__ = ["CandidateRecord", "CertificationRecord", "EvidenceKind", "EvidenceRecord", "Level", "Programme",
           "ProgrammeRecord", "Shortfall", "Stage"]


@dataclass(frozen=True)
class ProgrammeRecord:
    programme: Programme
    version: int
    source: str  # "regional" (the default, not yet adopted) or "academy"

    @property
    def key(self) -> str:
        return self.programme.key


@dataclass(frozen=True)
class CandidateRecord:
    user_id: int
    name: str
    who: str  # issuer:sub, as the command line names people
    programme_key: str
    area: str
    stage: Stage
    met: int
    of: int
    missing: tuple[dict, ...]
    valid_until: date | None
    warning_days: int | None
    region: str | None = None


@dataclass(frozen=True)
class EvidenceRecord:
    id: int
    candidate_id: int
    candidate_name: str
    area: str
    kind: EvidenceKind
    occurred_on: date
    average: float | None
    hours: float | None
    scores: dict | None
    course_delivered: str | None
    participants: int | None
    feedback_summary: str | None
    comments: str | None
    recorded_by: str
    state: str
    reviewed_by: str | None
    review_note: str | None
    attachment_name: str | None


@dataclass(frozen=True)
class CertificationRecord:
    id: str
    tenant_id: int
    programme_key: str
    area: str
    holder_id: int
    holder_name: str
    holder: str  # issuer:sub
    path: str  # initial, renewal or imported
    state: str  # proposed, issued, revoked or withdrawn
    proposed_by: str
    confirmed_by: str | None
    proposed_at: datetime
    confirmed_at: datetime | None
    valid_from: date | None
    valid_until: date | None
    revoked_reason: str | None  # the academy's own record: never on a public page
    locale: str
    revoked_at: datetime | None = None
    proposed_by_id: int | None = None

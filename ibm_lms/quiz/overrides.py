"""Instructors' grade overrides: the grade in force for a trainee on a quiz, and the history behind it.

The quiz grade is normally the attempts' grade by the quiz's grading method. An instructor may set
another (a disrupted exam, a marking error, misconduct found afterwards), always with a reason; the
newest override row is in force until one without a grade gives the attempts' grade back.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from ibm_lms.errors import N_, Phrase
from ibm_lms.extensions import db
from ibm_lms.text import decimal_number, is_bounded_text

from . import grading
from .errors import OverrideRefused
from .models import Attempt, GradeOverride

FINISHED = "finished"
MAX_REASON = 500


@dataclass(frozen=True)
class Override:
    grade: float | None  # None: the override was ended
    reason: str
    by: int
    at: datetime


@dataclass(frozen=True)
class Standing:
    """One trainee's grade on a quiz: what the attempts give, the override in force (if any), and the grade."""

    user_id: int
    attempts: int
    attempts_grade: float | None
    override: Override | None
    last_attempt_id: int | None

    @property
    def grade(self) -> float | None:
        return self.override.grade if self.override is not None else self.attempts_grade


def read_grade(text: str | None) -> float | None:
    """A percentage typed by an instructor (comma or point) as a fraction; empty ends the override."""
    cleaned = (text or "").strip().rstrip("%").strip()
    if not cleaned:
        return None
    try:
        value = decimal_number(cleaned)
    except ValueError:
        raise OverrideRefused(reason=Phrase(N_("the grade must be a number from 0 to 100"))) from None
    if not 0 <= value <= 100:
        raise OverrideRefused(reason=Phrase(N_("the grade must be a number from 0 to 100")))
    return round(value / 100, 4)


def read_reason(text: str | None) -> str:
    cleaned = " ".join((text or "").split())
    if not cleaned:
        raise OverrideRefused(reason=Phrase(N_("give the reason, which the trainee's record keeps")))
    if len(cleaned) > MAX_REASON:
        raise OverrideRefused(reason=Phrase(N_("the reason is longer than %(limit)d characters"), limit=MAX_REASON))
    # str.split() keeps NUL, escape and the other control characters: a reason of only those would read as empty
    # in the record (and PostgreSQL refuses NUL in text outright).
    if not is_bounded_text(cleaned, MAX_REASON):
        raise OverrideRefused(reason=Phrase(N_("the reason holds control characters; type it as plain text")))
    return cleaned


def standings(tenant_id: int, quiz_id: int, grading_method: str, user_ids: Iterable[int] | None = None
              ) -> dict[int, Standing]:
    """Every trainee with a submitted attempt (or only those listed), in two queries."""
    wanted = None if user_ids is None else list(user_ids)
    attempts = select(Attempt.user_id, Attempt.id, Attempt.score).where(
        Attempt.tenant_id == tenant_id, Attempt.quiz_id == quiz_id, Attempt.status == FINISHED)
    overrides = select(GradeOverride).where(GradeOverride.tenant_id == tenant_id, GradeOverride.quiz_id == quiz_id)
    if wanted is not None:
        attempts = attempts.where(Attempt.user_id.in_(wanted))
        overrides = overrides.where(GradeOverride.user_id.in_(wanted))
    scores, last = defaultdict(list), {}
    for row in db.session.execute(attempts.order_by(Attempt.user_id, Attempt.number)):
        scores[row.user_id].append(row.score or 0.0)
        last[row.user_id] = row.id
    newest = {}
    for row in db.session.execute(overrides.order_by(GradeOverride.id)).scalars():
        newest[row.user_id] = row
    found = {}
    for user_id, user_scores in scores.items():
        row = newest.get(user_id)
        in_force = None if row is None or row.grade is None else Override(row.grade, row.reason, row.overridden_by,
                                                                            row.created_at)
        found[user_id] = Standing(user_id, len(user_scores), grading.quiz_grade(user_scores, grading_method),
                                  in_force, last[user_id])
    return found


def history(tenant_id: int, quiz_id: int, user_id: int) -> list[Override]:
    """Every override of the trainee's grade on the quiz, newest first (ended ones included)."""
    rows = db.session.execute(select(GradeOverride).where(
        GradeOverride.tenant_id == tenant_id, GradeOverride.quiz_id == quiz_id, GradeOverride.user_id == user_id)
        .order_by(GradeOverride.id.desc())).scalars()
    return [Override(row.grade, row.reason, row.overridden_by, row.created_at) for row in rows]


def add(tenant_id: int, quiz_id: int, user_id: int, grade: float | None, reason: str, by: int,
        at: datetime) -> None:
    db.session.add(GradeOverride(tenant_id=tenant_id, quiz_id=quiz_id, user_id=user_id, grade=grade, reason=reason,
                                 overridden_by=by, created_at=at))
    db.session.flush()

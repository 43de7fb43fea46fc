"""What the status engine reads: results heard from the course and quiz rooms' events, approved evidence and
certifications held, loaded for many candidates at once; and who may approve."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date

from sqlalchemy import select

from ibm_lms.database import insert_new
from ibm_lms.events import CourseCompleted, QuizAttemptSubmitted, QuizGradeOverridden
from ibm_lms.extensions import db
from ibm_lms.tenancy import service as tenancy

from .models import Approver, Certification, EvidenceRow, LearningResult
from .rules import Evidence, EvidenceKind, Facts, Held, Result

ADMINISTRATOR, NAMED = "administrator", "named"
APPROVED, PENDING, REJECTED = "approved", "pending", "rejected"
ISSUED, PROPOSED, REVOKED, WITHDRAWN = "issued", "proposed", "revoked", "withdrawn"
# Practice quizzes prove nothing about a trainer; every other attempt may meet a requirement.
_COUNTED_QUIZ_KINDS = {"pre_test", "post_test", "exam"}
# Where a result came from: an attempt (or a course completion), or an instructor's override of a quiz grade, which
# stands for every attempt at that quiz until it is ended.
ATTEMPT, OVERRIDE, OVERRIDE_ENDED = "attempt", "override", "override_ended"


def on_course_completed(event: CourseCompleted) -> None:
    _add_result(event, quiz=None, score=event.score_scaled)


def on_quiz_submitted(event: QuizAttemptSubmitted) -> None:
    if event.quiz_kind in _COUNTED_QUIZ_KINDS:
        _add_result(event, quiz=event.quiz_key, score=event.score_scaled)


def on_grade_overridden(event: QuizGradeOverridden) -> None:
    if event.quiz_kind in _COUNTED_QUIZ_KINDS:
        _add_result(event, quiz=event.quiz_key, score=event.grade_scaled,
                    source=OVERRIDE if event.overridden else OVERRIDE_ENDED)


def _add_result(event, *, quiz: str | None, score: float, source: str = ATTEMPT) -> None:
    from . import engine

    insert_new(LearningResult.__table__, [{"tenant_id": event.tenant_id, "user_id": event.user_id,
                                           "course": event.course_slug, "quiz": quiz, "score": float(score),
                                           "achieved_on": event.occurred_at.date(), "event_id": event.event_id,
                                           "source": source}],
               conflict_on=("event_id",))
    # Someone on no programme has no standing to change: one indexed read, and nothing more.
    engine.recompute(event.tenant_id, user_ids=[event.user_id])


SUBSCRIBERS = {CourseCompleted: on_course_completed, QuizAttemptSubmitted: on_quiz_submitted,
               QuizGradeOverridden: on_grade_overridden}


def facts_of(tenant_id: int, user_ids: Iterable[int]) -> dict[int, Facts]:
    """Every listed candidate's facts, in three queries per thousand candidates."""
    wanted = sorted(set(user_ids))
    results, evidence, held = defaultdict(list), defaultdict(list), defaultdict(list)
    for start in range(0, len(wanted), 1000):
        chunk = wanted[start:start + 1000]
        rows = db.session.execute(select(LearningResult.user_id, LearningResult.course, LearningResult.quiz,
                                         LearningResult.score, LearningResult.achieved_on, LearningResult.source)
                                  .where(LearningResult.tenant_id == tenant_id, LearningResult.user_id.in_(chunk))
                                  .order_by(LearningResult.id))
        for user_id, user_rows in _by_user(rows).items():
            results[user_id].extend(_standing_results(user_rows))
        for row in db.session.execute(select(EvidenceRow.candidate_id, EvidenceRow.kind, EvidenceRow.occurred_on,
                                             EvidenceRow.area, EvidenceRow.average, EvidenceRow.hours).where(
                EvidenceRow.tenant_id == tenant_id, EvidenceRow.candidate_id.in_(chunk),
                EvidenceRow.state == APPROVED)):
            evidence[row.candidate_id].append(Evidence(EvidenceKind(row.kind), row.occurred_on, row.area,
                                                       row.average, row.hours))
        for row in db.session.execute(select(Certification.holder_id, Certification.programme_key,
                                             Certification.valid_from, Certification.valid_until).where(
                Certification.tenant_id == tenant_id, Certification.holder_id.in_(chunk),
                Certification.state == ISSUED)):
            held[row.holder_id].append(Held(row.programme_key, row.valid_from, row.valid_until))
    return {user: Facts(tuple(results[user]), tuple(evidence[user]), tuple(held[user])) for user in wanted}


def _by_user(rows) -> dict[int, list]:
    found = defaultdict(list)
    for row in rows:
        found[row.user_id].append(row)
    return found


def _standing_results(rows: list) -> list[Result]:
    """The results that count, oldest first: a quiz whose grade an instructor overrode counts with that grade
    alone (its attempts, before and after, stand behind it), until the override is ended."""
    in_force = {}
    for row in rows:
        if row.source in (OVERRIDE, OVERRIDE_ENDED):
            in_force[(row.course, row.quiz)] = row if row.source == OVERRIDE else None
    counted = []
    for row in rows:
        override = in_force.get((row.course, row.quiz))
        if row.source in (OVERRIDE, OVERRIDE_ENDED) or override is not None:
            continue
        counted.append(Result(row.course, row.quiz, row.score, row.achieved_on))
    counted.extend(Result(row.course, row.quiz, row.score, row.achieved_on) for row in in_force.values()
                   if row is not None)
    return counted


def holds_valid(tenant_id: int, user_id: int, programme_keys: Iterable[str], today: date) -> bool:
    keys = list(programme_keys)
    return bool(keys) and db.session.execute(select(Certification.id).where(
        Certification.tenant_id == tenant_id, Certification.holder_id == user_id, Certification.state == ISSUED,
        Certification.programme_key.in_(keys), Certification.valid_from <= today,
        Certification.valid_until >= today).limit(1)).first() is not None


def valid_programmes(tenant_id: int, user_id: int, today: date) -> set[str]:
    """The programmes the person holds today, in one query."""
    return set(db.session.execute(select(Certification.programme_key).where(
        Certification.tenant_id == tenant_id, Certification.holder_id == user_id, Certification.state == ISSUED,
        Certification.valid_from <= today, Certification.valid_until >= today)).scalars())


def is_approver(tenant_id: int, user_id: int) -> bool:
    """The academy's administrators (as their launches show them) and the people it named."""
    if tenancy.academy_administrators(tenant_id, [user_id]):
        return True
    return db.session.execute(select(Approver.id).where(Approver.tenant_id == tenant_id,
                                                        Approver.user_id == user_id).limit(1)).first() is not None

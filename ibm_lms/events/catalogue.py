"""The domain events rooms publish; each is a frozen record of something that has happened."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime


def _now() -> datetime:
    return datetime.now(UTC)


def _new_id() -> str:
    return str(uuid.uuid4())


@dataclass(frozen=True, kw_only=True)
class DomainEvent:
    tenant_id: int
    # Stable id: outboxes use it as the idempotency key (e.g. the xAPI statement id).
    event_id: str = field(default_factory=_new_id)
    occurred_at: datetime = field(default_factory=_now)


@dataclass(frozen=True, kw_only=True)
class LaunchCompleted(DomainEvent):
    """A user arrived through a validated LTI launch."""

    user_id: int
    issuer: str
    subject: str
    role: str
    locale: str
    message_type: str
    context_id: int | None
    resource_link_id: int | None
    target_link_uri: str


@dataclass(frozen=True, kw_only=True)
class LearningEvent(DomainEvent):
    """Something a trainee did in a course, with where it happened: what grade passback (the LTI link and
    context) and xAPI statements (course, version, locale) need to report it without asking again."""

    user_id: int
    context_id: int | None
    resource_link_id: int | None
    locale: str
    course_slug: str
    course_version: int


@dataclass(frozen=True, kw_only=True)
class LessonViewed(LearningEvent):
    lesson_key: str
    lesson_version: int
    module_key: str


@dataclass(frozen=True, kw_only=True)
class LessonCompleted(LearningEvent):
    lesson_key: str
    lesson_version: int
    module_key: str
    duration_seconds: int
    # The mean of the best score of each of the lesson's exercises (1 for a lesson without exercises).
    score_scaled: float


@dataclass(frozen=True, kw_only=True)
class ExerciseAnswered(LearningEvent):
    lesson_key: str
    exercise_key: str
    exercise_version: int
    item_type: str
    # The response as the item type reads it, and its score from 0 to 1.
    response: dict
    score_scaled: float
    success: bool
    attempt: int
    duration_seconds: int | None


@dataclass(frozen=True, kw_only=True)
class ModuleCompleted(LearningEvent):
    module_key: str


@dataclass(frozen=True, kw_only=True)
class CourseCompleted(LearningEvent):
    """Every lesson completed and the exercise score at or above the course's threshold."""

    score_scaled: float
    min_score: float
    duration_seconds: int


@dataclass(frozen=True, kw_only=True)
class QuizAttemptStarted(LearningEvent):
    quiz_key: str
    quiz_version: int
    quiz_kind: str
    attempt_id: int
    attempt_number: int
    questions: int


@dataclass(frozen=True, kw_only=True)
class QuizAttemptSubmitted(LearningEvent):
    """An attempt finished, by the trainee or by its deadline; the quiz grade is the one its grading method gives."""

    quiz_key: str
    quiz_version: int
    quiz_kind: str  # practice, pre_test, post_test or exam: impact monitoring compares pre and post
    attempt_id: int
    attempt_number: int
    score_scaled: float
    grade_scaled: float
    grading: str
    pass_mark: float
    passed: bool
    expired: bool
    duration_seconds: int
    # Per question: slot, question_key, question_version (number), question_version_id, item_type,
    # response (None if unanswered), score.
    answers: tuple[dict, ...]


@dataclass(frozen=True, kw_only=True)
class QuizGradeOverridden(LearningEvent):
    """An instructor set a trainee's quiz grade (or ended such an override): the grade now in force.

    The place (context, link, locale) is that of the trainee's last attempt, where the gradebook expects the grade."""

    quiz_key: str
    quiz_kind: str
    grade_scaled: float  # the grade in force now: the instructor's, or the attempts' again once ended
    previous_grade_scaled: float | None
    overridden: bool  # False when the override ended
    pass_mark: float
    passed: bool
    by_user_id: int | None = None  # the instructor who set or ended it

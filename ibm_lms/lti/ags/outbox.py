"""The grade outbox: a score row written, in the transaction of the result, for every graded link it concerns.

A link grades what it points at: a link to a course takes the course's score when the course is
complete; a link to a lesson takes the lesson's exercise score when the lesson is complete.
Handlers only add rows; the network is the worker's.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import func, select
from werkzeug.exceptions import HTTPException

from ibm_lms.clock import utcnow
from ibm_lms.events import (
    CourseCompleted,
    LearningEvent,
    LessonCompleted,
    QuizAttemptSubmitted,
    QuizGradeOverridden,
)
from ibm_lms.extensions import db
from ibm_lms.tenancy import service as tenancy

from ..data import SCOPE_SCORE
from ..models import GradeOutbox, ResourceLink
from .media import ACTIVITY_COMPLETED, GRADING_FULLY_GRADED

SCORE_MAXIMUM = 100.0


def graded_target(link: ResourceLink) -> tuple[str | None, str | None]:
    """(course, part) the link points at: part is None for the course, "lesson-key" for a lesson and
    "quiz:quiz-key" for a quiz; from its custom parameters, else its target's route."""
    custom = link.custom or {}
    if custom.get("course"):
        if custom.get("quiz"):
            return custom["course"], "quiz:" + custom["quiz"]
        return custom["course"], custom.get("lesson") or None
    path = urlsplit(link.target_link_uri or "").path
    base = urlsplit(current_app.config["BASE_URL"]).path.rstrip("/")
    try:
        endpoint, arguments = current_app.url_map.bind("localhost").match(
            path[len(base):] if path.startswith(base) else path, method="GET")
    except HTTPException:
        return None, None
    if endpoint in ("content.course", "content.resume"):
        return arguments["slug"], None
    if endpoint == "content.lesson":
        return arguments["slug"], arguments["lesson"]
    if endpoint == "quiz.quiz":
        return arguments["slug"], "quiz:" + arguments["key"]
    return None, None


def resource_id(course: str, lesson: str | None) -> str:
    return f"{course}/{lesson}" if lesson else course


def _enqueue(event: LearningEvent, score: float, *, lesson: str | None, label: str,
             comment: str | None = None) -> None:
    if event.resource_link_id is None:
        return
    link = db.session.execute(select(ResourceLink).where(
        ResourceLink.id == event.resource_link_id, ResourceLink.tenant_id == event.tenant_id)).scalar_one_or_none()
    if link is None or SCOPE_SCORE not in (link.ags_scopes or ()):
        return
    if graded_target(link) != (event.course_slug, lesson):
        return
    subject = tenancy.gradebook_subject(event.tenant_id, event.user_id, event.context_id)
    if subject is None:
        return
    now = utcnow()
    db.session.add(GradeOutbox(
        tenant_id=event.tenant_id, platform_id=link.platform_id, resource_link_id=link.id, user_id=event.user_id,
        subject=subject, event_id=event.event_id, resource_id=resource_id(event.course_slug, lesson),
        label=(link.title or label)[:255], score_given=round(score * SCORE_MAXIMUM, 2), score_maximum=SCORE_MAXIMUM,
        activity_progress=ACTIVITY_COMPLETED, grading_progress=GRADING_FULLY_GRADED,
        comment=comment, scored_at=_scored_at(link.id, event), status="pending", attempts=0,
        next_attempt_at=now, created_at=now,
    ))


def _scored_at(link_id: int, event: LearningEvent) -> datetime:
    """When the score was given, a later second than the person's previous score for the link when both fall in
    one (an attempt then an override, say): a platform that keeps whole seconds, as Moodle does, refuses a score
    that is not a later second than the one it holds, and the newer one would be lost."""
    scored_at = event.occurred_at.replace(tzinfo=None)
    previous = db.session.execute(select(func.max(GradeOutbox.scored_at)).where(
        GradeOutbox.resource_link_id == link_id, GradeOutbox.user_id == event.user_id)).scalar_one()
    if previous is None or scored_at < previous - timedelta(seconds=1):
        return scored_at  # the first score, or one that really is older: it is superseded, not moved
    return max(scored_at, previous.replace(microsecond=0) + timedelta(seconds=1))


def on_course_completed(event: CourseCompleted) -> None:
    _enqueue(event, event.score_scaled, lesson=None, label=event.course_slug)


def on_lesson_completed(event: LessonCompleted) -> None:
    _enqueue(event, event.score_scaled, lesson=event.lesson_key, label=f"{event.course_slug}: {event.lesson_key}")


def on_quiz_submitted(event: QuizAttemptSubmitted) -> None:
    # The gradebook holds the quiz's grade by its grading method (highest, last, average, first), as Moodle's does.
    _enqueue(event, event.grade_scaled, lesson="quiz:" + event.quiz_key, label=f"{event.course_slug}: {event.quiz_key}",
             comment=f"Attempt {event.attempt_number}: {round(event.score_scaled * 100)}%")


def on_grade_overridden(event: QuizGradeOverridden) -> None:
    # The comment is what Moodle shows beside the grade; the reason stays in the tool, where the academy keeps it.
    _enqueue(event, event.grade_scaled, lesson="quiz:" + event.quiz_key, label=f"{event.course_slug}: {event.quiz_key}",
             comment="Grade set by an instructor" if event.overridden else "Grade from the attempts again")

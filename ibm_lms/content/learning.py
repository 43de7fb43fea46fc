"""A trainee's progress through a course: lessons viewed and completed, exercises answered, modules and the
course completed by its rule. Writes into the caller's unit of work and publishes what happened."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, func, select
from sqlalchemy.exc import IntegrityError

from ibm_lms.clock import utcnow
from ibm_lms.database import read
from ibm_lms.errors import N_, Phrase
from ibm_lms.events import CourseCompleted, ExerciseAnswered, LessonCompleted, LessonViewed, ModuleCompleted
from ibm_lms.extensions import db
from ibm_lms.i18n.data import pick_text
from ibm_lms.items.service import InvalidResponse, Item, read_response, score
from ibm_lms.tenancy.data import Identity
from ibm_lms.unit_of_work import publish

from . import catalogue, progress
from .catalogue import CourseRecord
from .errors import AnswerRefused, AnswerReplayed, ExerciseChanged, ExerciseNotFound, LessonNotFinished, LessonNotFound
from .models import CourseProgress, ExerciseAnswer, LessonProgress

ANSWER_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}\Z")
# Time counted for one sitting of a lesson at most: a tab left open overnight is not study.
MAX_SITTING_SECONDS = 3600


@dataclass(frozen=True)
class Where:
    """Who did something, from which LTI context and link, in which locale: every event carries it."""

    identity: Identity
    locale: str

    def event_fields(self, course: CourseRecord, document: dict) -> dict:
        return {"tenant_id": self.identity.tenant_id, "user_id": self.identity.user_id,
                "context_id": self.identity.context_id, "resource_link_id": self.identity.resource_link_id,
                "locale": self.locale, "course_slug": course.slug, "course_version": document["number"]}


def lesson_of(document: dict, lesson_key: str) -> dict:
    lesson = document["lessons"].get(lesson_key)
    if lesson is None:
        raise LessonNotFound(lesson=lesson_key[:64])
    return lesson


def _course_progress(where: Where, course: CourseRecord, now: datetime) -> CourseProgress:
    row = db.session.execute(select(CourseProgress).where(
        CourseProgress.user_id == where.identity.user_id, CourseProgress.course_id == course.id,
        CourseProgress.tenant_id == where.identity.tenant_id)).scalar_one_or_none()
    if row is None:
        row = CourseProgress(tenant_id=where.identity.tenant_id, user_id=where.identity.user_id, course_id=course.id,
                             course_version_id=course.version_id, started_at=now, updated_at=now, completed_modules=[])
        db.session.add(row)
    return row


def view_lesson(where: Where, course: CourseRecord, document: dict, lesson_key: str) -> None:
    lesson = lesson_of(document, lesson_key)
    now = utcnow()
    row = db.session.execute(select(LessonProgress).where(
        LessonProgress.user_id == where.identity.user_id, LessonProgress.course_id == course.id,
        LessonProgress.lesson_key == lesson_key, LessonProgress.tenant_id == where.identity.tenant_id,
    )).scalar_one_or_none()
    if row is None:
        row = LessonProgress(tenant_id=where.identity.tenant_id, user_id=where.identity.user_id, course_id=course.id,
                             lesson_key=lesson_key, first_viewed_at=now, seconds_spent=0, views=0)
        db.session.add(row)
    row.lesson_version_id, row.last_viewed_at, row.views = lesson["version_id"], now, (row.views or 0) + 1
    progress_row = _course_progress(where, course, now)
    progress_row.last_lesson_key, progress_row.updated_at = lesson_key, now
    publish(LessonViewed(**where.event_fields(course, document), lesson_key=lesson_key,
                         lesson_version=lesson["number"], module_key=lesson["module"]))


def answer(where: Where, course: CourseRecord, document: dict, lesson_key: str, exercise_key: str,
           version_id: int, token: str, form) -> tuple[ExerciseAnswer, Item]:
    lesson = lesson_of(document, lesson_key)
    if exercise_key not in lesson["exercises"]:
        raise ExerciseNotFound(exercise=exercise_key[:64])
    found = catalogue.exercise_version(version_id)
    if found is None or found[2] != course.id or found[0].key != exercise_key:
        raise ExerciseChanged()
    item, number, _ = found
    if not ANSWER_TOKEN.fullmatch(token or ""):
        raise AnswerRefused(reason=Phrase(N_("the form has no valid token; open the lesson again")))
    try:
        response = read_response(item, form)
    except InvalidResponse as error:
        raise AnswerRefused(reason=Phrase(error.msgid, **error.values)) from error
    result = score(item, response)
    now = utcnow()
    identity = where.identity
    attempt = db.session.execute(select(func.count(ExerciseAnswer.id)).where(
        ExerciseAnswer.user_id == identity.user_id, ExerciseAnswer.course_id == course.id,
        ExerciseAnswer.exercise_key == exercise_key)).scalar_one() + 1
    recorded = ExerciseAnswer(
        tenant_id=identity.tenant_id, user_id=identity.user_id, course_id=course.id, lesson_key=lesson_key,
        exercise_key=exercise_key, exercise_version_id=version_id, answer_token=token, response=response,
        score=result.scaled, success=result.success, context_id=identity.context_id,
        resource_link_id=identity.resource_link_id, answered_at=now,
    )
    db.session.add(recorded)
    try:
        db.session.flush()
    except IntegrityError as error:
        raise AnswerReplayed() from error
    sitting = db.session.execute(select(LessonProgress.last_viewed_at).where(
        LessonProgress.user_id == identity.user_id, LessonProgress.course_id == course.id,
        LessonProgress.lesson_key == lesson_key)).scalar_one_or_none()
    publish(ExerciseAnswered(**where.event_fields(course, document), lesson_key=lesson_key,
                             exercise_key=exercise_key, exercise_version=number, item_type=item.type,
                             response=response, score_scaled=result.scaled, success=result.success, attempt=attempt,
                             duration_seconds=_sitting(sitting, now)))
    progress_row = _course_progress(where, course, now)
    progress_row.last_lesson_key, progress_row.updated_at = lesson_key, now
    _evaluate(where, course, document, progress_row, now)
    return recorded, item


def _sitting(since: datetime | None, now: datetime) -> int | None:
    return None if since is None else max(0, min(int((now - since).total_seconds()), MAX_SITTING_SECONDS))


def complete_lesson(where: Where, course: CourseRecord, document: dict, lesson_key: str) -> bool:
    """Marks the lesson complete once every exercise in it was answered; False if it already was."""
    lesson = lesson_of(document, lesson_key)
    identity = where.identity
    answered = set(db.session.execute(select(ExerciseAnswer.exercise_key).where(
        ExerciseAnswer.user_id == identity.user_id, ExerciseAnswer.course_id == course.id,
        ExerciseAnswer.exercise_key.in_(lesson["exercises"] or [""]))).scalars())
    missing = [key for key in lesson["exercises"] if key not in answered]
    if missing:
        raise LessonNotFinished(missing=", ".join(_exercise_title(document, key, where.locale) for key in missing))
    now = utcnow()
    row = db.session.execute(select(LessonProgress).where(
        LessonProgress.user_id == identity.user_id, LessonProgress.course_id == course.id,
        LessonProgress.lesson_key == lesson_key, LessonProgress.tenant_id == identity.tenant_id,
    )).scalar_one_or_none()
    if row is None:
        view_lesson(where, course, document, lesson_key)
        db.session.flush()
        return complete_lesson(where, course, document, lesson_key)
    if row.completed_at is not None:
        return False
    duration = _sitting(row.last_viewed_at, now) or 0
    row.completed_at, row.seconds_spent = now, (row.seconds_spent or 0) + duration
    best = standing(identity, course)["best"]
    publish(LessonCompleted(**where.event_fields(course, document), lesson_key=lesson_key,
                            lesson_version=lesson["number"], module_key=lesson["module"], duration_seconds=duration,
                            score_scaled=progress.exercise_score(lesson["exercises"], best)))
    progress_row = _course_progress(where, course, now)
    progress_row.updated_at = now
    db.session.flush()
    _evaluate(where, course, document, progress_row, now)
    return True


def _exercise_title(document: dict, key: str, locale: str) -> str:
    found = catalogue.exercise_version(document["exercises"][key]["version_id"])
    return pick_text(found[0].title, locale).text if found else key


# The catalogue's progress column: one statement for every course, on every catalogue page.
_PROGRESS_BY_COURSE = (
    select(LessonProgress.course_id, func.count(LessonProgress.id).label("viewed"),
           func.count(LessonProgress.completed_at).label("completed"),
           func.max(CourseProgress.completed_at).label("course_completed_at"))
    .outerjoin(CourseProgress, (CourseProgress.user_id == LessonProgress.user_id)
               & (CourseProgress.course_id == LessonProgress.course_id))
    .where(LessonProgress.user_id == bindparam("user_id"), LessonProgress.tenant_id == bindparam("tenant_id"))
    .group_by(LessonProgress.course_id)
)


def progress_by_course(identity: Identity) -> dict[int, tuple[int, int, datetime | None]]:
    """Per course id the trainee started: (lessons opened, lessons completed, when the course was completed)."""
    rows = read(_PROGRESS_BY_COURSE, {"user_id": identity.user_id, "tenant_id": identity.tenant_id})
    return {row.course_id: (row.viewed, row.completed, row.course_completed_at) for row in rows}


def progress_of_users(tenant_id: int, user_ids: list[int]) -> dict[int, dict[int, tuple[int, datetime | None]]]:
    """Per user, per course id: (lessons completed, when the course was completed), for an instructor's roster."""
    if not user_ids:
        return {}
    found: dict[int, dict[int, tuple[int, datetime | None]]] = {}
    lessons = db.session.execute(
        select(LessonProgress.user_id, LessonProgress.course_id, func.count(LessonProgress.completed_at))
        .where(LessonProgress.tenant_id == tenant_id, LessonProgress.user_id.in_(user_ids))
        .group_by(LessonProgress.user_id, LessonProgress.course_id))
    for user_id, course_id, completed in lessons:
        found.setdefault(user_id, {})[course_id] = (completed, None)
    courses = db.session.execute(
        select(CourseProgress.user_id, CourseProgress.course_id, CourseProgress.completed_at)
        .where(CourseProgress.tenant_id == tenant_id, CourseProgress.user_id.in_(user_ids)))
    for user_id, course_id, completed_at in courses:
        completed, _ = found.setdefault(user_id, {}).get(course_id, (0, None))
        found[user_id][course_id] = (completed, completed_at)
    return found


def course_completed_at(identity: Identity, course_id: int) -> datetime | None:
    return db.session.scalar(select(CourseProgress.completed_at).where(
        CourseProgress.tenant_id == identity.tenant_id, CourseProgress.user_id == identity.user_id,
        CourseProgress.course_id == course_id))


def completion_counts(tenant_id: int | None = None) -> dict[tuple[int, int], tuple[int, int]]:
    """Per (academy, course id): how many of its people started the course and how many completed it; every
    academy's when `tenant_id` is None (counts only, for the regional programme)."""
    query = (select(CourseProgress.tenant_id, CourseProgress.course_id, func.count(),
                    func.count(CourseProgress.completed_at))
             .group_by(CourseProgress.tenant_id, CourseProgress.course_id))
    if tenant_id is not None:
        query = query.where(CourseProgress.tenant_id == tenant_id)
    return {(row[0], row[1]): (row[2], row[3]) for row in db.session.execute(query)}


def standing(identity: Identity, course: CourseRecord) -> dict:
    """The trainee's progress in one course: completed and viewed lessons, best scores, the last lesson."""
    lessons = db.session.execute(select(LessonProgress.lesson_key, LessonProgress.completed_at).where(
        LessonProgress.user_id == identity.user_id, LessonProgress.course_id == course.id,
        LessonProgress.tenant_id == identity.tenant_id)).all()
    best = dict(db.session.execute(select(ExerciseAnswer.exercise_key, func.max(ExerciseAnswer.score)).where(
        ExerciseAnswer.user_id == identity.user_id, ExerciseAnswer.course_id == course.id,
        ExerciseAnswer.tenant_id == identity.tenant_id).group_by(ExerciseAnswer.exercise_key)).all())
    course_row = db.session.execute(select(CourseProgress.last_lesson_key, CourseProgress.completed_at).where(
        CourseProgress.user_id == identity.user_id, CourseProgress.course_id == course.id,
        CourseProgress.tenant_id == identity.tenant_id)).first()
    return {
        "viewed": {key for key, _ in lessons},
        "completed": {key for key, done in lessons if done is not None},
        "best": best,
        "last_lesson": course_row.last_lesson_key if course_row else None,
        "completed_at": course_row.completed_at if course_row else None,
    }


def _evaluate(where: Where, course: CourseRecord, document: dict, progress_row: CourseProgress, now) -> None:
    """Publishes the modules and the course that this change completed (each once)."""
    state = standing(where.identity, course)
    modules = {m["key"]: m["lessons"] for m in document["modules"]}
    for module_key in progress.completed_modules(modules, state["completed"]):
        if module_key not in (progress_row.completed_modules or []):
            progress_row.completed_modules = [*(progress_row.completed_modules or []), module_key]
            publish(ModuleCompleted(**where.event_fields(course, document), module_key=module_key))
    lessons = [key for m in document["modules"] for key in m["lessons"]]
    exercises = [key for key in lessons for key in document["lessons"][key]["exercises"]]
    scaled = progress.exercise_score(exercises, state["best"])
    min_score = float(document["completion"]["min_exercise_score"])
    progress_row.score = scaled
    if progress_row.completed_at is None and progress.course_complete(lessons, state["completed"], scaled, min_score):
        progress_row.completed_at = now
        spent = db.session.execute(select(func.coalesce(func.sum(LessonProgress.seconds_spent), 0)).where(
            LessonProgress.user_id == where.identity.user_id, LessonProgress.course_id == course.id)).scalar_one()
        publish(CourseCompleted(**where.event_fields(course, document), score_scaled=scaled, min_score=min_score,
                                duration_seconds=int(spent)))

"""The statement outbox: every learning event's statements, checked and stored.

A subscriber runs inside the unit of work that publishes the event, so the statements are stored
with the change they report, or neither is; for the events in QUEUED the event itself is stored
so, and the worker writes its statements (`queue.py`). A statement our own code builds wrongly is caught here
rather than in an LRS a day later: it is logged as an error and parked with its problems, for an
administrator to see; the trainee's own action (a submitted exam) is never refused for it. The test
suite sets XAPI_INVALID_STATEMENTS to "raise", so that there a wrong statement fails its test.
"""

from __future__ import annotations

import logging
from functools import partial

from flask import current_app
from sqlalchemy import func, select

from ibm_lms.clock import utcnow
from ibm_lms.content import service as content
from ibm_lms.database import insert_new
from ibm_lms.events import (
    CourseCompleted,
    DomainEvent,
    ExerciseAnswered,
    LaunchCompleted,
    LearningEvent,
    LessonCompleted,
    LessonViewed,
    ModuleCompleted,
    QuizAttemptStarted,
    QuizAttemptSubmitted,
    QuizGradeOverridden,
)
from ibm_lms.extensions import app_state, db
from ibm_lms.memo import Memo
from ibm_lms.outboxes import PENDING
from ibm_lms.quiz import service as quiz
from ibm_lms.tenancy import service as tenancy

from . import naming, settings, validation, vocabulary
from .delivery import DELIVERED, PARKED
from .models import StatementOutbox

# Question versions' interaction activities an application keeps built: forty a final exam, a few banks in use.
INTERACTIONS = 8192

log = logging.getLogger(__name__)


def setting_for(event: DomainEvent, user_id: int, context_id: int | None) -> vocabulary.Setting:
    known = naming.academy(event.tenant_id)
    if known.share_identity:
        person = tenancy.person_of(event.tenant_id, user_id)
        actor = vocabulary.Actor(home_page=person.issuer, name=person.subject, display_name=person.display_name)
    else:
        # A launch carries who it is for; other events are looked up once per process.
        issuer, subject = ((event.issuer, event.subject) if isinstance(event, LaunchCompleted)
                           else naming.subject(event.tenant_id, user_id))
        actor = vocabulary.Actor(home_page=issuer, name=settings.pseudonym(known.pseudonym_key, issuer, subject))
    return vocabulary.Setting(base_url=current_app.config["BASE_URL"], actor=actor, tenant=known.slug,
                              country=known.country, lti_context=naming.lti_context(event.tenant_id, context_id))


def names_for(event: LearningEvent, *, quiz_key: str | None = None, items: dict | None = None) -> vocabulary.Names:
    found = content.activity_names(event.course_slug, event.tenant_id)
    return vocabulary.Names(course=found["course"], course_description=found["summary"], modules=found["modules"],
                            lessons=found["lessons"],
                            quiz=quiz.quiz_title(event.course_slug, quiz_key, event.tenant_id) if quiz_key else {},
                            items=items or {})


def store(event: DomainEvent, statements: list[dict]) -> None:
    now = utcnow()
    rows = []
    for statement in statements:
        problems = validation.problems(statement)
        if problems and current_app.config["XAPI_INVALID_STATEMENTS"] == "raise":
            raise validation.InvalidStatement(problems)
        if problems:
            log.error("xAPI statement %s for %s is invalid, parked: %s", statement["id"], type(event).__name__,
                      "; ".join(problems))
        rows.append({"tenant_id": event.tenant_id, "statement_id": statement["id"],
                     "verb": statement["verb"]["id"].rsplit("/", 1)[-1], "statement": statement,
                     "status": PARKED if problems else PENDING, "attempts": 0, "next_attempt_at": now,
                     "created_at": now, "last_answer": refusal(problems) if problems else None})
    # The same event published again (a retried request) makes the same ids: it is recorded once.
    insert_new(StatementOutbox.__table__, rows, ["statement_id"])


def refusal(problems: list[str]) -> str:
    """What a parked statement shows when it never left: the rules it breaks."""
    return "not sent, invalid xAPI: " + "; ".join(problems)


def write_launch(event: LaunchCompleted) -> None:
    store(event, vocabulary.launched(event, setting_for(event, event.user_id, event.context_id)))


def write_lesson_viewed(event: LessonViewed) -> None:
    store(event, vocabulary.lesson_viewed(event, _setting(event), names_for(event)))


def write_exercise_answered(event: ExerciseAnswered) -> None:
    item = content.exercise_item(event.course_slug, event.tenant_id, event.exercise_key, event.exercise_version)
    if item is None:
        raise LookupError(f"exercise {event.exercise_key} v{event.exercise_version} of {event.course_slug} is gone")
    store(event, vocabulary.exercise_answered(event, _setting(event),
                                              names_for(event, items={event.exercise_key: item})))


def write_lesson_completed(event: LessonCompleted) -> None:
    store(event, vocabulary.lesson_completed(event, _setting(event), names_for(event)))


def write_module_completed(event: ModuleCompleted) -> None:
    store(event, vocabulary.module_completed(event, _setting(event), names_for(event)))


def write_course_completed(event: CourseCompleted) -> None:
    store(event, vocabulary.course_completed(event, _setting(event), names_for(event)))


def write_quiz_started(event: QuizAttemptStarted) -> None:
    store(event, vocabulary.quiz_started(event, _setting(event), names_for(event, quiz_key=event.quiz_key)))


def write_quiz_submitted(event: QuizAttemptSubmitted) -> None:
    by_id = quiz.question_items([answer["question_version_id"] for answer in event.answers])
    items = {answer["question_key"]: by_id[answer["question_version_id"]] for answer in event.answers
             if answer["question_version_id"] in by_id}
    store(event, vocabulary.quiz_submitted(event, _setting(event),
                                           names_for(event, quiz_key=event.quiz_key, items=items),
                                           app_state("xapi.interactions", partial(Memo, INTERACTIONS))))


def write_grade_overridden(event: QuizGradeOverridden) -> None:
    # The instructor is named as the academy names every person in its statements: a pseudonym unless it shares names.
    instructor = setting_for(event, event.by_user_id, event.context_id).actor if event.by_user_id else None
    store(event, vocabulary.grade_overridden(event, _setting(event), names_for(event, quiz_key=event.quiz_key),
                                             instructor))


def _setting(event: LearningEvent) -> vocabulary.Setting:
    return setting_for(event, event.user_id, event.context_id)


WRITERS = {LaunchCompleted: write_launch, LessonViewed: write_lesson_viewed,
           ExerciseAnswered: write_exercise_answered, LessonCompleted: write_lesson_completed,
           ModuleCompleted: write_module_completed, CourseCompleted: write_course_completed,
           QuizAttemptStarted: write_quiz_started, QuizAttemptSubmitted: write_quiz_submitted,
           QuizGradeOverridden: write_grade_overridden}
# Events whose statements the worker writes (`queue.py`), so that the request that causes them does not pay for
# building and checking them: a submitted quiz makes one statement per question, some forty at 0.5 ms each,
# which the submission and every autosave waiting behind it in the same server process would pay; a launch
# makes one, but it is a third of a launch's own work and stands between the trainee and the first page. The
# rest make one or two statements and write them at once.
QUEUED = frozenset({QuizAttemptSubmitted, LaunchCompleted})


def counts(tenant_id: int | None = None) -> dict[int, dict[str, int]]:
    """Per academy (or for the one given), statements in each state."""
    query = (select(StatementOutbox.tenant_id, StatementOutbox.status, func.count(StatementOutbox.id))
             .group_by(StatementOutbox.tenant_id, StatementOutbox.status))
    if tenant_id is not None:
        query = query.where(StatementOutbox.tenant_id == tenant_id)
    found: dict[int, dict[str, int]] = {}
    for row_tenant, status, number in db.session.execute(query):
        found.setdefault(row_tenant, dict.fromkeys((PENDING, DELIVERED, PARKED), 0))[status] = number
    return found

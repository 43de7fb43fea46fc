"""Attempts: started from a quiz's current version, answers autosaved one by one, finished once.

Everything here writes into the caller's unit of work. An attempt lives in the database from its
first moment, so it survives a closed tab, a lost connection or a restarted server; every save
carries a sequence number so a late retry never undoes a newer answer; finishing is idempotent; a
deadline is the server's, and an attempt past it is finished with what was saved.
"""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from sqlalchemy import bindparam, func, select

from ibm_lms.clock import utcnow
from ibm_lms.content import service as content
from ibm_lms.database import execute, update_if_newer, upsert_if_newer
from ibm_lms.errors import N_, Phrase
from ibm_lms.events import QuizAttemptStarted, QuizAttemptSubmitted, QuizGradeOverridden
from ibm_lms.extensions import app_state, db
from ibm_lms.items.service import InvalidResponse, read_partial, score
from ibm_lms.memo import Memo
from ibm_lms.tenancy.data import Identity
from ibm_lms.unit_of_work import publish

from . import grading, overrides, versions
from .drawing import Candidate, layout
from .errors import AnswerRefused, AttemptFinished, AttemptNotFound, NoAttemptLeft, QuizEmpty
from .models import SHARED_BANK, Attempt, AttemptAnswer, Question, Quiz
from .settings import QuizSettings

IN_PROGRESS, FINISHED = "in_progress", "finished"
# A save that reaches the server this long after the deadline still counts (the network, not the trainee).
DEADLINE_GRACE_SECONDS = 5


@dataclass(frozen=True)
class Context:
    identity: Identity
    locale: str


def settings_of(version_id: int) -> tuple[QuizSettings, int]:
    return versions.quiz_settings(version_id)


def _candidates(quiz: Quiz, tenant_id: int) -> list[Candidate]:
    """The questions a draw may take: their bank entries read as columns, their current versions from the
    application's memo (a start reads no question text)."""
    rows = db.session.execute(
        select(Question.key, Question.bank, Question.current_version_id, Question.category, Question.tags,
               Question.outcomes, Question.difficulty)
        .where(Question.course_slug == quiz.course_slug, Question.archived_at.is_(None),
               Question.bank.in_((SHARED_BANK, tenant_id)))
    ).all()
    current = versions.versions_of(row.current_version_id for row in rows)
    found = {}
    for row in rows:
        # A tenant's own copy of a question replaces the shared one with the same key.
        if (row.key in found and row.bank == SHARED_BANK) or row.current_version_id not in current:
            continue
        item = current[row.current_version_id].item
        choices = [o["id"] for o in item.spec.get("options") or item.spec.get("specimens") or ()]
        found[row.key] = Candidate(row.key, row.current_version_id, row.category, tuple(row.tags),
                                   tuple(row.outcomes), row.difficulty, item.type, tuple(choices))
    return list(found.values())


def open_attempt(user_id: int, quiz_id: int) -> Attempt | None:
    return db.session.execute(select(Attempt).where(Attempt.user_id == user_id, Attempt.quiz_id == quiz_id,
                                                    Attempt.open == 1)).scalar_one_or_none()


def finished_attempts(user_id: int, quiz_id: int) -> list[Attempt]:
    return list(db.session.execute(select(Attempt).where(
        Attempt.user_id == user_id, Attempt.quiz_id == quiz_id, Attempt.status == FINISHED)
        .order_by(Attempt.number)).scalars())


def start(context: Context, quiz: Quiz) -> Attempt:
    """The trainee's attempt in progress, or a new one if attempts are left."""
    identity = context.identity
    current = open_attempt(identity.user_id, quiz.id)
    if current is not None:
        if not past_deadline(current):
            return current
        finish(context, current, expired=True)
    settings, version_number = settings_of(quiz.current_version_id)
    used = db.session.execute(select(func.count(Attempt.id)).where(
        Attempt.user_id == identity.user_id, Attempt.quiz_id == quiz.id)).scalar_one()
    if not grading.attempts_left(settings.attempts, used):
        raise NoAttemptLeft()
    slots = layout(settings, _candidates(quiz, identity.tenant_id), random.Random(secrets.randbits(64)))
    if not slots:
        raise QuizEmpty()
    now = utcnow()
    attempt = Attempt(tenant_id=identity.tenant_id, user_id=identity.user_id, quiz_id=quiz.id,
                      quiz_version_id=quiz.current_version_id, number=used + 1, status=IN_PROGRESS, open=1,
                      layout=slots, started_at=now,
                      deadline_at=now + timedelta(minutes=settings.time_limit_minutes)
                      if settings.time_limit_minutes else None,
                      context_id=identity.context_id, resource_link_id=identity.resource_link_id, locale=context.locale)
    db.session.add(attempt)
    # Two starts at once (a double click) break the one-open-attempt constraint here; the door retries.
    db.session.flush()
    publish(QuizAttemptStarted(**_event_fields(context, quiz), quiz_key=quiz.key, quiz_version=version_number,
                               quiz_kind=settings.kind, attempt_id=attempt.id, attempt_number=attempt.number,
                               questions=len(slots)))
    return attempt


def _event_fields(context: Context, quiz: Quiz) -> dict:
    identity = context.identity
    return {"tenant_id": identity.tenant_id, "user_id": identity.user_id, "context_id": identity.context_id,
            "resource_link_id": identity.resource_link_id, "locale": context.locale, "course_slug": quiz.course_slug,
            "course_version": content.course_version_number(quiz.course_slug, identity.tenant_id)}


def attempt_of(identity: Identity, attempt_id: int) -> Attempt:
    """The trainee's own attempt; another user's or tenant's id is no attempt at all (404)."""
    attempt = db.session.execute(select(Attempt).where(
        Attempt.id == attempt_id, Attempt.user_id == identity.user_id, Attempt.tenant_id == identity.tenant_id
    )).scalar_one_or_none()
    if attempt is None:
        raise AttemptNotFound()
    return attempt


# Answers are ordered by when they were given, on the server's clock, in tenths of a second since the attempt
# started: the last answer wins whichever tab, computer or stored page it came from (a counter kept in one
# browser started again at 1 on another and lost every change there). 2**31 tenths is six years.
SEQUENCE_UNITS_PER_SECOND = 10
MAX_SEQUENCE = 2**31 - 1


def sequence_now(attempt) -> int:
    """The sequence number an answer given now carries: what an attempt page starts its count from."""
    elapsed = (utcnow().replace(tzinfo=None) - attempt.started_at.replace(tzinfo=None)).total_seconds()
    return min(MAX_SEQUENCE, max(0, int(elapsed * SEQUENCE_UNITS_PER_SECOND)))


def seconds_left(attempt) -> int | None:
    """Seconds until the deadline on the server's clock: a page counts down from them, whatever its own clock says."""
    if attempt.deadline_at is None:
        return None
    return max(0, int((attempt.deadline_at.replace(tzinfo=None) - utcnow().replace(tzinfo=None)).total_seconds()))


def past_deadline(attempt) -> bool:
    return attempt.deadline_at is not None and utcnow() > attempt.deadline_at + timedelta(
        seconds=DEADLINE_GRACE_SECONDS)


@dataclass(frozen=True)
class SaveTarget:
    """What an autosave needs of its attempt. None of it changes once the attempt has started, so each server
    process reads it once per attempt; whether the attempt still takes answers (in progress, its time not up) is
    checked by every write."""

    id: int
    tenant_id: int
    user_id: int
    version_ids: tuple[int, ...]  # the question version in each slot


class PastDeadline(Exception):
    """A save reached an attempt whose time is up: the caller submits it with what was saved."""


# Attempts an application remembers for their saves: the open attempts of a few thousand trainees at once.
SAVE_TARGETS = 20_000
_ATTEMPTS = Attempt.__table__
# Read on the cursor path, once per attempt and process (a save is the request an exam makes most).
_SAVE_TARGET = select(*(_ATTEMPTS.c[name] for name in ("id", "tenant_id", "user_id", "layout"))
                      ).where(_ATTEMPTS.c.id == bindparam("attempt_id"), _ATTEMPTS.c.user_id == bindparam("user_id"),
                              _ATTEMPTS.c.tenant_id == bindparam("tenant_id"))
# The condition every save's write carries, so that a submission a moment ago, or the time running out, stops it.
_TAKES_ANSWERS = select(_ATTEMPTS.c.id).where(
    _ATTEMPTS.c.id == bindparam("answers_attempt_id"), _ATTEMPTS.c.status == IN_PROGRESS,
    _ATTEMPTS.c.deadline_at.is_(None) | (_ATTEMPTS.c.deadline_at >= bindparam("deadline_at_least"))).exists()
_STATE = select(_ATTEMPTS.c.status, _ATTEMPTS.c.deadline_at).where(_ATTEMPTS.c.id == bindparam("attempt_id"))


def save_target(identity: Identity, attempt_id: int) -> SaveTarget:
    """The trainee's own attempt as an autosave needs it; another user's or tenant's id is no attempt at all (404)."""
    remembered = app_state("quiz.save_targets", partial(Memo, SAVE_TARGETS))
    target = remembered.get(attempt_id)
    if target is None:
        found = execute(_SAVE_TARGET, {"attempt_id": attempt_id, "user_id": identity.user_id,
                                       "tenant_id": identity.tenant_id}).first()
        if found is None:
            raise AttemptNotFound()
        target = remembered.put(attempt_id, SaveTarget(found.id, found.tenant_id, found.user_id,
                                                       tuple(entry["version_id"] for entry in found.layout)))
    if (target.user_id, target.tenant_id) != (identity.user_id, identity.tenant_id):
        raise AttemptNotFound()
    return target


def save(target: SaveTarget, forms: dict[int, dict[str, list[str]]], sequence: int) -> list[int]:
    """Keeps the answers of the slots given, complete or in progress (read strictly: one value a question
    cannot take refuses the whole save); a slot sent empty is cleared. Returns the slots saved; a slot's
    older sequence number never overwrites a newer one (one statement per slot decides it, so two saves
    racing for a slot cannot both insert it). AttemptFinished when the attempt is submitted, PastDeadline when
    its time is up."""
    read = {}
    for slot, form in forms.items():
        if not 0 <= slot < len(target.version_ids):
            raise AnswerRefused(reason=Phrase(N_("question %(number)s is not part of this attempt"), number=slot + 1))
        given = {name: values for name, values in form.items() if name != "present"}
        try:
            read[slot] = read_partial(versions.item_of(target.version_ids[slot]), given)
        except InvalidResponse as error:
            raise AnswerRefused(reason=Phrase(N_("question %(number)s: %(problem)s"), number=slot + 1,
                                              problem=Phrase(error.msgid, **error.values))) from error
    now, saved = utcnow(), []
    takes_answers = {"answers_attempt_id": target.id,
                     "deadline_at_least": now - timedelta(seconds=DEADLINE_GRACE_SECONDS)}
    for slot, (response, complete) in read.items():
        if response is None:
            # Shown, never answered (the whole form posted at the end): nothing to keep. Answered before: the
            # clearing is kept with its sequence number.
            kept = update_if_newer(_ANSWERS, {"attempt_id": target.id, "slot": slot},
                                   {"response": None, "complete": True, "sequence": sequence, "saved_at": now},
                                   newer_by="sequence", returning=("slot",), only_while=_TAKES_ANSWERS,
                                   condition_values=takes_answers)
        else:
            kept = upsert_if_newer(_ANSWERS, {
                **takes_answers, "attempt_id": target.id, "tenant_id": target.tenant_id, "slot": slot,
                "response": response,
                "complete": complete, "sequence": sequence, "saved_at": now},
                conflict_on=("attempt_id", "slot"), update=("response", "complete", "sequence", "saved_at"),
                newer_by="sequence", returning=("slot",), only_while=_TAKES_ANSWERS)
        if kept is not None:
            saved.append(slot)
    if not saved:
        # Every slot older or empty, or the attempt no longer takes answers: asked only then.
        state = execute(_STATE, {"attempt_id": target.id}).one()
        if state.status != IN_PROGRESS:
            raise AttemptFinished()
        if past_deadline(state):
            raise PastDeadline()
    return saved


_ANSWERS = AttemptAnswer.__table__


def answers_of(attempt: Attempt) -> dict[int, AttemptAnswer]:
    """The answers kept so far, by slot (cleared ones left out)."""
    return {a.slot: a for a in db.session.execute(
        select(AttemptAnswer).where(AttemptAnswer.attempt_id == attempt.id)).scalars() if a.response is not None}


def finish(context: Context, attempt: Attempt, *, expired: bool = False) -> bool:
    """Scores and closes the attempt once; False if it was already finished (a double submit)."""
    if attempt.status == FINISHED:
        return False
    quiz = db.session.get(Quiz, attempt.quiz_id)
    settings, version_number = settings_of(attempt.quiz_version_id)
    saved = answers_of(attempt)
    used = versions.versions_of(entry["version_id"] for entry in attempt.layout)
    results = []
    for slot, entry in enumerate(attempt.layout):
        version = used[entry["version_id"]]
        item = version.item
        answer = saved.get(slot)
        value = score(item, answer.response).scaled if answer is not None else 0.0
        if answer is not None:
            answer.score = value
        results.append({"slot": slot, "question_key": entry["key"], "question_version_id": entry["version_id"],
                        "question_version": version.number,
                        "item_type": item.type, "response": answer.response if answer else None, "score": value})
    now = utcnow()
    attempt.score = grading.attempt_score([r["score"] for r in results])
    attempt.question_scores = {r["question_key"]: r["score"] for r in results}
    attempt.status, attempt.open, attempt.finished_at = FINISHED, None, now
    db.session.flush()
    # An instructor's override stands whatever the attempts give, as in Moodle's gradebook.
    grade = overrides.standings(attempt.tenant_id, attempt.quiz_id, settings.grading, [attempt.user_id])[
        attempt.user_id].grade
    publish(QuizAttemptSubmitted(
        **_event_fields(_at_attempt(attempt, context.identity.role), quiz), quiz_key=quiz.key,
        quiz_version=version_number,
        quiz_kind=settings.kind, attempt_id=attempt.id, attempt_number=attempt.number, score_scaled=attempt.score,
        grade_scaled=grade, grading=settings.grading, pass_mark=settings.pass_mark,
        passed=grade >= settings.pass_mark, expired=expired,
        duration_seconds=int(((attempt.deadline_at if expired and attempt.deadline_at else now)
                              - attempt.started_at).total_seconds()),
        answers=tuple(results)))
    return True


def _at_attempt(attempt: Attempt, role) -> Context:
    """The trainee's place (context, link, language) as the attempt recorded it: where its grade belongs."""
    identity = Identity(user_id=attempt.user_id, tenant_id=attempt.tenant_id, role=role,
                        context_id=attempt.context_id, display_name=None, resource_link_id=attempt.resource_link_id)
    return Context(identity, attempt.locale)


def override(quiz: Quiz, settings: QuizSettings, before: overrides.Standing, grade: float | None, reason: str,
             by: Identity) -> float:
    """Records an instructor's grade (None ends the override) and announces the grade now in force."""
    overrides.add(by.tenant_id, quiz.id, before.user_id, grade, reason, by.user_id, utcnow())
    now_in_force = grade if grade is not None else before.attempts_grade
    last = db.session.get(Attempt, before.last_attempt_id)
    publish(QuizGradeOverridden(
        **_event_fields(_at_attempt(last, by.role), quiz), quiz_key=quiz.key, quiz_kind=settings.kind,
        grade_scaled=now_in_force, previous_grade_scaled=before.grade, overridden=grade is not None,
        pass_mark=settings.pass_mark, passed=now_in_force >= settings.pass_mark, by_user_id=by.user_id))
    return now_in_force


def due_for_closing(limit: int) -> list[int]:
    """Attempts whose deadline passed (with its grace) and that nobody closed: the worker finishes them."""
    cutoff = utcnow() - timedelta(seconds=DEADLINE_GRACE_SECONDS)
    return list(db.session.execute(select(Attempt.id).where(
        Attempt.status == IN_PROGRESS, Attempt.deadline_at.is_not(None), Attempt.deadline_at < cutoff)
        .order_by(Attempt.deadline_at).limit(limit)).scalars())

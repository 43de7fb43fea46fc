"""The quiz room's door: quizzes of a course, attempts (start, autosave, submit, review), deadlines closed."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ibm_lms.audit import service as audit
from ibm_lms.content import service as content
from ibm_lms.errors import N_, Phrase
from ibm_lms.extensions import db
from ibm_lms.i18n.data import pick_text
from ibm_lms.items.service import correct_response, score
from ibm_lms.tenancy import service as tenancy
from ibm_lms.tenancy.data import Identity, Role
from ibm_lms.text import SLUG
from ibm_lms.unit_of_work import unit_of_work

from . import analysis, authoring, exchange, grading, images, interchange, overrides, versions
from . import attempts as flow
from .errors import (
    ImportRefused,
    NoSubmittedAttempt,
    NotAnAuthor,
    NotAnInstructor,
    OverrideRefused,
    OwnGrade,
    QuestionNotFound,
    QuizNotFound,
    TimeIsUp,
    UnknownFormat,
)
from .models import SHARED_BANK, Attempt, Quiz


@dataclass(frozen=True)
class QuizSummary:
    key: str
    course_slug: str
    title: str
    kind: str
    questions: int
    time_limit_minutes: int
    attempts_allowed: int
    pass_mark: float
    # The language the title is shown in: another than the reader's when it fell back.
    title_locale: str


def _quiz(slug: str, key: str, tenant_id: int) -> Quiz:
    content.course_version_number(slug, tenant_id)  # the course must be the tenant's to see
    if not SLUG.match(key):
        raise QuizNotFound()
    rows = db.session.execute(select(Quiz).where(
        Quiz.course_slug == slug, Quiz.key == key, Quiz.archived_at.is_(None),
        Quiz.bank.in_((SHARED_BANK, tenant_id)))).scalars().all()
    if not rows:
        raise QuizNotFound()
    # A tenant's own quiz with the same key stands in for the shared one.
    return max(rows, key=lambda q: q.bank)


def quizzes(slug: str, tenant_id: int, locale: str) -> list[QuizSummary]:
    content.course_version_number(slug, tenant_id)
    rows = db.session.execute(select(Quiz).where(
        Quiz.course_slug == slug, Quiz.archived_at.is_(None), Quiz.bank.in_((SHARED_BANK, tenant_id)))
        .order_by(Quiz.key)).scalars()
    chosen = {}
    for row in rows:
        if row.key not in chosen or row.bank != SHARED_BANK:
            chosen[row.key] = row
    found = []
    for row in chosen.values():
        settings, _ = flow.settings_of(row.current_version_id)
        title = pick_text(settings.title, locale)
        found.append(QuizSummary(row.key, slug, title.text, settings.kind, settings.question_count,
                                 settings.time_limit_minutes, settings.attempts, settings.pass_mark, title.locale))
    order = {"pre_test": 0, "practice": 1, "post_test": 2, "exam": 3}
    return sorted(found, key=lambda q: (order.get(q.kind, 9), q.key))


def quiz_titles(slug: str, tenant_id: int) -> dict[str, dict[str, str]]:
    """The course's quizzes this tenant sees, each key with its title by locale (certification names them)."""
    content.course_version_number(slug, tenant_id)
    rows = db.session.execute(select(Quiz).where(
        Quiz.course_slug == slug, Quiz.archived_at.is_(None), Quiz.bank.in_((SHARED_BANK, tenant_id)))).scalars()
    chosen = {}
    for row in rows:
        if row.key not in chosen or row.bank != SHARED_BANK:
            chosen[row.key] = row
    return {key: dict(flow.settings_of(row.current_version_id)[0].title) for key, row in chosen.items()}


def quizzes_page(slug: str, tenant_id: int, locale: str) -> dict:
    return {"quizzes": quizzes(slug, tenant_id, locale), "course_title": content.course_title(slug, tenant_id, locale)}


def quiz_page(slug: str, key: str, identity: Identity, locale: str) -> dict:
    quiz = _quiz(slug, key, identity.tenant_id)
    settings, _ = flow.settings_of(quiz.current_version_id)
    finished = flow.finished_attempts(identity.user_id, quiz.id)
    current = flow.open_attempt(identity.user_id, quiz.id)
    used = len(finished) + (1 if current else 0)
    standing = overrides.standings(identity.tenant_id, quiz.id, settings.grading, [identity.user_id]).get(
        identity.user_id)
    grade = standing.grade if standing is not None else None
    return {"quiz": quiz, "settings": settings, "title": pick_text(settings.title, locale),
            "overridden": standing is not None and standing.override is not None,
            "description": pick_text(settings.description, locale) if settings.description else None,
            "course_title": content.course_title(slug, identity.tenant_id, locale), "finished": finished,
            "current": current, "grade": grade, "passed": grade is not None and grade >= settings.pass_mark,
            "can_start": current is not None or grading.attempts_left(settings.attempts, used)}


def start(slug: str, key: str, identity: Identity, locale: str) -> int:
    """The id of the trainee's attempt in progress, made if needed (a double click makes one)."""
    quiz_id = _quiz(slug, key, identity.tenant_id).id
    try:
        with unit_of_work():
            return flow.start(flow.Context(identity, locale), db.session.get(Quiz, quiz_id)).id
    except IntegrityError:
        current = flow.open_attempt(identity.user_id, quiz_id)
        if current is None:
            raise
        return current.id


def attempt_page(attempt_id: int, identity: Identity, locale: str) -> dict:
    attempt = flow.attempt_of(identity, attempt_id)
    if attempt.status == flow.IN_PROGRESS and flow.past_deadline(attempt):
        with unit_of_work():
            flow.finish(flow.Context(identity, locale), attempt, expired=True)
    quiz = db.session.get(Quiz, attempt.quiz_id)
    settings, _ = flow.settings_of(attempt.quiz_version_id)
    saved = flow.answers_of(attempt)
    used = versions.versions_of(entry["version_id"] for entry in attempt.layout)
    questions = [{"slot": slot, "item": used[entry["version_id"]].item, "choices": entry["choices"],
                  "response": saved[slot].response if slot in saved else None,
                  "state": ("answered" if saved[slot].complete else "incomplete") if slot in saved else "unanswered"}
                 for slot, entry in enumerate(attempt.layout)]
    return {"attempt": attempt, "quiz": quiz, "settings": settings, "title": pick_text(settings.title, locale),
            "questions": questions, "answered": sum(1 for a in saved.values() if a.complete),
            "incomplete": sum(1 for a in saved.values() if not a.complete),
            "sequence": flow.sequence_now(attempt), "seconds_left": flow.seconds_left(attempt)}


def save(attempt_id: int, identity: Identity, forms: dict[int, dict[str, list[str]]], sequence: int) -> list[int]:
    """Autosaves answers; past the deadline the attempt is submitted with what it has, and TimeIsUp raised."""
    with unit_of_work():
        target = flow.save_target(identity, attempt_id)
        try:
            return flow.save(target, forms, sequence)
        except flow.PastDeadline:
            attempt = flow.attempt_of(identity, attempt_id)
            flow.finish(flow.Context(identity, attempt.locale), attempt, expired=True)
    raise TimeIsUp()


def submit(attempt_id: int, identity: Identity, locale: str) -> bool:
    """Submits once: a second submit (a double click, a retried request) changes nothing and says so."""
    attempt = flow.attempt_of(identity, attempt_id)
    with unit_of_work():
        return flow.finish(flow.Context(identity, locale), attempt, expired=flow.past_deadline(attempt))


def review_page(attempt_id: int, identity: Identity, locale: str) -> dict:
    page = attempt_page(attempt_id, identity, locale)
    attempt, settings = page["attempt"], page["settings"]
    used = len(flow.finished_attempts(identity.user_id, attempt.quiz_id))
    level = grading.review_level(settings.review_after_submit, settings.review_after_close,
                                 attempts_left=grading.attempts_left(settings.attempts, used))
    for question in page["questions"]:
        item, response = question["item"], question["response"]
        question["score"] = score(item, response).scaled if response is not None else 0.0
        question["model"] = correct_response(item)
    page["level"] = level
    return page


def close_due(limit: int = 50) -> int:
    """Finishes attempts whose time ran out (the worker's job); returns how many."""
    closed = 0
    for attempt_id in flow.due_for_closing(limit):
        with unit_of_work():
            attempt = db.session.get(Attempt, attempt_id)
            identity = Identity(user_id=attempt.user_id, tenant_id=attempt.tenant_id, role=Role.LEARNER,
                                context_id=attempt.context_id, display_name=None,
                                resource_link_id=attempt.resource_link_id)
            closed += flow.finish(flow.Context(identity, attempt.locale), attempt, expired=True)
    return closed


def attempts_by_tenant() -> dict[int, dict[str, int]]:
    """Per tenant, attempts in progress and finished (for the worker's status)."""
    counts: dict[int, dict[str, int]] = {}
    for tenant_id, status, number in db.session.execute(
            select(Attempt.tenant_id, Attempt.status, func.count(Attempt.id)).group_by(Attempt.tenant_id,
                                                                                      Attempt.status)):
        counts.setdefault(tenant_id, {"in_progress": 0, "finished": 0})[status] = number
    return counts


# Authoring: the tenant's own bank. Instructors and administrators only (the views and the API check the
# role; these doors check it again, so no caller can forget).

def _author(identity: Identity, slug: str) -> None:
    if identity.role.rank < Role.INSTRUCTOR.rank:
        raise NotAnAuthor()
    content.course_version_number(slug, identity.tenant_id)  # the course must be the tenant's to see


def bank_questions(identity: Identity, slug: str) -> list[authoring.QuestionRecord]:
    _author(identity, slug)
    return authoring.questions(slug, identity.tenant_id)


def bank_question(identity: Identity, slug: str, key: str) -> authoring.QuestionRecord:
    _author(identity, slug)
    if not SLUG.match(key):
        raise QuestionNotFound()
    return authoring.question(slug, key, identity.tenant_id)


def save_question(identity: Identity, slug: str, draft: authoring.QuestionDraft, *,
                  base_version: int | None = None, new: bool = False) -> tuple[authoring.QuestionRecord | None, list]:
    """`new`: the author is creating a question, and its key must not be taken (see authoring.save_question)."""
    _author(identity, slug)
    with unit_of_work():
        return authoring.save_question(identity, slug, draft, base_version=base_version, new=new)


def check_question(identity: Identity, slug: str, draft: authoring.QuestionDraft):
    """The draft checked without saving (a preview): (BankQuestion | None, problems)."""
    _author(identity, slug)
    return authoring.check(slug, identity.tenant_id, draft)


def copy_question(identity: Identity, slug: str, key: str) -> authoring.QuestionRecord:
    _author(identity, slug)
    with unit_of_work():
        return authoring.copy_shared(identity, slug, key)


def archive_question(identity: Identity, slug: str, key: str) -> None:
    _author(identity, slug)
    with unit_of_work():
        authoring.archive_question(identity, slug, key)


def import_questions(identity: Identity, slug: str, drafts: list[authoring.QuestionDraft]) -> int:
    """Every draft saved, or none (ImportRefused lists every problem)."""
    _author(identity, slug)
    with unit_of_work():
        return len(authoring.import_questions(identity, slug, drafts))


def bank_quizzes(identity: Identity, slug: str) -> list[dict]:
    """The course's quizzes a tenant has: shared and its own, each with its settings and version."""
    _author(identity, slug)
    rows = db.session.execute(select(Quiz).where(
        Quiz.course_slug == slug, Quiz.archived_at.is_(None), Quiz.bank.in_((SHARED_BANK, identity.tenant_id)))
        .order_by(Quiz.key, Quiz.bank)).scalars()
    found = {}
    for row in rows:
        settings, number = flow.settings_of(row.current_version_id)
        found[row.key] = {"key": row.key, "shared": row.bank == SHARED_BANK, "settings": settings,
                          "version": number}
    return list(found.values())


def bank_quiz(identity: Identity, slug: str, key: str) -> dict:
    found = {q["key"]: q for q in bank_quizzes(identity, slug)}
    if key not in found:
        raise QuizNotFound()
    return found[key]


def save_quiz(identity: Identity, slug: str, key: str, settings: dict, *, base_version: int | None = None):
    _author(identity, slug)
    with unit_of_work():
        return authoring.save_quiz(identity, slug, key, settings, base_version=base_version)


def archive_quiz(identity: Identity, slug: str, key: str) -> None:
    _author(identity, slug)
    with unit_of_work():
        authoring.archive_quiz(identity, slug, key)


def category_names(identity: Identity, slug: str, locale: str) -> dict:
    """Each category of the course's bank with its name in `locale` (a Shown; another locale's when this one has
    none); a category without names is named by its id."""
    _author(identity, slug)
    return {category: pick_text(names, locale) for category, names in authoring.category_names(
        slug, identity.tenant_id).items()}


def bank_view(identity: Identity, slug: str) -> dict:
    _author(identity, slug)
    return authoring.bank_view(slug, identity.tenant_id)


MAX_IMAGE_BYTES = images.MAX_UPLOAD_BYTES


def image(identity: Identity, digest: str):
    return images.load(identity.tenant_id, digest)


def upload_image(identity: Identity, slug: str, data: bytes) -> str:
    """Keeps an uploaded image for the tenant's questions; returns its digest (ImageRefused otherwise)."""
    _author(identity, slug)
    with unit_of_work():
        return images.store(identity.tenant_id, identity.user_id or None, data)


def quiz_statistics(identity: Identity, slug: str, key: str, which: str = "all"):
    """Moodle's item statistics of the quiz over the academy's finished attempts (analysis.Report)."""
    _author(identity, slug)
    if which not in analysis.WHICH:
        which = "all"
    quiz = _quiz(slug, key, identity.tenant_id)
    names = {tenant.id: tenant.name for tenant in tenancy.list_tenants()}
    return analysis.report(quiz, identity.tenant_id, names, which)


# Grades: what each trainee's attempts give, and instructors' overrides of it (audited, sent to the gradebook).

def _instructor(identity: Identity, slug: str) -> None:
    if identity.role.rank < Role.INSTRUCTOR.rank:
        raise NotAnInstructor()
    content.course_version_number(slug, identity.tenant_id)


@dataclass(frozen=True)
class GradeRow:
    user_id: int
    name: str
    region: str | None
    standing: overrides.Standing
    overridden_by: str | None
    passed: bool


def quiz_grades(identity: Identity, slug: str, key: str, locale: str) -> dict:
    """Every trainee of the academy with a submitted attempt: attempts, their grade, any override, the grade."""
    return _grades_page(identity, slug, key, locale, None)


def _grades_page(identity: Identity, slug: str, key: str, locale: str, user_ids: list[int] | None) -> dict:
    _instructor(identity, slug)
    quiz = _quiz(slug, key, identity.tenant_id)
    settings, _ = flow.settings_of(quiz.current_version_id)
    found = overrides.standings(identity.tenant_id, quiz.id, settings.grading, user_ids)
    named = tenancy.people(identity.tenant_id, set(found) | {s.override.by for s in found.values() if s.override})
    rows = [GradeRow(user_id, _name(named.get(user_id)), getattr(named.get(user_id), "region", None), standing,
                     _name(named.get(standing.override.by)) if standing.override else None,
                     standing.grade is not None and standing.grade >= settings.pass_mark)
            for user_id, standing in found.items()]
    return {"quiz": quiz, "settings": settings, "title": pick_text(settings.title, locale),
            "course_title": content.course_title(slug, identity.tenant_id, locale),
            "rows": sorted(rows, key=lambda row: (row.name.casefold(), row.user_id))}


def trainee_grade(identity: Identity, slug: str, key: str, user_id: int, locale: str) -> dict:
    """One trainee's grade on the quiz with every override behind it, newest first."""
    page = _grades_page(identity, slug, key, locale, [user_id])
    if not page["rows"]:
        raise NoSubmittedAttempt()
    past = overrides.history(identity.tenant_id, page["quiz"].id, user_id)
    named = tenancy.people(identity.tenant_id, {entry.by for entry in past})
    return {**page, "row": page["rows"][0], "own": user_id == identity.user_id,
            "history": [(entry, _name(named.get(entry.by))) for entry in past]}


def override_grade(identity: Identity, slug: str, key: str, user_id: int, grade_text: str | None,
                   reason_text: str | None) -> float:
    """Sets the trainee's quiz grade to a percentage (an empty one ends the override) with a reason; returns the
    grade now in force. Audited; the gradebook and the certification records follow."""
    _instructor(identity, slug)
    if user_id == identity.user_id:
        raise OwnGrade()
    grade, reason = overrides.read_grade(grade_text), overrides.read_reason(reason_text)
    quiz = _quiz(slug, key, identity.tenant_id)
    settings, _ = flow.settings_of(quiz.current_version_id)
    with unit_of_work():
        before = overrides.standings(identity.tenant_id, quiz.id, settings.grading, [user_id]).get(user_id)
        if before is None:
            raise NoSubmittedAttempt()
        if grade is None and before.override is None:
            raise OverrideRefused(reason=Phrase(N_("the grade is not overridden, so there is no override to end")))
        now_in_force = flow.override(db.session.get(Quiz, quiz.id), settings, before, grade, reason, identity)
        audit.record(actor=tenancy.audit_name(identity.tenant_id, identity.user_id),
                     action="quiz.grade_overridden" if grade is not None else "quiz.grade_override_ended",
                     subject=f"quiz {slug}/{key} of {tenancy.audit_name(identity.tenant_id, user_id)}",
                     details={"from": before.grade, "to": now_in_force, "reason": reason},
                     tenant_id=identity.tenant_id)
    return now_in_force


def _name(person) -> str:
    if person is None:
        return "?"
    return person.display_name or person.subject


IMPORT_FORMATS, EXPORT_FORMATS = exchange.IMPORT_FORMATS, tuple(exchange.EXPORT_FORMATS)
MAX_IMPORT_BYTES = interchange.MAX_INPUT_BYTES


def import_file(identity: Identity, slug: str, data: bytes, fmt: str, *, locale: str, category: str = "imported",
                outcome: str | None = None) -> exchange.ImportReport:
    """Imports a GIFT or Moodle XML file into the academy's bank: every question, or none (ImportRefused)."""
    _author(identity, slug)
    if fmt not in exchange.IMPORT_FORMATS:
        raise ImportRefused(problems=(Phrase(N_("the format %(format)s is not one of: %(formats)s"), format=repr(fmt),
                                             formats=", ".join(exchange.IMPORT_FORMATS)),))
    with unit_of_work():
        return exchange.import_file(identity, slug, data, fmt, locale=locale, category=category or "imported",
                                    outcome=outcome or None)


def export_file(identity: Identity | None, slug: str, fmt: str, locale: str) -> exchange.ExportFile:
    """The course's questions the academy sees (or the shared bank, with no identity) in a format."""
    if identity is not None:
        _author(identity, slug)
    else:
        content.course_version_number(slug, None)
    if fmt not in exchange.EXPORT_FORMATS:
        raise UnknownFormat(format=fmt[:20], formats=", ".join(exchange.EXPORT_FORMATS))
    return exchange.export_file(slug, identity.tenant_id if identity else None, fmt, locale)


def quiz_title(slug: str, key: str, tenant_id: int) -> dict[str, str]:
    """A quiz's title by locale (xAPI names the assessment)."""
    settings, _ = flow.settings_of(_quiz(slug, key, tenant_id).current_version_id)
    return dict(settings.title)


def question_items(version_ids: list[int]) -> dict:
    """The items of question versions by id (an attempt's answers name the versions they were given)."""
    return analysis.items_by_version_id(version_ids)

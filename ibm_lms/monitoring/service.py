"""The monitoring room's door: the trainees' questionnaires on each course, what an academy learns from them and
from its course records, and the regional programme's comparison of academies in counts and means only."""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Mapping
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ibm_lms.clock import utcnow
from ibm_lms.content import service as content
from ibm_lms.errors import N_, Phrase
from ibm_lms.extensions import db
from ibm_lms.tenancy import service as tenancy
from ibm_lms.tenancy.data import Identity, Role
from ibm_lms.text import spreadsheet_cell
from ibm_lms.unit_of_work import unit_of_work

from . import indicators
from .data import QuestionnaireState
from .errors import AnswersNotTaken, NotAuthorised, QuestionnaireNotFound, QuestionnaireNotOpen
from .models import QuestionnaireAnswer
from .questionnaires import QUESTIONNAIRES, AnswersRefused, Questionnaire, read_answers

# The academy page shows this many comments, picked at random (newest first would point at whoever completed
# the course last); the comments' CSV carries them all.
COMMENTS_SHOWN = 50


def questionnaire(key: str) -> Questionnaire:
    found = QUESTIONNAIRES.get(key)
    if found is None:
        raise QuestionnaireNotFound(key=key[:64])
    return found


def course_title(slug: str, tenant_id: int, locale: str):
    """The course's title in `locale` (CourseNotFound for a course the academy does not offer)."""
    return content.course_title(slug, tenant_id, locale)


def questionnaires(identity: Identity, slug: str) -> list[QuestionnaireState]:
    """The course's questionnaires as this trainee finds them (the course must be one their academy offers)."""
    content.course_title(slug, identity.tenant_id, "en")  # CourseNotFound for a course the academy does not offer
    completed = content.completed_at(identity, slug)
    answered = dict(db.session.execute(
        select(QuestionnaireAnswer.questionnaire, QuestionnaireAnswer.answered_at).where(
            QuestionnaireAnswer.tenant_id == identity.tenant_id, QuestionnaireAnswer.user_id == identity.user_id,
            QuestionnaireAnswer.course_slug == slug)).all())
    now = utcnow()
    states = []
    for found in QUESTIONNAIRES.values():
        opens_on = completed + timedelta(days=found.opens_after_days) if completed else None
        closes_on = completed + timedelta(days=found.closes_after_days) if completed else None
        if identity.role.rank >= Role.INSTRUCTOR.rank:
            reason = N_("only trainees answer it; you are signed in as staff")
        elif completed is None:
            reason = N_("it opens when you have completed the course")
        elif opens_on > now:
            reason = N_("it opens two months after you completed the course, once you have been back at your post")
        elif closes_on <= now:
            reason = N_("the time to answer it has passed")
        else:
            reason = None
        states.append(QuestionnaireState(found, slug, reason is None and found.key not in answered,
                                         answered.get(found.key), reason,
                                         opens_on if opens_on and opens_on > now else None))
    return states


def waiting_for(identity: Identity, slug: str) -> bool:
    """Whether a questionnaire of the course is open to this person and not answered yet."""
    return any(state.open for state in questionnaires(identity, slug))


def answer(identity: Identity, slug: str, key: str, form: Mapping[str, list[str]]) -> None:
    """Keeps the trainee's answers to one questionnaire of one course, once, while it is open to them."""
    wanted = questionnaire(key)
    state = next(state for state in questionnaires(identity, slug) if state.questionnaire.key == wanted.key)
    if state.answered_at is not None:
        raise QuestionnaireNotOpen(reason=Phrase(N_("you have answered it already")))
    if not state.open:
        raise QuestionnaireNotOpen(reason=Phrase(state.closed_reason))
    try:
        ratings, comment = read_answers(wanted, form)
    except AnswersRefused as refused:
        raise AnswersNotTaken(reason=Phrase(refused.msgid, **refused.values)) from None
    try:
        with unit_of_work():
            db.session.add(QuestionnaireAnswer(tenant_id=identity.tenant_id, user_id=identity.user_id,
                                               course_slug=slug, questionnaire=wanted.key, ratings=ratings,
                                               comment=comment, answered_at=utcnow()))
    except IntegrityError:  # the same form sent twice at once: the first one counts
        raise QuestionnaireNotOpen(reason=Phrase(N_("you have answered it already"))) from None


def require_academy(identity: Identity) -> None:
    # Academy-wide: an instructor's role is given per Moodle course, and the comments of every course are here.
    if identity.role is not Role.ADMINISTRATOR:
        raise NotAuthorised(reason=Phrase(N_("the academy's training impact is for its administrators")))


def is_regional(identity: Identity) -> bool:
    return tenancy.holds(tenancy.REGIONAL_COORDINATOR, identity.tenant_id, identity.user_id)


def require_regional(identity: Identity) -> None:
    if not is_regional(identity):
        raise NotAuthorised(reason=Phrase(N_("the regional comparison is for the regional coordinators the tool's "
                                             "operator names")))


def _answers(tenant_id: int | None) -> dict[tuple[int, str, str], list[QuestionnaireAnswer]]:
    query = select(QuestionnaireAnswer).order_by(QuestionnaireAnswer.answered_at.desc(), QuestionnaireAnswer.id.desc())
    if tenant_id is not None:
        query = query.where(QuestionnaireAnswer.tenant_id == tenant_id)
    found: dict[tuple[int, str, str], list[QuestionnaireAnswer]] = {}
    for row in db.session.scalars(query):
        found.setdefault((row.tenant_id, row.course_slug, row.questionnaire), []).append(row)
    return found


def _course_titles(tenant_id: int, locale: str) -> dict[str, str]:
    return {course.slug: course.title for course in content.catalogue(locale, tenant_id)}


def academy_report(tenant_id: int, locale: str) -> list[dict]:
    """Per course the academy offers: its people who started and completed it (level 2 participation), and per
    questionnaire the answers' summary, the share that agree and up to COMMENTS_SHOWN comments in random order
    (no names). Below indicators.ACADEMY_SHOWN_FROM answers only their number is given."""
    counts = content.completion_counts(tenant_id)
    answers = _answers(tenant_id)
    rows = []
    for slug, title in _course_titles(tenant_id, locale).items():
        started, completed = counts.get((tenant_id, slug), (0, 0))
        levels = {}
        for found in QUESTIONNAIRES.values():
            given = answers.get((tenant_id, slug, found.key), [])
            shown = len(given) >= indicators.ACADEMY_SHOWN_FROM
            summary = indicators.statement_summary(found, (row.ratings for row in given))
            comments = [row.comment for row in given if row.comment] if shown else []
            levels[found.key] = {"answers": len(given), "shown": shown, "summary": summary if shown else None,
                                 "agreement": indicators.agreement(summary) if shown else None,
                                 "comments": random.sample(comments, min(len(comments), COMMENTS_SHOWN)),
                                 "comment_count": len(comments)}
        rows.append({"slug": slug, "title": title, "started": started, "completed": completed,
                     "completion_rate": indicators.completion_rate(started, completed), "questionnaires": levels})
    return rows


def regional_report(locale: str) -> list[dict]:
    """Per academy and shared course: completions and, per questionnaire, the number of answers, the mean rating
    and the share that agree. Counts below indicators.SHOWN_FROM, and the means and shares made of them, are
    left out, and means and shares are of whole groups of five answers: the regional programme reads no figure
    that could be one person's, at one reading or by the difference of two."""
    counts = content.completion_counts()
    answers = _answers(None)
    titles = {course.slug: course.title for course in content.catalogue(locale)}
    rows = []
    for academy in tenancy.list_tenants():
        for slug, title in titles.items():
            started, completed = counts.get((academy.id, slug), (0, 0))
            levels = {}
            for found in QUESTIONNAIRES.values():
                given = answers.get((academy.id, slug, found.key), [])
                # Oldest first, in whole groups of five: see indicators.in_whole_groups.
                grouped = indicators.in_whole_groups(list(reversed(given)))
                summary = indicators.statement_summary(found, (row.ratings for row in grouped))
                shown = indicators.shown_beyond_academy(len(given))
                levels[found.key] = {"answers": len(given) if shown else None,
                                     "mean": summary["mean"] if shown else None,
                                     "agreement": indicators.agreement(summary) if shown else None}
            if not started and not any(len(answers.get((academy.id, slug, key), [])) for key in QUESTIONNAIRES):
                continue
            rows.append({"academy": academy.name or academy.slug, "course": title, "slug": slug,
                         "started": started if indicators.shown_beyond_academy(started) else None,
                         "completed": completed if indicators.shown_beyond_academy(completed) else None,
                         "questionnaires": levels})
    return rows


def academy_csv(tenant_id: int, locale: str, texts: Mapping[str, str]) -> str:
    """The academy's report as CSV, one row per course and questionnaire statement, with the texts (`texts`:
    the column titles and every questionnaire's and statement's msgid, in the reader's language) and the keys
    beside them for a script. A statement of fewer than indicators.ACADEMY_SHOWN_FROM answers has its count only."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([texts[name] for name in (
        "course", "course_key", "started", "completed", "questionnaire", "questionnaire_key", "answers",
        "statement", "statement_key", "rated", "mean", "not_applicable", "1", "2", "3", "4", "5")])
    for row in academy_report(tenant_id, locale):
        for key, level in row["questionnaires"].items():
            found = QUESTIONNAIRES[key]
            for statement in found.statements:
                summary = level["summary"]["statements"][statement.key] if level["shown"] else None
                figures = ([summary["rated"], "" if summary["mean"] is None else summary["mean"],
                            summary["not_applicable"], *summary["spread"]] if summary else [""] * 8)
                writer.writerow([spreadsheet_cell(value) for value in (
                    row["title"], row["slug"], row["started"], row["completed"], texts[found.short_title], key,
                    level["answers"], texts[statement.text], statement.key, *figures)])
    return "\ufeff" + out.getvalue()


def comments_csv(tenant_id: int, locale: str, texts: Mapping[str, str]) -> str:
    """Every comment of the academy's trainees with its course and questionnaire, in random order and without
    names or dates; a course with fewer than indicators.ACADEMY_SHOWN_FROM answers to a questionnaire gives none."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([texts["course"], texts["questionnaire"], texts["comment"]])
    titles = _course_titles(tenant_id, locale)
    rows = []
    for (_, slug, key), given in _answers(tenant_id).items():
        if slug in titles and len(given) >= indicators.ACADEMY_SHOWN_FROM:
            rows += [(titles[slug], texts[QUESTIONNAIRES[key].short_title], row.comment) for row in given
                     if row.comment]
    for row in random.sample(rows, len(rows)):
        writer.writerow([spreadsheet_cell(value) for value in row])
    return "\ufeff" + out.getvalue()

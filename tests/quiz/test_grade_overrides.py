"""Instructors override a trainee's quiz grade: the trainee, Moodle's gradebook, certification and the audit trail
all follow, and every refusal says why without losing what was typed."""

from __future__ import annotations

import re

import pytest
from markupsafe import escape
from sqlalchemy import select

from ibm_lms.audit import service as audit
from ibm_lms.certification import facts
from ibm_lms.certification.models import LearningResult
from ibm_lms.demo.platform import DEMO_USERS
from ibm_lms.extensions import db
from ibm_lms.locales import LOCALES
from ibm_lms.lti.models import GradeOutbox
from ibm_lms.quiz import service
from ibm_lms.quiz.errors import NoSubmittedAttempt, OwnGrade
from ibm_lms.quiz.models import Attempt, GradeOverride
from ibm_lms.tenancy import service as tenancy
from ibm_lms.tenancy.data import Identity, Role
from tests.conftest import TOOL_BASE_URL, error_code, translated

from .helpers import csrf_of
from .test_attempts import COURSE, QUIZZES, all_right, course_folder, save, started  # noqa: F401

GRADES = f"{QUIZZES}/twice/grades"
REASON = "Power cut at the Sadakhlo post during the exam; the academy board agreed a grade from the oral check."


@pytest.fixture
def trainee(launcher, client, course_folder):  # noqa: F811
    """A trainee who came from Moodle's link to the post-test and failed it (0%)."""
    assert launcher.launch(target=f"{TOOL_BASE_URL}{QUIZZES}/twice").status_code == 303
    attempt, page = started(client, "twice")
    client.post(f"/quiz/attempts/{attempt.id}/submit", data={"csrf_token": csrf_of(page)})
    return client


@pytest.fixture
def instructor(app, launcher, trainee):
    other = app.test_client()
    launcher.client, launcher.platform.user = other, DEMO_USERS["instructor"]
    # The same Moodle activity the trainee opened: a link's target is the link's, whoever launches it.
    assert launcher.launch(target=f"{TOOL_BASE_URL}{QUIZZES}/twice").status_code == 303
    return other


def trainee_id() -> int:
    return db.session.execute(select(Attempt.user_id)).scalars().first()


def override(client, grade: str, reason: str = REASON):
    url = f"{GRADES}/{trainee_id()}"
    page = client.get(url).get_data(as_text=True)
    return client.post(url, data={"csrf_token": csrf_of(page), "grade": grade, "reason": reason})


def counted_results(user_id: int) -> list[tuple]:
    tenant_id = db.session.execute(select(Attempt.tenant_id)).scalars().first()
    return sorted((r.quiz, r.score) for r in facts.facts_of(tenant_id, [user_id])[user_id].results)


def test_an_override_reaches_the_trainee_the_gradebook_certification_and_the_audit_trail(trainee, instructor):
    user_id = trainee_id()
    listing = instructor.get(GRADES).get_data(as_text=True)
    assert "Nino Beridze" in listing and 'class="grade">0.0%' in listing
    response = override(instructor, "75")
    assert response.status_code == 303 and "done=overridden" in response.headers["Location"]
    shown = instructor.get(response.headers["Location"]).get_data(as_text=True)
    assert 'id="grade">75.0%' in shown and str(escape(REASON)) in shown and "Oksana Kovalenko" in shown
    quiz_page = trainee.get(f"{QUIZZES}/twice").get_data(as_text=True)
    assert "Your grade: 75%" in quiz_page and "set by your instructor" in quiz_page

    sent = db.session.execute(select(GradeOutbox).order_by(GradeOutbox.id)).scalars().all()
    assert [(row.score_given, row.comment) for row in sent] == [(0.0, "Attempt 1: 0%"),
                                                               (75.0, "Grade set by an instructor")]
    assert counted_results(user_id) == [("twice", 0.75)]
    [entry] = [e for e in audit.entries() if e.action == "quiz.grade_overridden"]
    assert entry.details == {"from": 0.0, "to": 0.75, "reason": REASON}
    assert entry.actor.endswith(":" + DEMO_USERS["instructor"].subject) and "demo-trainee-1" in entry.subject
    assert audit.verify()[1] == []

    # A later attempt, even a perfect one, does not move an overridden grade, in the tool or in Moodle.
    attempt, page = started(trainee, "twice")
    save(trainee, attempt, page, all_right(attempt), 1)
    trainee.post(f"/quiz/attempts/{attempt.id}/submit", data={"csrf_token": csrf_of(page)})
    assert db.session.execute(select(GradeOutbox.score_given).order_by(GradeOutbox.id.desc())).scalars().first() == 75
    assert counted_results(user_id) == [("twice", 0.75)]

    # Ended: the attempts count again, by the quiz's grading method (the highest).
    response = override(instructor, "", "The oral check is void; the retake stands.")
    assert response.status_code == 303 and "done=ended" in response.headers["Location"]
    assert db.session.execute(select(GradeOutbox.score_given).order_by(GradeOutbox.id.desc())).scalars().first() == 100
    assert counted_results(user_id) == [("twice", 0.0), ("twice", 1.0)]
    history = instructor.get(f"{GRADES}/{user_id}").get_data(as_text=True)
    assert "Override ended" in history and "The oral check is void" in history
    assert [e.action for e in audit.entries() if e.action.startswith("quiz.")] == [
        "quiz.grade_override_ended", "quiz.grade_overridden"]
    assert db.session.execute(select(LearningResult.source).order_by(LearningResult.id)).scalars().all() == [
        "attempt", "override", "attempt", "override_ended"]


@pytest.mark.parametrize(("grade", "reason", "says"), [
    ("abc", REASON, "the grade must be a number from 0 to 100"),
    ("100.5", REASON, "the grade must be a number from 0 to 100"),
    ("-1", REASON, "the grade must be a number from 0 to 100"),
    ("nan", REASON, "the grade must be a number from 0 to 100"),
    # float() reads these as 10, 100, 75 and 100: a stray key or another keyboard must not change a grade.
    ("1_0", REASON, "the grade must be a number from 0 to 100"),
    ("\uff11\uff10\uff10", REASON, "the grade must be a number from 0 to 100"),
    ("\u0667\u0665", REASON, "the grade must be a number from 0 to 100"),
    ("1e2", REASON, "the grade must be a number from 0 to 100"),
    ("60", "\x00", "the reason holds control characters"),
    ("60", "Marking error \x1b[8m", "the reason holds control characters"),
    ("60", "   ", "give the reason"),
    ("60", "x" * 501, "longer than 500 characters"),
    ("", REASON, "there is no override to end"),
])
def test_a_refused_override_says_why_keeps_what_was_typed_and_changes_nothing(trainee, instructor, grade, reason,
                                                                               says):
    response = override(instructor, grade, reason)
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and says in page and 'id="problem"' in page
    if reason.strip():
        assert str(escape(reason)) in page
    assert db.session.execute(select(GradeOverride)).first() is None
    assert not [e for e in audit.entries() if e.action.startswith("quiz.")]
    assert db.session.execute(select(GradeOutbox.score_given)).scalars().all() == [0.0]


def test_a_grade_in_another_format_is_read_as_a_percentage(trainee, instructor):
    assert override(instructor, " 82,5 % ").status_code == 303
    assert db.session.execute(select(GradeOverride.grade)).scalar_one() == 0.825


def test_nobody_overrides_their_own_grade_and_a_trainee_reaches_no_grade_page(app, trainee, instructor, launcher):
    me = db.session.execute(select(Attempt.user_id)).scalars().first()
    tenant_id = db.session.execute(select(Attempt.tenant_id)).scalars().first()
    instructor_id = tenancy.user_id_of(tenant_id, launcher.platform.base_url, DEMO_USERS["instructor"].subject)
    page = instructor.get(f"{GRADES}/{me}").get_data(as_text=True)
    refused = instructor.post(f"{GRADES}/{instructor_id}", data={"csrf_token": csrf_of(page), "grade": "100",
                                                                 "reason": REASON})
    assert refused.status_code == 404 and error_code(refused) == "no_submitted_attempt"
    with pytest.raises(OwnGrade):
        service.override_grade(Identity(user_id=instructor_id, tenant_id=tenant_id, role=Role.INSTRUCTOR, context_id=None,
                                        display_name=None), COURSE, "twice", instructor_id, "100", REASON)
    for response in (trainee.get(GRADES), trainee.get(f"{GRADES}/{me}"),
                     trainee.post(f"{GRADES}/{me}", data={"grade": "100", "reason": REASON})):
        assert response.status_code in (400, 403)
    assert "Trainees' grades" not in trainee.get(f"{QUIZZES}/twice").get_data(as_text=True)
    assert db.session.execute(select(GradeOverride)).first() is None


def test_another_academys_instructor_finds_no_trainee_of_ours(trainee):
    ours = trainee_id()
    theirs = tenancy.ensure_tenant("md-academy", "Moldovan academy")
    stranger = Identity(user_id=10_000, tenant_id=theirs.id, role=Role.ADMINISTRATOR, context_id=None,
                        display_name=None)
    assert service.quiz_grades(stranger, COURSE, "twice", "en")["rows"] == []
    with pytest.raises(NoSubmittedAttempt):
        service.override_grade(stranger, COURSE, "twice", ours, "100", REASON)
    with pytest.raises(NoSubmittedAttempt):
        service.trainee_grade(stranger, COURSE, "twice", ours, "en")
    assert db.session.execute(select(GradeOverride)).first() is None


@pytest.mark.parametrize("locale", LOCALES)
def test_the_grade_pages_speak_the_instructors_language(app, launcher, trainee, locale):
    other = app.test_client()
    launcher.client, launcher.platform.user = other, DEMO_USERS["instructor"]
    assert launcher.launch(locale=locale, target=f"{TOOL_BASE_URL}{QUIZZES}/twice").status_code == 303
    listing = other.get(GRADES).get_data(as_text=True)
    assert f'<html lang="{locale}">' in listing and str(escape(translated(locale, "Grade from the attempts"))) in listing
    # The quiz's title is in the quiz's languages (English and Russian): elsewhere it is marked as the one shown.
    heading = re.search(r"<h1>(.*?)</h1>", listing).group(1)
    assert (' lang="' in heading) is (locale not in ("en", "ru")), heading
    page = other.get(f"{GRADES}/{trainee_id()}")
    refused = other.post(f"{GRADES}/{trainee_id()}", data={"csrf_token": csrf_of(page.get_data(as_text=True)),
                                                           "grade": "101", "reason": REASON})
    shown = refused.get_data(as_text=True)
    assert str(escape(translated(locale, "Override the grade"))) in shown
    expected = translated(locale, "The grade was not changed: %(reason)s.") % {
        "reason": translated(locale, "the grade must be a number from 0 to 100")}
    assert str(escape(expected)) in shown

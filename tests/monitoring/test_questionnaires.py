"""Training impact: trainees answer the course questionnaires; the academy reads its figures and comments; the
regional programme compares academies in figures of five people or more; nobody reads another academy's rows."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from ibm_lms.clock import utcnow
from ibm_lms.content.models import Course, CourseProgress
from ibm_lms.demo.platform import DemoUser
from ibm_lms.extensions import db
from ibm_lms.monitoring import indicators
from ibm_lms.monitoring.models import QuestionnaireAnswer
from ibm_lms.monitoring.questionnaires import FOLLOW_UP, REACTION, AnswersRefused, read_answers
from ibm_lms.tenancy import service as tenancy
from ibm_lms.tenancy.data import LaunchIdentity
from tests.certification.helpers import LEARNER, PEOPLE, become, who
from tests.conftest import csrf_token

SLUG = "risk-analysis"
REACTION_FORM = {"relevant": "5", "clear": "4", "practice": "4", "confident": "3", "recommend": "5",
                 "comment": "More cases from green-border posts, please."}


def complete(launcher, name: str, days_ago: int = 0, slug: str = SLUG) -> None:
    """Records the person (a name of PEOPLE, or a subject) as having completed the course `days_ago` days ago
    (what the content room writes when the last lesson is)."""
    tenant = tenancy.get_tenant("ge-academy")
    course = db.session.execute(select(Course).where(Course.slug == slug)).scalar_one()
    when = utcnow() - timedelta(days=days_ago)
    subject = PEOPLE[name].subject if name in PEOPLE else name
    person = tenancy.user_id_of(tenant.id, launcher.platform.base_url, subject)
    row = db.session.execute(select(CourseProgress).where(CourseProgress.user_id == person,
                                                          CourseProgress.course_id == course.id)).scalar_one_or_none()
    if row is None:
        row = CourseProgress(tenant_id=tenant.id, user_id=person, course_id=course.id,
                             course_version_id=course.current_version_id, started_at=when, updated_at=when)
        db.session.add(row)
    row.completed_at = when
    db.session.commit()


def send(client, key: str, form: dict, slug: str = SLUG):
    page = client.get(f"/monitoring/courses/{slug}/questionnaires").get_data(as_text=True)
    return client.post(f"/monitoring/courses/{slug}/questionnaires/{key}", data={**form, "csrf_token": csrf_token(page)})


@pytest.fixture
def trainee(launcher, courses):
    return become(launcher, "candidate")


def test_the_questionnaires_open_when_the_course_is_complete_and_the_follow_up_two_months_later(trainee, launcher):
    page = trainee.get(f"/monitoring/courses/{SLUG}/questionnaires").get_data(as_text=True)
    assert "Not open yet: it opens when you have completed the course." in page and "<textarea" not in page
    refused = send(trainee, "reaction", REACTION_FORM)
    assert refused.status_code == 409

    complete(launcher, "candidate", days_ago=10)
    page = trainee.get(f"/monitoring/courses/{SLUG}/questionnaires").get_data(as_text=True)
    assert 'id="answer-reaction"' in page and 'id="answer-follow_up"' not in page
    assert "It opens on " + (utcnow() + timedelta(days=50)).date().isoformat() in page
    sent = send(trainee, "reaction", REACTION_FORM)
    assert sent.status_code == 303
    thanked = trainee.get(sent.headers["Location"]).get_data(as_text=True)
    assert "Thank you: your answers are saved." in thanked and "You answered on " in thanked
    [stored] = db.session.scalars(select(QuestionnaireAnswer)).all()
    assert stored.ratings == {"relevant": 5, "clear": 4, "practice": 4, "confident": 3, "recommend": 5}
    assert stored.comment == REACTION_FORM["comment"]
    again = send(trainee, "reaction", {**REACTION_FORM, "relevant": "1"})
    assert again.status_code == 409 and "you have answered it already" in again.get_data(as_text=True)
    assert db.session.scalars(select(QuestionnaireAnswer.ratings)).one()["relevant"] == 5

    complete(launcher, "candidate", days_ago=61)
    follow_up = {"applied": "4", "changed": "4", "supported": "2", "detected": "na", "comment": ""}
    assert send(trainee, "follow_up", follow_up).status_code == 303
    row = db.session.execute(select(QuestionnaireAnswer)
                             .where(QuestionnaireAnswer.questionnaire == "follow_up")).scalar_one()
    assert row.ratings["detected"] is None and row.comment == ""


def test_the_course_page_leads_to_the_questionnaires_and_says_when_one_waits(trainee, launcher):
    page = trainee.get(f"/courses/{SLUG}").get_data(as_text=True)
    assert f'href="/monitoring/courses/{SLUG}/questionnaires"' in page and "waiting for your answers" not in page
    complete(launcher, "candidate")
    page = trainee.get(f"/courses/{SLUG}").get_data(as_text=True)
    assert "(waiting for your answers)" in page and 'id="waiting-1"' in page
    assert send(trainee, "reaction", REACTION_FORM).status_code == 303
    assert "waiting for your answers" not in trainee.get(f"/courses/{SLUG}").get_data(as_text=True)


@pytest.mark.parametrize("change, said", [
    ({"clear": None}, "statement 2 has no answer"),
    ({"clear": ["4", "5"]}, "statement 2 was answered more than once"),
    ({"comment": ["one", "two"]}, "the form holds more than one comment"),
    ({"confident": "6"}, "statement 4 has an answer that is not one of those offered"),
    ({"recommend": "na"}, "statement 5 has an answer that is not one of those offered"),
    ({"comment": "x" * 2001}, "the comment must be plain text of at most 2000 characters"),
    ({"comment": "bad\x00byte"}, "the comment must be plain text"),
    ({"comment": "\u202eevil"}, "characters that reorder text"),
])
def test_a_bad_answer_says_which_keeps_nothing_and_gives_the_form_back_as_typed(trainee, launcher, change, said):
    complete(launcher, "candidate")
    form = {**REACTION_FORM, **change}
    refused = send(trainee, "reaction", {k: v for k, v in form.items() if v is not None})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400 and said in page
    assert not db.session.scalars(select(QuestionnaireAnswer)).all()
    # What was chosen and typed is there to correct, not to do again.
    assert 'id="reaction-relevant-5" name="relevant" value="5" required checked' in page
    if change.get("comment") is None:
        assert REACTION_FORM["comment"] in page


def test_a_comment_at_the_fields_limit_with_line_breaks_is_taken(trainee, launcher):
    complete(launcher, "candidate")
    # The browser counts each line break as one character and sends it as two.
    comment = "\r\n".join(["ab"] * 667)[:2000 + 666]
    assert send(trainee, "reaction", {**REACTION_FORM, "comment": comment}).status_code == 303
    assert db.session.scalars(select(QuestionnaireAnswer.comment)).one() == comment.replace("\r\n", "\n")


def test_staff_see_the_questionnaires_but_only_trainees_answer(launcher, courses):
    head = become(launcher, "head")
    complete(launcher, "head")
    page = head.get(f"/monitoring/courses/{SLUG}/questionnaires").get_data(as_text=True)
    assert "only trainees answer it; you are signed in as staff" in page and "<textarea" not in page
    assert send(head, "reaction", REACTION_FORM).status_code == 409
    assert not db.session.scalars(select(QuestionnaireAnswer)).all()


def test_a_questionnaire_closes_when_its_time_has_passed(trainee, launcher):
    complete(launcher, "candidate", days_ago=91)
    page = trainee.get(f"/monitoring/courses/{SLUG}/questionnaires?thanked=reaction").get_data(as_text=True)
    assert "the time to answer it has passed" in page and 'id="answer-reaction"' not in page
    assert "Thank you" not in page  # not answered: no thanks, whatever the address says
    assert 'id="answer-follow_up"' in page
    assert send(trainee, "reaction", REACTION_FORM).status_code == 409


def test_a_form_without_its_csrf_token_or_for_an_unknown_questionnaire_is_refused(trainee, launcher):
    complete(launcher, "candidate")
    assert trainee.post(f"/monitoring/courses/{SLUG}/questionnaires/reaction", data=REACTION_FORM).status_code == 400
    assert send(trainee, "level-9", REACTION_FORM).status_code == 404
    assert trainee.get("/monitoring/courses/no-such-course/questionnaires").status_code == 404
    assert not db.session.scalars(select(QuestionnaireAnswer)).all()


def test_reading_an_answer_is_pure_and_strict():
    ratings, comment = read_answers(FOLLOW_UP, {"applied": ["1"], "changed": ["5"], "supported": ["3"],
                                                "detected": ["na"], "comment": ["  a case  "]})
    assert ratings == {"applied": 1, "changed": 5, "supported": 3, "detected": None} and comment == "a case"
    with pytest.raises(AnswersRefused):
        read_answers(REACTION, {key: [value] for key, value in REACTION_FORM.items()} | {"clear": ["4", "5"]})
    summary = indicators.statement_summary(FOLLOW_UP, [ratings, {"applied": 3, "changed": 4, "supported": 4,
                                                                 "detected": 5}])
    assert summary["answers"] == 2 and summary["statements"]["applied"]["mean"] == 2.0
    assert summary["statements"]["detected"] == {"rated": 1, "mean": 5.0, "spread": [0, 0, 0, 0, 1],
                                                 "not_applicable": 1}
    assert indicators.agreement(summary) == pytest.approx(4 / 7, abs=1e-3)


def _many_answers(launcher, count: int, first: int = 0) -> None:
    """`count` trainees of the academy complete the course and answer its first questionnaire."""
    for number in range(first, first + count):
        client = become(launcher, DemoUser(f"trainee-{number}", "Trainee", str(number), None, (LEARNER,)))
        complete(launcher, f"trainee-{number}")
        assert send(client, "reaction", {**REACTION_FORM, "relevant": str(1 + number % 5),
                                         "comment": f"comment {number}"}).status_code == 303


def test_the_academy_reads_its_figures_and_comments_without_names(launcher, courses):
    _many_answers(launcher, 2)
    head = become(launcher, "head")
    few = head.get("/monitoring/").get_data(as_text=True).split(f'id="impact-{SLUG}"')[1].split("</section>")[0]
    assert "2 answers so far: the figures are shown from 3." in few and "comment 0" not in few
    _many_answers(launcher, 3, first=2)
    for role in ("candidate", "master"):  # a trainee; an instructor of one Moodle course
        assert become(launcher, role).get("/monitoring/", headers={"Accept": "application/json"}).status_code == 403
    head = become(launcher, "head")
    page = head.get("/monitoring/").get_data(as_text=True)
    section = page.split(f'id="impact-{SLUG}"')[1].split("</section>")[0]
    assert "Started: 5 · completed: 5" in section and "5 answers" in section
    assert "comment 0" in section and "Trainee" not in section
    exported = head.get("/monitoring/export.csv")
    assert exported.mimetype == "text/csv" and "attachment" in exported.headers["Content-Disposition"]
    body = exported.get_data(as_text=True)
    assert body.startswith("\ufeff")  # without it Excel reads the Cyrillic, Georgian and Armenian texts wrong
    rows = list(csv.reader(io.StringIO(body[1:])))
    assert rows[0][:5] == ["Course", "Course key", "People who started", "People who completed", "Questionnaire"]
    relevant = next(row for row in rows if row[1] == SLUG and row[5] == "reaction" and row[8] == "relevant")
    assert relevant[4] == "At the end of the course" and relevant[7] == REACTION.statements[0].text
    assert relevant[6] == "5" and relevant[9] == "5" and relevant[10] == "3.0" and relevant[12:] == ["1"] * 5
    comments = list(csv.reader(io.StringIO(head.get("/monitoring/comments.csv").get_data(as_text=True)[1:])))
    assert sorted(row[2] for row in comments[1:]) == [f"comment {n}" for n in range(5)]


def test_the_regional_comparison_shows_only_figures_of_five_or_more(launcher, courses, cli):
    _many_answers(launcher, 5)
    other = tenancy.ensure_tenant("md-academy")
    tenancy.record_launch_identity(LaunchIdentity(tenant_id=other.id, issuer="https://moodle.md.invalid",
                                                  subject="7", lti_roles=()))
    db.session.commit()
    head = become(launcher, "head")
    assert head.get("/monitoring/regional", headers={"Accept": "application/json"}).status_code == 403
    become(launcher, "colleague")
    assert cli.invoke(args=["coordinator", "add", who(launcher, "colleague")]).exit_code == 0
    coordinator = become(launcher, "colleague")
    page = coordinator.get("/monitoring/regional").get_data(as_text=True)
    table = page.split('id="regional-impact"')[1].split("</table>")[0]
    row = next(part for part in table.split("<tr>") if "Risk Analysis" in part or SLUG in part)
    assert "<td>5</td>" in row and "comment" not in table and "Trainee" not in table
    figures = json.loads(cli.invoke(args=["monitoring", "regional"]).output)
    [mine] = [entry for entry in figures if entry["slug"] == SLUG]
    assert mine["completed"] == 5 and mine["questionnaires"]["reaction"]["answers"] == 5
    assert mine["questionnaires"]["reaction"]["mean"] is not None
    assert mine["questionnaires"]["follow_up"]["answers"] == 0
    # A sixth answer does not move the mean: the difference would be that person's answer.
    fifth_mean = mine["questionnaires"]["reaction"]["mean"]
    _many_answers(launcher, 1, first=5)
    figures = json.loads(cli.invoke(args=["monitoring", "regional"]).output)
    [mine] = [entry for entry in figures if entry["slug"] == SLUG]
    assert mine["questionnaires"]["reaction"]["answers"] == 6 and mine["questionnaires"]["reaction"]["mean"] == fifth_mean
    db.session.delete(db.session.scalars(select(QuestionnaireAnswer)).first())
    db.session.commit()
    # One answer fewer and the academy's figures are hidden.
    db.session.delete(db.session.scalars(select(QuestionnaireAnswer)).first())
    db.session.commit()
    figures = json.loads(cli.invoke(args=["monitoring", "regional"]).output)
    [mine] = [entry for entry in figures if entry["slug"] == SLUG]
    assert mine["questionnaires"]["reaction"] == {"answers": None, "mean": None, "agreement": None}


def test_an_academy_reads_only_its_own_answers(launcher, courses, cli):
    _many_answers(launcher, 2)
    other = tenancy.ensure_tenant("md-academy")
    with_other = json.loads(cli.invoke(args=["monitoring", "report", "--tenant", "md-academy"]).output)
    assert all(level["answers"] == 0 for row in with_other for level in row["questionnaires"].values())
    assert other.id != tenancy.get_tenant("ge-academy").id
    mine = json.loads(cli.invoke(args=["monitoring", "report", "--tenant", "ge-academy"]).output)
    [course] = [row for row in mine if row["slug"] == SLUG]
    assert course["questionnaires"]["reaction"]["answers"] == 2
    assert course["questionnaires"]["reaction"]["summary"] is None  # two answers: one person's would show
    assert "comments" not in course["questionnaires"]["reaction"]
    unknown = cli.invoke(args=["monitoring", "report", "--tenant", "nowhere"])
    assert unknown.exit_code != 0 and "nowhere" in unknown.output and "Traceback" not in unknown.output


@pytest.mark.parametrize("locale", ["en", "ru", "uk", "ka", "hy", "az", "ro", "be"])
def test_every_monitoring_page_speaks_each_language(launcher, courses, locale):
    complete_client = become(launcher, "candidate", locale=locale)
    complete(launcher, "candidate")
    page = complete_client.get(f"/monitoring/courses/{SLUG}/questionnaires")
    assert page.status_code == 200 and f'<html lang="{locale}">' in page.get_data(as_text=True)
    head = become(launcher, "head", locale=locale)
    academy = head.get("/monitoring/")
    assert academy.status_code == 200 and f'<html lang="{locale}">' in academy.get_data(as_text=True)

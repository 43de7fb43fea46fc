"""Every learning event becomes checked statements in the outbox: in the event's own transaction, or (a submitted
quiz) by the worker from the event queued in that transaction."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from ibm_lms.extensions import db
from ibm_lms.worker import drain
from ibm_lms.xapi import service as xapi
from ibm_lms.xapi.models import QueuedEvent, StatementOutbox
from ibm_lms.xapi.validation import problems
from tests.conftest import TOOL_BASE_URL
from tests.content.test_learning import answer_all, csrf_token
from tests.quiz.helpers import csrf_of, right_fields

from .helpers import write_queued

COURSE = "anti-corruption"
LESSON = "corruption-at-the-border"
ADL = "http://adlnet.gov/expapi/verbs/"


def queued_kinds() -> list[str]:
    db.session.expire_all()
    return list(db.session.execute(select(QueuedEvent.kind).order_by(QueuedEvent.id)).scalars())


def statements(verb: str | None = None) -> list[dict]:
    db.session.expire_all()
    query = select(StatementOutbox).order_by(StatementOutbox.id)
    if verb:
        query = query.where(StatementOutbox.verb == verb)
    return [row.statement for row in db.session.execute(query).scalars()]


@pytest.fixture
def trainee(launcher, client, courses):
    assert launcher.launch(locale="ru").status_code == 303
    assert write_queued() == 1  # the launch's statement, written by the worker
    return client


def test_a_launch_is_launched_by_a_pseudonymous_account(trainee, launcher):
    [launched] = statements("launched")
    actor = launched["actor"]
    assert actor["account"]["homePage"] == launcher.platform.base_url
    assert re.fullmatch(r"[0-9a-f]{32}", actor["account"]["name"])
    assert launcher.platform.user.subject not in str(launched) and "name" not in actor and "mbox" not in actor
    assert launched["verb"]["id"] == ADL + "launched" and launched["object"]["id"] == TOOL_BASE_URL + "/courses/"
    # The same person is the same pseudonym every time; another academy could not link the two.
    assert launcher.launch(locale="ru").status_code == 303
    assert statements("launched") == [launched] and write_queued() == 1
    assert {s["actor"]["account"]["name"] for s in statements("launched")} == {actor["account"]["name"]}


def test_an_academy_may_choose_to_share_identities(trainee, launcher):
    from ibm_lms.tenancy import service as tenancy

    xapi.configure(tenancy.get_tenant("ge-academy").id, share_identity=True, country="GE")
    db.session.commit()
    assert launcher.launch(locale="en").status_code == 303
    write_queued()
    latest = statements("launched")[-1]
    assert latest["actor"]["account"]["name"] == launcher.platform.user.subject
    assert latest["actor"]["name"] and latest["context"]["extensions"][f"{TOOL_BASE_URL}/xapi/extensions/country"] == "GE"


def test_a_lesson_and_its_exercises_are_experienced_answered_completed(trainee):
    shown = trainee.get(f"/courses/{COURSE}/lessons/{LESSON}")
    assert shown.status_code == 200, shown.get_data(as_text=True)[-1500:]
    page = answer_all(trainee, LESSON, COURSE)
    trainee.post(f"/courses/{COURSE}/lessons/{LESSON}/complete", data={"csrf_token": csrf_token(page)})
    [viewed] = statements("experienced")[:1]
    lesson_iri = f"{TOOL_BASE_URL}/courses/{COURSE}/lessons/{LESSON}"
    assert viewed["object"]["id"] == lesson_iri and viewed["object"]["definition"]["name"]["ru"]
    assert viewed["context"]["contextActivities"]["grouping"][0]["id"] == f"{TOOL_BASE_URL}/courses/{COURSE}"
    assert viewed["context"]["language"] == "ru"
    answered = statements("answered")
    assert answered and all(s["object"]["definition"]["type"].endswith("cmi.interaction") for s in answered)
    assert all(s["context"]["contextActivities"]["parent"][0]["id"] == lesson_iri for s in answered)
    for statement in answered:
        definition, result = statement["object"]["definition"], statement["result"]
        assert definition["interactionType"] in ("choice", "sequencing", "matching", "other", "true-false")
        assert result["success"] is True and result["score"]["scaled"] == 1.0 and "response" in result
        if definition["interactionType"] in ("choice", "sequencing"):
            assert result["response"] == definition["correctResponsesPattern"][0]
    [completed] = [s for s in statements("completed") if s["object"]["id"] == lesson_iri]
    assert completed["result"]["completion"] is True and completed["result"]["duration"].startswith("P")
    assert all(problems(s) == [] for s in statements())


def test_a_quiz_attempt_is_one_registration_from_initialized_to_passed(trainee, app):
    page = trainee.get(f"/courses/{COURSE}/quizzes/practice").get_data(as_text=True)
    start = trainee.post(f"/courses/{COURSE}/quizzes/practice/attempts", data={"csrf_token": csrf_of(page)})
    attempt_id = int(start.headers["Location"].rsplit("/", 1)[1])
    from ibm_lms.quiz.models import Attempt
    from ibm_lms.quiz.versions import item_of

    attempt = db.session.get(Attempt, attempt_id)
    fields = {}
    for slot, entry in enumerate(attempt.layout):
        fields.update(right_fields(item_of(entry["version_id"]), slot))
    trainee.post(f"/quiz/attempts/{attempt_id}/save", data={**fields, "csrf_token": csrf_of(page), "sequence": "1",
                                                           "then": "submit"})
    slots = len(attempt.layout)
    # The submission is queued as one event; the worker writes its statements.
    assert statements("answered") == [] and queued_kinds() == ["QuizAttemptSubmitted"]
    assert drain(app) >= 1 and queued_kinds() == []
    quiz_iri = f"{TOOL_BASE_URL}/courses/{COURSE}/quizzes/practice"
    [started] = statements("initialized")
    registration = started["context"]["registration"]
    answers = [s for s in statements("answered") if s["context"].get("registration") == registration]
    assert len(answers) == slots
    assert all(s["context"]["contextActivities"]["parent"][0]["id"] == quiz_iri for s in answers)
    [completed] = [s for s in statements("completed") if s["object"]["id"] == quiz_iri]
    [passed] = statements("passed")
    assert completed["context"]["registration"] == passed["context"]["registration"] == registration
    assert completed["result"]["score"] == {"scaled": 1.0, "raw": float(len(answers)), "min": 0.0,
                                            "max": float(len(answers))}
    assert passed["result"]["success"] is True and passed["object"]["definition"]["type"].endswith("assessment")


def test_statement_ids_come_from_the_event_so_a_resend_is_the_same_statement(trainee, app):
    from ibm_lms.events import ModuleCompleted
    from ibm_lms.tenancy import service as tenancy
    from ibm_lms.unit_of_work import publish, unit_of_work

    before = len(statements())
    user_id = db.session.execute(select(StatementOutbox.statement)).first()  # any row: the trainee exists
    assert user_id is not None
    from ibm_lms.tenancy.models import User

    user = db.session.execute(select(User)).scalar_one()
    event = ModuleCompleted(tenant_id=tenancy.get_tenant("ge-academy").id, user_id=user.id, context_id=None,
                            resource_link_id=None, locale="en", course_slug=COURSE, course_version=1,
                            module_key="m1")
    for _ in range(2):
        with unit_of_work():
            publish(event)
    assert len(statements()) == before + 1


def test_an_unanswered_or_cleared_question_is_answered_without_a_response(trainee, app):
    from ibm_lms.quiz.models import Attempt
    from ibm_lms.quiz.versions import item_of

    page = trainee.get(f"/courses/{COURSE}/quizzes/practice").get_data(as_text=True)
    start = trainee.post(f"/courses/{COURSE}/quizzes/practice/attempts", data={"csrf_token": csrf_of(page)})
    attempt = db.session.get(Attempt, int(start.headers["Location"].rsplit("/", 1)[1]))
    # The first question answered, the rest untouched.
    fields = right_fields(item_of(attempt.layout[0]["version_id"]), 0)
    done = trainee.post(f"/quiz/attempts/{attempt.id}/save", data={**fields, "csrf_token": csrf_of(page),
                                                                   "sequence": "1", "then": "submit"})
    assert done.status_code == 303
    slots = len(attempt.layout)
    drain(app)
    answered = statements("answered")
    assert len(answered) == slots
    with_response = [s for s in answered if "response" in s["result"]]
    assert len(with_response) == 1 and with_response[0]["result"]["response"]
    assert all(s["result"]["completion"] is False for s in answered if "response" not in s["result"])
    db.session.expire_all()
    assert {row.status for row in db.session.execute(select(StatementOutbox)).scalars()} == {"pending"}


def test_in_the_test_suite_a_statement_built_wrong_fails_the_request_and_stores_nothing(trainee, monkeypatch):
    from ibm_lms.xapi import vocabulary

    built = vocabulary.lesson_viewed
    monkeypatch.setattr(vocabulary, "lesson_viewed",
                        lambda *args, **kwargs: [{**made, "timestamp": "yesterday"} for made in built(*args, **kwargs)])
    before = len(statements())
    assert trainee.get(f"/courses/{COURSE}/lessons/{LESSON}").status_code == 500
    assert len(statements()) == before


def test_a_statement_built_wrong_is_parked_and_never_costs_the_trainee_her_action(trainee, app, monkeypatch,
                                                                                   caplog):
    from ibm_lms.xapi import vocabulary

    monkeypatch.setitem(app.config, "XAPI_INVALID_STATEMENTS", "park")  # as in production

    built = vocabulary.lesson_viewed

    def with_an_empty_verb_display(*args, **kwargs):
        made = built(*args, **kwargs)
        made[0]["verb"]["display"] = {"en-US": ""}
        return made

    monkeypatch.setattr(vocabulary, "lesson_viewed", with_an_empty_verb_display)
    assert trainee.get(f"/courses/{COURSE}/lessons/{LESSON}").status_code == 200
    db.session.expire_all()
    [row] = db.session.execute(select(StatementOutbox).where(StatementOutbox.verb == "experienced")).scalars()
    assert row.status == "parked" and 'verb.display["en-US"]: must not be empty' in row.last_answer
    assert "is invalid, parked" in caplog.text and row.statement_id in caplog.text
    # A resend cannot push it out: it stays parked until the code that builds it is fixed.
    assert xapi.retry(row.tenant_id) == 0
    db.session.expire_all()
    assert db.session.get(StatementOutbox, row.id).status == "parked"

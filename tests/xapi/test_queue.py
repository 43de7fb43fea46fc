"""A submitted quiz's statements, written by the worker from the event the submission queued."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from ibm_lms.clock import utcnow
from ibm_lms.events import QuizAttemptSubmitted
from ibm_lms.extensions import db
from ibm_lms.quiz.models import Attempt
from ibm_lms.quiz.versions import item_of
from ibm_lms.unit_of_work import event_bus, publish, unit_of_work
from ibm_lms.worker import drain
from ibm_lms.xapi import outbox
from ibm_lms.xapi.models import QueuedEvent, StatementOutbox
from tests.quiz.helpers import csrf_of, right_fields

from .helpers import write_queued

PRACTICE = "/courses/anti-corruption/quizzes/practice"


@pytest.fixture
def submitted(app, launcher, client, courses) -> list[QuizAttemptSubmitted]:
    """The submissions the tests make, as their subscribers saw them."""
    assert launcher.launch(locale="ru").status_code == 303
    write_queued()
    seen: list[QuizAttemptSubmitted] = []
    event_bus(app).subscribe(QuizAttemptSubmitted, seen.append)
    return seen


def submit(client, right: bool = True) -> int:
    page = client.get(PRACTICE).get_data(as_text=True)
    start = client.post(f"{PRACTICE}/attempts", data={"csrf_token": csrf_of(page)})
    attempt = db.session.get(Attempt, int(start.headers["Location"].rsplit("/", 1)[1]))
    fields = {}
    for slot, entry in enumerate(attempt.layout if right else ()):
        fields.update(right_fields(item_of(entry["version_id"]), slot))
    done = client.post(f"/quiz/attempts/{attempt.id}/save",
                       data={**fields, "csrf_token": csrf_of(page), "sequence": "1", "then": "submit"})
    assert done.status_code == 303
    return attempt.id


def queued() -> list[QueuedEvent]:
    db.session.expire_all()
    return list(db.session.execute(select(QueuedEvent).order_by(QueuedEvent.id)).scalars())


def stored(registration: str) -> list[dict]:
    db.session.expire_all()
    rows = db.session.execute(select(StatementOutbox.statement).order_by(StatementOutbox.id)).scalars()
    return [row for row in rows if row["context"].get("registration") == registration]


def test_the_worker_writes_the_statements_the_request_would_have_and_empties_the_queue(submitted, client,
                                                                                       monkeypatch):
    submit(client)
    [event] = submitted
    [row] = queued()
    assert (row.kind, row.event_id, row.tenant_id) == ("QuizAttemptSubmitted", event.event_id, event.tenant_id)
    # What the submission's own transaction would have stored, built from the event as it was published.
    built: list[dict] = []
    with monkeypatch.context() as patched:
        patched.setattr(outbox, "store", lambda _event, statements: built.extend(statements))
        outbox.write_quiz_submitted(event)
    registration = built[0]["context"]["registration"]
    assert stored(registration) == [s for s in stored(registration) if s["verb"]["display"]["en-US"] == "initialized"]
    assert drain(client.application) >= 1
    assert queued() == []
    written = [s for s in stored(registration) if s["verb"]["display"]["en-US"] != "initialized"]
    assert json.loads(json.dumps(built)) == written
    assert len(written) == len(event.answers) + 2  # each question answered, the quiz completed and passed


def test_a_rolled_back_submission_queues_nothing_and_a_repeated_one_queues_once(submitted, client):
    submit(client)
    [event] = submitted
    with pytest.raises(RuntimeError), unit_of_work():
        publish(QuizAttemptSubmitted(**{**event.__dict__, "event_id": "00000000-0000-4000-8000-000000000001"}))
        raise RuntimeError("the submission fails after its event")
    with unit_of_work():
        publish(event)  # a retried request publishes the same event again
    assert [row.event_id for row in queued()] == [event.event_id]


def test_an_event_that_cannot_be_written_waits_with_its_problem_while_the_next_is_written(submitted, client, app,
                                                                                          monkeypatch):
    submit(client)
    submit(client, right=False)
    failing, _ = submitted
    write = outbox.WRITERS[QuizAttemptSubmitted]

    def broken(event):
        if event.event_id == failing.event_id:
            raise LookupError("quiz anti-corruption/practice is gone")
        write(event)

    monkeypatch.setitem(outbox.WRITERS, QuizAttemptSubmitted, broken)
    monkeypatch.setitem(app.config, "XAPI_INVALID_STATEMENTS", "park")
    drain(app)
    [left] = queued()
    assert left.event_id == failing.event_id and left.attempts == 1
    assert left.last_problem == "LookupError: quiz anti-corruption/practice is gone"
    assert left.next_attempt_at > utcnow() + timedelta(seconds=10) and left.claimed_until is None
    assert db.session.execute(select(StatementOutbox).where(StatementOutbox.verb == "failed")).first() is not None
    assert client.get("/healthz").get_json()["outboxes"]["xapi events"] == {"pending": 0, "failing": 1}
    # Not due again before its time; once due and buildable, written like any other.
    assert drain(app) == 0 and len(queued()) == 1
    monkeypatch.setitem(outbox.WRITERS, QuizAttemptSubmitted, write)
    db.session.execute(update(QueuedEvent).values(next_attempt_at=utcnow()))
    db.session.commit()
    drain(app)
    assert queued() == []


def test_in_the_test_suite_an_event_that_cannot_be_written_fails_loudly(submitted, client, app, monkeypatch):
    submit(client)

    def broken(event):
        raise LookupError("gone")

    monkeypatch.setitem(outbox.WRITERS, QuizAttemptSubmitted, broken)
    with pytest.raises(LookupError):
        drain(app)
    assert len(queued()) == 1


def test_the_academy_sees_events_waiting_for_the_worker_on_its_page_and_in_the_status_command(
        submitted, client, launcher, cli, app, monkeypatch):
    from ibm_lms.demo.platform import DEMO_USERS

    submit(client)
    submit(client)
    status = cli.invoke(args=["xapi", "status"]).output
    assert "events to write 2 (0 failing)" in status
    listed = json.loads(cli.invoke(args=["xapi", "status", "--json"]).output)
    assert (listed["events_waiting"], listed["events_failing"]) == (2, 0)
    first = submitted[0].event_id
    write = outbox.WRITERS[QuizAttemptSubmitted]
    monkeypatch.setitem(outbox.WRITERS, QuizAttemptSubmitted,
                        lambda event: (_ for _ in ()).throw(LookupError("gone")) if event.event_id == first
                        else write(event))
    monkeypatch.setitem(app.config, "XAPI_INVALID_STATEMENTS", "park")
    drain(app)
    launcher.platform.user = DEMO_USERS["instructor"].__class__(
        "admin-1", "Admin", "One", "admin@demo.invalid",
        ("http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator",))
    assert launcher.launch(locale="en").status_code == 303
    page = client.get("/xapi/").get_data(as_text=True)
    # The failing submission, and the administrator's own launch, queued by that launch.
    assert '<dd id="xapi-queued">2 <span class="muted">(1 could not be written yet and is tried again later)' in page
    ukrainian = launcher.launch(locale="uk")
    assert ukrainian.status_code == 303
    page = client.get("/xapi/").get_data(as_text=True)
    assert 'id="xapi-queued">3 ' in page and "submitted quizzes whose statements" not in page


def test_a_claim_of_launches_is_written_in_one_transaction(app, launcher, courses):
    from sqlalchemy import event as sqlalchemy_event

    for _ in range(3):
        assert launcher.launch(locale="ru").status_code == 303
    assert [row.kind for row in queued()] == ["LaunchCompleted"] * 3
    commits: list[int] = []
    listener = lambda _connection: commits.append(1)  # noqa: E731
    sqlalchemy_event.listen(db.engine, "commit", listener)
    try:
        assert write_queued() == 3
    finally:
        sqlalchemy_event.remove(db.engine, "commit", listener)
    assert queued() == []
    # The claim commits on its own, then the three statements and the rows' deletion together.
    assert len(commits) == 2
    launched = db.session.execute(select(StatementOutbox.statement_id).where(StatementOutbox.verb == "launched"))
    assert len(set(launched.scalars())) == 3

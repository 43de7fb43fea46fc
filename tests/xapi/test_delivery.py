"""Statements reach a real LRS (Ralph) exactly once, through outages, refusals, bad answers and dead workers."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter

import pytest
from sqlalchemy import func, select, update

from ibm_lms.clock import utcnow
from ibm_lms.extensions import db
from ibm_lms.tenancy import service as tenancy
from ibm_lms.xapi import service as xapi
from ibm_lms.xapi.models import LrsSettings, StatementOutbox
from tests.conftest import POSTGRES_URL

from .faults import FaultProxy, answer_once, conflict_for, fail_on, refuse_statement, too_large
from .helpers import write_queued

COURSE = "anti-corruption"


@pytest.fixture
def academy(launcher, client, courses) -> int:
    """A trainee launched and read a few lessons: statements wait in the outbox."""
    assert launcher.launch(locale="en").status_code == 303
    for lesson in ("corruption-at-the-border", "klitgaard-formula"):
        client.get(f"/courses/{COURSE}/lessons/{lesson}")
    write_queued()
    return tenancy.get_tenant("ge-academy").id


def point_at(tenant_id: int, endpoint: str, username: str, password: str) -> None:
    xapi.configure(tenant_id, endpoint=endpoint, username=username, password=password)
    db.session.commit()


def states() -> Counter:
    db.session.expire_all()
    return Counter(db.session.execute(select(StatementOutbox.status)).scalars())


def stored_ids() -> set[str]:
    db.session.expire_all()
    return set(db.session.execute(select(StatementOutbox.statement_id)).scalars())


def make_due() -> None:
    db.session.execute(update(StatementOutbox).where(StatementOutbox.status == "pending")
                       .values(next_attempt_at=utcnow(), claimed_until=None))
    db.session.execute(update(LrsSettings).values(open_until=None))
    db.session.commit()


def drain(cli) -> None:
    result = cli.invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()


def test_statements_arrive_in_the_lrs_as_built(academy, lrs, cli):
    point_at(academy, lrs.endpoint, lrs.username, lrs.password)
    sent = stored_ids()
    assert len(sent) >= 3
    drain(cli)
    assert states() == Counter({"delivered": len(sent)})
    held = {s["id"]: s for s in lrs.statements()}
    assert set(held) == sent
    row = db.session.execute(select(StatementOutbox).where(StatementOutbox.verb == "launched")).scalar_one()
    assert held[row.statement_id]["verb"] == row.statement["verb"]
    assert held[row.statement_id]["actor"] == row.statement["actor"]
    drain(cli)  # nothing is sent twice
    assert len(lrs.statements()) == len(sent)


def test_with_no_lrs_statements_wait_and_can_be_exported(academy, cli, tmp_path):
    drain(cli)
    assert set(states()) == {"pending"}
    out = tmp_path / "statements.jsonl"
    result = cli.invoke(args=["xapi", "export", "--tenant", "ge-academy", "--out", str(out)])
    assert result.exit_code == 0, result.output
    import json

    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert {s["id"] for s in lines} == stored_ids()
    # An export with nothing to write still writes its (empty) file; a folder is refused by name.
    empty = tmp_path / "none.jsonl"
    assert cli.invoke(args=["xapi", "export", "--tenant", "ge-academy", "--status", "parked",
                            "--out", str(empty)]).exit_code == 0 and empty.read_text() == ""
    refused = cli.invoke(args=["xapi", "export", "--tenant", "ge-academy", "--out", str(tmp_path)])
    assert refused.exit_code == 2 and "Is a directory" in refused.output
    status = cli.invoke(args=["xapi", "status"]).output
    assert f"ge-academy: pending {len(lines)}, delivered 0, parked 0" in status
    listed = json.loads(cli.invoke(args=["xapi", "status", "--json"]).output)
    assert (listed["tenant"], listed["pending"], listed["delivered"], listed["endpoint"]) == \
        ("ge-academy", len(lines), 0, None)
    shown = json.loads(cli.invoke(args=["xapi", "lrs", "show", "--tenant", "ge-academy", "--json"]).output)
    assert shown["password_set"] is False and shown["share_identity"] is False


def test_an_outage_backs_off_opens_the_breaker_and_loses_nothing(academy, lrs, cli):
    point_at(academy, lrs.endpoint, lrs.username, lrs.password)
    sent = stored_ids()
    lrs.stop()
    for _ in range(3):
        make_due()
        drain(cli)
    assert set(states()) == {"pending"}
    settings = db.session.get(LrsSettings, academy)
    assert settings.failures == 3 and settings.open_until > utcnow()
    # While the breaker is open, nothing is tried even when rows are due.
    db.session.execute(update(StatementOutbox).values(next_attempt_at=utcnow()))
    db.session.commit()
    attempts = db.session.execute(select(func.sum(StatementOutbox.attempts))).scalar_one()
    drain(cli)
    assert db.session.execute(select(func.sum(StatementOutbox.attempts))).scalar_one() == attempts
    lrs.start()
    make_due()
    drain(cli)
    assert states() == Counter({"delivered": len(sent)}) and {s["id"] for s in lrs.statements()} == sent


def test_one_refused_statement_is_parked_and_the_rest_delivered(academy, lrs, cli, app):
    proxy = FaultProxy(lrs.endpoint).start()
    try:
        point_at(academy, proxy.endpoint, lrs.username, lrs.password)
        refused = db.session.execute(select(StatementOutbox.statement_id).where(
            StatementOutbox.verb == "launched")).scalar_one()
        proxy.rules.append(refuse_statement(refused))
        drain(cli)
        assert states() == Counter({"delivered": len(stored_ids()) - 1, "parked": 1})
        parked = db.session.execute(select(StatementOutbox).where(StatementOutbox.status == "parked")).scalar_one()
        assert parked.statement_id == refused and parked.last_status == 400 and "refused by rule" in parked.last_answer
        assert refused not in {s["id"] for s in lrs.statements()}
        # Fixed on the LRS's side, an administrator sends it again.
        proxy.rules.clear()
        assert cli.invoke(args=["xapi", "retry", "--tenant", "ge-academy"]).output.startswith("1 statements")
        drain(cli)
        assert states() == Counter({"delivered": len(stored_ids())})
    finally:
        proxy.stop()


def test_an_array_too_large_is_halved_and_a_statement_too_large_alone_is_parked(academy, lrs, cli):
    import json

    rows = db.session.execute(select(StatementOutbox)).scalars().all()
    assert len(rows) >= 3
    largest = max(len(json.dumps(row.statement)) for row in rows)
    huge = next(row.statement_id for row in rows if row.verb == "launched")
    # Any two statements are over the proxy's limit, each alone is not; except one, too large even alone.
    proxy = FaultProxy(lrs.endpoint, rules=[too_large(largest + 2), fail_on(huge, 413)]).start()
    try:
        point_at(academy, proxy.endpoint, lrs.username, lrs.password)
        drain(cli)
        assert states() == Counter({"delivered": len(rows) - 1, "parked": 1})
        parked = db.session.execute(select(StatementOutbox).where(StatementOutbox.status == "parked")).scalar_one()
        assert parked.statement_id == huge and parked.last_status == 413
        assert {s["id"] for s in lrs.statements()} == stored_ids() - {huge}
        # The LRS answered every time: its breaker heard no failure.
        assert db.session.get(LrsSettings, academy).failures == 0
    finally:
        proxy.stop()


def test_a_statement_the_lrs_fails_on_holds_back_no_other_and_is_parked_in_the_end(academy, lrs, cli, client):
    from ibm_lms.xapi import delivery

    poison = db.session.execute(select(StatementOutbox.statement_id).where(
        StatementOutbox.verb == "launched")).scalar_one()
    proxy = FaultProxy(lrs.endpoint, rules=[fail_on(poison)]).start()
    try:
        point_at(academy, proxy.endpoint, lrs.username, lrs.password)
        drain(cli)  # the array fails once: it may be the LRS
        assert set(states()) == {"pending"} and lrs.statements() == []
        make_due()
        drain(cli)  # and again: each statement alone, so only the one the LRS fails on waits
        assert {s["id"] for s in lrs.statements()} == stored_ids() - {poison}
        for _ in range(delivery.POISON_AFTER):
            client.get(f"/courses/{COURSE}/lessons/gifts-and-bribes")  # new statements come meanwhile
            make_due()
            drain(cli)
        row = db.session.execute(select(StatementOutbox).where(StatementOutbox.statement_id == poison)).scalar_one()
        assert (row.status, row.last_status, row.attempts) == ("parked", 500, delivery.POISON_AFTER)
        assert states() == Counter({"delivered": len(stored_ids()) - 1, "parked": 1})
        assert {s["id"] for s in lrs.statements()} == stored_ids() - {poison}
    finally:
        proxy.stop()


def test_an_lrs_that_fails_on_everything_is_an_outage_and_parks_nothing(academy, lrs, cli, client):
    from ibm_lms.xapi import delivery

    proxy = FaultProxy(lrs.endpoint, rules=[fail_on("", 500)]).start()
    try:
        point_at(academy, proxy.endpoint, lrs.username, lrs.password)
        for _ in range(delivery.POISON_AFTER + 2):
            client.get(f"/courses/{COURSE}/lessons/gifts-and-bribes")
            make_due()
            drain(cli)
        assert set(states()) == {"pending"}
        assert db.session.get(LrsSettings, academy).failures == delivery.POISON_AFTER + 2
        proxy.rules.clear()
        make_due()
        drain(cli)
        assert set(states()) == {"delivered"} and {s["id"] for s in lrs.statements()} == stored_ids()
    finally:
        proxy.stop()


@pytest.mark.parametrize("status, body", [(500, "oops"), (503, ""), (200, "<html>proxy page</html>"),
                                          (401, '{"detail": "bad credentials"}'), (200, '{"not": "a list"}')])
def test_a_bad_answer_keeps_every_statement_waiting(academy, lrs, cli, status, body):
    proxy = FaultProxy(lrs.endpoint, rules=[answer_once(status, body)]).start()
    try:
        point_at(academy, proxy.endpoint, lrs.username, lrs.password)
        drain(cli)
        assert set(states()) == {"pending"}
        row = db.session.execute(select(StatementOutbox).limit(1)).scalar_one()
        assert row.last_status == status and row.attempts == 1 and row.next_attempt_at > utcnow()
        make_due()
        drain(cli)
        assert set(states()) == {"delivered"}
    finally:
        proxy.stop()


def test_a_resend_of_statements_the_lrs_already_holds_counts_as_delivered(academy, lrs, cli):
    point_at(academy, lrs.endpoint, lrs.username, lrs.password)
    drain(cli)
    # A worker posted a batch, then died before recording it: the rows are due again.
    db.session.execute(update(StatementOutbox).values(status="pending", next_attempt_at=utcnow(), delivered_at=None))
    db.session.commit()
    drain(cli)
    assert set(states()) == {"delivered"} and len(lrs.statements()) == len(stored_ids())


@pytest.mark.parametrize("held", ["identical", "different"])
def test_a_409_is_delivered_when_the_lrs_holds_the_same_statement_and_parked_when_it_holds_another(
        academy, lrs, cli, held):
    import requests

    row = db.session.execute(select(StatementOutbox).where(StatementOutbox.verb == "launched")).scalar_one()
    row_id, statement_id, already = row.id, row.statement_id, dict(row.statement)
    if held == "different":
        already["verb"] = {**already["verb"], "display": {"en-US": "launched earlier"}}
    assert requests.post(lrs.endpoint + "statements", json=[already], auth=lrs.auth,
                         headers=lrs.headers).status_code == 200
    proxy = FaultProxy(lrs.endpoint).start()
    try:
        proxy.rules.append(conflict_for(statement_id))
        point_at(academy, proxy.endpoint, lrs.username, lrs.password)
        drain(cli)
    finally:
        proxy.stop()
    status = db.session.get(StatementOutbox, row_id).status
    assert status == ("delivered" if held == "identical" else "parked")
    others = states()
    others[status] -= 1
    assert +others == Counter({"delivered": len(stored_ids()) - 1})
    assert len(lrs.statements()) == len(stored_ids())


def test_the_admin_page_shows_the_queue_and_resends(academy, launcher, client, lrs, cli):
    from ibm_lms.demo.platform import DEMO_USERS
    from tests.quiz.helpers import csrf_of

    proxy = FaultProxy(lrs.endpoint).start()
    try:
        point_at(academy, proxy.endpoint, lrs.username, lrs.password)
        refused = db.session.execute(select(StatementOutbox.statement_id).where(
            StatementOutbox.verb == "launched")).scalar_one()
        proxy.rules.append(refuse_statement(refused))
        drain(cli)
        assert client.get("/xapi/").status_code == 403  # the trainee
        launcher.platform.user = DEMO_USERS["instructor"]
        assert launcher.launch(locale="en").status_code == 303
        assert client.get("/xapi/").status_code == 403  # an instructor is not the academy's administrator
        launcher.platform.user = DEMO_USERS["instructor"].__class__(
            "admin-1", "Admin", "One", "admin@demo.invalid",
            ("http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator",))
        assert launcher.launch(locale="en").status_code == 303
        page = client.get("/xapi/").get_data(as_text=True)
        assert '<dd id="xapi-parked">1</dd>' in page and refused in page
        proxy.rules.clear()
        row_id = db.session.execute(select(StatementOutbox.id).where(StatementOutbox.status == "parked")).scalar_one()
        response = client.post("/xapi/retry", data={"csrf_token": csrf_of(page), "id": str(row_id)})
        assert response.status_code == 303
        assert "1 statement queued again." in client.get(response.headers["Location"]).get_data(as_text=True)
        drain(cli)
        assert "parked" not in states()
        health = client.get("/healthz").get_json()
        assert health["outboxes"]["xapi statements"]["parked"] == 0
    finally:
        proxy.stop()


def test_the_password_is_sealed_and_an_lrs_elsewhere_needs_https(academy):
    xapi.configure(academy, endpoint="https://lrs.example/xAPI/", username="u", password="s3cret-pass")
    db.session.commit()
    row = db.session.get(LrsSettings, academy)
    assert row.secret_sealed and "s3cret-pass" not in row.secret_sealed
    with pytest.raises(xapi.SettingsRefused):
        xapi.configure(academy, endpoint="http://lrs.example/xAPI/")


@pytest.mark.skipif(not POSTGRES_URL, reason="several workers share the outbox on PostgreSQL")
def test_five_thousand_statements_through_two_outages_and_a_killed_worker_arrive_once(academy, lrs, cli, app,
                                                                                    migrated_database):
    """The issue's outage test: statements produced while the LRS is stopped and restarted twice, one worker
    killed mid-run; in the end every statement is in the LRS, none twice."""
    from ibm_lms.events import ModuleCompleted
    from ibm_lms.tenancy.models import User
    from ibm_lms.unit_of_work import publish, unit_of_work

    point_at(academy, lrs.endpoint, lrs.username, lrs.password)
    user = db.session.execute(select(User)).scalar_one()
    existing = len(stored_ids())

    def produce(count: int) -> None:
        with unit_of_work():
            for n in range(count):
                publish(ModuleCompleted(tenant_id=academy, user_id=user.id, context_id=None, resource_link_id=None,
                                        locale="en", course_slug=COURSE, course_version=1, module_key=f"m{n % 7}"))

    database_url, instance = migrated_database
    env = {"IBM_LMS_DATABASE_URL": database_url, "IBM_LMS_SECRET_KEY": app.config["SECRET_KEY"],
           "IBM_LMS_INSTANCE_PATH": str(instance), "IBM_LMS_BASE_URL": app.config["BASE_URL"],
           "PATH": "/usr/bin:/bin"}
    # Two workers share the outbox; one of them is killed while statements are flowing.
    workers = [subprocess.Popen([sys.executable, "-m", "ibm_lms", "worker"], env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL) for _ in range(2)]
    try:
        produce(1500)
        lrs.stop()
        produce(1500)
        lrs.start()
        produce(500)
        time.sleep(0.5)
        workers[0].kill()  # mid-run, perhaps mid-batch: its claimed rows wait for their lease to end
        produce(500)
        lrs.stop()
        produce(1000)
        lrs.start()
        time.sleep(2)
    finally:
        for worker in workers:
            worker.kill()
            worker.wait(10)
    for _ in range(60):
        make_due()
        # The killed worker's lease would end by itself after LEASE_SECONDS; the test does not wait that long.
        db.session.execute(update(StatementOutbox).values(claimed_until=None))
        db.session.commit()
        drain(cli)
        if set(states()) == {"delivered"}:
            break
    assert states() == Counter({"delivered": existing + 5000})
    held = [s["id"] for s in lrs.statements()]
    assert len(held) == len(set(held)) == existing + 5000
    assert set(held) == stored_ids()


def test_a_claim_leases_and_reads_its_rows_and_leaves_them_to_no_other_until_the_lease_ends(academy, app):
    from datetime import timedelta

    from ibm_lms import outboxes
    from ibm_lms.xapi import delivery

    total = sum(states().values())
    assert total >= 3
    rows, lease = outboxes.claim_rows(StatementOutbox, 2, delivery.LEASE_SECONDS,
                                      columns=(StatementOutbox.__table__.c.verb,))
    first = sorted(db.session.execute(select(StatementOutbox.id, StatementOutbox.verb)).all())[:2]
    # The two oldest rows, read in the same statement that leased them.
    assert [(row.id, row.verb) for row in rows] == first
    db.session.expire_all()
    assert {claimed for (claimed,) in db.session.execute(select(StatementOutbox.claimed_until).where(
        StatementOutbox.id.in_([row.id for row in rows])))} == {lease}
    # Another worker gets the rest, never ours while our lease runs.
    others, _ = outboxes.claim(StatementOutbox, 1000, delivery.LEASE_SECONDS)
    assert len(others) == total - 2 and not set(others) & {row.id for row in rows}
    assert outboxes.claim(StatementOutbox, 1000, delivery.LEASE_SECONDS)[0] == []
    # A lease that ran out (a worker died) frees its rows for the next claim.
    db.session.execute(update(StatementOutbox).where(StatementOutbox.id.in_([row.id for row in rows]))
                       .values(claimed_until=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert outboxes.claim(StatementOutbox, 1000, delivery.LEASE_SECONDS)[0] == [row.id for row in rows]


def test_one_call_sends_its_batches_in_turn_and_stops_at_a_failing_lrs(academy, lrs, client, app, monkeypatch):
    from ibm_lms.xapi import delivery

    # One claim a call, of three rows: arrays of one statement, three to a claim.
    monkeypatch.setattr(delivery, "CLAIMS_PER_CALL", 1)
    monkeypatch.setattr(delivery, "CLAIM_AT_LEAST", 3)

    for lesson in ("conflicts-of-interest", "gifts-and-bribes", "reporting-and-supervision", "uncac-and-codes"):
        assert client.get(f"/courses/{COURSE}/lessons/{lesson}").status_code == 200
    proxy = FaultProxy(lrs.endpoint).start()
    try:
        point_at(academy, proxy.endpoint, lrs.username, lrs.password)
        total = sum(states().values())
        assert total >= 3 + 4
        assert delivery.deliver_due(limit=1) == 3
        assert states()["delivered"] == 3 == len(lrs.statements())
        assert proxy.seen == [("POST", 200)] * 3  # each array alone

        lrs.stop()
        handled = delivery.deliver_due(limit=1)
    finally:
        proxy.stop()
    db.session.expire_all()
    waiting = db.session.execute(select(StatementOutbox.attempts, StatementOutbox.claimed_until).where(
        StatementOutbox.status == "pending")).all()
    # The first array failed, and the one already queued behind it; the third claimed with them went back to the
    # queue untouched, and nothing more of that academy was claimed.
    assert handled == 2
    assert sorted(attempts for attempts, _ in waiting) == [0] * (len(waiting) - 2) + [1, 1]
    assert all(claimed is None for _, claimed in waiting)
    assert db.session.get(LrsSettings, academy).failures == 1  # one failing call, one step towards the breaker


def test_an_academys_counts_are_its_own(academy, app):
    other = tenancy.ensure_tenant("md-academy")
    db.session.add(StatementOutbox(tenant_id=other.id, statement_id="0d1e7a52-4b7f-4f43-8d0a-5d6c1b2e9f10",
                                   verb="launched", statement={}, status="parked", next_attempt_at=utcnow(),
                                   created_at=utcnow()))
    db.session.commit()
    ours = states()
    assert xapi.academy_counts(academy) == {"pending": ours["pending"], "delivered": 0, "parked": 0}
    assert xapi.academy_counts(other.id) == {"pending": 0, "delivered": 0, "parked": 1}
    assert xapi.academy_counts(other.id + 1000) == {"pending": 0, "delivered": 0, "parked": 0}


def _isolated(monkeypatch, answers, *, tries: int = 4, rows: int = 10, deadline: float | None = None):
    """One isolating round over `rows` statements, the LRS answering each alone with the next of `answers`."""
    import time

    from ibm_lms.xapi import delivery

    posted: list[int] = []

    def post_alone(lrs, statement):
        posted.append(statement["n"])
        status, code = answers[min(len(posted), len(answers)) - 1]
        return status, delivery.Answer(code, "")

    monkeypatch.setattr(delivery, "_post_alone", post_alone)
    batch = {n: json.dumps({"n": n}) for n in range(rows)}
    outcomes, healthy = delivery._isolate(None, batch, {n: tries for n in batch}, delivery.Answer(500, ""),
                                          time.monotonic() + 60 if deadline is None else deadline)
    return posted, Counter(status for status, _ in outcomes.values()), healthy


def test_an_lrs_that_stores_one_then_limits_the_rate_parks_nothing(monkeypatch):
    from ibm_lms.xapi.delivery import DELIVERED, PENDING

    posted, states_, healthy = _isolated(monkeypatch, [(DELIVERED, 200), (PENDING, 429)])
    assert len(posted) == 2 and states_ == Counter({"delivered": 1, "pending": 9}) and not healthy


def test_an_lrs_that_stores_one_then_fails_stops_the_round_and_parks_nothing(monkeypatch):
    from ibm_lms.xapi.delivery import DELIVERED, PENDING

    for failing in (500, None):  # 5xx, or no answer at all
        posted, states_, healthy = _isolated(monkeypatch, [(DELIVERED, 200), (PENDING, failing)])
        assert len(posted) == 3 and states_ == Counter({"delivered": 1, "pending": 9}) and not healthy


def test_a_statement_failing_between_stored_ones_is_the_one_parked(monkeypatch):
    from ibm_lms.xapi.delivery import DELIVERED, PENDING

    answers = [(DELIVERED, 200), (PENDING, 500)] + [(DELIVERED, 200)] * 8
    posted, states_, healthy = _isolated(monkeypatch, answers)
    assert len(posted) == 10 and states_ == Counter({"delivered": 9, "parked": 1}) and healthy
    # Fewer tries than POISON_AFTER: it waits for another round instead.
    _, states_, _ = _isolated(monkeypatch, answers, tries=1)
    assert states_ == Counter({"delivered": 9, "pending": 1})


def test_isolating_stops_when_half_the_lease_is_spent(monkeypatch):
    import time

    from ibm_lms.xapi.delivery import DELIVERED

    posted, states_, _ = _isolated(monkeypatch, [(DELIVERED, 200)], deadline=time.monotonic() - 1)
    assert posted == [] and states_ == Counter({"pending": 10})

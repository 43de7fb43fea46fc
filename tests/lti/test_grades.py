"""Scores reach the platform's gradebook through the outbox: written with the result, delivered by the worker."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, update

from ibm_lms.clock import utcnow
from ibm_lms.demo.platform import INSTRUCTOR
from ibm_lms.events import LessonCompleted
from ibm_lms.extensions import db
from ibm_lms.lti.ags import delivery
from ibm_lms.lti.data import LTI
from ibm_lms.lti.models import GradeOutbox, ResourceLink
from ibm_lms.tenancy import service as tenancy
from ibm_lms.tenancy.data import LaunchIdentity
from ibm_lms.unit_of_work import publish, unit_of_work
from tests.conftest import POSTGRES_URL, TOOL_BASE_URL

COURSE, LESSON = "anti-corruption", "corruption-at-the-border"
TARGET = f"{TOOL_BASE_URL}/courses/{COURSE}/lessons/{LESSON}"


@dataclass(frozen=True)
class Link:
    id: int
    tenant_id: int
    context_id: int | None
    platform_id: int


def _link() -> Link:
    row = db.session.execute(select(ResourceLink)).scalar_one()
    return Link(row.id, row.tenant_id, row.context_id, row.platform_id)


@pytest.fixture
def graded(launcher, courses):
    """A trainee launched from a Moodle activity that points at one lesson: its link."""
    assert launcher.launch(target=TARGET).status_code == 303
    return _link()


def _complete(link: Link, user_id: int, score: float, *, at: datetime | None = None) -> None:
    """What content publishes when the trainee completes the lesson (the subscriber writes the score row)."""
    event = LessonCompleted(tenant_id=link.tenant_id, user_id=user_id, context_id=link.context_id,
                            resource_link_id=link.id, locale="en", course_slug=COURSE, course_version=1,
                            lesson_key=LESSON, lesson_version=1, module_key="m", duration_seconds=60,
                            score_scaled=score, **({"occurred_at": at} if at else {}))
    with unit_of_work():
        publish(event)


def _user(link) -> int:
    from ibm_lms.tenancy.models import User

    return db.session.execute(select(User.id)).scalar_one()


def _worker(cli) -> None:
    result = cli.invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()


def _rows():
    db.session.expire_all()
    return db.session.execute(select(GradeOutbox).order_by(GradeOutbox.id)).scalars().all()


def test_a_completed_lesson_writes_its_score_with_the_result(graded, launcher, client):
    from tests.content.test_learning import answer_all, csrf_token

    page = answer_all(client, LESSON, COURSE)
    client.post(f"/courses/{COURSE}/lessons/{LESSON}/complete", data={"csrf_token": csrf_token(page)})
    [row] = _rows()
    assert (row.status, row.score_given, row.score_maximum, row.resource_id) == ("pending", 100.0, 100.0,
                                                                               f"{COURSE}/{LESSON}")
    assert row.subject == launcher.platform.user.subject and row.activity_progress == "Completed"


def test_the_worker_makes_the_column_and_posts_the_score(graded, cli, platform_server):
    _complete(graded, _user(graded), 0.8)
    _worker(cli)
    [row] = _rows()
    assert row.status == "delivered" and row.attempts == 1
    [item] = platform_server.services.line_items.values()
    assert (item["resourceId"], item["resourceLinkId"], item["scoreMaximum"]) == (f"{COURSE}/{LESSON}",
                                                                                 "demo-link-1", 100.0)
    [posted] = platform_server.services.score_posts
    assert posted["userId"] == platform_server.user.subject and posted["scoreGiven"] == 80.0
    assert (posted["activityProgress"], posted["gradingProgress"]) == ("Completed", "FullyGraded")
    assert posted["timestamp"].endswith("+00:00")
    db.session.expire_all()
    assert db.session.get(ResourceLink, graded.id).ags_lineitem == item["id"]
    # The next score goes to the same column, and the token is reused.
    _complete(graded, _user(graded), 0.9)
    _worker(cli)
    assert len(platform_server.services.line_items) == 1 and platform_server.services.token_requests == 1
    assert platform_server.services.scores[item["_key"]][platform_server.user.subject]["scoreGiven"] == 90.0


def test_grade_sync_only_posts_to_the_links_own_column(launcher, courses, cli, platform_server):
    platform_server.services.mode = "sync_only"
    item = platform_server.services.graded_link("demo-link-1")
    launcher.launch(target=TARGET)
    row = db.session.execute(select(ResourceLink)).scalar_one()
    # Moodle sends the column list's address in this mode too; the scopes alone forbid making columns.
    assert row.ags_lineitem == item["id"] and row.ags_lineitems
    link = _link()
    _complete(link, _user(link), 0.5)
    _worker(cli)
    assert _rows()[0].status == "delivered" and len(platform_server.services.line_items) == 1
    assert platform_server.services.scores[item["_key"]][platform_server.user.subject]["scoreGiven"] == 50.0


def test_grade_sync_only_without_a_column_parks_the_score_and_says_why(launcher, courses, cli, platform_server):
    platform_server.services.mode = "sync_only"
    launcher.launch(target=TARGET)
    link = _link()
    _complete(link, _user(link), 0.5)
    _worker(cli)
    [row] = _rows()
    assert row.status == "parked" and "no gradebook column" in row.last_answer
    assert platform_server.services.score_posts == []


@pytest.mark.parametrize(("faults", "status", "last"), [
    (["ok", "500"], "pending", 500),        # the score call fails on the platform's side: retried
    (["ok", "429"], "pending", 429),        # too many requests: retried after Retry-After
    (["malformed"], "pending", 200),        # the token answer is not JSON
    (["down"], "pending", 503),             # the platform is down (an HTML 503 page)
    (["ok", "ok", "ok", "400"], "parked", 400),  # the platform refuses the score itself
    (["ok", "ok", "ok", "401", "401"], "parked", 401),  # a fresh token is refused too
])
def test_faults_are_retried_or_parked_and_nothing_is_lost(graded, cli, platform_server, faults, status, last):
    platform_server.services.faults = list(faults)
    _complete(graded, _user(graded), 0.7)
    before = utcnow()
    _worker(cli)
    [row] = _rows()
    assert row.status == status and row.last_status == last and row.attempts == 1
    if status == "pending":
        assert row.next_attempt_at > before + timedelta(seconds=10)
    if "429" in faults:
        assert row.next_attempt_at >= before + timedelta(seconds=119)
    if status == "parked":
        assert row.last_answer  # the platform's answer, for an administrator
    assert platform_server.services.score_posts == []


def test_an_expired_token_is_refreshed_once(graded, cli, platform_server):
    # The token call succeeds, listing and making the column succeed, then the score call says 401 once.
    platform_server.services.faults = ["ok", "ok", "ok", "401"]
    _complete(graded, _user(graded), 0.6)
    _worker(cli)
    assert _rows()[0].status == "delivered" and platform_server.services.token_requests == 2


def test_a_slow_platform_is_given_up_on_and_retried(graded, cli, platform_server, app):
    app.config["LTI_SERVICE_TIMEOUT_SECONDS"] = 0.3
    platform_server.services.slow_seconds = 2
    _complete(graded, _user(graded), 0.6)
    _worker(cli)
    platform_server.services.slow_seconds = 0
    [row] = _rows()
    assert row.status == "pending" and "too slowly" in row.last_answer


def test_retrying_is_backed_off_with_jitter():
    delays = [delivery.backoff(n) for n in range(1, 12)]
    assert 15 <= delays[0] <= 45 and all(d <= delivery.BACKOFF_MAX_SECONDS * 1.5 for d in delays)
    assert delays[5] > delays[0] * 8
    assert delivery.backoff(1, retry_after=600) == 600


def test_an_older_score_never_overwrites_a_newer_one(graded, cli, platform_server):
    now = utcnow()
    _complete(graded, _user(graded), 0.9, at=now)
    _complete(graded, _user(graded), 0.4, at=now - timedelta(minutes=5))  # a late copy of an older result
    _worker(cli)
    statuses = {row.score_given: row.status for row in _rows()}
    assert statuses == {90.0: "delivered", 40.0: "superseded"}
    [scores] = platform_server.services.scores.values()
    assert scores[platform_server.user.subject]["scoreGiven"] == 90.0


def test_a_newer_score_in_the_same_second_is_stamped_a_second_later_and_kept(graded, cli, platform_server):
    # Moodle keeps a grade's time in whole seconds and refuses (409) a score that is not a later second.
    at = utcnow().replace(microsecond=100_000)
    _complete(graded, _user(graded), 0.5, at=at)
    _worker(cli)
    _complete(graded, _user(graded), 0.9, at=at + timedelta(milliseconds=600))
    _worker(cli)
    first, second = _rows()
    assert (first.status, second.status) == ("delivered", "delivered")
    assert second.scored_at == at.replace(tzinfo=None, microsecond=0) + timedelta(seconds=1)
    [scores] = platform_server.services.scores.values()
    assert scores[platform_server.user.subject]["scoreGiven"] == 90.0


def test_a_score_the_platform_already_holds_is_superseded_not_parked(graded, cli, platform_server, app):
    # The platform stored the score but its answer came too late; the retry meets Moodle's 409.
    app.config["LTI_SERVICE_TIMEOUT_SECONDS"] = 0.3
    platform_server.services.faults = ["ok", "ok", "ok", "late"]  # token, line items, new line item, score
    _complete(graded, _user(graded), 0.6)
    _worker(cli)
    assert _rows()[0].status == "pending" and len(platform_server.services.score_posts) == 1
    db.session.execute(update(GradeOutbox).values(next_attempt_at=utcnow()))
    db.session.commit()
    _worker(cli)
    [row] = _rows()
    assert (row.status, row.last_status) == ("superseded", 409)
    assert "earlier timestamp" in row.last_answer
    assert "ge-academy\t0\t0\t0\t1" in cli.invoke(args=["grades", "status"]).output


def test_an_instructors_attempt_sends_no_score(launcher, courses, cli, platform_server):
    """Moodle grades its students only and refuses an instructor's score (400): none is queued."""
    assert launcher.launch(target=TARGET, **{LTI + "roles": [INSTRUCTOR]}).status_code == 303
    link = _link()
    _complete(link, _user(link), 0.7)
    assert _rows() == []


def test_the_platform_refuses_a_score_for_someone_it_does_not_grade(graded, cli, platform_server):
    """The test platform is as strict as Moodle: a score for a teacher it knows is refused."""
    _complete(graded, _user(graded), 0.7)
    platform_server.services.enrol(platform_server.user.subject, [INSTRUCTOR])
    _worker(cli)
    [row] = _rows()
    assert (row.status, row.last_status) == ("parked", 400) and "Incorrect score" in row.last_answer


def test_grades_status_and_retry_of_parked_scores(graded, cli, platform_server):
    platform_server.services.faults = ["ok", "ok", "ok", "400"]
    _complete(graded, _user(graded), 0.7)
    _worker(cli)
    status = cli.invoke(args=["grades", "status"])
    assert "ge-academy\t0\t0\t1\t0" in status.output
    assert "scores back in line: 1" in cli.invoke(args=["grades", "retry", "--tenant", "ge-academy"]).output
    _worker(cli)
    assert _rows()[0].status == "delivered"
    assert "ge-academy\t0\t1\t0\t0" in cli.invoke(args=["grades", "status"]).output


def _many_trainees(link: Link, count: int) -> list[int]:
    ids = []
    with unit_of_work():
        for n in range(count):
            ids.append(tenancy.record_launch_identity(LaunchIdentity(
                tenant_id=link.tenant_id, issuer=link_issuer(link), subject=f"trainee-{n}",
                lti_roles=("http://purl.imsglobal.org/vocab/lis/v2/membership#Learner",))).user_id)
    return ids


def link_issuer(link: Link) -> str:
    from ibm_lms.lti.models import Platform

    return db.session.get(Platform, link.platform_id).issuer


def test_an_outage_loses_nothing_and_sends_nothing_twice(graded, cli, platform_server, app, another_worker):
    """200 scores while the platform is down, a worker that dies holding a batch: all arrive, once each."""
    users = _many_trainees(graded, 200)
    now = utcnow()
    platform_server.services.down = True
    for n, user_id in enumerate(users):
        _complete(graded, user_id, (n % 10) / 10, at=now)
    for user_id in users[:20]:  # twenty trainees improve later: their newer score must be the one kept
        _complete(graded, user_id, 1.0, at=now + timedelta(seconds=30))
    _worker(cli)
    assert {row.status for row in _rows()} == {"pending", "superseded"}
    platform_server.services.down = False
    db.session.execute(update(GradeOutbox).values(next_attempt_at=utcnow()))
    db.session.commit()
    # A worker claims a batch and dies before sending it: its lease runs out and another takes over.
    with another_worker().app_context():
        abandoned = delivery.claim(50)
        db.session.remove()
    assert len(abandoned) == 50
    _worker(cli)
    assert {r.id for r in _rows() if r.status == "pending"} == set(abandoned)
    db.session.execute(update(GradeOutbox).where(GradeOutbox.id.in_(abandoned))
                       .values(claimed_until=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    _worker(cli)
    rows = _rows()
    assert {r.status for r in rows} == {"delivered", "superseded"}
    posts = [(p["userId"], p["timestamp"]) for p in platform_server.services.score_posts]
    assert len(posts) == len(set(posts)) == 200  # each score once, the superseded never
    [held] = platform_server.services.scores.values()
    assert len(held) == 200 and all(held[f"trainee-{n}"]["scoreGiven"] == 100.0 for n in range(20))


def test_a_row_whose_lease_ran_out_before_its_turn_is_left_to_the_worker_that_took_it(graded, platform_server,
                                                                                     another_worker):
    _complete(graded, _user(graded), 0.8)
    [row_id], first_lease = delivery._claim(50)
    # The first worker is still busy with earlier rows of its batch when its lease runs out.
    db.session.execute(update(GradeOutbox).values(claimed_until=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    with another_worker().app_context():
        assert delivery.claim(50) == [row_id]
        db.session.remove()
    assert delivery.deliver(row_id, lease=first_lease) == "released"
    assert platform_server.services.score_posts == []
    [row] = _rows()
    assert (row.status, row.attempts) == ("pending", 0)


@pytest.mark.skipif(not POSTGRES_URL, reason="workers share the outbox on PostgreSQL (FOR UPDATE SKIP LOCKED)")
def test_two_workers_share_the_outbox_without_sending_twice(graded, cli, platform_server, another_worker):
    users = _many_trainees(graded, 120)
    for user_id in users:
        _complete(graded, user_id, 0.5)
    apps = [another_worker(), another_worker()]

    def run(worker_app):
        from ibm_lms.worker import drain

        with worker_app.app_context():
            drain(worker_app, batch=10)
            db.session.remove()

    threads = [threading.Thread(target=run, args=(a,)) for a in apps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert {r.status for r in _rows()} == {"delivered"}
    users_posted = [p["userId"] for p in platform_server.services.score_posts]
    assert len(users_posted) == len(set(users_posted)) == 120


def test_the_worker_runs_until_sigterm_and_stops_cleanly(migrated_database, tmp_path):
    import os
    import signal
    import subprocess
    import sys
    from pathlib import Path

    database_url, _ = migrated_database
    environment = {**os.environ, "IBM_LMS_DATABASE_URL": database_url, "IBM_LMS_SECRET_KEY": "worker-test-secret",
                   "IBM_LMS_INSTANCE_PATH": str(tmp_path)}
    worker = subprocess.Popen([str(Path(sys.executable).parent / "ibm-lms"), "worker"], env=environment,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert worker.stdout.readline().startswith("worker running")
        worker.send_signal(signal.SIGTERM)
        output, _ = worker.communicate(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert worker.returncode == 0 and "worker stopped" in output

"""Several workers: any of them finishes a launch another began, and a state is spent exactly once."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from ibm_lms.extensions import db
from ibm_lms.tenancy.models import User
from tests.conftest import IsolatedClient, make_app


def test_another_worker_finishes_the_launch(app, database_url, tmp_path, launcher, client):
    auth, _ = launcher.login()
    token = launcher.sim.sign(launcher.claims(auth))
    # A second app object: its own process-level caches, the same database, as a second gunicorn worker.
    other = make_app(database_url, tmp_path / "other-worker")
    other.test_client_class = IsolatedClient
    other_client = other.test_client()
    for cookie in client._cookies.values():
        other_client.set_cookie(cookie.key, cookie.value)
    response = other_client.post("/lti/launch", data={"id_token": token, "state": auth["state"]})
    assert response.status_code == 303
    with other.app_context():
        db.session.remove()
    assert db.session.execute(select(func.count()).select_from(User)).scalar_one() == 1


def test_concurrent_replays_let_exactly_one_launch_through(app, launcher, client):
    auth, _ = launcher.login()
    token = launcher.sim.sign(launcher.claims(auth))
    cookies = {cookie.key: cookie.value for cookie in client._cookies.values()}
    statuses: list[int] = []
    barrier = threading.Barrier(4)

    def attempt():
        racer = app.test_client()
        for key, value in cookies.items():
            racer.set_cookie(key, value)
        barrier.wait()
        statuses.append(racer.post("/lti/launch", data={"id_token": token, "state": auth["state"]}).status_code)

    threads = [threading.Thread(target=attempt) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(statuses) == [303, 400, 400, 400]
    assert db.session.execute(select(func.count()).select_from(User)).scalar_one() == 1

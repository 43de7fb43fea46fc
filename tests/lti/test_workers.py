"""Several workers: any of them finishes a launch another began, and a state is spent exactly once."""

from __future__ import annotations

from ibm_lms.extensions import db
from ibm_lms.tenancy.models import User
from tests.conftest import IsolatedClient, cookies_of, count_rows, make_app, race_launches


def test_another_worker_finishes_the_launch(app, database_url, tmp_path, launcher, client):
    auth, _ = launcher.login()
    token = launcher.sim.sign(launcher.claims(auth))
    # A second app object: its own process-level caches, the same database, as a second gunicorn worker.
    other = make_app(database_url, tmp_path / "other-worker")
    other.test_client_class = IsolatedClient
    other_client = other.test_client()
    for key, value in cookies_of(client).items():
        other_client.set_cookie(key, value)
    response = other_client.post("/lti/launch", data={"id_token": token, "state": auth["state"]})
    assert response.status_code == 303
    with other.app_context():
        db.session.remove()
    assert count_rows(User) == 1


def test_concurrent_replays_let_exactly_one_launch_through(app, launcher, client):
    auth, _ = launcher.login()
    replay = ({"id_token": launcher.sim.sign(launcher.claims(auth)), "state": auth["state"]}, cookies_of(client))
    assert sorted(race_launches(app, [replay] * 4)) == [303, 400, 400, 400]
    assert count_rows(User) == 1

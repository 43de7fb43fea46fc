"""The platform's JWKS: fetched once, shared through the database, refetched for a new kid, bounded in time."""

from __future__ import annotations

import threading
import time
from datetime import datetime

import pytest
from sqlalchemy import select, update
from werkzeug.serving import make_server
from werkzeug.wrappers import Response

from ibm_lms.demo.platform import new_private_key
from ibm_lms.extensions import db
from ibm_lms.lti import platform_keys
from ibm_lms.lti.models import PlatformKeySet
from tests.conftest import Launcher, cookies_of, error_code, race_launches, translated


def test_jwks_is_fetched_once_for_many_launches(launcher):
    for _ in range(5):
        assert launcher.launch().status_code == 303
    assert launcher.platform.jwks_fetches == 1


def test_another_worker_reuses_the_stored_key_set(launcher, another_worker):
    assert launcher.launch().status_code == 303
    worker = Launcher(another_worker().test_client(), launcher.platform)
    assert worker.launch().status_code == 303
    assert launcher.platform.jwks_fetches == 1


def _concurrent_launches(app, launcher, count: int) -> list[int]:
    """`count` logins, then their launches all at once, each as its own browser."""
    attempts = []
    for _ in range(count):
        auth, _ = launcher.login()
        form = {"id_token": launcher.sim.sign(launcher.claims(auth)), "state": auth["state"]}
        attempts.append((form, cookies_of(launcher.client)))
    return race_launches(app, attempts)


def test_launches_arriving_together_on_a_cold_cache_share_one_fetch(app, launcher):
    launcher.platform.jwks_delay = 0.3
    assert _concurrent_launches(app, launcher, 4) == [303] * 4
    assert launcher.platform.jwks_fetches == 1


def test_a_worker_waits_for_the_fetch_another_worker_is_making(app, launcher, database_url):
    """Another worker holds the key set's fetch lock and stores the set; our launch then uses it."""
    if not database_url.startswith("postgresql"):
        pytest.skip("the cross-process fetch lock is PostgreSQL's advisory lock; SQLite runs one process")
    from sqlalchemy import create_engine, func, insert

    keyset_url = launcher.platform.keyset_url
    lock_id = platform_keys.fetch_lock_id(keyset_url)
    other_worker = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with other_worker.connect() as connection:
            transaction = connection.begin()
            connection.execute(select(func.pg_advisory_xact_lock(lock_id)))
            statuses = []
            launching = threading.Thread(target=lambda: statuses.extend(_concurrent_launches(app, launcher, 1)))
            launching.start()
            launching.join(timeout=1.0)
            assert launching.is_alive(), "the launch did not wait for the other worker's fetch"
            now = datetime.utcnow()
            connection.execute(insert(PlatformKeySet).values(
                url=keyset_url, jwks=launcher.sim.jwks(), fetched_at=now, expires_at=now.replace(year=now.year + 1)))
            transaction.commit()
            launching.join(timeout=10)
    finally:
        other_worker.dispose()
    assert statuses == [303]
    assert launcher.platform.jwks_fetches == 0


def test_cache_control_max_age_is_honoured(launcher):
    launcher.platform.jwks_cache_control = "public, max-age=120"
    before = datetime.utcnow()
    launcher.launch()
    row = db.session.execute(select(PlatformKeySet)).scalar_one()
    assert 110 <= (row.expires_at - before).total_seconds() <= 130


def test_expired_key_set_is_fetched_again(launcher, another_worker):
    launcher.launch()
    db.session.execute(update(PlatformKeySet).values(expires_at=datetime(2000, 1, 1)))
    db.session.commit()
    worker = Launcher(another_worker().test_client(), launcher.platform)  # with nothing in memory
    assert worker.launch().status_code == 303
    assert launcher.platform.jwks_fetches == 2


def test_rotated_platform_key_is_picked_up_with_one_refetch(launcher, app, monkeypatch):
    launcher.launch()
    monkeypatch.setattr(launcher.sim, "private_key", new_private_key())
    monkeypatch.setattr(launcher.sim, "kid", "rotated-key")
    monkeypatch.setitem(app.config, "LTI_JWKS_MIN_REFETCH_SECONDS", 0)
    assert launcher.launch().status_code == 303
    assert launcher.platform.jwks_fetches == 2


def test_unknown_kids_cannot_force_a_fetch_storm(launcher):
    launcher.launch()
    rogue = new_private_key()
    for index in range(5):
        response = launcher.launch(sign=lambda c, i=index: launcher.sim.sign(c, kid=f"random-{i}", key=rogue))
        assert response.status_code == 400
    assert launcher.platform.jwks_fetches == 1


class _SlowKeyset(str):
    """The URL of a key set that answers too late; counts the requests it receives."""

    hits = 0


@pytest.fixture
def slow_keyset():
    def app(environ, start_response):
        url.hits += 1
        time.sleep(2)
        return Response("{}", mimetype="application/json")(environ, start_response)

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = _SlowKeyset(f"http://127.0.0.1:{server.server_port}/jwks")
    yield url
    server.shutdown()


def test_launches_queued_behind_a_failing_fetch_share_its_failure(app, launcher, slow_keyset, monkeypatch):
    from ibm_lms.lti.models import Platform

    db.session.execute(update(Platform).values(keyset_url=slow_keyset))
    db.session.commit()
    monkeypatch.setitem(app.config, "LTI_JWKS_TIMEOUT_SECONDS", 0.3)
    assert _concurrent_launches(app, launcher, 4) == [502] * 4
    # One timed-out fetch, whose failure the three queued launches share, not four in a row.
    assert slow_keyset.hits == 1


def test_unreachable_platform_keys_are_explained_in_the_trainees_language(launcher):
    from ibm_lms.lti.models import Platform

    db.session.execute(update(Platform).values(keyset_url="http://127.0.0.1:1/jwks"))
    db.session.commit()
    auth, _ = launcher.login()
    token = launcher.sim.sign(launcher.claims(auth))
    response = launcher.client.post("/lti/launch", data={"id_token": token, "state": auth["state"]},
                                    headers={"Accept-Language": "ru"})
    reason = translated("ru", "the platform could not be reached")
    assert reason != "the platform could not be reached"
    assert response.status_code == 502 and reason in response.get_data(as_text=True)


def test_slow_platform_keys_time_out_with_a_clear_error(launcher, app, slow_keyset, monkeypatch):
    from ibm_lms.lti.models import Platform

    db.session.execute(update(Platform).values(keyset_url=slow_keyset))
    db.session.commit()
    monkeypatch.setitem(app.config, "LTI_JWKS_TIMEOUT_SECONDS", 0.3)
    response = launcher.launch()
    assert response.status_code == 502
    assert error_code(response) == "platform_keys_unavailable"
    # Had the launch waited for the slow answer, its empty key set would be the reason given instead.
    page = response.get_data(as_text=True)
    assert "the platform answered too slowly" in page
    assert "no keys list" not in page

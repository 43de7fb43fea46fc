"""The anonymous endpoints refuse a flood from one address with 429 and a translated reason, while other
addresses, signed-in pages and a forged X-Forwarded-For change nothing."""

from __future__ import annotations

import pytest

from tests.conftest import IsolatedClient, make_app


@pytest.fixture
def limited(app, migrated_database):
    limited = make_app(*migrated_database, RATE_LIMITS=True, RATE_LIMIT_LAUNCH="3 per minute",
                       RATE_LIMIT_PUBLIC="2 per minute")
    limited.test_client_class = IsolatedClient
    return limited.test_client()


def test_a_flood_of_logins_from_one_address_is_refused(limited):
    statuses = [limited.get("/lti/login?iss=x").status_code for _ in range(3)]
    assert 429 not in statuses
    refused = limited.get("/lti/login?iss=x", headers={"Accept-Language": "ru"})
    assert refused.status_code == 429 and "Retry-After" in refused.headers
    assert "Слишком много запросов" in refused.get_data(as_text=True)
    # Another address has its own allowance; a client's own X-Forwarded-For buys none.
    assert limited.get("/lti/login?iss=x", environ_base={"REMOTE_ADDR": "198.51.100.7"}).status_code != 429
    assert limited.get("/lti/login?iss=x", headers={"X-Forwarded-For": "203.0.113.99"}).status_code == 429
    assert limited.get("/healthz").status_code == 200


def test_verification_pages_have_their_own_allowance(limited):
    assert [limited.get("/verify/unknown").status_code for _ in range(2)] == [404, 404]
    assert limited.get("/verify/unknown").status_code == 429
    assert limited.post("/verify", data={"credential": "x"}).status_code == 429


def test_a_launch_passes_the_limits_it_is_counted_by(platform, migrated_database):
    from tests.conftest import Launcher

    guarded = make_app(*migrated_database, RATE_LIMITS=True)
    guarded.test_client_class = IsolatedClient
    launcher = Launcher(guarded.test_client(), platform)
    answer = launcher.launch()
    assert answer.status_code == 303
    assert answer.headers.get("X-RateLimit-Remaining") == "298"  # the login and the launch


def test_with_limits_off_the_anonymous_views_are_left_unwrapped(app, migrated_database):
    # A disabled Flask-Limiter still does its bookkeeping inside every view it wraps.
    on = make_app(*migrated_database, RATE_LIMITS=True)
    wrapper_mark = "__wrapper-limiter-instance"
    assert getattr(on.view_functions["lti.oidc_login"], wrapper_mark, None) is not None
    assert getattr(app.view_functions["lti.oidc_login"], wrapper_mark, None) is None
    assert getattr(app.view_functions["lti.launch"], wrapper_mark, None) is None

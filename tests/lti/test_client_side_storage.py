"""LTI client-side postMessage storage, for platforms that offer it when the browser drops our cookies."""

from __future__ import annotations

import re
from html import unescape

from sqlalchemy import func, select

from ibm_lms.extensions import db
from ibm_lms.tenancy.models import User
from tests.conftest import error_code


def _fields(page: str) -> dict:
    return {name: unescape(value) for name, value in re.findall(r'name="(\w+)" value="([^"]*)"', page)}


def _cookieless_launch(launcher, client):
    auth, response = launcher.login(lti_storage_target="_parent")
    page = response.get_data(as_text=True)
    assert 'data-storage-target="_parent"' in page and f'data-state="{auth["state"]}"' in page
    assert f'data-platform-origin="{launcher.platform.base_url}"' in page
    client.delete_cookie(f"lti1p3-{auth['state']}")
    token = launcher.sim.sign(launcher.claims(auth))
    first = client.post("/lti/launch", data={"id_token": token, "state": auth["state"],
                                             "lti_storage_target": "_parent"})
    return auth, token, first


def test_launch_completes_through_the_platform_storage(launcher, client):
    auth, _, first = _cookieless_launch(launcher, client)
    assert first.status_code == 200
    page = first.get_data(as_text=True)
    assert "storage_check.js" in page
    fields = _fields(page)
    assert fields["state"] == auth["state"] and len(fields["storage_check"]) > 20
    assert db.session.execute(select(func.count()).select_from(User)).scalar_one() == 0
    second = client.post("/lti/launch", data=fields)
    assert second.status_code == 303
    assert db.session.execute(select(func.count()).select_from(User)).scalar_one() == 1


def test_a_guessed_storage_check_is_refused(launcher, client):
    auth, token, _first = _cookieless_launch(launcher, client)
    forged = client.post("/lti/launch", data={"id_token": token, "state": auth["state"],
                                              "lti_storage_target": "_parent", "storage_check": "guess"})
    assert forged.status_code == 400 and "state does not match" in forged.get_data(as_text=True)
    assert db.session.execute(select(func.count()).select_from(User)).scalar_one() == 0


def test_the_check_is_issued_once_per_login(launcher, client):
    auth, token, _first = _cookieless_launch(launcher, client)
    again = client.post("/lti/launch", data={"id_token": token, "state": auth["state"],
                                             "lti_storage_target": "_parent"})
    assert again.status_code == 400 and error_code(again) == "state_cookie_missing"


def test_the_check_completes_one_launch_only(launcher, client):
    _, _, first = _cookieless_launch(launcher, client)
    fields = _fields(first.get_data(as_text=True))
    assert client.post("/lti/launch", data=fields).status_code == 303
    replay = client.post("/lti/launch", data=fields)
    assert replay.status_code == 400


def test_a_cookieless_launch_carries_the_session_in_its_links(launcher, client, courses):
    _, _, first = _cookieless_launch(launcher, client)
    second = client.post("/lti/launch", data=_fields(first.get_data(as_text=True)))
    location = second.headers["Location"]
    assert location.startswith("/courses/?ltik=")
    client.delete_cookie("ibm_lms_session")
    page = client.get(location).get_data(as_text=True)
    assert "Nino Beridze" in page
    assert re.search(r'href="/courses/anti-corruption\?ltik=[^"]+"', page)
    assert 'action="/i18n/locale?ltik=' in page


def test_a_tampered_or_missing_token_is_not_a_session(launcher, client, courses):
    _, _, first = _cookieless_launch(launcher, client)
    location = client.post("/lti/launch", data=_fields(first.get_data(as_text=True))).headers["Location"]
    client.delete_cookie("ibm_lms_session")
    assert client.get(location[:-3] + "abc").status_code == 401
    assert client.get("/courses/").status_code == 401


def test_a_cookie_launch_never_puts_the_session_in_urls(launcher, client, courses):
    response = launcher.launch()
    assert "ltik" not in response.headers["Location"]
    assert "ltik=" not in client.get("/courses/").get_data(as_text=True)

"""LTI client-side postMessage storage, for platforms that offer it when the browser drops our cookies."""

from __future__ import annotations

import re
from html import unescape

import pytest

from ibm_lms.lti.models import LoginState
from ibm_lms.tenancy.models import User
from tests.conftest import count_rows, error_code

VERIFIED = {"X-IBM-LMS-Storage-Verified": "1", "Origin": "http://localhost", "Accept": "application/json"}


def _fields(page: str) -> dict:
    return {name: unescape(value) for name, value in re.findall(r'name="(\w+)" value="([^"]*)"', page)}


def _cookieless_launch(launcher, client, *, storage_at_login: bool = True):
    extra = {"lti_storage_target": "_parent"} if storage_at_login else {}
    auth, response = launcher.login(**extra)
    if storage_at_login:
        page = response.get_data(as_text=True)
        assert 'data-storage-target="_parent"' in page and f'data-state="{auth["state"]}"' in page
        assert f'data-platform-origin="{launcher.platform.base_url}"' in page
    client.delete_cookie(f"lti1p3-{auth['state']}")
    token = launcher.sim.sign(launcher.claims(auth))
    fields = {"id_token": token, "state": auth["state"], "lti_storage_target": "_parent"}
    return fields, client.post("/lti/launch", data=fields, headers={"Sec-Fetch-Dest": "iframe"})


def test_launch_completes_through_the_platform_storage(launcher, client, courses):
    fields, first = _cookieless_launch(launcher, client)
    assert first.status_code == 200 and first.headers["Cache-Control"] == "no-store"
    page = first.get_data(as_text=True)
    assert "storage_check.js" in page and _fields(page) == fields
    assert count_rows(User) == 0
    second = client.post("/lti/launch", data=fields, headers=VERIFIED)
    assert second.status_code == 200
    location = second.get_json()["location"]
    assert location.startswith("/courses/?ltik=")
    assert count_rows(User) == 1
    client.delete_cookie("ibm_lms_session")
    page = client.get(location, headers={"Sec-Fetch-Dest": "iframe"}).get_data(as_text=True)
    assert "Nino Beridze" in page
    assert re.search(r'href="/courses/anti-corruption\?ltik=[^"]+"', page)
    assert 'action="/i18n/locale?ltik=' in page


def test_a_browser_that_cannot_carry_a_session_in_urls_is_offered_a_new_window(launcher, client):
    auth, _ = launcher.login(lti_storage_target="_parent")
    client.delete_cookie(f"lti1p3-{auth['state']}")
    fields = {"id_token": launcher.sim.sign(launcher.claims(auth)), "state": auth["state"],
              "lti_storage_target": "_parent"}
    response = client.post("/lti/launch", data=fields)  # no Sec-Fetch-Dest: a browser too old to send it
    page = response.get_data(as_text=True)
    assert error_code(response) == "state_cookie_missing" and "storage_check.js" not in page
    assert "lti1p3_new_window=1" in unescape(page)
    assert count_rows(LoginState) == 1  # the login is still there for the new window
    # The new window logs in again with the platform's parameters, and as a top-level page it asks for no storage.
    from urllib.parse import parse_qs, urlsplit

    link = next(url for url in re.findall(r'(?:href|action)="([^"]+)"', unescape(page)) if "lti1p3_new_window=1" in url)
    query = parse_qs(urlsplit(link).query)
    assert query["iss"] == [launcher.platform.base_url] and query["login_hint"] == [launcher.platform.user.subject]
    assert "target_link_uri" in query and "lti_storage_target" not in query


@pytest.mark.parametrize(
    "headers",
    [
        {},  # a cross-site form: no custom header
        {"X-IBM-LMS-Storage-Verified": "1"},  # no Origin
        {"X-IBM-LMS-Storage-Verified": "1", "Origin": "https://evil.example"},
    ],
)
def test_only_our_own_page_can_complete_a_storage_launch(launcher, client, headers):
    fields, _ = _cookieless_launch(launcher, client)
    response = client.post("/lti/launch", data=fields, headers={**headers, "Accept": "application/json"})
    assert response.status_code == 400
    assert count_rows(User) == 0


def test_a_login_that_never_asked_for_storage_cannot_finish_through_it(launcher, client):
    fields, first = _cookieless_launch(launcher, client, storage_at_login=False)
    assert error_code(first) == "state_cookie_missing"  # no storage page offered
    response = client.post("/lti/launch", data=fields, headers=VERIFIED)
    assert response.status_code == 400
    assert "The launch state does not match." in response.get_data(as_text=True)
    assert count_rows(User) == 0
    # Refused without burning the state: the login's genuine launch (its cookie back) still completes.
    client.set_cookie(f"lti1p3-{fields['state']}", fields["state"])
    assert client.post("/lti/launch", data=fields).status_code == 303


def test_a_storage_launch_cannot_be_replayed(launcher, client):
    fields, _ = _cookieless_launch(launcher, client)
    assert client.post("/lti/launch", data=fields, headers=VERIFIED).status_code == 200
    assert client.post("/lti/launch", data=fields, headers=VERIFIED).status_code == 400
    assert count_rows(User) == 1


def test_a_tampered_or_missing_token_is_not_a_session(launcher, client, courses):
    fields, _ = _cookieless_launch(launcher, client)
    location = client.post("/lti/launch", data=fields, headers=VERIFIED).get_json()["location"]
    client.delete_cookie("ibm_lms_session")
    assert client.get(location[:-3] + "abc", headers={"Sec-Fetch-Dest": "iframe"}).status_code == 401
    assert client.get("/courses/").status_code == 401


@pytest.mark.parametrize(("destination", "status"), [("iframe", 200), (None, 401), ("document", 401), ("empty", 401)])
def test_a_session_in_a_url_works_only_inside_the_platforms_frame(launcher, client, courses, destination, status):
    fields, _ = _cookieless_launch(launcher, client)
    location = client.post("/lti/launch", data=fields, headers=VERIFIED).get_json()["location"]
    client.delete_cookie("ibm_lms_session")
    # Browsers name where a page will be shown; one that says nothing (too old to) cannot be told apart
    # from a link opened as a page, so it gets no session from the URL.
    headers = {"Sec-Fetch-Dest": destination} if destination else {}
    assert client.get(location, headers=headers).status_code == status


def test_a_verified_launch_whose_cookie_came_back_keeps_the_session_out_of_urls(launcher, client, courses):
    auth, _ = launcher.login(lti_storage_target="_parent")
    fields = {"id_token": launcher.sim.sign(launcher.claims(auth)), "state": auth["state"],
              "lti_storage_target": "_parent"}
    response = client.post("/lti/launch", data=fields, headers=VERIFIED)
    assert response.status_code == 200 and response.get_json()["location"] == "/courses/"
    assert "Nino Beridze" in client.get("/courses/").get_data(as_text=True)


def test_a_cookie_launch_never_puts_the_session_in_urls(launcher, client, courses):
    response = launcher.launch()
    assert "ltik" not in response.headers["Location"]
    assert "ltik=" not in client.get("/courses/").get_data(as_text=True)


def test_links_built_once_for_every_reader_never_hide_or_share_a_session_in_urls(launcher, client, courses):
    """The catalogue's course links are kept per app while no session rides in them: a reader whose session
    does must still get links that carry it, and a cookie reader after them none of theirs."""
    assert launcher.launch().status_code == 303
    assert 'href="/courses/anti-corruption"' in client.get("/courses/").get_data(as_text=True)
    fields, _ = _cookieless_launch(launcher, client)
    location = client.post("/lti/launch", data=fields, headers=VERIFIED).get_json()["location"]
    client.delete_cookie("ibm_lms_session")
    page = client.get(location, headers={"Sec-Fetch-Dest": "iframe"}).get_data(as_text=True)
    assert re.search(r'href="/courses/anti-corruption\?ltik=[^"]+"', page)
    assert launcher.launch().status_code == 303
    page = client.get("/courses/").get_data(as_text=True)
    assert 'href="/courses/anti-corruption"' in page and "ltik=" not in page

"""Every route answers hostile text with a 4xx or a page, never a 5xx, on every database.

PostgreSQL refuses NUL in text and a Location header refuses line breaks, so input that SQLite
and a browser take in their stride must be stopped before it reaches either.
"""

from __future__ import annotations

import re

import pytest

from ibm_lms.demo.platform import INSTRUCTOR, LTI
from tests.conftest import TOOL_BASE_URL, csrf_token

HOSTILE = ["a\x00b", "line\r\nbreak", "%00", "x" * 5000]
FIELDS = ("ltik", "invite", "openid_configuration", "registration_token", "iss", "login_hint", "target_link_uri",
          "client_id", "lti_deployment_id", "lti_message_hint", "lti_storage_target", "next", "locale",
          "id_token", "state", "course")


def _routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        # Every part of the path a rule reads (slugs, keys, credential ids), not only slugs.
        path = re.sub(r"<(?:\w+:)?\w+>", "a%00b", rule.rule)
        for method in sorted(rule.methods & {"GET", "POST", "PUT", "DELETE"}):
            yield method, path


def _deep_linking_instructor(launcher):
    return launcher.launch(
        target=TOOL_BASE_URL + "/lti/launch", remove=(LTI + "resource_link",),
        **{LTI + "message_type": "LtiDeepLinkingRequest", LTI + "roles": [INSTRUCTOR],
           "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings": {
               "deep_link_return_url": "http://127.0.0.1:9/return", "accept_types": ["ltiResourceLink"],
               "accept_presentation_document_targets": ["iframe", "window"]}},
    )


@pytest.mark.parametrize("value", HOSTILE, ids=["nul", "crlf", "encoded-nul", "long"])
@pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "instructor"])
def test_no_route_fails_on_hostile_text(app, client, launcher, courses, value, signed_in):
    token = None
    if signed_in:
        assert _deep_linking_instructor(launcher).status_code == 303
        token = csrf_token(client.get("/lti/deep-link").get_data(as_text=True))
    failures = []
    for method, path in _routes(app):
        fields = {name: value for name in FIELDS}
        if token:
            fields["csrf_token"] = token
        if method == "GET":
            response = client.get(path, query_string=fields)
        else:
            response = client.open(path, method=method, data=fields)
        if response.status_code >= 500:
            failures.append((method, path, response.status_code))
    assert failures == []


# Numbers no row can have, and a digit str.isdigit() takes but int() refuses.
UNUSABLE_NUMBERS = ["9" * 23, "\u00b2", "1" + "0" * 400]
NUMBER_FIELDS = ("id", "page", "user_id", "candidate_id", "version", "sequence", "base_version", "draws", "hours",
                 "queued", "expiring", "time_limit_minutes", "attempts", "pass_mark", "draw-0-count", "score")


def _as_administrator(launcher, client) -> str:
    from ibm_lms.demo.platform import DEMO_USERS

    launcher.platform.user = DEMO_USERS["administrator"]
    assert launcher.launch(locale="en").status_code == 303
    return csrf_token(client.get("/lti/platforms").get_data(as_text=True))


def test_a_nul_anywhere_in_the_address_is_refused_before_any_view(client):
    for address in ("/verify/" + "0" * 35 + "%00", "/issuers/a%00b/jwks.json", "/courses/?q=a%00b",
                    "/certification/candidates?area=%00"):
        refused = client.get(address, headers={"Accept": "application/json"})
        assert refused.status_code == 400 and refused.get_json()["error"] == "bad_request", address
    assert client.get("/verify/" + "0" * 36, headers={"Accept": "application/json"}).status_code == 404


def test_an_id_in_a_path_past_any_row_is_not_found(app, client, launcher, courses):
    _as_administrator(launcher, client)
    failures = []
    for rule in app.url_map.iter_rules():
        if "<int:" not in rule.rule:
            continue
        path = re.sub(r"<int:\w+>", "9" * 23, rule.rule)
        path = re.sub(r"<\w+>", "document-security", path)
        for method in sorted(rule.methods & {"GET", "POST"}):
            answer = client.get(path) if method == "GET" else client.post(path, data={})
            # 404, or 405 where another route of that shape takes other methods; a POST may be refused first (400).
            if answer.status_code not in (400, 404, 405) or (answer.status_code == 400 and method != "POST"):
                failures.append((method, path, answer.status_code))
    assert failures == []


@pytest.mark.parametrize("value", UNUSABLE_NUMBERS, ids=["past-any-row", "superscript", "400-digits"])
def test_no_route_fails_on_a_number_it_cannot_use(app, client, launcher, courses, value):
    token = _as_administrator(launcher, client)
    failures = []
    for method, path in _routes(app):
        fields = {name: value for name in NUMBER_FIELDS}
        response = (client.get(path, query_string=fields) if method == "GET"
                    else client.post(path, data={**fields, "csrf_token": token}))
        if response.status_code >= 500:
            failures.append((method, path, response.status_code))
    assert failures == []


def test_lists_take_a_page_past_the_end_as_the_first(client, launcher, courses):
    _as_administrator(launcher, client)
    assert client.get("/certification/candidates", query_string={"page": "9" * 23}).status_code == 200
    assert client.get("/api/v1/certification/candidates", query_string={"page": "9" * 23}).get_json()["page"] == 1

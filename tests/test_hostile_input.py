"""Every route answers hostile text with a 4xx or a page, never a 5xx, on every database.

PostgreSQL refuses NUL in text and a Location header refuses line breaks, so input that SQLite
and a browser take in their stride must be stopped before it reaches either.
"""

from __future__ import annotations

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
        path = rule.rule.replace("<slug>", "a%00b")
        for method in sorted(rule.methods & {"GET", "POST"}):
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
        response = client.get(path, query_string=fields) if method == "GET" else client.post(path, data=fields)
        if response.status_code >= 500:
            failures.append((method, path, response.status_code))
    assert failures == []

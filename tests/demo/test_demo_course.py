"""The demo course a newcomer meets: activities that start the tool's login as Moodle does, Moodle's grade and roster
services under the demo platform's address, and the gradebook they fill."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest

from tests.conftest import make_app

BASE = "http://localhost"
AGS_ENDPOINT = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
SCORE_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"


@pytest.fixture
def demo(app, migrated_database):
    """The demo on the test database (emptied after the test, as for `app`)."""
    return make_app(*migrated_database, DEMO_MODE=True, BASE_URL=BASE)


def _login_query(answer) -> dict[str, str]:
    assert answer.status_code == 302, answer.get_data(as_text=True)
    location = urlsplit(answer.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == BASE + "/lti/login"
    return {name: values[0] for name, values in parse_qs(location.query).items()}


def test_an_activity_starts_the_tools_login_with_its_target_person_and_language(demo):
    query = _login_query(demo.test_client().get(
        "/demo/launch", query_string={"activity": "anti-corruption-post-test", "locale": "uk", "login_hint": "trainee"}))
    assert query["iss"] == BASE + "/demo/platform" and query["login_hint"] == "trainee"
    assert query["target_link_uri"] == BASE + "/courses/anti-corruption/quizzes/post-test"
    assert query["lti_message_hint"] == "uk anti-corruption-post-test"
    # Content selection opens the catalogue, whatever activity is chosen.
    selection = _login_query(demo.test_client().get(
        "/demo/launch", query_string={"activity": "document-security", "locale": "en", "login_hint": "instructor:select"}))
    assert selection["target_link_uri"] == BASE + "/courses/"


@pytest.mark.parametrize("changes", [{"locale": "xx"}, {"login_hint": "nobody"}, {"login_hint": "trainee:grade"},
                                     {"locale": None}, {"activity": "no-such-activity"}, {"login_hint": None}])
def test_a_launch_the_demo_cannot_make_is_refused(demo, changes):
    query = {"activity": "catalogue", "locale": "en", "login_hint": "trainee", **changes}
    answer = demo.test_client().get("/demo/launch", query_string={k: v for k, v in query.items() if v is not None})
    assert answer.status_code == 400


def _id_token(demo, message_hint: str, login_hint: str = "trainee") -> dict:
    """The claims the demo platform's authorisation endpoint posts to the tool, checked with its published key."""
    client = demo.test_client()
    answer = client.get("/demo/platform/auth", query_string={
        "scope": "openid", "response_type": "id_token", "response_mode": "form_post", "prompt": "none",
        "client_id": "ibm-lms-demo", "redirect_uri": BASE + "/lti/launch", "nonce": "n-1", "state": "s-1",
        "login_hint": login_hint, "lti_message_hint": message_hint})
    assert answer.status_code == 200
    token = unescape(re.search(r'name="id_token" value="([^"]+)"', answer.get_data(as_text=True)).group(1))
    [key] = client.get("/demo/platform/jwks.json").get_json()["keys"]
    return jwt.decode(token, jwt.PyJWK(key).key, algorithms=["RS256"], audience="ibm-lms-demo")


def test_a_graded_activity_is_launched_with_its_column_and_the_services_moodle_offers(demo):
    claims = _id_token(demo, "ro anti-corruption-post-test")
    lti = "https://purl.imsglobal.org/spec/lti/claim/"
    assert claims[lti + "target_link_uri"] == BASE + "/courses/anti-corruption/quizzes/post-test"
    assert claims[lti + "resource_link"]["id"] == "demo-link-2"
    assert claims[lti + "launch_presentation"]["locale"] == "ro"
    endpoint = claims[AGS_ENDPOINT]
    assert SCORE_SCOPE in endpoint["scope"]
    assert endpoint["lineitem"].startswith(BASE + "/demo/platform/mod/lti/services.php/")
    assert claims[NRPS]["context_memberships_url"].startswith(BASE + "/demo/platform/mod/lti/services.php/")
    # The catalogue is a link without a column; the services are still offered, as Moodle offers them to a tool.
    catalogue = _id_token(demo, "en catalogue")
    assert catalogue[lti + "resource_link"]["id"] == "demo-link-1" and "lineitem" not in catalogue[AGS_ENDPOINT]
    # Content selection carries no resource link and no services.
    selection = _id_token(demo, "en document-security", login_hint="instructor:select")
    assert lti + "resource_link" not in selection and AGS_ENDPOINT not in selection
    assert selection[lti + "target_link_uri"] == BASE + "/courses/"


def test_the_demo_platforms_services_refuse_what_moodle_refuses(demo):
    client = demo.test_client()
    token = client.post("/demo/platform/mod/lti/token.php", data={
        "grant_type": "client_credentials", "client_assertion_type":
        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer", "client_assertion": "not-a-jwt",
        "scope": SCORE_SCOPE})
    assert token.status_code == 400 and token.get_json()["error"] == "invalid_client"  # Moodle's token.php
    unsigned = client.get("/demo/platform/mod/lti/services.php/2/lineitems?type_id=1")
    assert unsigned.status_code == 401 and unsigned.get_json()["error"] == "invalid_token"
    assert client.get("/demo/platform/mod/lti/nothing.php").status_code == 404


def test_the_gradebook_shows_each_persons_score_per_column(demo):
    client = demo.test_client()
    empty = client.get("/demo/gradebook").get_data(as_text=True)
    assert 'id="no-grades"' in empty
    # The graded activities' columns are there from the start, as Moodle makes them with the activity.
    assert "Anti-corruption: post-test" in empty and "Nino Beridze" in empty and "/ 100" not in empty
    with demo.test_request_context():
        from ibm_lms.demo.views import services

        gradebook = services()
        [column] = [key for key, item in gradebook.line_items.items() if item["resourceLinkId"] == "demo-link-2"]
        gradebook.scores[column] = {"demo-trainee-1": {"scoreGiven": 62.5, "scoreMaximum": 100.0}}
    page = client.get("/demo/gradebook").get_data(as_text=True)
    row = re.search(r"<tr><th scope=\"row\">Nino Beridze</th>(.*?)</tr>", page, re.S).group(1)
    assert re.findall(r"<td>\s*(.*?)</td>", row, re.S)[0].strip() == "62.5 / 100"
    assert "Oksana Kovalenko" in page and 'id="no-grades"' not in page


def test_the_demo_academy_has_a_name_its_certificates_can_show(demo):
    from ibm_lms.demo.service import DEMO_TENANT, register_demo_platform
    from ibm_lms.tenancy import service as tenancy

    with demo.app_context():
        register_demo_platform()
        register_demo_platform()  # a second set-up finds both as they are
        assert tenancy.get_tenant(DEMO_TENANT).name == "Demo Border Academy"

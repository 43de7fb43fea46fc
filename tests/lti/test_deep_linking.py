"""Deep linking: an instructor picks courses and they return to the platform as signed content items."""

from __future__ import annotations

import re
from html import unescape

import jwt
import pytest
from sqlalchemy import select

from ibm_lms.demo.platform import INSTRUCTOR, LTI
from ibm_lms.extensions import db
from ibm_lms.lti.models import DeepLinkRequest
from tests.conftest import count_rows, course_count, csrf_token, error_code

DL = "https://purl.imsglobal.org/spec/lti-dl/claim/"
RETURN_URL = "http://127.0.0.1:9/mod/lti/contentitem_return.php?course=2"


def _deep_linking_launch(launcher, *, roles=(INSTRUCTOR,), accept_multiple=True, accept_types=("ltiResourceLink",)):
    return launcher.launch(
        target="http://localhost/lti/launch",
        remove=(LTI + "resource_link",),
        **{LTI + "message_type": "LtiDeepLinkingRequest", LTI + "roles": list(roles),
           DL + "deep_linking_settings": {
               "deep_link_return_url": RETURN_URL, "accept_types": list(accept_types),
               "accept_presentation_document_targets": ["iframe", "window"],
               "accept_multiple": accept_multiple, "data": "opaque-platform-data"}},
    )


def test_instructor_selects_courses_and_the_platform_gets_a_signed_answer(launcher, client, courses):
    response = _deep_linking_launch(launcher)
    assert response.status_code == 303 and response.headers["Location"] == "/lti/deep-link"
    page = client.get("/lti/deep-link").get_data(as_text=True)
    # Every course is offered whole; its lessons are offered too.
    assert page.count('type="checkbox" id="course-') == course_count()
    assert page.count('type="checkbox" id="lesson-') >= 5 * course_count()
    answer = client.post("/lti/deep-link", data={"csrf_token": csrf_token(page),
                                                 "course": ["risk-analysis", "anti-corruption", "not-a-course"]})
    assert answer.status_code == 200
    assert f"form-action 'self' {RETURN_URL.split('/mod')[0]};" in answer.headers["Content-Security-Policy"]
    body = answer.get_data(as_text=True)
    assert f'action="{unescape(RETURN_URL)}"' in unescape(body)
    token = unescape(re.search(r'name="JWT" value="([^"]+)"', body).group(1))
    jwks = client.get("/.well-known/jwks.json").get_json()
    header = jwt.get_unverified_header(token)
    key = next(k for k in jwks["keys"] if k["kid"] == header["kid"])
    claims = jwt.decode(token, jwt.algorithms.RSAAlgorithm.from_jwk(key), algorithms=["RS256"],
                        audience=launcher.platform.base_url)
    assert claims["iss"] == launcher.sim.client_id
    assert claims[LTI + "message_type"] == "LtiDeepLinkingResponse"
    assert claims[LTI + "deployment_id"] == launcher.sim.deployment_id
    assert claims[DL + "data"] == "opaque-platform-data"
    items = claims[DL + "content_items"]
    assert [i["url"] for i in items] == ["http://localhost/courses/risk-analysis",
                                         "http://localhost/courses/anti-corruption"]
    assert all(i["type"] == "ltiResourceLink" and i["title"] and i["text"] for i in items)
    # The selection is answered once.
    again = client.post("/lti/deep-link", data={"csrf_token": csrf_token(page), "course": ["risk-analysis"]})
    assert again.status_code == 400


def test_a_single_choice_platform_gets_radio_buttons_and_one_course(launcher, client, courses):
    _deep_linking_launch(launcher, accept_multiple=False)
    page = client.get("/lti/deep-link").get_data(as_text=True)
    assert page.count('type="radio" id="course-') == course_count()
    response = client.post("/lti/deep-link", data={"csrf_token": csrf_token(page),
                                                   "course": ["risk-analysis", "anti-corruption"]})
    assert response.status_code == 400 and "only one course" in response.get_data(as_text=True)


@pytest.mark.parametrize(("form", "message"), [({}, "at least one course"), ({"course": "nope"}, "at least one")])
def test_empty_selection_is_refused(launcher, client, courses, form, message):
    _deep_linking_launch(launcher)
    page = client.get("/lti/deep-link").get_data(as_text=True)
    response = client.post("/lti/deep-link", data={"csrf_token": csrf_token(page), **form})
    assert response.status_code == 400 and message in response.get_data(as_text=True)


def test_a_platform_that_takes_no_resource_links_is_told_so(launcher, courses):
    response = _deep_linking_launch(launcher, accept_types=("file",))
    assert response.status_code == 400 and "does not accept links" in response.get_data(as_text=True)


def test_learners_cannot_select_content(launcher, client, courses):
    _deep_linking_launch(launcher, roles=("http://purl.imsglobal.org/vocab/lis/v2/membership#Learner",))
    assert client.get("/lti/deep-link").status_code == 403


def test_the_answer_needs_csrf_and_a_deep_linking_launch(launcher, client, courses):
    _deep_linking_launch(launcher)
    assert client.post("/lti/deep-link", data={"course": "risk-analysis"}).status_code == 400
    # A later ordinary launch replaces the session, and with it the pending selection.
    launcher.launch(**{LTI + "roles": [INSTRUCTOR]})
    page = client.get("/courses/").get_data(as_text=True)
    response = client.post("/lti/deep-link", data={"csrf_token": csrf_token(page), "course": "risk-analysis"})
    assert response.status_code == 400 and error_code(response) == "deep_linking"


def test_an_old_copy_of_the_session_cannot_answer_the_request_again(launcher, client, courses):
    # The session is the browser's: restoring an earlier cookie (or reusing an ltik link) must not
    # bring an answered request back.
    _deep_linking_launch(launcher)
    page = client.get("/lti/deep-link").get_data(as_text=True)
    before_answer = client.get_cookie("ibm_lms_session").value
    form = {"csrf_token": csrf_token(page), "course": ["risk-analysis"]}
    assert client.post("/lti/deep-link", data=form).status_code == 200
    client.set_cookie("ibm_lms_session", before_answer, domain="localhost")
    again = client.post("/lti/deep-link", data=form)
    assert again.status_code == 400 and 'name="JWT"' not in again.get_data(as_text=True)
    assert error_code(again) == "deep_linking"
    assert count_rows(DeepLinkRequest) == 0


def test_a_request_left_too_long_expires(launcher, client, courses, app, monkeypatch):
    monkeypatch.setitem(app.config, "LTI_DEEP_LINK_TTL_SECONDS", -1)
    _deep_linking_launch(launcher)
    page = client.get("/lti/deep-link").get_data(as_text=True)
    response = client.post("/lti/deep-link", data={"csrf_token": csrf_token(page), "course": ["risk-analysis"]})
    assert response.status_code == 400 and "Start again from Moodle" in response.get_data(as_text=True)


def test_another_users_request_cannot_be_answered_or_seen(launcher, client, app, courses):
    """The request id alone is not enough: it must be the signed-in user's, in their tenant."""
    from ibm_lms.demo.platform import DemoUser

    _deep_linking_launch(launcher)
    [victims_request] = db.session.execute(select(DeepLinkRequest.id)).scalars().all()
    # Another instructor of the same platform signs in with a session that names the victim's request.
    launcher.platform.user = DemoUser("other-instructor", "Ana", "Rusu", "ana@demo.invalid", (INSTRUCTOR,))
    _deep_linking_launch(launcher)
    with client.session_transaction() as session:
        session["deep_linking"] = victims_request
    page = client.get("/lti/deep-link").get_data(as_text=True)
    assert 'type="checkbox"' not in page
    response = client.post("/lti/deep-link", data={"csrf_token": csrf_token(page), "course": ["risk-analysis"]})
    assert response.status_code == 400 and error_code(response) == "deep_linking"
    assert victims_request in db.session.execute(select(DeepLinkRequest.id)).scalars().all()


def test_a_request_of_another_tenant_cannot_be_answered(launcher, client, app, courses):
    from sqlalchemy import update

    from ibm_lms.tenancy.service import ensure_tenant
    from ibm_lms.unit_of_work import unit_of_work

    _deep_linking_launch(launcher)
    with unit_of_work():
        elsewhere = ensure_tenant("md-academy")
        db.session.execute(update(DeepLinkRequest).values(tenant_id=elsewhere.id))
    page = client.get("/lti/deep-link").get_data(as_text=True)
    assert 'type="checkbox"' not in page
    response = client.post("/lti/deep-link", data={"csrf_token": csrf_token(page), "course": ["risk-analysis"]})
    assert response.status_code == 400 and error_code(response) == "deep_linking"
    assert count_rows(DeepLinkRequest) == 1


def _answer(client, page: str, *items: str) -> dict:
    answer = client.post("/lti/deep-link", data={"csrf_token": csrf_token(page), "item": list(items)})
    assert answer.status_code == 200, answer.get_data(as_text=True)[-500:]
    token = unescape(re.search(r'name="JWT" value="([^"]+)"', answer.get_data(as_text=True)).group(1))
    return jwt.decode(token, options={"verify_signature": False})


def test_graded_items_carry_a_line_item_and_a_later_launch_opens_exactly_that_lesson(launcher, client, courses):
    _deep_linking_launch(launcher)
    page = client.get("/lti/deep-link").get_data(as_text=True)
    items = _answer(client, page, "course:risk-analysis", "lesson:document-security/check-digits")[
        DL + "content_items"]
    course, lesson = items
    assert course["lineItem"] == {"scoreMaximum": 100, "label": course["title"], "resourceId": "risk-analysis",
                                  "tag": "ibm-lms"}
    assert lesson["url"] == "http://localhost/courses/document-security/lessons/check-digits"
    assert lesson["lineItem"]["resourceId"] == "document-security/check-digits"
    assert lesson["custom"] == {"course": "document-security", "lesson": "check-digits"}
    assert "iframe" in lesson  # the platform accepts the frame, so the activity opens in the course page
    # Moodle makes the activity; a trainee's launch of it opens that lesson.
    response = launcher.launch(target=lesson["url"], **{LTI + "custom": lesson["custom"]})
    assert response.status_code == 303 and response.headers["Location"] == "/courses/document-security/lessons/check-digits"


def test_a_platform_that_takes_no_line_items_gets_none(launcher, client, courses):
    launcher.launch(
        target="http://localhost/lti/launch", remove=(LTI + "resource_link",),
        **{LTI + "message_type": "LtiDeepLinkingRequest", LTI + "roles": [INSTRUCTOR],
           DL + "deep_linking_settings": {"deep_link_return_url": RETURN_URL, "accept_types": ["ltiResourceLink"],
                                          "accept_presentation_document_targets": ["window"],
                                          "accept_lineitem": False}})
    page = client.get("/lti/deep-link").get_data(as_text=True)
    [item] = _answer(client, page, "course:risk-analysis")[DL + "content_items"]
    assert "lineItem" not in item and item["window"] == {"targetName": "_blank"} and "iframe" not in item


def test_the_picker_searches_titles_in_the_instructors_language(launcher, client, courses):
    _deep_linking_launch(launcher)
    page = client.get("/lti/deep-link", query_string={"q": "check digits"}).get_data(as_text=True)
    assert 'value="lesson:document-security/check-digits"' in page
    assert 'value="course:risk-analysis"' not in page
    empty = client.get("/lti/deep-link", query_string={"q": "zzzz-nothing"}).get_data(as_text=True)
    assert "Nothing matches your search." in empty


def test_a_quiz_is_found_by_its_title_and_goes_to_moodle_named_with_its_course(launcher, client, courses):
    _deep_linking_launch(launcher)
    page = client.get("/lti/deep-link", query_string={"q": "anti-corruption final exam"}).get_data(as_text=True)
    assert 'value="quiz:anti-corruption/final-exam"' in page
    assert 'value="quiz:risk-analysis/final-exam"' not in page
    [item] = _answer(client, page, "quiz:anti-corruption/final-exam")[DL + "content_items"]
    assert item["title"] == item["lineItem"]["label"] == "Anti-Corruption: Final exam"


@pytest.mark.parametrize("locale", ["en", "ru", "uk", "ka", "hy", "az", "ro", "be"])
def test_the_picker_speaks_the_instructors_language(launcher, client, courses, locale):
    from tests.conftest import translated

    launcher.launch(
        locale=locale, target="http://localhost/lti/launch", remove=(LTI + "resource_link",),
        **{LTI + "message_type": "LtiDeepLinkingRequest", LTI + "roles": [INSTRUCTOR],
           DL + "deep_linking_settings": {"deep_link_return_url": RETURN_URL, "accept_types": ["ltiResourceLink"],
                                          "accept_presentation_document_targets": ["iframe"]}})
    page = client.get("/lti/deep-link").get_data(as_text=True)
    assert f'<html lang="{locale}">' in page
    assert translated(locale, "Search courses and lessons") in page
    assert translated(locale, "The whole course") in page
    # A quiz title not yet written in the instructor's language is shown in Russian, marked with its language.
    import tomllib

    from tests.conftest import ROOT

    written = {locale in tomllib.loads(path.read_text())["title"] for path in ROOT.glob("courses/*/quizzes/*.toml")}
    quiz_labels = re.findall(r'<label for="quiz-[^"]+"([^>]*)>', page)
    assert quiz_labels and set(quiz_labels) == {"" if found else ' lang="ru"' for found in written}, quiz_labels
    if locale in ("en", "ru"):
        assert set(quiz_labels) == {""}

"""End-to-end launches against the test platform: the flow, the stored identity, and the valid variants."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from ibm_lms.demo.platform import LTI
from ibm_lms.extensions import db
from ibm_lms.lti.models import LoginState, ResourceLink
from ibm_lms.tenancy.models import Context, Enrolment, User
from tests.conftest import count_rows, course_count, error_code


def _identity(client) -> dict:
    with client.session_transaction() as session:
        return dict(session.get("identity") or {})


def test_login_redirects_to_the_platform_with_a_get_and_keeps_state_in_the_database(launcher, client):
    client.set_cookie("ibm_lms_cookies", "1")
    auth, response = launcher.login()
    assert response.status_code == 302
    assert response.headers["Location"].startswith(launcher.platform.auth_login_url + "?")
    assert auth["response_mode"] == "form_post" and auth["prompt"] == "none" and auth["scope"] == "openid"
    assert auth["redirect_uri"] == "http://localhost/lti/launch"
    stored = db.session.execute(select(LoginState)).scalar_one()
    assert stored.state == auth["state"] and stored.nonce == auth["nonce"]
    cookie = response.headers["Set-Cookie"]
    assert f"lti1p3-{auth['state']}={auth['state']}" in cookie and "HttpOnly" in cookie


def test_first_login_in_a_frame_checks_cookies_before_leaving(launcher):
    auth, response = launcher.login()
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "login_check.js" in page and "lti1p3_new_window=1" in page
    assert auth["state"]


def test_login_by_post_works_like_get(launcher):
    auth, response = launcher.login(method="POST")
    assert auth.get("state") and response.status_code in (200, 302)


def test_full_launch_records_identity_and_lands_on_the_catalogue(launcher, client, courses):
    response = launcher.launch(locale="en")
    assert response.status_code == 303
    assert response.headers["Location"] == "/courses/"
    user = db.session.execute(select(User)).scalar_one()
    assert (user.subject, user.given_name, user.email) == ("demo-trainee-1", "Nino", "trainee@demo.invalid")
    context = db.session.execute(select(Context)).scalar_one()
    assert context.lti_context_id == "demo-course-1" and context.title == "IBM Training (demo course)"
    enrolment = db.session.execute(select(Enrolment)).scalar_one()
    assert enrolment.role == "learner" and enrolment.user_id == user.id
    link = db.session.execute(select(ResourceLink)).scalar_one()
    assert link.lti_resource_link_id == "demo-link-1" and link.context_id == context.id
    assert count_rows(LoginState) == 0
    assert _identity(client)["user_id"] == user.id
    page = client.get("/courses/").get_data(as_text=True)
    assert "Nino Beridze" in page and "Trainee" in page and "IBM Training (demo course)" in page
    assert page.count('class="course-card"') == course_count()


def test_launch_locale_sets_the_interface_language(launcher, client, courses):
    launcher.launch(locale="uk-UA")
    page = client.get("/courses/").get_data(as_text=True)
    assert '<html lang="uk">' in page
    assert "Курси" in page


def test_names_in_any_script_survive_the_session(launcher, client, courses):
    launcher.launch(name="ნინო ბერიძე / Ніна Берідзе", locale="ka")
    assert _identity(client)["display_name"] == "ნინო ბერიძე / Ніна Берідзе"
    assert "ნინო ბერიძე / Ніна Берідзе" in client.get("/courses/").get_data(as_text=True)


def test_launch_to_a_course_link_lands_on_that_course(launcher, client, courses):
    response = launcher.launch(target="http://localhost/courses/risk-analysis")
    assert response.headers["Location"] == "/courses/risk-analysis"
    assert client.get("/courses/risk-analysis").status_code == 200


def test_second_launch_updates_rather_than_duplicates(launcher, client):
    launcher.launch()
    launcher.launch(**{LTI + "roles": ["http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"]})
    assert count_rows(User) == 1
    assert db.session.execute(select(Enrolment.role)).scalar_one() == "instructor"


@pytest.mark.parametrize(
    ("roles", "expected"),
    [
        (["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner",
          "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Student"], "learner"),
        (["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner",
          "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"], "instructor"),
        (["Instructor"], "instructor"),
        (["Learner"], "learner"),
        (["http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant"], "instructor"),
        (["http://purl.imsglobal.org/vocab/lis/v2/system/person#Administrator"], "administrator"),
        (["http://example.org/roles#Astronaut"], "learner"),
        ([], "learner"),
    ],
    ids=["several", "learner-and-instructor", "short-instructor", "short-learner", "sub-role", "admin",
         "unknown", "none"],
)
def test_role_variants(launcher, client, roles, expected):
    response = launcher.launch(**{LTI + "roles": roles})
    assert response.status_code == 303
    assert _identity(client)["role"] == expected


@pytest.mark.parametrize(
    ("removed", "kept"),
    [
        (("name", "given_name", "family_name", "email"), {}),
        (("name", "given_name", "family_name"), {"email": "trainee@demo.invalid"}),
        (("email",), {"name": "Nino Beridze", "given_name": "Nino", "family_name": "Beridze"}),
    ],
    ids=["no-name-no-email", "email-only", "names-only"],
)
def test_personal_data_is_stored_only_when_sent(launcher, removed, kept):
    assert launcher.launch(remove=removed).status_code == 303
    user = db.session.execute(select(User)).scalar_one()
    for field, value in kept.items():
        assert getattr(user, field) == value
    for field in removed:
        assert getattr(user, field) is None


def test_a_name_is_stored_without_bidirectional_controls(launcher):
    assert launcher.launch(name="\u202eeznaM anirI", given_name="Irina\u2066", family_name="Manze").status_code == 303
    user = db.session.execute(select(User)).scalar_one()
    assert (user.name, user.given_name, user.family_name) == ("eznaM anirI", "Irina", "Manze")


def test_launch_without_context(launcher, client, courses):
    response = launcher.launch(remove=(LTI + "context",))
    assert response.status_code == 303
    assert count_rows(Context) == 0
    assert _identity(client)["context_id"] is None
    assert client.get("/courses/").status_code == 200


def test_deep_linking_launch_is_accepted(launcher, client):
    response = launcher.launch(
        remove=(LTI + "resource_link",),
        target="http://localhost/lti/launch",
        **{LTI + "message_type": "LtiDeepLinkingRequest",
           "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings": {
               "deep_link_return_url": "http://127.0.0.1/return", "accept_types": ["ltiResourceLink"],
               "accept_presentation_document_targets": ["iframe"]}},
    )
    assert response.status_code == 303, error_code(response)


def test_pages_need_a_launch(client):
    response = client.get("/courses/")
    assert response.status_code == 401
    assert error_code(response) == "not_signed_in"


def test_each_launch_starts_a_fresh_session(launcher, client):
    launcher.launch()
    with client.session_transaction() as session:
        session["leftover"] = "from-before"
    launcher.launch()
    with client.session_transaction() as session:
        assert "leftover" not in session


def test_launch_to_another_page_than_the_login_asked_for_is_refused(launcher):
    auth, _ = launcher.login(target_link_uri="http://localhost/courses/risk-analysis")
    token = launcher.sim.sign(launcher.claims(auth, target="http://localhost/courses/anti-corruption"))
    response = launcher.post(token, auth["state"])
    assert response.status_code == 400
    assert "another page than its login asked for" in response.get_data(as_text=True)
    # The state is left for the genuine launch of that login.
    genuine = launcher.sim.sign(launcher.claims(auth, target="http://localhost/courses/risk-analysis"))
    assert launcher.post(genuine, auth["state"]).status_code == 303


def test_abandoned_logins_are_swept(launcher, monkeypatch):
    from datetime import datetime

    from sqlalchemy import update

    from ibm_lms.lti import login

    launcher.login()
    db.session.execute(update(LoginState).values(expires_at=datetime(2000, 1, 1)))
    db.session.commit()
    monkeypatch.setattr(login, "PURGE_EVERY", 2)
    fresh, _ = launcher.login()
    assert db.session.execute(select(LoginState.state)).scalars().all() == [fresh["state"]]


@pytest.mark.parametrize(
    ("target", "landing"),
    [
        ("http://localhost/courses/", "/courses/"),
        ("http://localhost/courses/risk-analysis", "/courses/risk-analysis"),
        ("http://localhost/lti/register", "/courses/"),
        ("http://localhost/nowhere/at/all", "/courses/"),
    ],
)
def test_links_land_only_on_content_pages(launcher, target, landing):
    assert launcher.launch(target=target).headers["Location"] == landing


def test_a_context_type_of_null_counts_as_none(launcher):
    context = {"id": "c-null-type", "title": "Risk analysis", "type": None}
    response = launcher.launch(**{LTI + "context": context})
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    stored = db.session.execute(select(Context).where(Context.lti_context_id == "c-null-type")).scalar_one()
    assert stored.title == "Risk analysis"


def test_the_used_state_cookie_is_deleted_by_the_launch(launcher, client):
    """In a real Moodle frame the state cookie would otherwise ride on every later request."""
    auth, _ = launcher.login()
    name = f"lti1p3-{auth['state']}"
    assert client.get_cookie(name) is not None
    response = launcher.post(launcher.sim.sign(launcher.claims(auth)), auth["state"])
    assert response.status_code == 303
    deleted = [h for h in response.headers.getlist("Set-Cookie") if h.startswith(name + "=")]
    assert deleted and "Expires=Thu, 01 Jan 1970" in deleted[0]
    assert client.get_cookie(name) is None


def test_expired_login_states_are_cleared_every_hundred_logins_and_live_ones_kept(launcher, app):
    from datetime import datetime

    from sqlalchemy import update

    from ibm_lms.lti.login import PURGE_EVERY

    abandoned, _ = launcher.login()
    db.session.execute(update(LoginState).where(LoginState.state == abandoned["state"])
                       .values(expires_at=datetime(2000, 1, 1)))
    db.session.commit()
    for _ in range(PURGE_EVERY - 2):
        launcher.login()
    assert db.session.get(LoginState, abandoned["state"]) is not None, "purged before its turn"
    launcher.login()
    launcher.login()
    db.session.expire_all()
    assert db.session.get(LoginState, abandoned["state"]) is None
    assert count_rows(LoginState) >= PURGE_EVERY - 1


def test_a_launch_from_a_link_without_grade_or_roster_services_records_none(launcher):
    # A platform, or a Moodle tool configuration, that offers neither service sends neither claim.
    response = launcher.launch(remove=("https://purl.imsglobal.org/spec/lti-ags/claim/endpoint",
                                       "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"))
    assert response.status_code == 303
    link = db.session.execute(select(ResourceLink)).scalar_one()
    assert (link.ags_scopes, link.ags_lineitems, link.ags_lineitem, link.nrps_memberships) == (None, None, None, None)


def _posted_fields(page: str) -> dict[str, str]:
    import re
    from html import unescape

    return {name: unescape(value) for name, value in re.findall(r'name="(\w+)" value="([^"]*)"', page)}


def test_an_error_the_platform_posts_back_is_said_as_what_to_do(launcher, client, platform_server):
    """Moodle's auth.php posts `error` and the state back, with no id token, when the person signed in to it
    changed since the activity was opened (access_denied)."""
    import requests

    from ibm_lms.demo.platform import DEMO_USERS
    from tests.conftest import translated

    auth, _ = launcher.login()
    platform_server.user = DEMO_USERS["instructor"]  # someone else is signed in to Moodle now
    answer = requests.get(launcher.platform.auth_login_url, params=auth, timeout=10)
    fields = _posted_fields(answer.text)
    assert fields["error"] == "access_denied" and fields["state"] == auth["state"] and "id_token" not in fields
    refused = client.post("/lti/launch", data=fields, headers={"Accept-Language": "uk"})
    assert refused.status_code == 400 and error_code(refused) == "platform_refused_sign_in"
    shown = refused.get_data(as_text=True)
    assert "the person signed in to Moodle has changed" not in shown
    from html import unescape

    expected = translated("uk", "Moodle did not sign you in to the tool: the person signed in to Moodle has changed "
                                "since the activity was opened. Sign in to Moodle again and open the activity from "
                                "your course.")
    assert expected and expected in unescape(shown)


@pytest.mark.parametrize(("error", "shown"), [("invalid_request", "invalid_request"),
                                              ("<script>alert(1)</script>", "unknown")])
def test_any_other_platform_error_is_named_and_only_if_it_looks_like_one(launcher, client, error, shown):
    auth, _ = launcher.login()
    refused = client.post("/lti/launch", data={"error": error, "state": auth["state"]})
    assert refused.status_code == 400 and error_code(refused) == "platform_refused_sign_in"
    page = refused.get_data(as_text=True)
    assert f"({shown})" in page and "<script>alert" not in page

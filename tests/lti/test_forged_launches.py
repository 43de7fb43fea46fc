"""Forged and broken launches: each is refused with a 4xx and its own reason, and nothing is stored."""

from __future__ import annotations

import base64
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from ibm_lms.demo.platform import LTI, new_private_key
from ibm_lms.extensions import db
from ibm_lms.lti.models import LoginState, ResourceLink
from ibm_lms.tenancy.models import Context, Enrolment, User
from tests.conftest import count_rows, error_code, translated


def _stored_nothing() -> bool:
    return all(count_rows(model) == 0 for model in (User, Context, Enrolment, ResourceLink))


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _refused(response, text: str, status: int = 400) -> None:
    body = response.get_data(as_text=True)
    assert response.status_code == status, body[:500]
    assert text in body, body[:2000]
    assert _stored_nothing()


def test_alg_none_is_refused(launcher):
    def sign(claims):
        return f"{_b64({'alg': 'none', 'kid': launcher.sim.kid})}.{_b64(claims)}."

    _refused(launcher.launch(sign=sign), "signing algorithm none is not accepted")


def test_hs256_signed_with_the_platform_public_key_is_refused(launcher):
    public_pem = launcher.sim.private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )

    def sign(claims):
        header = _b64({"alg": "HS256", "kid": launcher.sim.kid, "typ": "JWT"})
        body = _b64(claims)
        import hashlib
        import hmac

        signature = hmac.new(public_pem, f"{header}.{body}".encode(), hashlib.sha256).digest()
        return f"{header}.{body}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"

    _refused(launcher.launch(sign=sign), "signing algorithm HS256 is not accepted")


def test_key_the_platform_never_published_is_refused(launcher):
    rogue = new_private_key()
    _refused(
        launcher.launch(sign=lambda c: launcher.sim.sign(c, kid="rogue-key", key=rogue)),
        "signed with a key the platform does not publish",
    )


def test_right_kid_wrong_key_is_refused(launcher):
    rogue = new_private_key()
    _refused(launcher.launch(sign=lambda c: launcher.sim.sign(c, key=rogue)), "signature is invalid")


def test_tampered_payload_is_refused(launcher):
    def sign(claims):
        header, _, signature = launcher.sim.sign(claims).split(".")
        forged = dict(claims, sub="someone-else")
        return f"{header}.{_b64(forged)}.{signature}"

    _refused(launcher.launch(sign=sign), "signature is invalid")


def test_expired_token_is_refused(launcher):
    now = int(time.time())
    _refused(launcher.launch(exp=now - 3600, iat=now - 4000), "has expired")


def test_token_issued_in_the_future_is_refused(launcher):
    now = int(time.time())
    _refused(launcher.launch(iat=now + 3600, exp=now + 7200), "issued in the future")


def test_token_too_old_is_refused(launcher):
    now = int(time.time())
    _refused(launcher.launch(iat=now - 2 * 3600, exp=now + 600), "too old")


def test_wrong_audience_is_refused(launcher):
    _refused(launcher.launch(aud="another-tool"), "not addressed to this tool")


def test_several_audiences_without_azp_are_refused(launcher):
    _refused(launcher.launch(aud=[launcher.sim.client_id, "another-tool"]), "authorised party (azp)")


def test_wrong_azp_is_refused(launcher):
    _refused(launcher.launch(azp="another-tool"), "authorised party (azp)")


def test_several_audiences_with_our_azp_are_accepted(launcher):
    response = launcher.launch(aud=[launcher.sim.client_id, "another-tool"], azp=launcher.sim.client_id)
    assert response.status_code == 303


def test_our_client_id_need_not_be_the_first_audience(launcher):
    response = launcher.launch(aud=["another-tool", launcher.sim.client_id], azp=launcher.sim.client_id)
    assert response.status_code == 303


@pytest.mark.parametrize(
    ("overrides", "claim"),
    [
        ({"aud": []}, "aud"),
        ({"aud": {"a": 1}}, "aud"),
        ({"aud": [["x"]]}, "aud"),
        ({"iss": ["https://a"]}, "iss"),
        ({"iss": 5}, "iss"),
        ({"sub": "x" * 300}, "sub"),
        ({"name": "Nino\x00"}, "name"),
        ({"exp": float("nan")}, "exp"),
        ({"iat": 1e999}, "iat"),
        ({LTI + "deployment_id": ["1"]}, "deployment_id"),
        ({LTI + "context": {"id": "c", "type": 5}}, "context.type"),
        ({LTI + "context": "c"}, "context"),
        ({LTI + "resource_link": {"id": "r", "title": {}}}, "resource_link.title"),
        ({LTI + "roles": ["x" * 600]}, "roles"),
        ({LTI + "custom": ["a"]}, "custom"),
    ],
)
def test_claims_of_the_wrong_shape_are_refused_before_any_lookup(launcher, overrides, claim):
    """Unsigned tokens with a self-set state cookie: refused with a 400, never a 500."""
    auth, _ = launcher.login()
    claims = launcher.claims(auth)
    claims.update(overrides)
    header = _b64({"alg": "RS256", "kid": launcher.sim.kid})
    forged = f"{header}.{_b64_lenient(claims)}.c2ln"
    response = launcher.post(forged, auth["state"])
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    assert claim in response.get_data(as_text=True)
    assert _stored_nothing()


def _b64_lenient(data: dict) -> str:
    # json.dumps writes NaN and Infinity, as a hostile platform could.
    return base64.urlsafe_b64encode(json.dumps(data, allow_nan=True).encode()).rstrip(b"=").decode()


def test_wrong_issuer_is_refused(launcher):
    _refused(launcher.launch(iss="https://evil.example"), "platform that is not registered")


def test_unregistered_deployment_is_refused(launcher):
    _refused(launcher.launch(**{LTI + "deployment_id": "not-registered"}), "deployment not-registered is not")


def test_missing_nonce_is_refused(launcher):
    _refused(launcher.launch(remove=("nonce",)), "has no nonce")


def test_nonce_of_another_login_is_refused_and_does_not_burn_the_state(launcher):
    first, _ = launcher.login()
    second, _ = launcher.login()
    claims = launcher.claims(second)
    _refused(launcher.post(launcher.sim.sign(claims), first["state"]), "nonce does not match")
    # The genuine launch of the first login still works.
    genuine = launcher.sim.sign(launcher.claims(first))
    assert launcher.post(genuine, first["state"]).status_code == 303


def test_replayed_launch_is_refused(launcher):
    auth, _ = launcher.login()
    token = launcher.sim.sign(launcher.claims(auth))
    assert launcher.post(token, auth["state"]).status_code == 303
    users = count_rows(User)
    replay = launcher.post(token, auth["state"])
    assert replay.status_code == 400
    assert "already used" in replay.get_data(as_text=True)
    assert count_rows(User) == users


def test_state_mismatch_is_refused(launcher):
    auth, _ = launcher.login()
    token = launcher.sim.sign(launcher.claims(auth))
    _refused(launcher.post(token, "state-forged"), "state does not match")


def test_state_cookie_missing_offers_a_new_window(launcher, client):
    auth, _ = launcher.login()
    token = launcher.sim.sign(launcher.claims(auth))
    client.delete_cookie(f"lti1p3-{auth['state']}")
    response = launcher.post(token, auth["state"])
    assert response.status_code == 400
    assert error_code(response) == "state_cookie_missing"
    assert "lti1p3_new_window=1" in response.get_data(as_text=True)
    assert _stored_nothing()


def test_a_state_cookie_of_this_name_holding_another_state_is_refused(launcher, client):
    auth, _ = launcher.login()
    other, _ = launcher.login()
    token = launcher.sim.sign(launcher.claims(auth))
    client.set_cookie(f"lti1p3-{auth['state']}", other["state"])
    _refused(launcher.post(token, auth["state"]), "state does not match")
    assert _stored_nothing()


def test_another_logins_state_cookie_without_this_ones_is_a_mismatch_not_a_blocked_cookie(launcher, client):
    # The browser keeps our cookies (it holds another login's), so the missing one was never set here: no
    # new-window offer, no detour through the platform's storage.
    first, _ = launcher.login()
    auth, _ = launcher.login()
    token = launcher.sim.sign(launcher.claims(auth))
    client.delete_cookie(f"lti1p3-{auth['state']}")
    assert client.get_cookie(f"lti1p3-{first['state']}") is not None
    response = launcher.post(token, auth["state"])
    _refused(response, "state does not match")
    assert error_code(response) == "launch_rejected" and _stored_nothing()


def test_expired_login_state_is_refused(launcher, app):
    auth, _ = launcher.login()
    from datetime import datetime

    from sqlalchemy import update

    db.session.execute(update(LoginState).values(expires_at=datetime(2000, 1, 1)))
    db.session.commit()
    _refused(launcher.post(launcher.sim.sign(launcher.claims(auth)), auth["state"]), "login has expired")


@pytest.mark.parametrize(
    "claim",
    [LTI + "message_type", LTI + "version", LTI + "deployment_id", LTI + "target_link_uri",
     LTI + "resource_link", LTI + "roles", "sub", "exp", "iat"],
)
def test_missing_required_claim_is_refused(launcher, claim):
    response = launcher.launch(remove=(claim,))
    body = response.get_data(as_text=True)
    assert response.status_code == 400
    assert error_code(response) == "launch_rejected"
    expected = "deployment" if claim == LTI + "deployment_id" else claim
    assert expected in body
    assert _stored_nothing()


def test_wrong_version_is_refused(launcher):
    _refused(launcher.launch(**{LTI + "version": "1.1"}), "1.3.0 is required")


def test_unknown_message_type_is_refused(launcher):
    _refused(launcher.launch(**{LTI + "message_type": "LtiStartProctoring"}), "is not supported")


def test_target_link_outside_the_tool_is_refused(launcher):
    _refused(launcher.launch(**{LTI + "target_link_uri": "https://evil.example/"}), "not part of this tool")


def test_resource_link_without_id_is_refused(launcher):
    _refused(launcher.launch(**{LTI + "resource_link": {"title": "x"}}), "resource_link.id")


def test_roles_not_a_list_is_refused(launcher):
    _refused(launcher.launch(**{LTI + "roles": "Instructor"}), "invalid value")


@pytest.mark.parametrize("token", ["garbage", "a.b.c", "....", "eyJ.eyJ.sig", ""])
def test_garbage_tokens_are_refused(launcher, token):
    auth, _ = launcher.login()
    response = launcher.post(token, auth["state"])
    assert response.status_code == 400
    assert error_code(response) == "launch_rejected"
    assert _stored_nothing()


def test_a_token_past_its_size_limit_but_within_the_form_limit_is_refused_unread(launcher):
    auth, _ = launcher.login()
    _refused(launcher.post("x" * 40_000, auth["state"]), "too large")
    assert _stored_nothing()


def test_oversized_token_gets_413(launcher):
    auth, _ = launcher.login()
    response = launcher.post("x" * 200_000, auth["state"])
    assert response.status_code == 413
    assert _stored_nothing()


def test_oversized_login_form_gets_413(client, platform):
    response = client.post("/lti/login", data={"iss": platform.base_url, "login_hint": "x" * 100_000})
    assert response.status_code == 413


def test_refusal_is_shown_in_the_users_language(launcher):
    expected = translated("uk", "The id token is not a well-formed JWT.")
    assert expected != "The id token is not a well-formed JWT."
    auth, _ = launcher.login()
    response = launcher.client.post(
        "/lti/launch", data={"id_token": "garbage", "state": auth["state"]},
        headers={"Accept-Language": "uk-UA,uk;q=0.9"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert '<html lang="uk">' in page and expected in page


def test_refusal_as_json_when_asked(launcher):
    response = launcher.client.post(
        "/lti/launch", data={"id_token": "garbage", "state": "x"}, headers={"Accept": "application/json"}
    )
    assert response.status_code == 400
    assert response.get_json()["error"] in {"launch_rejected", "state_cookie_missing"}


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"iss": None}, "iss"),
        ({"login_hint": None}, "login_hint"),
        ({"target_link_uri": None}, "target_link_uri"),
        ({"target_link_uri": "https://evil.example/"}, "target_link_uri"),
        ({"lti_deployment_id": "unknown"}, "lti_deployment_id"),
    ],
)
def test_bad_logins_are_refused(launcher, params, reason):
    _, response = launcher.login(**params)
    assert response.status_code == 400
    assert error_code(response) == "login_rejected"
    assert reason in response.get_data(as_text=True)


def test_login_from_an_unknown_platform_is_refused(launcher):
    _, response = launcher.login(iss="https://unknown.example", client_id="x")
    assert response.status_code == 400
    assert error_code(response) == "unknown_platform"
    assert count_rows(LoginState) == 0


def test_tokens_signed_by_pyjwt_defaults_carry_the_kid_we_check(launcher):
    token = launcher.sim.sign({"a": 1})
    assert jwt.get_unverified_header(token)["kid"] == launcher.sim.kid


@pytest.mark.parametrize("parameter", ["lti_message_hint", "login_hint", "target_link_uri"])
def test_control_characters_in_a_login_are_refused(launcher, parameter):
    value = {"target_link_uri": "http://localhost/courses/\x00"}.get(parameter, "hint\x00with-nul")
    _, response = launcher.login(**{parameter: value})
    assert response.status_code == 400 and error_code(response) == "login_rejected"
    assert count_rows(LoginState) == 0


@pytest.mark.parametrize("state", ["state-\x00", "state-\x1b[31m", "\x00"])
def test_control_characters_in_a_launch_state_are_refused(launcher, state):
    auth, _ = launcher.login()
    token = launcher.sim.sign(launcher.claims(auth))
    response = launcher.post(token, state)
    assert 400 <= response.status_code < 500, response.get_data(as_text=True)[:300]
    assert _stored_nothing()
    # The genuine launch of that login is untouched.
    assert launcher.post(token, auth["state"]).status_code == 303


@pytest.mark.parametrize("state", ["a\x00b", "state-" + "x" * 200, "state with spaces"])
def test_a_malformed_launch_state_is_refused_before_any_lookup(client, platform, state):
    response = client.post("/lti/launch", data={"id_token": "x", "state": state})
    assert response.status_code == 400 and error_code(response) == "launch_rejected"
    assert "The launch state does not match." in response.get_data(as_text=True)


def test_a_launch_without_state_or_token_says_which_is_missing(launcher):
    auth, _ = launcher.login()
    token = launcher.sim.sign(launcher.claims(auth))
    _refused(launcher.post(token, ""), "The launch has no state.")
    _refused(launcher.post("", auth["state"]), "The launch has no id token.")
    assert launcher.post(token, auth["state"]).status_code == 303


@pytest.mark.parametrize("header, body", [({"alg": "RS256", "typ": "JWT"}, [1, 2]), ([1], {"iss": "x"})])
def test_a_token_whose_header_or_body_is_not_an_object_is_malformed(launcher, header, body):
    auth, _ = launcher.login()
    _refused(launcher.post(f"{_b64(header)}.{_b64(body)}.c2ln", auth["state"]), "not a well-formed JWT")

"""The simulated platform refuses authentication requests the way a real platform does."""

from __future__ import annotations

import pytest

from ibm_lms.demo.platform import SimulatedPlatform

LAUNCH_URL = "https://tool.example/lti/launch"


@pytest.fixture(scope="module")
def sim() -> SimulatedPlatform:
    return SimulatedPlatform(issuer="https://moodle.example", client_id="client-1", deployment_id="1")


def _request(**changes) -> dict:
    args = {"scope": "openid", "response_type": "id_token", "response_mode": "form_post", "prompt": "none",
            "client_id": "client-1", "redirect_uri": LAUNCH_URL, "nonce": "n", "state": "s", "login_hint": "u"}
    args.update(changes)
    return {name: value for name, value in args.items() if value is not None}


def test_a_complete_request_has_no_problem(sim):
    assert sim.authentication_request_problems(_request(), redirect_uri=LAUNCH_URL) == []


@pytest.mark.parametrize(
    ("changes", "problems"),
    [
        ({"scope": "openid profile"}, ["scope"]),
        ({"response_mode": None}, ["response_mode"]),
        ({"prompt": "login"}, ["prompt"]),
        ({"client_id": "client-2", "redirect_uri": "https://evil.example/lti/launch"}, ["client_id", "redirect_uri"]),
        ({"nonce": "", "state": None}, ["nonce", "state"]),
        ({"login_hint": None}, ["login_hint"]),
    ],
)
def test_each_wrong_or_missing_parameter_is_named(sim, changes, problems):
    assert sim.authentication_request_problems(_request(**changes), redirect_uri=LAUNCH_URL) == problems

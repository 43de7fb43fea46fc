"""The demo room's door: registers the demo platform with the tool, as an administrator would register a Moodle."""

from __future__ import annotations

from flask import current_app

from ibm_lms.lti import service as lti
from ibm_lms.web import tool_url

from .views import CLIENT_ID, DEPLOYMENT_ID, issuer, token_url

DEMO_TENANT = "demo"


def register_demo_platform():
    base = current_app.config["BASE_URL"]
    return lti.add_platform(
        tenant_slug=DEMO_TENANT,
        name="Demo platform",
        issuer=issuer(base),
        client_id=CLIENT_ID,
        auth_login_url=tool_url("demo.authorize"),
        auth_token_url=token_url(base),
        keyset_url=tool_url("demo.jwks"),
        deployment_ids=[DEPLOYMENT_ID],
        actor="demo set-up",
    )

"""The demo room's door: registers the demo platform with the tool, as an administrator would register a Moodle."""

from __future__ import annotations

from flask import current_app

from ibm_lms.lti import service as lti
from ibm_lms.tenancy import service as tenancy
from ibm_lms.unit_of_work import unit_of_work
from ibm_lms.web import tool_url

from .views import CLIENT_ID, DEPLOYMENT_ID, issuer, token_url

DEMO_TENANT = "demo"
# What the demo's certificates and verification page name as their issuer, as a real academy's name would read.
DEMO_ACADEMY_NAME = "Demo Border Academy"


def register_demo_platform():
    base = current_app.config["BASE_URL"]
    with unit_of_work():
        tenancy.ensure_tenant(DEMO_TENANT, DEMO_ACADEMY_NAME)
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

"""The tool's configuration document: every value a Moodle administrator types in for a manual registration."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app

from ibm_lms.web import tool_url

from .data import DEEP_LINKING_REQUEST, RESOURCE_LINK_REQUEST

SCOPES = (
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
    "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
    "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",
)


def tool_configuration() -> dict:
    catalogue = tool_url("content.catalogue")
    launch = tool_url("lti.launch")
    return {
        "title": "IBM Training Suite",
        "description": "Integrated Border Management training for border guards and customs officers.",
        "lti_version": "1.3.0",
        "tool_url": catalogue,
        "target_link_uri": catalogue,
        "initiate_login_url": tool_url("lti.oidc_login"),
        "redirection_uris": [launch],
        "public_keyset_url": tool_url("lti.jwks"),
        "public_key_type": "Keyset URL",
        "dynamic_registration_url": tool_url("lti.dynamic_registration"),
        "deep_linking_url": launch,
        "supports_deep_linking": True,
        "content_selection_url": launch,
        "icon_url": tool_url("static", filename="icon.svg"),
        "domain": urlsplit(current_app.config["BASE_URL"]).netloc,
        "custom_parameters": "",
        "claims": ["iss", "sub", "name", "given_name", "family_name", "email", "locale"],
        "scopes": list(SCOPES),
        "privacy": {"share_name": "optional", "share_email": "optional"},
        "messages": [
            {"type": RESOURCE_LINK_REQUEST, "target_link_uri": catalogue},
            {"type": DEEP_LINKING_REQUEST, "target_link_uri": launch},
        ],
    }

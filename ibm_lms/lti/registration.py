"""LTI Dynamic Registration as Moodle 4.1+ runs it: read the platform's configuration, register, store, close."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from flask import current_app

from . import service
from .errors import RegistrationError

TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"
PLATFORM_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-platform-configuration"
MAX_RESPONSE_BYTES = 256 * 1024


@dataclass(frozen=True)
class RegistrationResult:
    issuer: str
    client_id: str
    deployment_id: str | None
    tenant_slug: str
    platform_name: str | None


def _allowed(url: str) -> str:
    parts = urlsplit(url or "")
    schemes = {"https"} if urlsplit(current_app.config["BASE_URL"]).scheme == "https" else {"https", "http"}
    if parts.scheme not in schemes or not parts.hostname:
        raise RegistrationError(reason="the openid_configuration URL must be an absolute https URL")
    allowed = current_app.config.get("REGISTRATION_ALLOWED_HOSTS") or ()
    if allowed and parts.hostname not in allowed:
        raise RegistrationError(reason=f"the host {parts.hostname} is not allowed to register")
    return url


def _json(response: requests.Response, what: str) -> dict:
    body = response.content[: MAX_RESPONSE_BYTES + 1]
    if len(body) > MAX_RESPONSE_BYTES:
        raise RegistrationError(reason=f"the {what} is too large")
    try:
        data = response.json()
    except ValueError as error:
        raise RegistrationError(reason=f"the {what} is not JSON") from error
    if not isinstance(data, dict):
        raise RegistrationError(reason=f"the {what} is not a JSON object")
    return data


def _tenant_slug(requested: str | None, issuer: str) -> str:
    if requested:
        return requested
    host = urlsplit(issuer).hostname or "platform"
    return re.sub(r"[^a-z0-9-]+", "-", host.lower()).strip("-")[:64] or "platform"


def client_metadata(scopes: list[str]) -> dict:
    tool = service.tool_configuration()
    base = current_app.config["BASE_URL"]
    return {
        "application_type": "web",
        "response_types": ["id_token"],
        "grant_types": ["implicit", "client_credentials"],
        "initiate_login_uri": tool["initiate_login_url"],
        "redirect_uris": tool["redirection_uris"],
        "client_name": tool["title"],
        "jwks_uri": tool["public_keyset_url"],
        "logo_uri": tool["icon_url"],
        "token_endpoint_auth_method": "private_key_jwt",
        "scope": " ".join(scopes),
        TOOL_CONFIGURATION: {
            "domain": tool["domain"],
            "target_link_uri": tool["target_link_uri"],
            "description": tool["description"],
            "claims": tool["claims"],
            "messages": [
                {"type": "LtiDeepLinkingRequest", "target_link_uri": base + "/lti/launch",
                 "label": tool["title"]},
            ],
        },
    }


def register(args) -> RegistrationResult:
    config_url = _allowed(args.get("openid_configuration", ""))
    token = args.get("registration_token")
    timeout = current_app.config["LTI_JWKS_TIMEOUT_SECONDS"]
    try:
        platform = _json(requests.get(config_url, timeout=timeout), "platform configuration")
    except requests.RequestException as error:
        raise RegistrationError(reason=f"cannot read the platform configuration ({type(error).__name__})") from error
    needed = ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri", "registration_endpoint")
    missing = [name for name in needed if not isinstance(platform.get(name), str)]
    if missing:
        raise RegistrationError(reason="the platform configuration lacks " + ", ".join(missing))
    issuer = platform["issuer"]
    # The configuration must come from the issuer's own site (LTI Dynamic Registration 3.5.1).
    if urlsplit(config_url).netloc != urlsplit(issuer).netloc:
        raise RegistrationError(reason="the platform configuration does not come from its issuer")
    supported = set(platform.get("scopes_supported") or [])
    wanted = service.tool_configuration()["scopes"]
    scopes = [s for s in wanted if not supported or s in supported]
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        response = requests.post(
            _allowed(platform["registration_endpoint"]),
            json=client_metadata(scopes),
            headers=headers,
            timeout=timeout,
        )
    except requests.RequestException as error:
        raise RegistrationError(reason=f"the platform did not answer ({type(error).__name__})") from error
    if response.status_code >= 400:
        raise RegistrationError(reason=f"the platform refused the registration (HTTP {response.status_code})")
    answer = _json(response, "registration answer")
    client_id = answer.get("client_id")
    if not isinstance(client_id, str) or not client_id:
        raise RegistrationError(reason="the registration answer has no client_id")
    deployment_id = (answer.get(TOOL_CONFIGURATION) or {}).get("deployment_id")
    platform_info = platform.get(PLATFORM_CONFIGURATION) or {}
    tenant_slug = _tenant_slug(args.get("tenant"), issuer)
    service.add_platform(
        tenant_slug=tenant_slug,
        issuer=issuer,
        client_id=client_id,
        auth_login_url=platform["authorization_endpoint"],
        auth_token_url=platform["token_endpoint"],
        keyset_url=platform["jwks_uri"],
        deployment_ids=[deployment_id] if isinstance(deployment_id, str) and deployment_id else [],
        name=platform_info.get("product_family_code"),
        auth_audience=platform.get("authorization_server"),
    )
    return RegistrationResult(
        issuer=issuer,
        client_id=client_id,
        deployment_id=deployment_id if isinstance(deployment_id, str) else None,
        tenant_slug=tenant_slug,
        platform_name=platform_info.get("product_family_code"),
    )

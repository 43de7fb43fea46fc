"""LTI Dynamic Registration as Moodle 4.1+ runs it, allowed only through an administrator's invitation.

The administrator runs `ibm-lms platform invite --tenant T` and pastes the URL it prints
into Moodle's "Tool URL". Moodle opens it with `openid_configuration` and
`registration_token`; we read the platform's configuration, register our client, store
the answer in the invitation's tenant and close with `org.imsglobal.lti.close`.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode, urlsplit

from flask import current_app
from sqlalchemy import select, update

from ibm_lms.clock import utcnow
from ibm_lms.errors import N_, Reason
from ibm_lms.extensions import db
from ibm_lms.tenancy import service as tenancy

from . import service
from .errors import RegistrationError, RegistrationNotInvited
from .models import RegistrationInvite
from .outbound import OutboundError, request_json
from .urls import origin_of

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


@dataclass(frozen=True)
class Invitation:
    url: str
    tenant_slug: str
    expires_at: datetime



def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invite(tenant_slug: str, hours: int) -> Invitation:
    """A single-use registration URL for one tenant, valid for `hours`."""
    tenant = tenancy.ensure_tenant(tenant_slug)
    token = secrets.token_urlsafe(32)
    expires = utcnow() + timedelta(hours=hours)
    db.session.add(RegistrationInvite(token_hash=_hash(token), tenant_id=tenant.id, created_at=utcnow(),
                                      expires_at=expires))
    db.session.commit()
    url = current_app.config["BASE_URL"] + "/lti/register?" + urlencode({"invite": token})
    return Invitation(url=url, tenant_slug=tenant.slug, expires_at=expires)


def _pending_invite(token: str) -> RegistrationInvite:
    invitation = db.session.execute(
        select(RegistrationInvite).where(RegistrationInvite.token_hash == _hash(token or ""))
    ).scalar_one_or_none()
    if invitation is None or invitation.used_at is not None or invitation.expires_at <= utcnow():
        raise RegistrationNotInvited()
    return invitation


def _checked_url(name: str, value) -> str:
    service.check_platform_url(name, value, error=RegistrationError)
    host = urlsplit(value).hostname or ""
    allowed = current_app.config.get("REGISTRATION_ALLOWED_HOSTS") or ()
    if allowed and host not in allowed:
        raise RegistrationError(reason=Reason(N_("the host %(host)s is not allowed to register"), host=host))
    return value


def _text(value, limit: int = 255) -> str | None:
    return value if isinstance(value, str) and 0 < len(value) <= limit and "\x00" not in value else None


def _exchange(method: str, url: str, what: Reason, **kwargs) -> dict:
    # Without a list of the academy's own Moodles, whoever holds an invitation chooses these URLs:
    # only public addresses then, so an invitation cannot be used to reach the tool's own network.
    public_only = not current_app.config.get("REGISTRATION_ALLOWED_HOSTS")
    try:
        answer = request_json(method, url, timeout=current_app.config["LTI_JWKS_TIMEOUT_SECONDS"],
                              max_bytes=MAX_RESPONSE_BYTES, public_only=public_only, **kwargs)
    except OutboundError as error:
        raise RegistrationError(reason=Reason(N_("%(step)s: %(problem)s"), step=what, problem=error.reason)) from error
    if answer.status >= 400:
        raise RegistrationError(reason=Reason(N_("%(step)s: the platform refused (HTTP %(status)s)"),
                                              step=what, status=answer.status))
    if not isinstance(answer.body, dict):
        raise RegistrationError(reason=Reason(N_("%(step)s: the answer is not a JSON object"), step=what))
    return answer.body


def client_metadata(tool: dict, scopes: list[str]) -> dict:
    deep_linking = next(m for m in tool["messages"] if m["type"] == "LtiDeepLinkingRequest")
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
            "messages": [{**deep_linking, "label": tool["title"]}],
        },
    }


def register(args) -> RegistrationResult:
    invitation = _pending_invite(args.get("invite", ""))
    config_url = _checked_url("openid_configuration", args.get("openid_configuration"))
    platform = _exchange("GET", config_url, Reason(N_("platform configuration")))
    issuer = _text(platform.get("issuer"))
    endpoints = {name: platform.get(name) for name in
                 ("authorization_endpoint", "token_endpoint", "jwks_uri", "registration_endpoint")}
    if issuer is None:
        raise RegistrationError(reason=Reason(N_("the platform configuration has no usable issuer")))
    for name, url in endpoints.items():
        _checked_url(name, url)
    _checked_url("issuer", issuer)
    # The configuration must come from the issuer's own site (LTI Dynamic Registration 3.5.1).
    if origin_of(config_url) != origin_of(issuer):
        raise RegistrationError(reason=Reason(N_("the platform configuration does not come from its issuer")))
    # The registration token goes there: to the platform's own site only.
    if origin_of(endpoints["registration_endpoint"]) != origin_of(issuer):
        raise RegistrationError(reason=Reason(N_("the registration endpoint is not on the platform's own site")))
    supported = platform.get("scopes_supported")
    supported = {s for s in supported if isinstance(s, str)} if isinstance(supported, list) else set()
    tool = service.tool_configuration()
    scopes = [s for s in tool["scopes"] if not supported or s in supported]
    headers = {"Content-Type": "application/json"}
    token = args.get("registration_token")
    if isinstance(token, str) and token:
        headers["Authorization"] = f"Bearer {token}"
    answer = _exchange("POST", endpoints["registration_endpoint"], Reason(N_("registration")),
                       json=client_metadata(tool, scopes), headers=headers)
    client_id = _text(answer.get("client_id"))
    if client_id is None:
        raise RegistrationError(reason=Reason(N_("the registration answer has no client_id")))
    tool_answer = answer.get(TOOL_CONFIGURATION)
    deployment_id = _text(tool_answer.get("deployment_id")) if isinstance(tool_answer, dict) else None
    platform_info = platform.get(PLATFORM_CONFIGURATION)
    platform_name = _text(platform_info.get("product_family_code")) if isinstance(platform_info, dict) else None
    tenant = tenancy.get_tenant_by_id(invitation.tenant_id)
    # The invitation is spent in the same transaction that stores the registration.
    spent = db.session.execute(
        update(RegistrationInvite)
        .where(RegistrationInvite.id == invitation.id, RegistrationInvite.used_at.is_(None))
        .values(used_at=utcnow(), used_by_issuer=issuer)
    ).rowcount
    if spent != 1:
        db.session.rollback()
        raise RegistrationNotInvited()
    service.add_platform(
        tenant_slug=tenant.slug,
        issuer=issuer,
        client_id=client_id,
        auth_login_url=endpoints["authorization_endpoint"],
        auth_token_url=endpoints["token_endpoint"],
        keyset_url=endpoints["jwks_uri"],
        deployment_ids=[deployment_id] if deployment_id else [],
        name=platform_name,
        auth_audience=_text(platform.get("authorization_server"), 2048),
    )
    return RegistrationResult(issuer=issuer, client_id=client_id, deployment_id=deployment_id,
                              tenant_slug=tenant.slug, platform_name=platform_name)

"""LTI Dynamic Registration as Moodle 4.1+ runs it, allowed only through an administrator's invitation.

The administrator runs `ibm-lms platform invite --tenant T` and pastes the URL it prints
into Moodle's "Tool URL". Moodle opens it with `openid_configuration` and
`registration_token`; we read the platform's configuration, register our client, store
the answer in the invitation's tenant and close with `org.imsglobal.lti.close`.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from ibm_lms.audit import service as audit
from ibm_lms.clock import utcnow
from ibm_lms.errors import N_, Phrase
from ibm_lms.extensions import db
from ibm_lms.tenancy import service as tenancy
from ibm_lms.text import is_bounded_text
from ibm_lms.unit_of_work import unit_of_work
from ibm_lms.web import tool_url

from . import platforms
from .configuration import tool_configuration
from .data import DEEP_LINKING_REQUEST, Invitation, InvitationRecord, PlatformConfiguration, RegistrationResult
from .errors import RegistrationError, RegistrationNotInvited, UnknownInvitation
from .models import RegistrationInvite
from .outbound import OutboundError, request_json
from .urls import origin_of

TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"
PLATFORM_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-platform-configuration"
MAX_RESPONSE_BYTES = 256 * 1024


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invite(tenant_slug: str, hours: int, *, actor: str) -> Invitation:
    """A single-use registration URL for one tenant, valid for `hours` (audited; the URL is shown once)."""
    token = secrets.token_urlsafe(32)
    expires = utcnow() + timedelta(hours=hours)
    with unit_of_work():
        tenant = tenancy.ensure_tenant(tenant_slug)
        row = RegistrationInvite(token_hash=_hash(token), tenant_id=tenant.id, created_at=utcnow(), expires_at=expires)
        db.session.add(row)
        db.session.flush()
        audit.record(actor=actor, action="invitation.created", subject=f"registration invitation {row.id}",
                     tenant_id=tenant.id, details={"expires_at": expires.isoformat(timespec="seconds")})
    return Invitation(url=tool_url("lti.dynamic_registration", invite=token), tenant_slug=tenant.slug,
                      expires_at=expires, id=row.id)


def _state(invitation: RegistrationInvite, now) -> str:
    if invitation.used_at is not None:
        return "used"
    if invitation.revoked_at is not None:
        return "revoked"
    return "expired" if invitation.expires_at <= now else "open"


def invitations(tenant_id: int, limit: int = 100) -> list[InvitationRecord]:
    """The tenant's invitations, newest first (the URLs themselves were never kept)."""
    now = utcnow()
    rows = db.session.execute(select(RegistrationInvite).where(RegistrationInvite.tenant_id == tenant_id)
                              .order_by(RegistrationInvite.created_at.desc(), RegistrationInvite.id.desc())
                              .limit(limit)).scalars()
    return [InvitationRecord(id=row.id, created_at=row.created_at, expires_at=row.expires_at, state=_state(row, now),
                             used_at=row.used_at, used_by_issuer=row.used_by_issuer, revoked_at=row.revoked_at)
            for row in rows]


def revoke_invitation(tenant_id: int, invitation_id: int, *, actor: str) -> bool:
    """Closes an open invitation of this tenant; False when it was already used, expired or revoked. Another
    tenant's invitation is unknown here."""
    with unit_of_work():
        row = db.session.get(RegistrationInvite, invitation_id, with_for_update=True)
        if row is None or row.tenant_id != tenant_id:
            raise UnknownInvitation(invitation=invitation_id)
        if _state(row, utcnow()) != "open":
            return False
        row.revoked_at = utcnow()
        audit.record(actor=actor, action="invitation.revoked", subject=f"registration invitation {row.id}",
                     tenant_id=tenant_id, details={})
    return True


def _pending_invite(token: str) -> RegistrationInvite:
    invitation = db.session.execute(
        select(RegistrationInvite).where(RegistrationInvite.token_hash == _hash(token or ""))
    ).scalar_one_or_none()
    if invitation is None or _state(invitation, utcnow()) != "open":
        raise RegistrationNotInvited()
    return invitation


def _checked_url(name: str, value) -> str:
    platforms.check_platform_url(name, value, error=RegistrationError)
    host = urlsplit(value).hostname or ""
    allowed = current_app.config.get("REGISTRATION_ALLOWED_HOSTS") or ()
    if allowed and host not in allowed:
        raise RegistrationError(reason=Phrase(N_("the host %(host)s is not allowed to register"), host=host))
    return value


def _text(value, limit: int = platforms.MAX_NAME_LENGTH) -> str | None:
    return value if is_bounded_text(value, limit) else None


def _exchange(method: str, url: str, what: Phrase, **kwargs) -> dict:
    # Without a list of the academy's own Moodles, whoever holds an invitation chooses these URLs:
    # only public addresses then, so an invitation cannot be used to reach the tool's own network.
    public_only = not current_app.config.get("REGISTRATION_ALLOWED_HOSTS")
    try:
        answer = request_json(method, url, timeout=current_app.config["LTI_JWKS_TIMEOUT_SECONDS"],
                              max_bytes=MAX_RESPONSE_BYTES, public_only=public_only, **kwargs)
    except OutboundError as error:
        raise RegistrationError(reason=Phrase(N_("%(step)s: %(problem)s"), step=what, problem=error.reason)) from error
    if answer.status >= 400:
        raise RegistrationError(reason=Phrase(N_("%(step)s: the platform refused (HTTP %(status)s)"),
                                              step=what, status=answer.status))
    if not isinstance(answer.body, dict):
        raise RegistrationError(reason=Phrase(N_("%(step)s: the answer is not a JSON object"), step=what))
    return answer.body


def client_metadata(tool: dict, scopes: list[str]) -> dict:
    deep_linking = next(m for m in tool["messages"] if m["type"] == DEEP_LINKING_REQUEST)
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


def platform_configuration(document: dict, config_url: str) -> PlatformConfiguration:
    """The platform's OpenID configuration, checked once: every URL the tool will call, and its issuer's site."""
    issuer = _text(document.get("issuer"))
    if issuer is None:
        raise RegistrationError(reason=Phrase(N_("the platform configuration has no usable issuer")))
    endpoints = {name: _checked_url(name, document.get(name)) for name in
                 ("authorization_endpoint", "token_endpoint", "jwks_uri", "registration_endpoint")}
    _checked_url(platforms.ISSUER, issuer)
    # The configuration must come from the issuer's own site (LTI Dynamic Registration 3.5.1).
    if origin_of(config_url) != origin_of(issuer):
        raise RegistrationError(reason=Phrase(N_("the platform configuration does not come from its issuer")))
    # The registration token goes there: to the platform's own site only.
    if origin_of(endpoints["registration_endpoint"]) != origin_of(issuer):
        raise RegistrationError(reason=Phrase(N_("the registration endpoint is not on the platform's own site")))
    supported = document.get("scopes_supported")
    platform_info = document.get(PLATFORM_CONFIGURATION)
    return PlatformConfiguration(
        issuer=issuer,
        **endpoints,
        authorization_server=_text(document.get("authorization_server"), platforms.MAX_URL_LENGTH),
        scopes_supported=frozenset(s for s in supported if isinstance(s, str)) if isinstance(supported, list)
        else frozenset(),
        product_family_code=_text(platform_info.get("product_family_code")) if isinstance(platform_info, dict)
        else None,
    )


def register(args) -> RegistrationResult:
    invitation = _pending_invite(args.get("invite", ""))
    config_url = _checked_url("openid_configuration", args.get("openid_configuration"))
    platform = platform_configuration(_exchange("GET", config_url, Phrase(N_("platform configuration"))), config_url)
    tool = tool_configuration()
    scopes = [s for s in tool["scopes"] if not platform.scopes_supported or s in platform.scopes_supported]
    headers = {"Content-Type": "application/json"}
    token = args.get("registration_token")
    if isinstance(token, str) and token:
        headers["Authorization"] = f"Bearer {token}"
    answer = _exchange("POST", platform.registration_endpoint, Phrase(N_("registration")),
                       json=client_metadata(tool, scopes), headers=headers)
    client_id = _text(answer.get("client_id"))
    if client_id is None:
        raise RegistrationError(reason=Phrase(N_("the registration answer has no client_id")))
    tool_answer = answer.get(TOOL_CONFIGURATION)
    deployment_id = _text(tool_answer.get("deployment_id")) if isinstance(tool_answer, dict) else None
    try:
        with unit_of_work():
            tenant = tenancy.get_tenant_by_id(invitation.tenant_id)
            # The invitation is spent in the same transaction that stores the registration.
            spent = db.session.execute(
                update(RegistrationInvite)
                .where(RegistrationInvite.id == invitation.id, RegistrationInvite.used_at.is_(None))
                .values(used_at=utcnow(), used_by_issuer=platform.issuer)
            ).rowcount
            if spent != 1:
                raise RegistrationNotInvited()
            platforms.save(
                tenant_slug=tenant.slug,
                issuer=platform.issuer,
                client_id=client_id,
                auth_login_url=platform.authorization_endpoint,
                auth_token_url=platform.token_endpoint,
                keyset_url=platform.jwks_uri,
                deployment_ids=[deployment_id] if deployment_id else [],
                name=platform.product_family_code,
                auth_audience=platform.authorization_server,
                actor=f"dynamic registration (invitation {invitation.id})",
            )
    except IntegrityError as error:
        raise platforms.another_tenants_issuer() from error
    platforms.directory().forget()
    return RegistrationResult(issuer=platform.issuer, client_id=client_id, deployment_id=deployment_id,
                              tenant_slug=tenant.slug, platform_name=platform.product_family_code)


def advice(error) -> str:
    """What the administrator can do about a refused registration, as a msgid (translated when shown)."""
    if isinstance(error, RegistrationNotInvited):
        return N_("Ask the tool's administrator for a new invitation (ibm-lms platform invite) and paste its URL "
                  "into Moodle's Tool URL again.")
    if "https" in str(error) or "URL" in str(error):
        return N_("Moodle must be reached over https (http only on the tool's own machine), at the address "
                  "its configuration names. Correct Moodle's wwwroot or its certificate, then register again "
                  "with the same invitation.")
    return N_("Nothing was registered and the invitation is still good: correct the cause above and press "
              "Add LTI Advantage again in Moodle.")

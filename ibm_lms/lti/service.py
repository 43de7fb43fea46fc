"""The LTI room's door: platform registrations, login, launch, and the tool's configuration document."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import current_app, url_for
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.exceptions import HTTPException

from ibm_lms.clock import utcnow
from ibm_lms.database import RecentWrites, commit_if_begun
from ibm_lms.errors import N_, Reason
from ibm_lms.events import LaunchCompleted, bus
from ibm_lms.extensions import db
from ibm_lms.i18n import service as i18n
from ibm_lms.tenancy import service as tenancy
from ibm_lms.tenancy.data import LaunchIdentity, RecordedIdentity
from ibm_lms.text import is_printable

from . import deep_linking, directory, login
from . import launch as launch_validation
from .claims import DEEP_LINKING_REQUEST, LaunchClaims
from .directory import PlatformEntry
from .errors import InvalidPlatformSettings, LtiError
from .models import Deployment, LoginState, Platform, ResourceLink
from .urls import is_platform_url, origin_of, platform_schemes

# Relaunches of an unchanged link skip its rewrite for a while (see RecentWrites).
_RECENT_LINKS = RecentWrites("resource links")



@dataclass(frozen=True)
class PlatformRecord:
    id: int
    tenant_slug: str
    name: str | None
    issuer: str
    client_id: str
    auth_login_url: str
    auth_token_url: str
    keyset_url: str
    deployment_ids: tuple[str, ...]


@dataclass(frozen=True)
class CompletedLaunch:
    identity: RecordedIdentity
    claims: LaunchClaims
    locale: str
    resource_link_id: int | None
    landing_path: str
    via_platform_storage: bool = False
    deep_link_request_id: str | None = None


def check_platform_url(name: str, value, *, error: type[LtiError] = InvalidPlatformSettings) -> str:
    """A platform's URL must be absolute https (or http while the tool itself runs on plain http:
    the loopback demo and tests); anything else is refused with `error`."""
    if isinstance(value, str) and value:
        _check_text(name, value, MAX_URL_LENGTH, error=error)
    base_url = current_app.config["BASE_URL"]
    if not is_platform_url(value, base_url):
        raise error(reason=Reason(N_("%(name)s must be an absolute %(schemes)s URL"),
                                  name=name, schemes=" / ".join(platform_schemes(base_url))))
    return value


# Platform URLs are stored and used as keys up to this length (the key-set cache's column).
MAX_URL_LENGTH = 2048


def _check_text(label: str, value, limit: int, *, error: type[LtiError] = InvalidPlatformSettings) -> None:
    """Registration values are printable text of a bounded length, in any script."""
    if not is_printable(value, limit):
        raise error(reason=Reason(N_("%(name)s must be 1 to %(limit)s printable characters"), name=label, limit=limit))


def add_platform(
    *,
    tenant_slug: str,
    issuer: str,
    client_id: str,
    auth_login_url: str,
    auth_token_url: str,
    keyset_url: str,
    deployment_ids: list[str],
    name: str | None = None,
    auth_audience: str | None = None,
) -> PlatformRecord:
    """Registers a platform client, or adds deployments to an existing one (same issuer and client id)."""
    _check_text("issuer", issuer, 255)
    issuer = check_platform_url("issuer", issuer)
    for label, url in (("auth login URL", auth_login_url), ("auth token URL", auth_token_url),
                       ("keyset URL", keyset_url)):
        check_platform_url(label, url)
    _check_text("client id", client_id, 255)
    for deployment_id in deployment_ids:
        _check_text("deployment id", deployment_id, 255)
    for label, value in (("name", name), ("auth audience", auth_audience)):
        if value is not None:
            _check_text(label, value, 255 if label == "name" else MAX_URL_LENGTH)
    tenant = tenancy.ensure_tenant(tenant_slug)
    # Users and contexts are keyed by issuer, so one issuer can serve one tenant only.
    other_owner = db.session.execute(
        select(Platform.id).where(Platform.issuer == issuer, Platform.tenant_id != tenant.id).limit(1)
    ).first()
    if other_owner is not None:
        db.session.rollback()
        raise InvalidPlatformSettings(reason=Reason(N_("this issuer already belongs to another tenant")))
    platform = db.session.execute(
        select(Platform).where(Platform.issuer == issuer, Platform.client_id == client_id)
    ).scalar_one_or_none()
    if platform is None:
        platform = Platform(tenant_id=tenant.id, issuer=issuer, client_id=client_id, created_at=utcnow())
        db.session.add(platform)
    elif platform.tenant_id != tenant.id:
        raise InvalidPlatformSettings(reason=Reason(N_("this issuer and client id already belong to another tenant")))
    platform.name = name or platform.name
    platform.auth_login_url = auth_login_url
    platform.auth_token_url = auth_token_url
    platform.keyset_url = keyset_url
    platform.auth_audience = auth_audience
    known = {d.deployment_id for d in platform.deployments}
    for deployment_id in deployment_ids:
        if deployment_id not in known:
            platform.deployments.append(Deployment(deployment_id=deployment_id))
            known.add(deployment_id)
    db.session.commit()
    directory.clear()
    return _platform_record(platform, tenant.slug)


def _platform_record(platform: Platform, tenant_slug: str) -> PlatformRecord:
    return PlatformRecord(
        id=platform.id,
        tenant_slug=tenant_slug,
        name=platform.name,
        issuer=platform.issuer,
        client_id=platform.client_id,
        auth_login_url=platform.auth_login_url,
        auth_token_url=platform.auth_token_url,
        keyset_url=platform.keyset_url,
        deployment_ids=tuple(d.deployment_id for d in platform.deployments),
    )


def list_platforms() -> list[PlatformRecord]:
    tenants = {t.id: t.slug for t in tenancy.list_tenants()}
    rows = db.session.execute(
        select(Platform).options(selectinload(Platform.deployments)).order_by(Platform.issuer, Platform.client_id)
    ).scalars()
    return [_platform_record(p, tenants.get(p.tenant_id, "?")) for p in rows]


def complete_launch(form, cookies, *, storage_verified: bool = False) -> CompletedLaunch:
    """Validates a launch and records who arrived, from which context and link, in one transaction."""
    validated = launch_validation.validate(form, cookies, storage_verified=storage_verified)
    claims = validated.claims
    platform = validated.tool_conf.platform
    context = claims.context or {}
    launch_locale = i18n.launch_locale(claims.locale)
    recorded = tenancy.record_launch_identity(
        LaunchIdentity(
            tenant_id=platform.tenant_id,
            issuer=claims.issuer,
            subject=claims.subject,
            lti_roles=claims.roles,
            given_name=claims.given_name,
            family_name=claims.family_name,
            name=claims.name,
            email=claims.email,
            lti_context_id=context.get("id"),
            context_label=context.get("label"),
            context_title=context.get("title"),
            context_types=tuple(context.get("type") or ()),
        ),
        needs_preferred_locale=launch_locale is None,
    )
    resource_link_id = None
    if claims.resource_link is not None:
        resource_link_id = _record_resource_link(platform, recorded.context_id, claims)
    deep_link_request_id = None
    if claims.message_type == DEEP_LINKING_REQUEST:
        deep_link_request_id = deep_linking.record(claims, tenant_id=platform.tenant_id, user_id=recorded.user_id)
    locale = i18n.locale_for_launch(launch_locale, recorded.preferred_locale)
    bus.publish(
        LaunchCompleted(
            tenant_id=platform.tenant_id,
            user_id=recorded.user_id,
            issuer=claims.issuer,
            subject=claims.subject,
            role=recorded.role.value,
            locale=locale,
            message_type=claims.message_type,
            context_id=recorded.context_id,
            resource_link_id=resource_link_id,
            target_link_uri=claims.target_link_uri,
        )
    )
    commit_if_begun()
    return CompletedLaunch(
        identity=recorded,
        claims=claims,
        locale=locale,
        resource_link_id=resource_link_id,
        deep_link_request_id=deep_link_request_id,
        landing_path=_landing_path(claims),
        via_platform_storage=validated.via_platform_storage,
    )


def _record_resource_link(platform: PlatformEntry, context_id: int | None, claims: LaunchClaims) -> int:
    link = claims.resource_link
    (resource_link_id,) = _RECENT_LINKS.upsert(
        ResourceLink.__table__,
        {
            "tenant_id": platform.tenant_id,
            "platform_id": platform.id,
            "context_id": context_id,
            "lti_resource_link_id": link["id"],
            "title": link.get("title"),
            "description": link.get("description"),
            "target_link_uri": claims.target_link_uri,
            "custom": dict(claims.custom),
            "updated_at": utcnow(),
        },
        conflict_on=("platform_id", "lti_resource_link_id"),
        update=("context_id", "title", "description", "target_link_uri", "custom", "updated_at"),
        volatile=("updated_at",),
    )
    return resource_link_id


# Pages a resource link may point at; any other target lands on the catalogue.
LANDING_ENDPOINTS = frozenset({"content.catalogue", "content.course"})


def _landing_path(claims: LaunchClaims) -> str:
    """The tool page the link points at, resolved through the app's own routes."""
    if claims.message_type == DEEP_LINKING_REQUEST:
        return url_for("lti.deep_link")
    fallback = url_for("content.catalogue")
    base_path = urlsplit(current_app.config["BASE_URL"]).path.rstrip("/")
    path = urlsplit(claims.target_link_uri).path
    relative = path[len(base_path):] if path.startswith(base_path) else path
    try:
        endpoint, arguments = current_app.url_map.bind("localhost").match(relative, method="GET")
    except HTTPException:
        return fallback
    return url_for(endpoint, **arguments) if endpoint in LANDING_ENDPOINTS else fallback


@dataclass(frozen=True)
class PendingLogin:
    params: dict  # the login's own parameters, to start it again in a new window
    storage_origin: str | None  # where its client-side storage messages go, if it asked for storage


def pending_login(state: str) -> PendingLogin | None:
    """A login still waiting for its launch, for the pages that help a launch whose cookie was lost."""
    if not login.is_well_formed_state(state):
        return None
    row = db.session.execute(
        select(Platform.auth_login_url, LoginState.params)
        .join(LoginState, LoginState.platform_id == Platform.id)
        .where(LoginState.state == state, LoginState.expires_at > utcnow())
    ).first()
    if row is None:
        return None
    params = (row.params or {}).get("login") or {}
    return PendingLogin(params, origin_of(row.auth_login_url) if params.get("lti_storage_target") else None)


def tool_configuration() -> dict:
    """Everything a Moodle administrator types into "Tool settings" for a manual registration."""
    base = current_app.config["BASE_URL"]
    return {
        "title": "IBM Training Suite",
        "description": "Integrated Border Management training for border guards and customs officers.",
        "lti_version": "1.3.0",
        "tool_url": base + "/courses/",
        "target_link_uri": base + "/courses/",
        "initiate_login_url": base + "/lti/login",
        "redirection_uris": [base + "/lti/launch"],
        "public_keyset_url": base + "/.well-known/jwks.json",
        "public_key_type": "Keyset URL",
        "dynamic_registration_url": base + "/lti/register",
        "deep_linking_url": base + "/lti/launch",
        "supports_deep_linking": True,
        "content_selection_url": base + "/lti/launch",
        "icon_url": base + "/static/icon.svg",
        "domain": urlsplit(base).netloc,
        "custom_parameters": "",
        "claims": ["iss", "sub", "name", "given_name", "family_name", "email", "locale"],
        "scopes": [
            "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
            "https://purl.imsglobal.org/spec/lti-ags/scope/score",
            "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
            "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",
        ],
        "privacy": {"share_name": "optional", "share_email": "optional"},
        "messages": [
            {"type": "LtiResourceLinkRequest", "target_link_uri": base + "/courses/"},
            {"type": "LtiDeepLinkingRequest", "target_link_uri": base + "/lti/launch"},
        ],
    }

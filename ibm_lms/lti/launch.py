"""The launch door: a login started, a launch completed and recorded, a content selection answered.

Each function here is one unit of work. Validation (validation.py) runs before it: its only
write, the consumed state, commits on its own, so a launch that fails afterwards has still used
its state, as a state is good for one launch whatever happens next.
"""

from __future__ import annotations

from sqlalchemy import select

from ibm_lms.clock import utcnow
from ibm_lms.database import recent_writes
from ibm_lms.events import LaunchCompleted
from ibm_lms.extensions import db
from ibm_lms.i18n import service as i18n
from ibm_lms.tenancy import service as tenancy
from ibm_lms.tenancy.data import LaunchIdentity
from ibm_lms.unit_of_work import publish, unit_of_work

from . import deep_linking, login, validation
from .claims import region_of
from .data import DEEP_LINKING_REQUEST, CompletedLaunch, DeepLinkingResponse, LaunchClaims, PendingLogin, PlatformRecord
from .errors import PlatformDisabled
from .landing import landing_path
from .models import LoginState, Platform, ResourceLink
from .urls import origin_of


def start_login(source) -> login.LoginRedirect:
    with unit_of_work():
        return login.start(source)


def complete_launch(form, cookies, *, storage_verified: bool = False) -> CompletedLaunch:
    """Validates a launch and records who arrived, from which context and link, in one transaction."""
    validated = validation.validate(form, cookies, storage_verified=storage_verified)
    claims = validated.claims
    platform = validated.tool_conf.platform
    if platform.disabled:
        raise PlatformDisabled()
    launch_locale = i18n.launch_locale(claims.locale)
    with unit_of_work():
        recorded = tenancy.record_launch_identity(_launch_identity(platform, claims),
                                                  needs_preferred_locale=launch_locale is None)
        resource_link_id = None
        if claims.resource_link is not None:
            resource_link_id = _record_resource_link(platform, recorded.context_id, claims)
        deep_link_request_id = None
        if claims.message_type == DEEP_LINKING_REQUEST:
            deep_link_request_id = deep_linking.record(claims, tenant_id=platform.tenant_id, user_id=recorded.user_id)
        locale = i18n.locale_for_launch(launch_locale, recorded.preferred_locale)
        publish(
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
    return CompletedLaunch(
        identity=recorded,
        claims=claims,
        locale=locale,
        resource_link_id=resource_link_id,
        deep_link_request_id=deep_link_request_id,
        landing_path=landing_path(claims),
        via_platform_storage=validated.via_platform_storage,
    )


def _launch_identity(platform: PlatformRecord, claims: LaunchClaims) -> LaunchIdentity:
    context = claims.context
    return LaunchIdentity(
        tenant_id=platform.tenant_id,
        issuer=claims.issuer,
        subject=claims.subject,
        lti_roles=claims.roles,
        given_name=claims.given_name,
        family_name=claims.family_name,
        name=claims.name,
        email=claims.email,
        lti_context_id=context.id if context else None,
        context_label=context.label if context else None,
        context_title=context.title if context else None,
        context_types=context.types if context else (),
        region=region_of(claims.custom),
    )


def _record_resource_link(platform: PlatformRecord, context_id: int | None, claims: LaunchClaims) -> int:
    link = claims.resource_link
    # Relaunches of an unchanged link skip its rewrite for a while (see RecentWrites).
    (resource_link_id,) = recent_writes("resource links").upsert(
        ResourceLink.__table__,
        {
            "tenant_id": platform.tenant_id,
            "platform_id": platform.id,
            "context_id": context_id,
            "lti_resource_link_id": link.id,
            "title": link.title,
            "description": link.description,
            "target_link_uri": claims.target_link_uri,
            "custom": dict(claims.custom),
            "updated_at": utcnow(),
            "ags_scopes": list(claims.ags.scopes) if claims.ags else None,
            "ags_lineitems": claims.ags.lineitems if claims.ags else None,
            # A line item found or made earlier stays when the launch names none (Moodle's grade-sync-only mode).
            "ags_lineitem": claims.ags.lineitem if claims.ags and claims.ags.lineitem else None,
            "nrps_memberships": claims.nrps.memberships_url if claims.nrps else None,
        },
        conflict_on=("platform_id", "lti_resource_link_id"),
        update=("context_id", "title", "description", "target_link_uri", "custom", "updated_at", "ags_scopes",
                "ags_lineitems", "nrps_memberships") + (("ags_lineitem",) if claims.ags and claims.ags.lineitem else ()),
        volatile=("updated_at",),
    )
    return resource_link_id


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


def picker(locale: str, tenant_id: int | None, query: str = "") -> list[dict]:
    return deep_linking.picker(locale, tenant_id, query)


def pending_deep_link() -> dict | None:
    """The session user's open content selection: what the platform accepts back."""
    return deep_linking.pending()


def answer_deep_link(slugs: list[str], locale: str) -> DeepLinkingResponse:
    with unit_of_work():
        answer = deep_linking.respond(slugs, locale)
    tenancy.forget_deep_link_request()
    return answer

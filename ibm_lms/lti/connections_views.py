"""The academy administrator's Moodle connections page: the academy's registrations (edit after reviewing what
changes, disable, enable, remove when nothing came through), registration invitations (create, list, revoke),
the gradebook link's health, the tool's published keys and the catalogue served. Every form carries CSRF;
every action is audited with the administrator as its actor and scoped to their academy."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import get_locale

from ibm_lms.content import service as content
from ibm_lms.tenancy import service as tenancy
from ibm_lms.tenancy.data import Identity, Role
from ibm_lms.text import whole_number

from . import connections, keys, platforms, registration
from .ags import delivery
from .errors import (
    InvalidPlatformSettings,
    NotToolOperator,
    RemovalNotConfirmed,
    RotationNotConfirmed,
    SwitchNotConfirmed,
    ToolKeyUnreadable,
)

blueprint = Blueprint("connections", __name__)
INVITATION_HOURS = (24, 72, 168)
DONE_NOTICES = {"disabled", "enabled", "removed", "saved", "unchanged", "revoked", "not_open", "rotated"}


def _actor(identity: Identity) -> str:
    return tenancy.audit_name(identity.tenant_id, identity.user_id)


def _edit_from_form() -> connections.RegistrationEdit:
    form = request.form
    return connections.RegistrationEdit(
        name=form.get("name", ""), auth_login_url=form.get("auth_login_url", ""),
        auth_token_url=form.get("auth_token_url", ""), keyset_url=form.get("keyset_url", ""),
        auth_audience=form.get("auth_audience", ""),
        deployment_ids=tuple(form.get("deployment_ids", "").replace(",", "\n").splitlines()))


def _done() -> str | None:
    done = request.args.get("done")
    return done if done in DONE_NOTICES else None


@blueprint.get("/lti/platforms")
@tenancy.role_required(Role.ADMINISTRATOR)
def platforms_page():
    identity = tenancy.require_identity()
    return render_template("lti/platforms.html", identity=identity,
                           platforms=platforms.tenant_platforms(identity.tenant_id),
                           health=delivery.link_health(identity.tenant_id),
                           invitations=registration.invitations(identity.tenant_id),
                           invitation_hours=INVITATION_HOURS,
                           key_ids=[key["kid"] for key in keys.published_jwks()["keys"]],
                           operator=tenancy.holds(tenancy.TOOL_OPERATOR, identity.tenant_id, identity.user_id),
                           catalogue=content.catalogue(str(get_locale()), identity.tenant_id),
                           done=_done())


@blueprint.post("/lti/platforms/<int:platform_id>/switch")
@tenancy.role_required(Role.ADMINISTRATOR)
def switch_platform(platform_id: int):
    identity = tenancy.require_identity()
    disable = request.form.get("action") == "disable"
    if disable and request.form.get("confirm") != "yes":
        raise SwitchNotConfirmed()
    platforms.switch_for_tenant(identity.tenant_id, platform_id, disable, actor=_actor(identity))
    return redirect(url_for("connections.platforms_page", done="disabled" if disable else "enabled"), code=303)


@blueprint.get("/lti/platforms/<int:platform_id>/edit")
@tenancy.role_required(Role.ADMINISTRATOR)
def edit_platform(platform_id: int):
    identity = tenancy.require_identity()
    platform = connections.registration(identity.tenant_id, platform_id)
    return render_template("lti/platform_edit.html", identity=identity, platform=platform,
                           values=connections.current_values(identity.tenant_id, platform_id))


@blueprint.post("/lti/platforms/<int:platform_id>/edit")
@tenancy.role_required(Role.ADMINISTRATOR)
def review_or_save_platform(platform_id: int):
    identity = tenancy.require_identity()
    edit = _edit_from_form()
    if request.form.get("action") == "confirm":
        applied = connections.apply(identity.tenant_id, platform_id, edit, request.form.get("reviewed", ""),
                                    actor=_actor(identity))
        return redirect(url_for("connections.platforms_page", done="saved" if applied else "unchanged"), code=303)
    platform = connections.registration(identity.tenant_id, platform_id)
    try:
        found, reviewed = connections.review(identity.tenant_id, platform_id, edit)
    except InvalidPlatformSettings as error:
        # The form again, with what was typed and why it cannot be saved.
        return render_template("lti/platform_edit.html", identity=identity, platform=platform, values=edit,
                               problem=error.translated()), 400
    return render_template("lti/platform_review.html", identity=identity, platform=platform, changes=found,
                           values=connections.checked(edit), reviewed=reviewed)


@blueprint.post("/lti/platforms/<int:platform_id>/remove")
@tenancy.role_required(Role.ADMINISTRATOR)
def remove_platform(platform_id: int):
    identity = tenancy.require_identity()
    if request.form.get("confirm") != "yes":
        raise RemovalNotConfirmed()
    connections.remove(identity.tenant_id, platform_id, actor=_actor(identity))
    return redirect(url_for("connections.platforms_page", done="removed"), code=303)


@blueprint.post("/lti/platforms/invitations")
@tenancy.role_required(Role.ADMINISTRATOR)
def create_invitation():
    identity = tenancy.require_identity()
    hours = request.form.get("hours", type=whole_number)
    if hours not in INVITATION_HOURS:
        hours = INVITATION_HOURS[1]
    tenant = tenancy.get_tenant_by_id(identity.tenant_id)
    invitation = registration.invite(tenant.slug, hours, actor=_actor(identity))
    # Shown once, in this answer only: the URL is the secret, and the database keeps only its hash.
    response = render_template("lti/invitation_created.html", identity=identity, invitation=invitation)
    return response, 200, {"Cache-Control": "no-store"}


@blueprint.post("/lti/platforms/invitations/<int:invitation_id>/revoke")
@tenancy.role_required(Role.ADMINISTRATOR)
def revoke_invitation(invitation_id: int):
    identity = tenancy.require_identity()
    revoked = registration.revoke_invitation(identity.tenant_id, invitation_id, actor=_actor(identity))
    return redirect(url_for("connections.platforms_page", done="revoked" if revoked else "not_open"), code=303)


@blueprint.post("/lti/keys/rotate")
@tenancy.role_required(Role.ADMINISTRATOR)
def rotate_keys():
    """A tool operator replaces the tool's signing key; the old one stays published for the grace period, so
    launches in flight and Moodles that cached the key set keep working."""
    identity = tenancy.require_identity()
    if not tenancy.holds(tenancy.TOOL_OPERATOR, identity.tenant_id, identity.user_id):
        raise NotToolOperator()
    if request.form.get("confirm") != "yes":
        raise RotationNotConfirmed()
    if keys.unreadable_count():
        # Rotating now would drop what the changed secret key cannot open; the operator recovers on the server.
        raise ToolKeyUnreadable()
    keys.rotate(actor=_actor(identity))
    return redirect(url_for("connections.platforms_page", done="rotated"), code=303)

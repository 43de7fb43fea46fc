"""`ibm-lms platform add|list|disable|enable|remove|invite|invitation list|revoke`, `ibm-lms keys rotate`, grades
and rosters."""

from __future__ import annotations

import json

import click
from flask.cli import AppGroup

from ibm_lms.audit import service as audit
from ibm_lms.errors import DomainError
from ibm_lms.listing import ROW_ID, echo_rows
from ibm_lms.tenancy import service as tenancy

from . import keys, platforms, registration

platform_group = AppGroup("platform", help="Platform (Moodle) registrations.")
grades_group = AppGroup("grades", help="Scores sent to the platforms' gradebooks.")
roster_group = AppGroup("roster", help="Course members read from the platforms (Names and Role Provisioning).")
keys_group = AppGroup("keys", help="The tool's signing keys.")


def _existing_tenant(slug: str) -> None:
    """A mistyped --tenant must not become a second academy: only 'tenant add' makes one."""
    try:
        tenancy.get_tenant(slug)
    except DomainError as error:
        raise click.ClickException(f"{error} 'ibm-lms tenant list' shows the academies; 'ibm-lms tenant add "
                                   f"{slug[:64]}' makes a new one.") from error


_COMPARED = (("tenant", "tenant"), ("auth_login_url", "auth login url"), ("auth_token_url", "auth token url"),
             ("keyset_url", "keyset url"), ("name", "name"), ("auth_audience", "auth audience"))


def _changes(before, values: dict) -> list[str]:
    changed = [f"  {label}: {before[key]!r} -> {values[key]!r}" for key, label in _COMPARED
               if values[key] is not None and before[key] != values[key]]
    added = sorted(set(values["deployment_ids"]) - set(before["deployment_ids"]))
    if added:
        changed.append(f"  deployments added: {', '.join(added)}")
    return changed


@platform_group.command("add")
@click.option("--issuer", required=True)
@click.option("--client-id", required=True)
@click.option("--auth-login-url", required=True)
@click.option("--auth-token-url", required=True)
@click.option("--keyset-url", required=True)
@click.option("--deployment-id", "deployment_ids", multiple=True, required=True, help="Repeat for several.")
@click.option("--tenant", required=True, help="Slug of the academy that owns this platform ('tenant add' makes one).")
@click.option("--name", default=None)
@click.option("--auth-audience", default=None)
@click.option("--replace", is_flag=True, help="Change an existing registration of this issuer and client id.")
def add_command(issuer, client_id, auth_login_url, auth_token_url, keyset_url, deployment_ids, tenant, name,
                auth_audience, replace):
    """Register a platform client (or, with --replace, change its registration)."""
    _existing_tenant(tenant)
    existing = platforms.find(issuer, client_id)
    if existing is not None:
        tenants = {t.id: t.slug for t in tenancy.list_tenants()}
        before = {"tenant": tenants.get(existing.tenant_id), "auth_login_url": existing.auth_login_url,
                  "auth_token_url": existing.auth_token_url, "keyset_url": existing.keyset_url,
                  "name": existing.name, "auth_audience": existing.auth_audience,
                  "deployment_ids": existing.deployment_ids}
        changes = _changes(before, {"tenant": tenant, "auth_login_url": auth_login_url,
                                    "auth_token_url": auth_token_url, "keyset_url": keyset_url, "name": name,
                                    "auth_audience": auth_audience, "deployment_ids": deployment_ids})
        if not changes:
            click.echo(f"{issuer} client {client_id} is registered already, as given: nothing changed")
            return
        if not replace:
            raise click.ClickException("\n".join([f"{issuer} client {client_id} is registered already; this would "
                                                  "change:", *changes, "Run again with --replace to change it."]))
        click.echo("\n".join(["changing:", *changes]))
    try:
        record = platforms.add_platform(
            tenant_slug=tenant, issuer=issuer, client_id=client_id, auth_login_url=auth_login_url,
            auth_token_url=auth_token_url, keyset_url=keyset_url, deployment_ids=list(deployment_ids),
            name=name, auth_audience=auth_audience, actor=audit.command_line_actor(),
        )
    except DomainError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"registered {record.issuer} client {record.client_id} for tenant {tenant}; "
               f"deployments: {', '.join(sorted(record.deployment_ids))}")


@platform_group.command("invite")
@click.option("--tenant", required=True, help="Slug of the academy the platform will belong to.")
@click.option("--hours", default=72, show_default=True, type=click.IntRange(1, 24 * 30))
def invite_command(tenant, hours):
    """Print a single-use URL for LTI Dynamic Registration into this tenant."""
    _existing_tenant(tenant)
    try:
        invitation = registration.invite(tenant, hours, actor=audit.command_line_actor())
    except DomainError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Paste into Moodle's Tool URL (valid until {invitation.expires_at:%Y-%m-%d %H:%M} UTC, once; "
               f"invitation {invitation.id}):")
    click.echo(invitation.url)


invitation_group = AppGroup("invitation", help="Registration invitations: list them, revoke an open one.")
platform_group.add_command(invitation_group)


@invitation_group.command("list")
@click.option("--tenant", required=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def invitation_list_command(tenant, as_json):
    """The academy's invitations, newest first, with their state (open, used, expired, revoked)."""
    _existing_tenant(tenant)
    echo_rows([{"id": item.id, "state": item.state, "created_at": item.created_at, "expires_at": item.expires_at,
                "used_at": item.used_at, "used_by_issuer": item.used_by_issuer, "revoked_at": item.revoked_at}
               for item in registration.invitations(tenancy.get_tenant(tenant).id)],
              as_json=as_json, empty=f"no invitations for {tenant}")


@invitation_group.command("revoke")
@click.argument("invitation_id", type=ROW_ID)
@click.option("--tenant", required=True)
def invitation_revoke_command(invitation_id, tenant):
    """Close an open invitation, so its URL registers nothing (audited)."""
    _existing_tenant(tenant)
    try:
        revoked = registration.revoke_invitation(tenancy.get_tenant(tenant).id, invitation_id,
                                                 actor=audit.command_line_actor())
    except DomainError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"invitation {invitation_id} revoked" if revoked else
               f"invitation {invitation_id} was not open (used, expired or revoked already): nothing changed")


def _switch(issuer: str, client_id: str, disabled: bool) -> None:
    try:
        changed = platforms.set_disabled(issuer, client_id, disabled, actor=audit.command_line_actor())
    except DomainError as error:
        raise click.ClickException(str(error)) from error
    state = "disabled" if disabled else "enabled"
    click.echo(f"platform {issuer} ({client_id}) {state}" if changed else f"platform {issuer} ({client_id}) "
               f"was already {state}")


@platform_group.command("disable")
@click.option("--issuer", required=True)
@click.option("--client-id", required=True)
def disable_command(issuer, client_id):
    """Refuses logins and launches from this registration (scores already queued are still delivered)."""
    _switch(issuer, client_id, True)


@platform_group.command("enable")
@click.option("--issuer", required=True)
@click.option("--client-id", required=True)
def enable_command(issuer, client_id):
    """Accepts launches from a disabled registration again."""
    _switch(issuer, client_id, False)


@platform_group.command("remove")
@click.option("--issuer", required=True)
@click.option("--client-id", required=True)
def remove_command(issuer, client_id):
    """Deletes a registration nothing depends on (no launch, score or person came through it)."""
    try:
        platforms.remove(issuer, client_id, actor=audit.command_line_actor())
    except DomainError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"platform {issuer} ({client_id}) removed")


@platform_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def list_command(as_json):
    """List registered platforms."""
    registered = platforms.list_platforms()
    tenants = {t.id: t.slug for t in tenancy.list_tenants()}
    if as_json:
        for p in registered:
            click.echo(json.dumps({"tenant": tenants.get(p.tenant_id), "issuer": p.issuer, "client_id": p.client_id,
                                   "deployment_ids": sorted(p.deployment_ids), "auth_login_url": p.auth_login_url,
                                   "auth_token_url": p.auth_token_url, "keyset_url": p.keyset_url, "name": p.name,
                                   "disabled": p.disabled},
                                  ensure_ascii=False))
        return
    if not registered:
        click.echo("no platforms registered")
        return
    click.echo("tenant\tissuer\tclient id\tdeployments\tkeyset url\tstate")
    for p in registered:
        click.echo(f"{tenants.get(p.tenant_id, '?')}\t{p.issuer}\t{p.client_id}\t{','.join(sorted(p.deployment_ids))}"
                   f"\t{p.keyset_url}\t{'disabled' if p.disabled else 'enabled'}")


@keys_group.command("rotate")
@click.option("--force", is_flag=True, help="Rotate even when the current key cannot be read (its secret is lost).")
def rotate_command(force):
    """Create a new signing key; the old one stays published until tokens it signed have expired."""
    if keys.unreadable_count() and not force:
        raise click.ClickException(
            "the current signing key cannot be read with this IBM_LMS_SECRET_KEY: most likely the key is not the "
            "one it was stored with. Set that key and rotate; only if it is lost, rotate with --force (then "
            "re-enter each LRS password with 'ibm-lms xapi lrs set').")
    kid, retired = keys.rotate(actor=audit.command_line_actor())
    click.echo(f"new key {kid}; still published for the grace period: {', '.join(retired) or 'none'}")


@grades_group.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def grades_status_command(as_json):
    """Per tenant: scores pending, delivered, parked (refused, waiting for an administrator) and superseded."""
    from .ags import delivery

    tenants = {t.id: t.slug for t in tenancy.list_tenants()}
    counts = {tenants.get(tenant_id, str(tenant_id)): states for tenant_id, states in delivery.status_counts().items()}
    if as_json:
        click.echo(json.dumps(counts, indent=2, sort_keys=True))
        return
    click.echo("tenant\tpending\tdelivered\tparked\tsuperseded")
    for slug, states in sorted(counts.items()):
        click.echo(f"{slug}\t{states['pending']}\t{states['delivered']}\t{states['parked']}\t{states['superseded']}")


@grades_group.command("retry")
@click.option("--tenant", default=None, help="Only this tenant's parked scores.")
@click.option("--id", "row_id", type=ROW_ID, default=None, help="Only this score.")
def grades_retry_command(tenant, row_id):
    """Put parked scores back in line once their cause is fixed (the worker sends them)."""
    from .ags import delivery

    tenant_id = tenancy.get_tenant(tenant).id if tenant else None
    click.echo(f"scores back in line: {delivery.retry_parked(tenant_id, row_id)}")


@roster_group.command("sync")
@click.option("--tenant", default=None, help="Only this tenant's courses.")
def roster_sync_command(tenant):
    """Read the members of every Moodle course the tool was launched from, and record them."""
    from . import nrps
    from .ags.errors import ServiceRefused
    from .outbound import OutboundError

    tenant_id = tenancy.get_tenant(tenant).id if tenant else None
    failed = 0
    for link_id in nrps.links_with_rosters(tenant_id):
        try:
            report = nrps.sync_link(link_id)
        except (ServiceRefused, OutboundError, LookupError) as error:
            failed += 1
            click.echo(f"link {link_id}: not read: {error}", err=True)
            continue
        click.echo(f"context {report.context_id}: {report.members} members read, {report.active} active, "
                   f"{report.left} no longer members" + (" (changes only)" if report.differences_only else ""))
    if failed:
        raise click.ClickException(f"{failed} rosters could not be read")

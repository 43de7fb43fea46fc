"""`ibm-lms platform add|list` and `ibm-lms keys rotate`."""

from __future__ import annotations

import json

import click
from flask.cli import AppGroup

from ibm_lms.errors import DomainError
from ibm_lms.tenancy import service as tenancy

from . import keys, platforms, registration

platform_group = AppGroup("platform", help="Platform (Moodle) registrations.")
grades_group = AppGroup("grades", help="Scores sent to the platforms' gradebooks.")
roster_group = AppGroup("roster", help="Course members read from the platforms (Names and Role Provisioning).")
keys_group = AppGroup("keys", help="The tool's signing keys.")


@platform_group.command("add")
@click.option("--issuer", required=True)
@click.option("--client-id", required=True)
@click.option("--auth-login-url", required=True)
@click.option("--auth-token-url", required=True)
@click.option("--keyset-url", required=True)
@click.option("--deployment-id", "deployment_ids", multiple=True, required=True, help="Repeat for several.")
@click.option("--tenant", required=True, help="Slug of the academy that owns this platform.")
@click.option("--name", default=None)
@click.option("--auth-audience", default=None)
def add_command(issuer, client_id, auth_login_url, auth_token_url, keyset_url, deployment_ids, tenant, name,
                auth_audience):
    """Register a platform client (or add deployments to it)."""
    try:
        record = platforms.add_platform(
            tenant_slug=tenant, issuer=issuer, client_id=client_id, auth_login_url=auth_login_url,
            auth_token_url=auth_token_url, keyset_url=keyset_url, deployment_ids=list(deployment_ids),
            name=name, auth_audience=auth_audience,
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
    try:
        invitation = registration.invite(tenant, hours)
    except DomainError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Paste into Moodle's Tool URL (valid until {invitation.expires_at:%Y-%m-%d %H:%M} UTC, once):")
    click.echo(invitation.url)


@platform_group.command("list")
def list_command():
    """List registered platforms."""
    registered = platforms.list_platforms()
    if not registered:
        click.echo("no platforms registered")
    tenants = {t.id: t.slug for t in tenancy.list_tenants()}
    for p in registered:
        click.echo(f"{tenants.get(p.tenant_id, '?')}\t{p.issuer}\t{p.client_id}\t{','.join(sorted(p.deployment_ids))}"
                   f"\t{p.keyset_url}")


@keys_group.command("rotate")
def rotate_command():
    """Create a new signing key; the old one stays published until tokens it signed have expired."""
    kid, retired = keys.rotate()
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
@click.option("--id", "row_id", type=int, default=None, help="Only this score.")
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

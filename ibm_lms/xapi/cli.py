"""`ibm-lms xapi status|export|retry` and `ibm-lms xapi lrs set|show`: statements and each academy's LRS."""

from __future__ import annotations

import json
import sys

import click
from flask.cli import AppGroup

from ibm_lms.clock import iso_utc
from ibm_lms.listing import ROW_ID
from ibm_lms.tenancy import service as tenancy

from . import service

xapi_group = AppGroup("xapi", help="xAPI statements and the academies' Learning Record Stores.")
lrs_group = AppGroup("lrs", help="An academy's LRS.")
xapi_group.add_command(lrs_group)


@xapi_group.command("status")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per academy.")
def status_command(as_json: bool) -> None:
    """Statements pending, delivered and parked, and events whose statements are yet to be written, per academy."""
    names = {t.id: t.slug for t in tenancy.list_tenants()}
    found = service.counts()
    events = service.queued()
    for tenant_id in events:
        found.setdefault(tenant_id, {"pending": 0, "delivered": 0, "parked": 0})
    if as_json:
        for tenant_id, states in sorted(found.items()):
            lrs = service.view(tenant_id)
            waiting = events.get(tenant_id, {})
            click.echo(json.dumps({"tenant": names.get(tenant_id), **states,
                                   "events_waiting": waiting.get("pending", 0), "events_failing": waiting.get("failing", 0),
                                   "endpoint": lrs.endpoint,
                                   "paused_until": iso_utc(lrs.open_until), "failures": lrs.failures},
                                  ensure_ascii=False))
        return
    if not found:
        click.echo("no statements yet")
    for tenant_id, states in sorted(found.items()):
        lrs = service.view(tenant_id)
        where = lrs.endpoint or "default LRS or none (statements wait; see xapi export)"
        breaker = f", breaker open until {lrs.open_until:%Y-%m-%d %H:%M} UTC" if lrs.open_until else ""
        waiting = events.get(tenant_id, {})
        queued = (f", events to write {waiting.get('pending', 0) + waiting.get('failing', 0)}"
                  f" ({waiting.get('failing', 0)} failing)" if waiting else "")
        click.echo(f"{names.get(tenant_id, tenant_id)}: pending {states['pending']}, delivered {states['delivered']}, "
                   f"parked {states['parked']}{queued} -> {where}{breaker}")


@xapi_group.command("export")
@click.option("--tenant", required=True)
@click.option("--out", type=click.File("w", encoding="utf-8", lazy=False), default="-",
              help="A file (default: standard output); opened before anything is read, so a bad path fails first.")
@click.option("--status", type=click.Choice(["pending", "delivered", "parked"]), default=None)
def export_command(tenant: str, out, status: str | None) -> None:
    """The academy's statements as JSON lines (for an LRS's import, or when none is configured)."""
    count = 0
    for line in service.export_lines(tenancy.get_tenant(tenant).id, status):
        out.write(line + "\n")
        count += 1
    click.echo(f"{count} statements", err=True)


@xapi_group.command("retry")
@click.option("--tenant", required=True)
@click.option("--id", "row_ids", type=ROW_ID, multiple=True, help="Only these parked rows (repeat).")
def retry_command(tenant: str, row_ids: tuple[int, ...]) -> None:
    """Sends parked statements again (after the LRS or the statement was fixed)."""
    click.echo(f"{service.retry(tenancy.get_tenant(tenant).id, list(row_ids) or None)} statements queued again")


@lrs_group.command("set")
@click.option("--tenant", required=True)
@click.option("--endpoint", default=None, help="The LRS's xAPI base address, e.g. https://lrs.example/xAPI/ "
                                                "('' removes it).")
@click.option("--username", default=None)
@click.option("--password-stdin", is_flag=True, help="Read the password (or OAuth client secret) from standard input.")
@click.option("--auth", type=click.Choice(["basic", "oauth"]), default=None)
@click.option("--token-url", default=None, help="OAuth 2.0 token address (client credentials).")
@click.option("--country", default=None, help="ISO 3166 alpha-2 code sent with every statement, e.g. GE.")
@click.option("--share-identity/--pseudonyms", default=None,
              help="Send the platform's user id and name instead of a pseudonym (off by default).")
def set_command(tenant: str, endpoint, username, password_stdin, auth, token_url, country, share_identity) -> None:
    """Points an academy at its LRS; the password is read from standard input, never from the command line."""
    password = sys.stdin.readline().rstrip("\n") if password_stdin else None
    try:
        view = service.configure(tenancy.get_tenant(tenant).id, endpoint=endpoint, username=username,
                                 password=password, auth=auth, token_url=token_url, country=country,
                                 share_identity=share_identity)
    except service.SettingsRefused as error:
        raise click.ClickException(str(error)) from error
    click.echo(_describe(tenant, view))


@lrs_group.command("show")
@click.option("--tenant", required=True)
@click.option("--json", "as_json", is_flag=True, help="As one JSON object.")
def show_command(tenant: str, as_json: bool) -> None:
    view = service.view(tenancy.get_tenant(tenant).id)
    if as_json:
        click.echo(json.dumps({"tenant": tenant, "endpoint": view.endpoint, "auth": view.auth,
                               "username": view.username, "password_set": view.has_password,
                               "country": view.country, "share_identity": view.share_identity,
                               "paused_until": iso_utc(view.open_until), "failures": view.failures},
                              ensure_ascii=False))
        return
    click.echo(_describe(tenant, view))


def _describe(tenant: str, view) -> str:
    password = "set" if view.has_password else "not set"
    return (f"{tenant}: endpoint {view.endpoint or '(default)'}, auth {view.auth}, user {view.username or '-'}, "
            f"password {password}, country {view.country or '-'}, "
            f"{'identities shared' if view.share_identity else 'pseudonyms'}")

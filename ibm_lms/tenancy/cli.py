"""`ibm-lms tenant list|add|rename`: the academies, made on purpose (a mistyped --tenant elsewhere is an error);
`ibm-lms operator|coordinator add|remove|list`: the people who act beyond their own academy."""

from __future__ import annotations

import json

import click
from flask.cli import AppGroup

from ibm_lms.audit import service as audit
from ibm_lms.errors import DomainError
from ibm_lms.listing import echo_rows

from . import service

tenant_group = AppGroup("tenant", help="Academies (tenants): each owns its platforms, people and records.")


@tenant_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def list_command(as_json: bool) -> None:
    """Every academy with its number of users."""
    found = service.tenant_overview()
    if as_json:
        for tenant in found:
            click.echo(json.dumps({**tenant, "created_at": tenant["created_at"].isoformat() + "Z"},
                                  ensure_ascii=False))
        return
    if not found:
        click.echo("no tenants yet: 'ibm-lms tenant add SLUG --name NAME' makes one")
        return
    click.echo("slug\tname\tusers\tcreated (UTC)")
    for tenant in found:
        click.echo(f"{tenant['slug']}\t{tenant['name']}\t{tenant['users']}\t{tenant['created_at']:%Y-%m-%d %H:%M}")


@tenant_group.command("add")
@click.argument("slug")
@click.option("--name", default=None, help="The academy's name as people read it (default: the slug).")
def add_command(slug: str, name: str | None) -> None:
    """Creates an academy; its slug is what --tenant names in other commands."""
    try:
        made = service.add_tenant(slug, name, actor=audit.command_line_actor())
    except DomainError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"tenant {made.slug} added ({made.name})")


@tenant_group.command("rename")
@click.argument("slug")
@click.option("--name", required=True)
def rename_command(slug: str, name: str) -> None:
    """Changes an academy's name (its slug stays: records and commands use it)."""
    try:
        renamed = service.rename_tenant(slug, name, actor=audit.command_line_actor())
    except DomainError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"tenant {renamed.slug} is now named {renamed.name}")



def _cross_academy_group(name: str, role: str, label: str, summary: str) -> AppGroup:
    """`ibm-lms NAME add|remove|list`: the people holding one cross-academy role, named here and nowhere else."""
    group = AppGroup(name, help=summary)

    def change(who: str, granted: bool) -> None:
        try:
            changed = service.set_cross_academy_role(who, role, granted, actor=audit.command_line_actor())
        except DomainError as error:
            raise click.ClickException(str(error)) from error
        if granted:
            click.echo(f"{who} is a {label}" if changed else f"{who} already was a {label}")
        else:
            click.echo(f"{who} is no longer a {label}" if changed else f"{who} was not a {label}")

    @group.command("add", help=f"Names a person (ISSUER:SUB, who has launched the tool once) as a {label} (audited).")
    @click.argument("who")
    def add(who: str) -> None:
        change(who, True)

    @group.command("remove", help="Takes the role back (audited).")
    @click.argument("who")
    def remove(who: str) -> None:
        change(who, False)

    @group.command("list", help=f"Every {label}, with the academy they launch from.")
    @click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
    def list_holders(as_json: bool) -> None:
        echo_rows([{"who": f"{person.issuer}:{person.subject}", "tenant": slug, "name": person.display_name}
                   for slug, person in service.holders_of(role)],
                  as_json=as_json, empty=f"no {label}s: 'ibm-lms {name} add ISSUER:SUB' names one")

    return group


operator_group = _cross_academy_group(
    "operator", service.TOOL_OPERATOR, "tool operator",
    "Tool operators: they replace the tool's signing key, which every academy's Moodle trusts.")
coordinator_group = _cross_academy_group(
    "coordinator", service.REGIONAL_COORDINATOR, "regional coordinator",
    "Regional coordinators: they read every academy's certification counts, never a person.")

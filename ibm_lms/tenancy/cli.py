"""`ibm-lms tenant list|add|rename`: the academies, made on purpose (a mistyped --tenant elsewhere is an error);
`ibm-lms operator add|remove|list`: the people who manage what every academy shares."""

from __future__ import annotations

import json

import click
from flask.cli import AppGroup

from ibm_lms.audit import service as audit
from ibm_lms.errors import DomainError

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


operator_group = AppGroup("operator", help="Tool operators: people who manage what every academy shares (the signing "
                                           "key), named here and nowhere else.")


def _person(who: str) -> tuple[str, str]:
    issuer, separator, subject = who.rpartition(":")
    if not separator or not issuer or not subject:
        raise click.BadParameter("give ISSUER:SUB, the platform's address and the person's id there", param_hint="WHO")
    return issuer, subject


@operator_group.command("add")
@click.argument("who")
def operator_add_command(who: str) -> None:
    """Names a person (ISSUER:SUB, who has launched the tool once) as a tool operator (audited)."""
    try:
        changed = service.set_tool_operator(*_person(who), True, actor=audit.command_line_actor())
    except DomainError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"{who} is a tool operator" if changed else f"{who} already was a tool operator")


@operator_group.command("remove")
@click.argument("who")
def operator_remove_command(who: str) -> None:
    """Takes the role back (audited)."""
    try:
        changed = service.set_tool_operator(*_person(who), False, actor=audit.command_line_actor())
    except DomainError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"{who} is no longer a tool operator" if changed else f"{who} was not a tool operator")


@operator_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def operator_list_command(as_json: bool) -> None:
    found = service.tool_operators()
    if as_json:
        for slug, person in found:
            click.echo(json.dumps({"who": f"{person.issuer}:{person.subject}", "tenant": slug,
                                   "name": person.display_name}, ensure_ascii=False))
        return
    if not found:
        click.echo("no tool operators: 'ibm-lms operator add ISSUER:SUB' names one")
        return
    click.echo("who\ttenant\tname")
    for slug, person in found:
        click.echo(f"{person.issuer}:{person.subject}\t{slug}\t{person.display_name or ''}")

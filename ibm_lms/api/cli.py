"""`ibm-lms api token create|list|revoke`: an academy's API tokens."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from ibm_lms.audit import service as audit
from ibm_lms.listing import ROW_ID, echo_rows
from ibm_lms.tenancy import service as tenancy
from ibm_lms.tenancy.data import Role
from ibm_lms.text import BIDI_CONTROLS, is_bounded_text
from ibm_lms.unit_of_work import unit_of_work

from . import tokens

api_group = AppGroup("api", help="The REST API (/api/v1).")
token_group = AppGroup("token", help="API tokens of an academy.")
api_group.add_command(token_group)


def _tenant_id(slug: str) -> int:
    return tenancy.get_tenant(slug).id


@token_group.command("create")
@click.option("--tenant", required=True, help="Slug of the academy the token acts for.")
@click.option("--name", required=True, help="What the token is for, e.g. the script that uses it.")
@click.option("--role", type=click.Choice(["instructor", "administrator"]), default="instructor", show_default=True)
def create_command(tenant: str, name: str, role: str) -> None:
    """Issues a token and prints it once: store it where the script reads it."""
    name = " ".join(name.split())
    if not is_bounded_text(name, 100) or BIDI_CONTROLS.search(name):
        raise click.BadParameter("say in one line of at most 100 characters what the token is for", param_hint="--name")
    with unit_of_work():
        record, token = tokens.issue(_tenant_id(tenant), name, Role(role))
        audit.record(actor=audit.command_line_actor(), action="api_token.issued", subject=f"api token {record.id}",
                     details={"name": record.name, "role": role}, tenant_id=record.tenant_id)
    click.echo(f"token {record.id} for {tenant} ({role}): {token}")
    click.echo("It is not shown again; send it as 'Authorization: Bearer <token>'.")


@token_group.command("list")
@click.option("--tenant", required=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per token.")
def list_command(tenant: str, as_json: bool) -> None:
    echo_rows([{"id": record.id, "name": record.name, "role": record.role, "created_at": record.created_at,
                "last_used_at": record.last_used_at, "revoked": record.revoked}
               for record in tokens.listed(_tenant_id(tenant))], as_json=as_json, empty=f"no API tokens for {tenant}")


@token_group.command("revoke")
@click.option("--tenant", required=True)
@click.argument("token_id", type=ROW_ID)
def revoke_command(tenant: str, token_id: int) -> None:
    with unit_of_work():
        tenant_id = _tenant_id(tenant)
        found = tokens.revoke(tenant_id, token_id)
        if found:
            audit.record(actor=audit.command_line_actor(), action="api_token.revoked", subject=f"api token {token_id}",
                         tenant_id=tenant_id)
    if not found:
        raise click.ClickException(f"{tenant} has no token {token_id}")
    click.echo(f"token {token_id} revoked")

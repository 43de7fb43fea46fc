"""`ibm-lms audit verify|head|list`: check the hash chain, read its head to keep elsewhere, list entries."""

from __future__ import annotations

import json
import re

import click
from flask.cli import AppGroup

from . import service

audit_group = AppGroup("audit", help="The tamper-evident audit trail.")
_HEAD = re.compile(r"([0-9]+):([0-9a-f]{64})\Z")


@audit_group.command("verify")
@click.option("--expect", default=None, metavar="POSITION:HASH",
              help="A head printed by 'audit head' earlier: also detects that the newest entries were removed.")
def verify_command(expect: str | None) -> None:
    """Checks every entry's hash and link; exits 1 and says where when an entry was edited, removed or moved."""
    expected = None
    if expect is not None:
        found = _HEAD.match(expect.strip())
        if found is None:
            raise click.BadParameter("use POSITION:HASH as 'audit head' prints it, e.g. 42:3f2b…", param_hint="--expect")
        expected = (int(found[1]), found[2])
    count, breaks = service.verify(expected)
    for found_break in breaks:
        click.echo(str(found_break), err=True)
    if breaks:
        raise click.ClickException(f"the audit trail does not hold: {len(breaks)} problem(s) in {count} entries")
    click.echo(f"the audit trail holds: {count} entries")


@audit_group.command("head")
def head_command() -> None:
    """The newest entry as POSITION:HASH, to record outside the database (for 'audit verify --expect')."""
    newest = service.head()
    click.echo("no entries yet" if newest is None else f"{newest.position}:{newest.entry_hash}")


@audit_group.command("list")
@click.option("--limit", type=click.IntRange(1, 10_000), default=50)
def list_command(limit: int) -> None:
    """The newest entries as JSON lines."""
    for entry in service.entries(limit=limit):
        click.echo(json.dumps({"position": entry.position, "at": entry.recorded_at.isoformat() + "Z",
                               "tenant_id": entry.tenant_id, "actor": entry.actor, "action": entry.action,
                               "subject": entry.subject, "details": entry.details}, ensure_ascii=False))

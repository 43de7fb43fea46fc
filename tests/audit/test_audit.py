"""The audit trail: appended in the change's own transaction, and any edit, removal or reordering is found."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import delete, select, update

from ibm_lms.audit import chain
from ibm_lms.audit import service as audit
from ibm_lms.audit.models import AuditEntry
from ibm_lms.extensions import db
from ibm_lms.tenancy import service as tenancy
from ibm_lms.unit_of_work import unit_of_work


def entries(count: int, tenant_id: int | None = None) -> None:
    for number in range(count):
        with unit_of_work():
            audit.record(actor="https://moodle.example:17", action="certification.approved",
                         subject=f"candidate {number}", details={"programme": "dt-trainer", "score": 0.85,
                                                                 "note": "Одобрено — ✓"}, tenant_id=tenant_id)


def verify_command(cli, *extra: str):
    return cli.invoke(args=["audit", "verify", *extra])


def test_an_untouched_trail_holds_and_names_its_head(app, cli):
    assert "the audit trail holds: 0 entries" in verify_command(cli).output
    entries(5)
    result = verify_command(cli)
    assert result.exit_code == 0 and "the audit trail holds: 5 entries" in result.output
    head = cli.invoke(args=["audit", "head"]).output.strip()
    assert head.startswith("5:") and len(head) == 2 + 64
    assert verify_command(cli, "--expect", head).exit_code == 0


@pytest.mark.parametrize("tampering", ["edited", "edited and rehashed", "removed", "reordered", "newest removed"])
def test_any_tampering_is_found_and_located(app, cli, tampering):
    entries(6)
    head = cli.invoke(args=["audit", "head"]).output.strip()
    rows = {row.position: row for row in db.session.execute(select(AuditEntry)).scalars()}
    if tampering == "edited":
        db.session.execute(update(AuditEntry).where(AuditEntry.position == 3).values(subject="someone else"))
    elif tampering == "edited and rehashed":
        row = rows[3]
        forged = chain.Entry(3, row.recorded_at, row.tenant_id, row.actor, row.action, "someone else", row.details,
                             row.previous_hash)
        db.session.execute(update(AuditEntry).where(AuditEntry.position == 3).values(
            subject="someone else", entry_hash=chain.entry_hash(forged)))
    elif tampering == "removed":
        db.session.execute(delete(AuditEntry).where(AuditEntry.position == 3))
    elif tampering == "reordered":
        db.session.execute(update(AuditEntry).where(AuditEntry.position == 3).values(position=100))
        db.session.execute(update(AuditEntry).where(AuditEntry.position == 4).values(position=3))
        db.session.execute(update(AuditEntry).where(AuditEntry.position == 100).values(position=4))
    else:
        db.session.execute(delete(AuditEntry).where(AuditEntry.position == 6))
    db.session.commit()
    result = verify_command(cli, "--expect", head)
    assert result.exit_code == 1, result.output
    where = {"edited": "entry 3: its content no longer matches its hash",
             "edited and rehashed": "entry 4: does not follow the entry before it",
             "removed": "entry 4: expected position 3: entries 3 to 3 are missing",
             "reordered": "entry 4: does not follow the entry before it",
             "newest removed": "entry 6: the head recorded earlier is gone"}[tampering]
    assert where in result.output and "the audit trail does not hold" in result.output


def test_an_entry_is_committed_with_the_change_or_not_at_all(app):
    with pytest.raises(RuntimeError), unit_of_work():
        audit.record(actor="admin", action="programme.changed", subject="dt-trainer")
        raise RuntimeError("the change failed")
    assert db.session.execute(select(AuditEntry)).first() is None
    entries(1)
    assert audit.head().position == 1


def test_the_chain_cannot_fork(app):
    entries(2)
    row = db.session.execute(select(AuditEntry).where(AuditEntry.position == 2)).scalar_one()
    # A second entry claiming the same predecessor (two writers racing) is refused by the database.
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError):
        db.session.add(AuditEntry(position=3, recorded_at=datetime(2026, 1, 1), tenant_id=None, actor="a",
                                  action="x", subject="y", details={}, previous_hash=row.previous_hash,
                                  entry_hash="f" * 64))
        db.session.flush()
    db.session.rollback()


def test_administrative_changes_are_audited_without_their_secrets(app, cli):
    from ibm_lms.xapi import service as xapi

    with unit_of_work():
        tenant_id = tenancy.ensure_tenant("ge-academy").id
    xapi.configure(tenant_id, endpoint="https://lrs.example/xAPI/", username="tool", password="s3cret-pass")
    for unnamed in ("", "  ", "\u202ereports"):
        refused = cli.invoke(args=["api", "token", "create", "--tenant", "ge-academy", "--name", unnamed])
        assert refused.exit_code == 2 and "what the token is for" in refused.output
    created = cli.invoke(args=["api", "token", "create", "--tenant", "ge-academy", "--name", "reports"])
    assert created.exit_code == 0, created.output
    token_id = created.output.split()[1]
    assert cli.invoke(args=["api", "token", "revoke", "--tenant", "ge-academy", token_id]).exit_code == 0
    listed = cli.invoke(args=["audit", "list"]).output
    assert [entry.action for entry in audit.entries(tenant_id)] == ["api_token.revoked", "api_token.issued",
                                                                    "lrs.configured"]
    assert "s3cret-pass" not in listed and '"changed": ["endpoint", "password", "username"]' in listed
    assert "command line: " in listed
    assert "the audit trail holds: 3 entries" in verify_command(cli).output


def test_expect_must_be_a_head(app, cli):
    result = verify_command(cli, "--expect", "yesterday")
    assert result.exit_code == 2 and "POSITION:HASH" in result.output


def test_a_trail_of_many_entries_is_read_in_batches(app):
    entries(30)
    count, breaks = audit.verify()
    assert (count, breaks) == (30, [])

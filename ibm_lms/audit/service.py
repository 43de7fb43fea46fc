"""The audit trail's door: append an entry inside the caller's unit of work, check the chain, read the head."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

from sqlalchemy import select, text

from ibm_lms.clock import utcnow
from ibm_lms.extensions import db

from . import chain
from .data import AuditRecord
from .models import AuditEntry

MAX_TEXT = 300
# On PostgreSQL appends wait for each other (an advisory lock held to the end of the transaction). On SQLite two
# transactions appending at once cannot both commit: the unique position and previous hash refuse the second,
# so the chain never forks; its change fails and can be made again.
_ADVISORY_KEY = 0x1B3A_0D17


def command_line_actor() -> str:
    """Who acts from the command line: the operating-system account on this host."""
    import getpass
    import socket

    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"command line: {user}@{socket.gethostname()}"


def record(*, actor: str, action: str, subject: str, details: dict | None = None,
           tenant_id: int | None = None) -> AuditRecord:
    """Appends one entry in the caller's transaction: the decision and its record are committed together."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ADVISORY_KEY})
    last = db.session.execute(select(AuditEntry.position, AuditEntry.entry_hash)
                              .order_by(AuditEntry.position.desc()).limit(1)).first()
    entry = chain.Entry(position=(last.position + 1) if last else 1, recorded_at=utcnow(), tenant_id=tenant_id,
                        actor=actor[:MAX_TEXT], action=action[:64], subject=subject[:MAX_TEXT],
                        details=details or {}, previous_hash=last.entry_hash if last else chain.GENESIS)
    entry_hash = chain.entry_hash(entry)
    db.session.add(AuditEntry(position=entry.position, recorded_at=entry.recorded_at, tenant_id=tenant_id,
                              actor=entry.actor, action=entry.action, subject=entry.subject,
                              details=entry.details, previous_hash=entry.previous_hash, entry_hash=entry_hash))
    db.session.flush()
    return dataclasses.replace(entry, entry_hash=entry_hash)


def _entries(batch: int = 5000) -> Iterator[chain.Entry]:
    # Plain rows streamed in batches: a million entries are read without a million ORM objects.
    table = AuditEntry.__table__
    query = select(table.c.position, table.c.recorded_at, table.c.tenant_id, table.c.actor, table.c.action,
                   table.c.subject, table.c.details, table.c.previous_hash, table.c.entry_hash
                   ).order_by(table.c.position).execution_options(yield_per=batch)
    for row in db.session.execute(query):
        yield chain.Entry(*row)


def verify(expect: tuple[int, str] | None = None) -> tuple[int, list[chain.Break]]:
    """Reads the whole chain in position order; (entries read, breaks found)."""
    return chain.verify(_entries(), expect=expect)


def head() -> AuditRecord | None:
    row = db.session.execute(select(AuditEntry).order_by(AuditEntry.position.desc()).limit(1)).scalar_one_or_none()
    return _record(row) if row else None


def entries(tenant_id: int | None = None, limit: int = 100) -> list[AuditRecord]:
    """The newest entries first, of one academy or of all."""
    query = select(AuditEntry).order_by(AuditEntry.position.desc()).limit(limit)
    if tenant_id is not None:
        query = query.where(AuditEntry.tenant_id == tenant_id)
    return [_record(row) for row in db.session.execute(query).scalars()]


def _record(row: AuditEntry) -> AuditRecord:
    return AuditRecord(row.position, row.recorded_at, row.tenant_id, row.actor, row.action, row.subject, row.details,
                       row.previous_hash, row.entry_hash)


__all__ = ["AuditRecord", "command_line_actor", "entries", "head", "record", "verify"]

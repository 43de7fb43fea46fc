"""The xAPI room's door: an academy's LRS settings, its statements' state, export and resending."""

from __future__ import annotations

import json
from collections.abc import Iterator

from sqlalchemy import select

from ibm_lms.audit import service as audit
from ibm_lms.extensions import db
from ibm_lms.unit_of_work import unit_of_work

from . import delivery, naming, outbox, queue, settings
from .models import StatementOutbox
from .settings import SettingsRefused, TenantView

__all__ = ["SettingsRefused", "TenantView", "academy_counts", "academy_queue", "configure", "counts", "export_lines",
           "parked", "queued", "retry", "view"]


def configure(tenant_id: int, *, actor: str | None = None, **changes) -> TenantView:
    """Changes an academy's LRS settings; the change (which settings, never a secret's value) is audited."""
    with unit_of_work():
        changed = settings.configure(tenant_id, **changes)
        audit.record(actor=actor or audit.command_line_actor(), action="lrs.configured",
                     subject=f"tenant {tenant_id}", tenant_id=tenant_id,
                     details={"changed": sorted(name for name, value in changes.items() if value is not None),
                              "endpoint": changed.endpoint, "share_identity": changed.share_identity})
    naming.forget_academy(tenant_id)
    return changed


def view(tenant_id: int) -> TenantView:
    return settings.view(tenant_id)


def counts() -> dict[int, dict[str, int]]:
    """Per academy: statements pending, delivered and parked."""
    return outbox.counts()


def academy_counts(tenant_id: int) -> dict[str, int]:
    """One academy's statements pending, delivered and parked (counting only its rows)."""
    return outbox.counts(tenant_id).get(tenant_id, dict.fromkeys((delivery.PENDING, delivery.DELIVERED,
                                                                  delivery.PARKED), 0))


def queued() -> dict[int, dict[str, int]]:
    """Per academy: events whose statements the worker has yet to write, waiting and failing."""
    return queue.counts()


def academy_queue(tenant_id: int) -> dict[str, int]:
    """One academy's events waiting for the worker to write their statements, and those failing."""
    return queue.counts(tenant_id).get(tenant_id, dict.fromkeys((queue.PENDING, queue.FAILING), 0))


def parked(tenant_id: int, limit: int = 50) -> list[StatementOutbox]:
    return list(db.session.execute(select(StatementOutbox).where(
        StatementOutbox.tenant_id == tenant_id, StatementOutbox.status == delivery.PARKED)
        .order_by(StatementOutbox.id.desc()).limit(limit)).scalars())


def retry(tenant_id: int, row_ids: list[int] | None = None) -> int:
    return delivery.retry(tenant_id, row_ids)


def export_lines(tenant_id: int, status: str | None = None, batch: int = 1000) -> Iterator[str]:
    """The academy's statements as JSON lines, oldest first, read in batches (an LRS can import them)."""
    last = 0
    while True:
        query = select(StatementOutbox.id, StatementOutbox.statement).where(
            StatementOutbox.tenant_id == tenant_id, StatementOutbox.id > last).order_by(StatementOutbox.id).limit(batch)
        if status:
            query = query.where(StatementOutbox.status == status)
        rows = db.session.execute(query).all()
        if not rows:
            return
        for row_id, statement in rows:
            yield json.dumps(statement, ensure_ascii=False, sort_keys=True)
            last = row_id

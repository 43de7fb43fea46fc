"""The outboxes a worker delivers: each room that writes one registers its delivery here (no room knowledge),
and the mechanics every outbox shares: leased claims several workers can share, and backoff with jitter.

An outbox table has `id`, `status` ("pending" while due), `next_attempt_at` and `claimed_until`.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Flask
from sqlalchemy import Index, select, text, update

from . import observability
from .clock import utcnow
from .extensions import app_state, db
from .unit_of_work import unit_of_work

PENDING = "pending"


@dataclass(frozen=True)
class Outbox:
    name: str
    # Delivers what is due (at most `limit` rows) and returns how many rows it handled.
    deliver_due: Callable[[int], int]
    # Per tenant id, how many rows are in each state: for status commands and health checks.
    counts: Callable[[], dict[int, dict[str, int]]]
    # Every state a row can be in: totals name each, zero included, so a monitor's keys never come and go.
    states: tuple[str, ...] = ()


def register(app: Flask, outbox: Outbox) -> None:
    known = app_state("outboxes", dict, app=app)
    first = not known
    known[outbox.name] = outbox
    if first:
        observability.add_health_section(app, "outboxes", lambda: queue_totals(app))
        observability.add_gauges(app, "ibm_lms_outbox_items", "Rows in each outbox by state",
                                 ["outbox", "state"], lambda: _gauge_values(app))


def _gauge_values(app: Flask) -> dict[tuple, float]:
    return {(name, state): number for name, states in queue_totals(app).items() for state, number in states.items()}


def queue_totals(app: Flask) -> dict[str, dict[str, int]]:
    """Per outbox, rows in each state summed over every academy: a monitor sees a queue grow or rows park.

    Read at most once per OUTBOX_COUNT_SECONDS in a process: monitors probe and scrape every few seconds, and a
    count walks every row an outbox keeps, delivered ones included (175 ms at a million statements)."""
    held = app_state("outboxes.totals", dict, app=app)
    seconds = app.config.get("OUTBOX_COUNT_SECONDS", 0)
    now = time.monotonic()
    if seconds and "totals" in held and now - held["at"] < seconds:
        return {name: dict(states) for name, states in held["totals"].items()}
    found = {}
    for name, outbox in registered(app).items():
        totals: dict[str, int] = dict.fromkeys(outbox.states, 0)
        for states in outbox.counts().values():
            for state, number in states.items():
                totals[state] = totals.get(state, 0) + number
        found[name] = totals
    held.update(at=now, totals=found)
    return {name: dict(states) for name, states in found.items()}


def registered(app: Flask) -> dict[str, Outbox]:
    return dict(app_state("outboxes", dict, app=app))


def pending_index(name: str) -> Index:
    """The index a claim walks: the pending rows in id order. Delivered rows are kept for ever, so without it every
    claim would step over the whole history before it reached the first row due (measured: 0.3 s a claim behind a
    million delivered statements)."""
    pending = text(f"status = '{PENDING}'")
    return Index(name, "id", postgresql_where=pending, sqlite_where=pending)


def claim(model, limit: int, lease_seconds: int, *conditions) -> tuple[list[int], datetime]:
    """Takes up to `limit` due rows for this worker until the returned lease ends; returns their ids in order."""
    rows, lease = claim_rows(model, limit, lease_seconds, *conditions)
    return [row.id for row in rows], lease


def claim_rows(model, limit: int, lease_seconds: int, *conditions, columns: tuple = ()) -> tuple[list, datetime]:
    """Takes up to `limit` due rows for this worker until the returned lease ends, and reads `columns` of them
    (with `id`) in the same statement, ordered by id. On PostgreSQL rows another worker holds are skipped
    (FOR UPDATE SKIP LOCKED); a worker that dies leaves its rows to be claimed again when the lease ends."""
    now = utcnow()
    lease = now + timedelta(seconds=lease_seconds)
    table = model.__table__
    due = (select(table.c.id)
           .where(table.c.status == PENDING, table.c.next_attempt_at <= now,
                  (table.c.claimed_until.is_(None)) | (table.c.claimed_until < now), *conditions)
           .order_by(table.c.id).limit(limit))
    with unit_of_work():
        if db.session.get_bind().dialect.name == "postgresql":
            due = due.with_for_update(skip_locked=True)
        # One round trip: the rows are chosen, leased and read by one UPDATE … RETURNING. The table's own
        # statement, not the model's: the ORM's bulk-update machinery would cost more than the database's work.
        rows = db.session.execute(update(table).where(table.c.id.in_(due.scalar_subquery()))
                                  .values(claimed_until=lease).returning(table.c.id, *columns)).all()
    return sorted(rows, key=lambda row: row.id), lease


def renew(model, ids: list[int], lease: datetime, lease_seconds: int) -> list[int]:
    """Extends this worker's lease on rows just before sending them, inside the caller's unit of work;
    returns those still its own (a batch can outlast its lease on a slow peer, and another worker
    may have claimed a row meanwhile)."""
    if not ids:
        return []
    own = list(db.session.execute(select(model.id).where(
        model.id.in_(ids), model.status == PENDING, model.claimed_until == lease)).scalars())
    if own:
        db.session.execute(update(model).where(model.id.in_(own), model.claimed_until == lease)
                           .values(claimed_until=utcnow() + timedelta(seconds=lease_seconds)))
    return own


def backoff(attempts: int, *, first: float, maximum: float, retry_after: float | None = None) -> float:
    """Seconds until the next try: doubling from `first` up to `maximum`, with ±50 % jitter so that
    many rows failed together do not come back together; a peer's Retry-After wins if later."""
    delay = min(maximum, first * 2 ** max(0, attempts - 1)) * random.uniform(0.5, 1.5)
    return max(delay, retry_after or 0)

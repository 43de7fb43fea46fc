"""Events whose statements the worker writes: stored by the request in its own transaction, expanded later.

The request's unit of work stores the event as one row (`enqueue`), so it is committed with the change it
reports, or not at all, as a statement would be. The worker claims queued events like any outbox rows
(`write_queued`) and builds, checks and stores their statements exactly as the request would have (same ids,
same timestamps: the event's), deleting the rows in the same transaction: one transaction for the whole claim,
since most events are launches of one statement each and a transaction apiece would cost more than the statement.
When any event of a claim cannot be written, the claim is done again one event per transaction, so that event
stays queued with its problem, retried with backoff, and the others go on.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, func, select, update

from ibm_lms import outboxes
from ibm_lms.clock import utcnow
from ibm_lms.events import DomainEvent, codec
from ibm_lms.extensions import db
from ibm_lms.unit_of_work import insert_at_commit, unit_of_work

from . import outbox
from .models import QueuedEvent

PENDING = outboxes.PENDING
# Queued events some attempt failed to write (still pending: tried again at their next_attempt_at).
FAILING = "failing"
LEASE_SECONDS = 120
RETRY_FIRST_SECONDS = 30
RETRY_MAX_SECONDS = 3600
MAX_PROBLEM_CHARS = 2000

log = logging.getLogger(__name__)


def enqueue(event: DomainEvent) -> None:
    """Stores the event when the caller's unit of work commits; the same event published again is kept once."""
    now = utcnow()
    insert_at_commit(QueuedEvent.__table__, {
        "tenant_id": event.tenant_id, "event_id": event.event_id, "kind": codec.kind_of(event),
        "event": codec.to_data(event), "status": PENDING, "attempts": 0, "next_attempt_at": now,
        "claimed_until": None, "created_at": now, "last_problem": None}, ["event_id"])


def write_queued(limit: int) -> int:
    """Writes the statements of up to `limit` queued events that are due; returns how many events it handled."""
    rows, lease = outboxes.claim_rows(QueuedEvent, limit, LEASE_SECONDS,
                                      columns=(QueuedEvent.kind, QueuedEvent.event, QueuedEvent.attempts))
    if not rows:
        return 0
    try:
        with unit_of_work():
            for row in rows:
                _write(row)
            _forget(rows, lease)
    except Exception:
        if current_app.config["XAPI_INVALID_STATEMENTS"] == "raise":
            raise  # the test suite: a statement our code cannot build fails its test
        for row in rows:
            _write_alone(row, lease)
    return len(rows)


def _write(row) -> None:
    event = codec.from_data(row.kind, row.event)
    outbox.WRITERS[type(event)](event)


def _forget(rows, lease) -> None:
    # Only while the lease is ours: a worker that lost it wrote the same statement ids, kept once.
    db.session.execute(delete(QueuedEvent).where(QueuedEvent.id.in_([row.id for row in rows]),
                                                 QueuedEvent.claimed_until == lease))


def _write_alone(row, lease) -> None:
    try:
        with unit_of_work():
            _write(row)
            _forget([row], lease)
    except Exception as error:
        log.exception("xAPI statements of queued %s %s not written", row.kind, row.id)
        _retry_later(row.id, row.attempts + 1, f"{type(error).__name__}: {error}")


def _retry_later(row_id: int, attempts: int, problem: str) -> None:
    delay = outboxes.backoff(attempts, first=RETRY_FIRST_SECONDS, maximum=RETRY_MAX_SECONDS)
    with unit_of_work():
        db.session.execute(update(QueuedEvent).where(QueuedEvent.id == row_id).values(
            attempts=attempts, next_attempt_at=utcnow() + timedelta(seconds=delay), claimed_until=None,
            last_problem=problem[:MAX_PROBLEM_CHARS]))


def counts(tenant_id: int | None = None) -> dict[int, dict[str, int]]:
    """Per academy (or for the one given), queued events waiting for their first try, and those failing."""
    failing = QueuedEvent.attempts > 0
    query = select(QueuedEvent.tenant_id, failing.label("failing"), func.count(QueuedEvent.id)).group_by(
        QueuedEvent.tenant_id, failing)
    if tenant_id is not None:
        query = query.where(QueuedEvent.tenant_id == tenant_id)
    found: dict[int, dict[str, int]] = {}
    for row_tenant, is_failing, number in db.session.execute(query):
        states = found.setdefault(row_tenant, dict.fromkeys((PENDING, FAILING), 0))
        states[FAILING if is_failing else PENDING] += number
    return found

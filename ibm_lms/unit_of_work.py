"""The one way a room's door commits: a unit of work, inside which published domain events reach their subscribers.

A service opens `with unit_of_work():` around everything it changes; the modules below it only
add to the session. Units nest: an inner one joins the outer, and only the outermost commits, or
rolls back when anything inside it raised. `publish` hands an event to the application's
subscribers at once, in that same transaction, so a subscriber's rows (an outbox entry, an audit
record) are committed together with the change the event describes, or not at all.

A subscriber whose row only needs to exist once the unit commits hands it over with `insert_at_commit`: the
row joins the unit's transaction at its end, or, when the unit wrote nothing else (a relaunch whose person
and link were written moments ago), is written alone, one round trip instead of BEGIN, INSERT and COMMIT.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager

from flask import Flask, g
from sqlalchemy import Table

from .database import insert_new, insert_new_alone, session_in_transaction
from .events import DomainEvent, EventBus
from .extensions import app_state, db

# Kept in the application context, as the session is (one per context): asking the session would build one
# for units that write nothing through it.
_DEPTH = "ibm_lms_unit_of_work_depth"
_AT_COMMIT = "ibm_lms_unit_of_work_inserts"


def event_bus(app: Flask | None = None) -> EventBus:
    """The application's bus: rooms subscribe in their init_app, so two apps never share handlers."""
    return app_state("event_bus", EventBus, app=app)


def in_unit_of_work() -> bool:
    return g.get(_DEPTH, 0) > 0


@contextmanager
def unit_of_work() -> Iterator[None]:
    depth = g.get(_DEPTH, 0)
    setattr(g, _DEPTH, depth + 1)
    try:
        yield
        if depth == 0:
            _commit(g.pop(_AT_COMMIT, ()))
    except BaseException:
        if depth == 0:
            g.pop(_AT_COMMIT, None)
            if db.session.registry.has():
                db.session.rollback()
        raise
    finally:
        setattr(g, _DEPTH, depth)


def _commit(inserts: list[tuple[Table, Mapping, tuple[str, ...]]]) -> None:
    # A unit that only read cached values began no transaction: nothing to commit, no round trip.
    if not session_in_transaction():
        if len(inserts) == 1:
            insert_new_alone(*inserts[0])
            return
        if not inserts:
            return
    for table, row, conflict_on in inserts:
        insert_new(table, [row], conflict_on)
    db.session.commit()


def insert_at_commit(table: Table, row: Mapping, conflict_on: Iterable[str]) -> None:
    """INSERT … ON CONFLICT DO NOTHING of one row when the current unit of work commits, in its transaction."""
    if not in_unit_of_work():
        raise RuntimeError(f"a row of {table.name} was handed over outside a unit of work")
    g.setdefault(_AT_COMMIT, []).append((table, row, tuple(conflict_on)))


def publish(event: DomainEvent) -> int:
    """Delivers the event to its subscribers inside the current unit of work; returns how many ran."""
    if not in_unit_of_work():
        # Outside a unit nothing would commit a subscriber's rows with the change: a lost event.
        raise RuntimeError(f"{type(event).__name__} was published outside a unit of work")
    return event_bus().publish(event)

"""The one way a room's door commits: a unit of work, inside which published domain events reach their subscribers.

A service opens `with unit_of_work():` around everything it changes; the modules below it only
add to the session. Units nest: an inner one joins the outer, and only the outermost commits, or
rolls back when anything inside it raised. `publish` hands an event to the application's
subscribers at once, in that same transaction, so a subscriber's rows (an outbox entry, an audit
record) are committed together with the change the event describes, or not at all.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask

from .events import DomainEvent, EventBus
from .extensions import app_state, db

_DEPTH = "ibm_lms.unit_of_work_depth"


def event_bus(app: Flask | None = None) -> EventBus:
    """The application's bus: rooms subscribe in their init_app, so two apps never share handlers."""
    return app_state("event_bus", EventBus, app=app)


def in_unit_of_work() -> bool:
    return db.session.info.get(_DEPTH, 0) > 0


@contextmanager
def unit_of_work() -> Iterator[None]:
    info = db.session.info
    depth = info.get(_DEPTH, 0)
    info[_DEPTH] = depth + 1
    try:
        yield
        # A unit that only read cached values began no transaction: nothing to commit, no round trip.
        if depth == 0 and db.session().in_transaction():
            db.session.commit()
    except BaseException:
        if depth == 0:
            db.session.rollback()
        raise
    finally:
        info[_DEPTH] = depth


def publish(event: DomainEvent) -> int:
    """Delivers the event to its subscribers inside the current unit of work; returns how many ran."""
    if not in_unit_of_work():
        # Outside a unit nothing would commit a subscriber's rows with the change: a lost event.
        raise RuntimeError(f"{type(event).__name__} was published outside a unit of work")
    return event_bus().publish(event)

"""A synchronous publish/subscribe bus; each application holds one (see `unit_of_work.event_bus`).

Handlers run inside the publisher's database transaction and must only add rows
(outbox entries, audit records); network work belongs to workers. A failing handler
fails the publisher's transaction, so an event is never half-recorded.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

from .catalogue import DomainEvent

Handler = Callable[[DomainEvent], None]


class EventBus:
    def __init__(self) -> None:
        self._handlers: dict[type[DomainEvent], list[Handler]] = defaultdict(list)

    def subscribe(self, event_type: type[DomainEvent], handler: Handler) -> None:
        if handler not in self._handlers[event_type]:
            self._handlers[event_type].append(handler)

    def unsubscribe(self, event_type: type[DomainEvent], handler: Handler) -> None:
        if handler in self._handlers[event_type]:
            self._handlers[event_type].remove(handler)

    def publish(self, event: DomainEvent) -> int:
        """Hands the event to every handler of its type or a base type; returns how many ran."""
        ran = 0
        for event_type in type(event).__mro__:
            for handler in list(self._handlers.get(event_type, ())):
                handler(event)
                ran += 1
        return ran


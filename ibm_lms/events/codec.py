"""Events as JSON data and back, for a subscriber that keeps an event to act on it later (in a worker).

Only the catalogue's events are read back, by their class name: a stored payload never names code to run.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from .catalogue import DomainEvent

# Every concrete event of the catalogue, by the name a payload carries.
_KINDS: dict[str, type[DomainEvent]] = {}


def _collect(base: type[DomainEvent]) -> None:
    for kind in base.__subclasses__():
        _KINDS[kind.__name__] = kind
        _collect(kind)


_collect(DomainEvent)


class UnknownEvent(ValueError):
    """A payload that is not one of the catalogue's events as this version writes them."""


def kind_of(event: DomainEvent) -> str:
    return type(event).__name__


def to_data(event: DomainEvent) -> dict[str, Any]:
    """The event's fields as JSON data: the instant as ISO 8601 text, tuples as lists."""
    data = {}
    for entry in dataclasses.fields(event):
        value = getattr(event, entry.name)
        data[entry.name] = value.isoformat() if isinstance(value, datetime) else _plain(value)
    return data


def from_data(kind: str, data: dict[str, Any]) -> DomainEvent:
    """The event `to_data` wrote; UnknownEvent when the kind or its fields are not the catalogue's."""
    event_type = _KINDS.get(kind)
    if event_type is None:
        raise UnknownEvent(f"no event is called {kind!r}")
    names = {entry.name: entry for entry in dataclasses.fields(event_type)}
    if set(data) != set(names):
        raise UnknownEvent(f"{kind} has the fields {sorted(names)}, the data {sorted(data)}")
    values = {}
    for name, value in data.items():
        declared = str(names[name].type)
        if declared == "datetime":
            value = datetime.fromisoformat(value)
        elif declared.startswith("tuple") and isinstance(value, list):
            value = tuple(value)
        values[name] = value
    return event_type(**values)


def _plain(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value

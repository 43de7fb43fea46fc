"""A bounded memo for values made from things that never change (a question version, a valid activity).

A server's threads share one: reads take no lock, a store takes one, and the oldest entry leaves first once the
memo is full. Values must be immutable, or copies the caller cannot change (JSON text, frozen records).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

_MISSING = object()


class Memo(Generic[K, V]):
    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("a memo holds at least one entry")
        self.capacity = capacity
        self._entries: dict[K, V] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: K, default=None):
        return self._entries.get(key, default)

    def put(self, key: K, value: V) -> V:
        with self._lock:
            self._entries[key] = value
            while len(self._entries) > self.capacity:
                del self._entries[next(iter(self._entries))]
        return value

    def get_or_make(self, key: K, make: Callable[[], V]) -> V:
        """The value remembered for `key`, else `make()`'s, remembered. Two threads may both make it once; the
        values are equal by construction, so either may stay."""
        found = self._entries.get(key, _MISSING)
        if found is _MISSING:
            found = self.put(key, make())
        return found

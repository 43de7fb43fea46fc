"""Which keys of a definition its reader used, so that a key no reader knows is reported (pure).

A misspelt key (`time_limit_mins`, `tag` for `tags`) is valid TOML and would otherwise be dropped without a
word, leaving the setting it meant at its default. Readers stay as they are: they read a tracked copy, and any
key of any table that none of them asked for is unknown.
"""

from __future__ import annotations

from typing import Any


class ReadTable(dict):
    """A table that remembers which of its keys were asked for; iterating it (a table of texts by language,
    checked as a whole by its reader) counts as reading every key."""

    __slots__ = ("used", "whole")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.used: set = set()
        self.whole = False

    def get(self, key, default=None):
        self.used.add(key)
        return super().get(key, default)

    def __getitem__(self, key):
        self.used.add(key)
        return super().__getitem__(key)

    def __contains__(self, key) -> bool:
        self.used.add(key)
        return super().__contains__(key)

    def _all(self):
        self.whole = True
        return self

    def keys(self):
        return dict.keys(self._all())

    def items(self):
        return dict.items(self._all())

    def values(self):
        return dict.values(self._all())

    def __iter__(self):
        return dict.__iter__(self._all())


def tracked(value: Any) -> Any:
    """A copy of parsed TOML or JSON whose tables remember what was read."""
    if isinstance(value, dict):
        return ReadTable({key: tracked(inner) for key, inner in dict.items(value)})
    if isinstance(value, list):
        return [tracked(inner) for inner in value]
    return value


def plain(value: Any) -> Any:
    """What a reader built, with any tracked table it kept turned back into a plain dict."""
    if isinstance(value, dict):
        return {key: plain(inner) for key, inner in dict.items(value)}
    if isinstance(value, list):
        return [plain(inner) for inner in value]
    if isinstance(value, tuple):
        return tuple(plain(inner) for inner in value)
    return value


def unread_keys(value: Any, path: tuple = ()) -> list[tuple]:
    """The path of every key that no reader asked for, in the order written."""
    found: list[tuple] = []
    if isinstance(value, ReadTable):
        for key, inner in dict.items(value):
            if not value.whole and key not in value.used:
                found.append((*path, key))
            else:
                found += unread_keys(inner, (*path, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found += unread_keys(inner, (*path, index))
    return found

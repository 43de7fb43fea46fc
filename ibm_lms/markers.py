"""N_ marks a msgid for extraction where it is translated later, when shown; a Phrase is such a msgid said with
its values (pure, imports nothing)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any


def N_(msgid: str) -> str:
    return msgid


class Phrase(str):
    """A sentence in English that remembers its msgid and values, so that a page can say it in its reader's language.

    It is the English text wherever a str goes (logs, the command line, comparisons), and `read(translate)` says it
    in another language; values that are Phrases themselves are read in that language too."""

    msgid: str
    values: Mapping[str, Any]

    def __new__(cls, msgid: str, **values: Any) -> Phrase:
        phrase = super().__new__(cls, msgid % values if values else msgid)
        phrase.msgid, phrase.values = msgid, values
        return phrase

    def read(self, translate: Callable[[str, Mapping[str, Any]], str]) -> str:
        return translate(self.msgid, {name: read(value, translate) for name, value in self.values.items()})


def used_by(msgid: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """The values a msgid's placeholders name: a fix shares its message's values but may use none of them (and
    then may hold a plain "%", as in "%50%", which formatting would misread)."""
    return {name: value for name, value in values.items() if f"%({name})" in msgid}


def read(text: Any, translate: Callable[[str, Mapping[str, Any]], str]) -> Any:
    """A Phrase said through `translate`; any other value as it is."""
    return text.read(translate) if isinstance(text, Phrase) else text

"""Records the item types hand out: an item as authored, a trainee's response read, its score (pure)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ibm_lms.markers import N_, Phrase, used_by

# Localised text: one string per locale, English always present.
Localised = dict[str, str]


@dataclass(frozen=True)
class Item:
    """One exercise or question as its author wrote it; `spec` holds its type's own parts, as plain JSON."""

    key: str
    type: str
    outcomes: tuple[str, ...]
    title: Localised
    prompt: Localised
    feedback: Localised
    spec: dict[str, Any]

    def as_json(self) -> dict:
        return {"key": self.key, "type": self.type, "outcomes": list(self.outcomes), "title": self.title,
                "prompt": self.prompt, "feedback": self.feedback, "spec": self.spec}

    @classmethod
    def from_json(cls, data: dict) -> Item:
        return cls(key=data["key"], type=data["type"], outcomes=tuple(data["outcomes"]), title=data["title"],
                   prompt=data["prompt"], feedback=data["feedback"], spec=data["spec"])


@dataclass(frozen=True)
class Problem:
    """What is wrong in an item's file: where (a key path), what, and how to fix it.

    `message` and `fix` are msgids (marked with N_ where they are prose; a fix that is only a TOML example stays
    as it is) whose %(name)s placeholders take `values`: said as Phrases, they read in English on the command line
    and in logs, and in the reader's language on a page."""

    path: tuple[str | int, ...]
    message: str
    fix: str = ""
    values: tuple[tuple[str, Any], ...] = ()

    @classmethod
    def of(cls, path: tuple[str | int, ...], message: str, fix: str = "", **values: Any) -> Problem:
        return cls(tuple(path), message, fix, tuple(sorted(values.items())))

    def at(self, prefix: tuple[str | int, ...]) -> Problem:
        """The same problem, found inside the part at `prefix`."""
        return Problem((*prefix, *self.path), self.message, self.fix, self.values)

    @property
    def where(self) -> str:
        return ".".join(str(part) for part in self.path) or "(file)"

    def text(self) -> Phrase:
        """What is wrong: English as a str, in a reader's language where a page reads it (markers.read)."""
        return Phrase(self.message, **dict(self.values))

    def fix_text(self) -> Phrase | str:
        return Phrase(self.fix, **used_by(self.fix, dict(self.values))) if self.fix else ""

    def located(self) -> Phrase:
        """'path: what is wrong'."""
        return Phrase(N_("%(where)s: %(problem)s"), where=self.where, problem=self.text())

    def said(self) -> Phrase:
        """'path: what is wrong — how to fix it'."""
        if not self.fix:
            return self.located()
        return Phrase(N_("%(where)s: %(problem)s — %(fix)s"), where=self.where, problem=self.text(),
                      fix=self.fix_text())


class InvalidResponse(ValueError):
    """An answer the item cannot take (an option it does not have, a rating out of range, a missing part).

    `msgid` (marked with N_) and its `values` (Phrases among them are said in the same language) let the page that
    refuses the answer say why in the trainee's language, in words about the answer, not the form. `field` names
    the form field at fault, for logs and tests: str() is the English text after it."""

    def __init__(self, msgid: str, *, field: str | None = None, **values: Any):
        said = Phrase(msgid, **values)
        super().__init__(f"{field}: {said}" if field else said)
        self.msgid, self.values, self.field = msgid, values, field


class MissingValue(InvalidResponse):
    """A part of the answer is not given yet: refused as a final answer, kept as an answer in progress."""


@dataclass(frozen=True)
class Score:
    """A response's score from 0 to 1; `parts` says, per option, step or field, what was right."""

    scaled: float
    success: bool
    parts: dict[str, Any] = field(default_factory=dict)

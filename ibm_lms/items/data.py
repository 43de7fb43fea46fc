"""Records the item types hand out: an item as authored, a trainee's response read, its score (pure)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

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
    """What is wrong in an item's file: where (a key path), what, and how to fix it."""

    path: tuple[str | int, ...]
    message: str
    fix: str = ""

    def describe(self) -> str:
        where = ".".join(str(part) for part in self.path) or "(file)"
        return f"{where}: {self.message}" + (f" — {self.fix}" if self.fix else "")


class InvalidResponse(ValueError):
    """An answer the item cannot take (an option it does not have, a rating out of range, a missing part)."""


class MissingValue(InvalidResponse):
    """A part of the answer is not given yet: refused as a final answer, kept as an answer in progress."""


@dataclass(frozen=True)
class Score:
    """A response's score from 0 to 1; `parts` says, per option, step or field, what was right."""

    scaled: float
    success: bool
    parts: dict[str, Any] = field(default_factory=dict)

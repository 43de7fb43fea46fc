"""The quiz room's records other rooms hand to its door (pure)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class QuestionDraft:
    """A question as an author (a form, the API, an import) submits it: its key, metadata and definition."""

    key: str
    category: str
    tags: tuple[str, ...]
    difficulty: str
    definition: dict = field(hash=False)

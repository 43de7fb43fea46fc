"""An attempt's questions: the quiz's draws resolved against the bank, questions and choices shuffled (pure)."""

from __future__ import annotations

import random
from dataclasses import dataclass

from .settings import QuizSettings

CHOICE_TYPES = ("single_choice", "multiple_response", "dilemma", "mrz_spot")


@dataclass(frozen=True)
class Candidate:
    """A question the bank offers an attempt: its key, current version and what draws filter on."""

    key: str
    version_id: int
    category: str
    tags: tuple[str, ...]
    outcomes: tuple[str, ...]
    difficulty: str
    item_type: str
    choice_ids: tuple[str, ...] = ()


def layout(settings: QuizSettings, candidates: list[Candidate], rng: random.Random) -> list[dict]:
    """The attempt's slots in order: each names a question version and, when shuffled, its choices' order.

    A question is drawn at most once per attempt, whatever draws it matches; a draw the bank can no
    longer fill (questions withdrawn since) gives what it can."""
    by_key = {c.key: c for c in candidates}
    chosen: list[Candidate] = []
    used: set[str] = set()
    for draw in settings.draws:
        if draw.questions:
            picked = [by_key[k] for k in draw.questions if k in by_key and k not in used]
        else:
            pool = sorted((c for c in candidates if c.key not in used and draw.matches(
                c.key, c.category, c.tags, c.outcomes, c.difficulty)), key=lambda c: c.key)
            picked = rng.sample(pool, min(draw.count, len(pool)))
        chosen += picked
        used.update(c.key for c in picked)
    if settings.shuffle_questions:
        rng.shuffle(chosen)
    slots = []
    for candidate in chosen:
        choices = list(candidate.choice_ids)
        if settings.shuffle_choices and candidate.item_type in CHOICE_TYPES:
            rng.shuffle(choices)
        slots.append({"key": candidate.key, "version_id": candidate.version_id,
                      "choices": choices if candidate.item_type in CHOICE_TYPES else []})
    return slots

"""What a trainee's progress means (pure): which lesson comes next, when a module and a course are complete."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence


def next_lesson(order: Sequence[str], completed: set[str], last_seen: str | None) -> str | None:
    """Where to resume: the lesson last opened if it is not finished, else the first unfinished one after it,
    else the first unfinished one at all; None when every lesson is complete."""
    if last_seen in order and last_seen not in completed:
        return last_seen
    start = order.index(last_seen) + 1 if last_seen in order else 0
    for key in (*order[start:], *order[:start]):
        if key not in completed:
            return key
    return None


def completed_modules(modules: Mapping[str, Sequence[str]], completed: set[str]) -> list[str]:
    """The modules every lesson of which is complete, in the course's order."""
    return [key for key, lessons in modules.items() if lessons and set(lessons) <= completed]


def exercise_score(exercises: Iterable[str], best: Mapping[str, float]) -> float:
    """The mean of the best score of every exercise of the course; one never answered counts 0."""
    keys = list(exercises)
    if not keys:
        return 1.0
    return round(sum(best.get(key, 0.0) for key in keys) / len(keys), 4)


def course_complete(lessons: Iterable[str], completed: set[str], score: float, min_score: float) -> bool:
    return set(lessons) <= completed and score >= min_score

"""Indicators from questionnaire answers and course records (pure): counts, means and spreads, with the small
counts that could point to a person hidden wherever more than the person's own academy reads them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from .questionnaires import Questionnaire

# Fewer answers than this are not shown beyond the academy (as the certification counts): with few trainees in
# a course, a mean could be one person's answer.
SHOWN_FROM = 5
# Within the academy, the spread of a statement, its mean and the comments wait for this many answers: the
# trainees are told their answers are read without their name, and one answer on a page is one person's.
ACADEMY_SHOWN_FROM = 3


def statement_summary(questionnaire: Questionnaire, answers: Iterable[Mapping[str, int | None]]) -> dict:
    """Per statement: how many rated it, the mean rating, how many chose each point of the scale and how many
    said it does not apply; and the number of answers and the overall mean (of every rating given)."""
    rows = list(answers)
    statements = {}
    every_rating: list[int] = []
    for statement in questionnaire.statements:
        ratings = [row[statement.key] for row in rows if isinstance(row.get(statement.key), int)]
        every_rating += ratings
        statements[statement.key] = {
            "rated": len(ratings), "mean": _mean(ratings),
            "spread": [sum(1 for rating in ratings if rating == point) for point in range(1, 6)],
            "not_applicable": sum(1 for row in rows if statement.key in row and row[statement.key] is None),
        }
    return {"answers": len(rows), "mean": _mean(every_rating), "statements": statements}


def agreement(summary: dict) -> float | None:
    """The share of ratings that agree (4 or 5), over every statement: the figure most readers look for."""
    agreed = sum(s["spread"][3] + s["spread"][4] for s in summary["statements"].values())
    rated = sum(s["rated"] for s in summary["statements"].values())
    return round(agreed / rated, 3) if rated else None


def completion_rate(started: int, completed: int) -> float | None:
    return round(completed / started, 3) if started else None


def shown_beyond_academy(count: int) -> bool:
    return count == 0 or count >= SHOWN_FROM


def in_whole_groups(rows: list, size: int = SHOWN_FROM) -> list:
    """The oldest rows in whole groups of `size` (rows oldest first): a mean published beyond the academy moves
    only when `size` more people have answered, so two readings a day apart never give one person's answer
    by difference."""
    return rows[: len(rows) - len(rows) % size]


def _mean(values: list[int]) -> float | None:
    return round(sum(values) / len(values), 2) if values else None

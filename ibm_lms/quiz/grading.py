"""Scores of attempts and the quiz grade across them; what a trainee may see of an attempt (pure)."""

from __future__ import annotations

from collections.abc import Sequence


def attempt_score(question_scores: Sequence[float]) -> float:
    """Every question weighs the same (a scenario counts once); unanswered questions score 0."""
    return round(sum(question_scores) / len(question_scores), 4) if question_scores else 0.0


def quiz_grade(scores_in_order: Sequence[float], method: str) -> float | None:
    """The grade over the finished attempts, by the quiz's grading method (Moodle's four)."""
    if not scores_in_order:
        return None
    if method == "highest":
        return max(scores_in_order)
    if method == "last":
        return scores_in_order[-1]
    if method == "first":
        return scores_in_order[0]
    return round(sum(scores_in_order) / len(scores_in_order), 4)


def review_level(after_submit: str, after_close: str, *, attempts_left: bool) -> str:
    """What a finished attempt shows: `after_submit` while the trainee may try again, `after_close` once not."""
    return after_submit if attempts_left else after_close


def attempts_left(allowed: int, used: int) -> bool:
    return allowed == 0 or used < allowed

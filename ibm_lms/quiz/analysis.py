"""Item statistics of a quiz for one academy: its finished attempts as a matrix, Moodle's figures over it,
and the facility of each question per country and per language beside it.

A tenant sees its own trainees' attempts. The comparison across countries shows only each other
country's facility per question, and only where it has enough attempts for no trainee to be told
apart (the regional programme compares anonymised indicators; each country owns its data).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sqlalchemy import select

from ibm_lms.extensions import db
from ibm_lms.items.data import Item

from . import statistics
from .attempts import FINISHED
from .models import Attempt, Question, QuestionVersion, Quiz

WHICH = ("all", "first", "last", "highest")
# Fewer attempts than this from a country or a language and its facility is not shown.
MIN_GROUP_ATTEMPTS = 10


@dataclass(frozen=True)
class Report:
    quiz: statistics.QuizStats
    questions: list[statistics.QuestionStats]
    flags: dict[str, list[str]]
    titles: dict[str, dict]
    types: dict[str, str]
    by_country: dict[str, list[float | None]]
    by_language: dict[str, list[float | None]]
    which: str


def random_guess(item: Item) -> float | None:
    """The score a trainee gets by guessing, as Moodle's question types compute it (None where it has none)."""
    spec = item.spec
    if item.type in ("single_choice", "mrz_spot"):
        choices = spec.get("options") or spec.get("specimens") or ()
        return 1 / len(choices) if choices else None
    if item.type == "true_false":
        return 0.5
    if item.type == "dilemma":
        return sum(option["score"] for option in spec["options"]) / len(spec["options"])
    if item.type == "matching":
        answers = len(spec["pairs"]) + len(spec["distractors"])
        return 1 / answers if answers else None
    if item.type in ("numeric", "short_answer"):
        return 0.0
    return None


def _rows(quiz_ids: list[int], tenant_id: int | None) -> list[tuple]:
    query = select(Attempt.user_id, Attempt.number, Attempt.score, Attempt.tenant_id, Attempt.locale,
                   Attempt.question_scores).where(Attempt.quiz_id.in_(quiz_ids), Attempt.status == FINISHED)
    if tenant_id is not None:
        query = query.where(Attempt.tenant_id == tenant_id)
    return db.session.execute(query.order_by(Attempt.user_id, Attempt.number)).all()


def _chosen(rows: list[tuple], which: str) -> list[tuple]:
    """The attempts counted: all, or one per trainee (first, last or highest-scoring), as Moodle offers."""
    if which == "all":
        return rows
    chosen: dict[tuple[int, int], tuple] = {}
    for row in rows:
        person = (row.tenant_id, row.user_id)
        held = chosen.get(person)
        if held is None or which == "last" or (which == "highest" and row.score > held.score):
            chosen[person] = row
    return list(chosen.values())


def _matrix(rows: list[tuple], keys: list[str]) -> np.ndarray:
    column = {key: j for j, key in enumerate(keys)}
    matrix = np.full((len(rows), len(keys)), np.nan, dtype=np.float32)
    for i, row in enumerate(rows):
        for key, value in (row.question_scores or {}).items():
            j = column.get(key)
            if j is not None:
                matrix[i, j] = value
    return matrix


def report(quiz: Quiz, tenant_id: int, tenant_names: dict[int, str], which: str = "all") -> Report:
    same_key = [q.id for q in db.session.execute(select(Quiz).where(
        Quiz.course_slug == quiz.course_slug, Quiz.key == quiz.key)).scalars()]
    everyone = _chosen(_rows(same_key, None), which)
    own = [row for row in everyone if row.tenant_id == tenant_id]
    keys = sorted({key for row in everyone for key in (row.question_scores or {})})
    items = _items(quiz.course_slug, tenant_id, keys)
    guesses = [random_guess(items[key]) if key in items else None for key in keys]
    matrix = _matrix(own, keys)
    quiz_stats, question_stats = statistics.question_statistics(matrix, np.ones(len(keys)), keys, guesses)
    return Report(quiz_stats, question_stats, {q.key: statistics.flag(q) for q in question_stats},
                  {key: items[key].title for key in items}, {key: items[key].type for key in items},
                  _by_group(everyone, keys, lambda row: tenant_names.get(row.tenant_id, "?")),
                  _by_group(own, keys, lambda row: row.locale), which)


def _by_group(rows: list[tuple], keys: list[str], group_of) -> dict[str, list[float | None]]:
    if not rows or not keys:
        return {}
    labels = [group_of(row) for row in rows]
    names = sorted(set(labels))
    counts = {name: labels.count(name) for name in names}
    shown = [name for name in names if counts[name] >= MIN_GROUP_ATTEMPTS]
    if len(shown) < 2:
        return {}
    kept = [(row, label) for row, label in zip(rows, labels, strict=True) if label in shown]
    matrix = _matrix([row for row, _ in kept], keys)
    return statistics.facility_by_group(matrix, np.ones(len(keys)), np.array([label for _, label in kept]), shown)


def _items(slug: str, tenant_id: int, keys: list[str]) -> dict[str, Item]:
    if not keys:
        return {}
    rows = db.session.execute(
        select(Question.key, Question.bank, QuestionVersion.item)
        .join(QuestionVersion, QuestionVersion.id == Question.current_version_id)
        .where(Question.course_slug == slug, Question.key.in_(keys), Question.bank.in_((0, tenant_id)))
        .order_by(Question.bank)).all()
    return {key: Item.from_json(item) for key, _, item in rows}


def items_by_version_id(version_ids: list[int]) -> dict[int, Item]:
    if not version_ids:
        return {}
    rows = db.session.execute(select(QuestionVersion.id, QuestionVersion.item).where(
        QuestionVersion.id.in_(version_ids))).all()
    return {version_id: Item.from_json(item) for version_id, item in rows}

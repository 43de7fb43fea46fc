"""Item statistics of a quiz for one academy: its finished attempts as a matrix, Moodle's figures over it,
and the facility of each question per country and per language beside it.

A tenant sees its own trainees' attempts. The comparison across countries shows only each other
country's facility per question, and only where it has enough attempts for no trainee to be told
apart (the regional programme compares anonymised indicators; each country owns its data).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from itertools import chain

import numpy as np
from sqlalchemy import Text, cast, select

from ibm_lms.extensions import db
from ibm_lms.items.data import Item

from . import statistics, versions
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


@dataclass(frozen=True)
class _Attempts:
    """Every counted attempt of the quiz, in every academy, as columns: one matrix (attempts × questions, NaN where
    a question was not drawn) and, per attempt, the academy, the language and the person."""

    matrix: np.ndarray
    keys: list[str]
    tenants: np.ndarray
    locales: np.ndarray


# Attempts are read and turned into matrix cells this many at a time: memory holds one chunk of rows, not all.
CHUNK = 20000


def _read(quiz_ids: list[int], which: str) -> _Attempts:
    """Streams the counted attempts once, chunk by chunk, into (attempt, question, score) cells; the matrix is made
    from the cells at the end, its columns in the questions' key order."""
    # The score maps as the database holds their JSON text, parsed a chunk at a time in one call.
    query = (select(Attempt.user_id, Attempt.score, Attempt.tenant_id, Attempt.locale,
                    cast(Attempt.question_scores, Text))
             .where(Attempt.quiz_id.in_(quiz_ids), Attempt.status == FINISHED)
             .execution_options(yield_per=CHUNK))
    if which != "all":
        # Only a choice among a person's attempts needs them together; sorting every wide row costs the database
        # more than the whole read otherwise.
        query = query.order_by(Attempt.tenant_id, Attempt.user_id, Attempt.number)
    column: dict[str, int] = {}
    cells: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    tenants: list[int] = []
    locales: list[str] = []
    texts: list[str] = []

    def flush() -> None:
        chunk = json.loads("[" + ",".join(texts) + "]")
        texts.clear()
        # The chunk's keys and values are walked at C speed (chain, map), not cell by cell in Python.
        keys = list(chain.from_iterable(chunk))
        for key in set(keys).difference(column):
            column[key] = len(column)
        lengths = np.fromiter(map(len, chunk), dtype=np.int64, count=len(chunk))
        first = len(tenants) - len(chunk)
        cells.append((np.repeat(np.arange(first, len(tenants), dtype=np.int32), lengths),
                      np.fromiter(map(column.__getitem__, keys), dtype=np.int32, count=len(keys)),
                      np.fromiter(chain.from_iterable(map(dict.values, chunk)), dtype=np.float32, count=len(keys))))

    for row in _counted(db.session.execute(query), which):
        texts.append(row[4] if row[4] and row[4] != "null" else "{}")
        tenants.append(row[2])
        locales.append(row[3] or "")
        if len(texts) == CHUNK:
            flush()
    if texts:
        flush()
    keys = sorted(column)
    order = np.empty(len(column), dtype=np.int32)
    order[[column[key] for key in keys]] = np.arange(len(keys), dtype=np.int32)
    matrix = np.full((len(tenants), len(keys)), np.nan, dtype=np.float32)
    for rows, columns, values in cells:
        matrix[rows, order[columns]] = values
    return _Attempts(matrix, keys, np.array(tenants, dtype=np.int64), np.array(locales, dtype=object))


def _counted(rows, which: str):
    """The attempts counted: all, or one per trainee (first, last or highest-scoring), as Moodle offers. The rows
    come ordered by academy, person and attempt number, so a person's attempts are together."""
    if which == "all":
        yield from rows
        return
    person, held = None, None
    for row in rows:
        if (row[2], row[0]) != person:
            if held is not None:
                yield held
            person, held = (row[2], row[0]), row
        elif which == "last" or (which == "highest" and row[1] > held[1]):
            held = row
    if held is not None:
        yield held


def report(quiz: Quiz, tenant_id: int, tenant_names: dict[int, str], which: str = "all") -> Report:
    same_key = [q.id for q in db.session.execute(select(Quiz).where(
        Quiz.course_slug == quiz.course_slug, Quiz.key == quiz.key)).scalars()]
    everyone = _read(same_key, which)
    keys = everyone.keys
    own = everyone.tenants == tenant_id
    items = _items(quiz.course_slug, tenant_id, keys)
    guesses = [random_guess(items[key]) if key in items else None for key in keys]
    matrix = everyone.matrix[own]
    quiz_stats, question_stats = statistics.question_statistics(matrix, np.ones(len(keys)), keys, guesses)
    countries = np.array([tenant_names.get(int(t), "?") for t in everyone.tenants], dtype=object)
    return Report(quiz_stats, question_stats, {q.key: statistics.flag(q) for q in question_stats},
                  {key: items[key].title for key in items}, {key: items[key].type for key in items},
                  _by_group(everyone.matrix, keys, countries),
                  _by_group(matrix, keys, everyone.locales[own]), which)


def _by_group(matrix: np.ndarray, keys: list[str], labels: np.ndarray) -> dict[str, list[float | None]]:
    if not len(labels) or not keys:
        return {}
    labels = labels.astype(str)
    names, counts = np.unique(labels, return_counts=True)
    shown = [str(name) for name, count in zip(names, counts, strict=True) if count >= MIN_GROUP_ATTEMPTS]
    if len(shown) < 2:
        return {}
    kept = np.isin(labels, shown)
    return statistics.facility_by_group(matrix[kept], np.ones(len(keys)), labels[kept], shown)


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
    return {version_id: version.item for version_id, version in versions.versions_of(version_ids).items()}

"""Question and quiz versions as attempts use them: read and parsed once per application.

A version never changes once written (editing makes a new one, and past attempts keep theirs), so what an
autosave, an attempt page, a submission or its statements need of it (the item or the quiz's settings, its
number) is kept in a memo that belongs to the application. The ids come from an attempt's own layout or answers,
or from a quiz the trainee's academy can see, already checked by the caller.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select

from ibm_lms.extensions import app_state, db
from ibm_lms.items.data import Item
from ibm_lms.memo import Memo

from .models import QuestionVersion, QuizVersion
from .settings import QuizSettings

# Forty questions an exam, a few banks per academy in use at once: room for every version a server meets in a day.
CAPACITY = 8192
# A few dozen quizzes a course, edited now and then.
QUIZ_CAPACITY = 1024


@dataclass(frozen=True)
class Version:
    id: int
    number: int
    item: Item


def _memo() -> Memo[int, Version]:
    return app_state("quiz.question_versions", lambda: Memo(CAPACITY))


def quiz_settings(version_id: int) -> tuple[QuizSettings, int]:
    """A quiz version's settings and its number."""
    def read() -> tuple[QuizSettings, int]:
        number, settings = db.session.execute(select(QuizVersion.number, QuizVersion.settings).where(
            QuizVersion.id == version_id)).one()
        return QuizSettings.from_json(settings), number
    return app_state("quiz.quiz_versions", lambda: Memo(QUIZ_CAPACITY)).get_or_make(version_id, read)


def versions_of(version_ids: Iterable[int]) -> dict[int, Version]:
    """The versions asked for that exist, by id; those not yet in the memo are read in one query."""
    memo = _memo()
    found: dict[int, Version] = {}
    missing = []
    for version_id in dict.fromkeys(version_ids):
        known = memo.get(version_id)
        if known is None:
            missing.append(version_id)
        else:
            found[version_id] = known
    if missing:
        for version_id, number, item in db.session.execute(select(
                QuestionVersion.id, QuestionVersion.number, QuestionVersion.item).where(
                QuestionVersion.id.in_(missing))):
            found[version_id] = memo.put(version_id, Version(version_id, number, Item.from_json(item)))
    return found


def item_of(version_id: int) -> Item:
    return versions_of([version_id])[version_id].item

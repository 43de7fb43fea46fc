"""A course folder's question bank (questions/) and quizzes (quizzes/): read, checked, stored as versions.

Checked with the course by `content check` and stored with it by `content load` (a content
CoursePart), so a course and its bank load together or not at all. A question or quiz whose file
did not change keeps its version; one that changed gets a new version, and attempts keep theirs.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, insert, select

from ibm_lms.clock import utcnow
from ibm_lms.content.data import ContentProblem, CourseDefinition
from ibm_lms.content.service import read_toml, toml_line
from ibm_lms.extensions import db
from ibm_lms.items.service import Item, Problem, localised, localised_texts, parse_item
from ibm_lms.markers import N_
from ibm_lms.text import is_bounded_text

from .models import SHARED_BANK, Question, QuestionCategory, QuestionVersion, Quiz, QuizVersion
from .settings import QuizSettings, check_settings

ID = re.compile(r"[a-z0-9][a-z0-9-]{0,63}\Z")
DIFFICULTIES = ("easy", "medium", "hard")
MAX_TAGS = 20
# The course folder's file naming the bank's categories in each locale.
CATEGORY_NAMES_FILE = "question-categories.toml"
MAX_CATEGORY_NAME = 120
# A bank question's own keys besides its item's, read by question_metadata.
METADATA_KEYS = ("category", "tags", "difficulty")


@dataclass(frozen=True)
class BankQuestion:
    item: Item
    category: str
    tags: tuple[str, ...]
    difficulty: str
    # The definition as written (the question file's table): what an author edits and translates.
    definition: dict = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True)
class FolderBank:
    questions: dict[str, BankQuestion]
    quizzes: dict[str, QuizSettings]
    # Each category's name by locale (question-categories.toml).
    category_names: dict[str, dict[str, str]] = field(default_factory=dict)


def fingerprint(value) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def question_metadata(raw: dict, problems: list[Problem]) -> tuple[str, tuple[str, ...], str]:
    """A bank question's category, tags and difficulty; what is wrong goes into `problems`."""
    category, tags, difficulty = raw.get("category"), raw.get("tags", []), raw.get("difficulty")
    if not isinstance(category, str) or not ID.fullmatch(category):
        problems.append(Problem.of(("category",), N_("must be lower-case letters, digits and hyphens"),
                                   'category = "mrz"'))
    if not isinstance(tags, list) or len(tags) > MAX_TAGS or not all(
            isinstance(t, str) and is_bounded_text(t, 64) for t in tags):
        problems.append(Problem.of(("tags",), N_("must be a list of at most %(count)d short labels"),
                                   'tags = ["td3", "pre-test"]', count=MAX_TAGS))
        tags = []
    if difficulty not in DIFFICULTIES:
        problems.append(Problem.of(("difficulty",), N_("must be easy, medium or hard"), 'difficulty = "medium"'))
    return category, tuple(tags), difficulty


def _definition_files(folder: Path, kind: str, problems: list[ContentProblem]):
    """(path, table, text) of each readable <id>.toml in the folder, in name order; the others go to `problems`."""
    for path in sorted(folder.glob("*")) if folder.is_dir() else ():
        if path.suffix != ".toml" or not ID.fullmatch(path.stem):
            problems.append(ContentProblem(str(path), None, f"a {kind} file is named <{kind}-id>.toml",
                                           "use lower-case letters, digits and hyphens, and the .toml ending"))
            continue
        raw, text, problem = read_toml(path)
        if problem is not None:
            problems.append(problem)
            continue
        yield path, raw, text


def read(course: CourseDefinition, folder: Path) -> tuple[FolderBank, list[ContentProblem]]:
    """Every question and quiz of the folder, and every problem with its file and line."""
    problems: list[ContentProblem] = []
    codes = {o["code"] for o in course.outcomes}
    questions: dict[str, BankQuestion] = {}
    for path, raw, text in _definition_files(folder / "questions", "question", problems):
        item, found = parse_item(path.stem, raw, also=METADATA_KEYS)
        category, tags, difficulty = question_metadata(raw, found)
        for code in item.outcomes if item else ():
            if code not in codes:
                found.append(Problem.of(("outcomes",), N_("the outcome %(code)s is not one of the course's"),
                                        N_("use one of: %(codes)s"), code=repr(code), codes=", ".join(sorted(codes))))
        for p in found:
            problems.append(ContentProblem(str(path), toml_line(text, p.path), p.located(), p.fix_text()))
        if item is not None and not found:
            questions[item.key] = BankQuestion(item, category, tags, difficulty, raw)
    quizzes: dict[str, QuizSettings] = {}
    for path, raw, text in _definition_files(folder / "quizzes", "quiz", problems):
        settings, found = check_settings(raw, questions)
        for p in found:
            problems.append(ContentProblem(str(path), toml_line(text, p.path), p.located(), p.fix_text()))
        if settings is not None and not found:
            quizzes[path.stem] = settings
    if (folder / "questions").is_dir() and len(questions) < 40:
        problems.append(ContentProblem(str(folder / "questions"), None, f"the bank has {len(questions)} questions",
                                       "a course's bank has at least 40", warning=True))
    names = _category_names(folder / CATEGORY_NAMES_FILE, {q.category for q in questions.values()}, problems)
    return FolderBank(questions, quizzes, names), problems


def _category_names(path: Path, used: set[str], problems: list[ContentProblem]) -> dict[str, dict[str, str]]:
    """Each category's names by locale. A category the questions use without a name is a warning (the bank
    shows its id), and so is a name no question's category uses (a misspelt id)."""
    if not path.is_file():
        if used:
            problems.append(ContentProblem(str(path), None, "the question categories have no names",
                                           f'add {CATEGORY_NAMES_FILE} with a table per category, such as '
                                           f'[{min(used)}] en = "…"', warning=True))
        return {}
    raw, text, problem = read_toml(path)
    if problem is not None:
        problems.append(problem)
        return {}
    names: dict[str, dict[str, str]] = {}
    for category, value in raw.items():
        found: list[Problem] = []
        if not ID.fullmatch(category):
            found.append(Problem.of((category,), N_("must be lower-case letters, digits and hyphens"),
                                    N_("use the category as the questions write it")))
        texts = localised(value, (category,), found)
        for locale, name in texts.items():
            if len(name) > MAX_CATEGORY_NAME or "\n" in name:
                found.append(Problem.of((category, locale), N_("must be one line of at most %(limit)s characters"),
                                        N_("shorten the name"), limit=MAX_CATEGORY_NAME))
        for p in found:
            problems.append(ContentProblem(str(path), toml_line(text, p.path), p.located(), p.fix_text()))
        if not found:
            names[category] = texts
        if category not in used:
            problems.append(ContentProblem(str(path), toml_line(text, (category,)),
                                           f"no question is in the category {category!r}",
                                           "write the category as the questions do, or remove its names",
                                           warning=True))
    for category in sorted(used - set(raw)):
        problems.append(ContentProblem(str(path), None, f"the category {category!r} has no name",
                                       f'add [{category}] with en = "…"', warning=True))
    return names


def texts_of(bank: FolderBank) -> list[dict[str, str]]:
    """Every localised text of the bank's questions and quizzes, for the course's translation coverage."""
    found = [texts for question in bank.questions.values() for texts in localised_texts(question.item)]
    for settings in bank.quizzes.values():
        found += [settings.title, settings.description]
    return found + list(bank.category_names.values())


def version_of(model, owner_column: str, owner_id: int, values: dict, version_print: str, now) -> int:
    column = getattr(model, owner_column)
    found = db.session.execute(select(model.id).where(column == owner_id, model.fingerprint == version_print)).first()
    if found is not None:
        return found.id
    number = (db.session.execute(select(func.max(model.number)).where(column == owner_id)).scalar_one() or 0) + 1
    return db.session.execute(insert(model).values(**{owner_column: owner_id}, number=number,
                                                   fingerprint=version_print, created_at=now, **values)
                              .returning(model.id)).scalar_one()


def store(course: CourseDefinition, bank: FolderBank, tenant_id: int | None) -> bool:
    """Writes what changed of the folder's bank and quizzes; returns whether anything was written."""
    bank_id = tenant_id or SHARED_BANK
    now = utcnow()
    changed = False
    existing = {q.key: q for q in db.session.execute(
        select(Question).where(Question.bank == bank_id, Question.course_slug == course.slug)).scalars()}
    current_prints = dict(db.session.execute(
        select(QuestionVersion.question_id, QuestionVersion.fingerprint).where(
            QuestionVersion.id.in_([q.current_version_id for q in existing.values() if q.current_version_id])
        )).all()) if existing else {}
    for key, question in bank.questions.items():
        item = question.item.as_json()
        metadata = {"category": question.category, "tags": list(question.tags), "difficulty": question.difficulty,
                    "outcomes": list(question.item.outcomes)}
        version_print = fingerprint({"item": item, **metadata})
        row = existing.get(key)
        if row is not None and current_prints.get(row.id) == version_print and row.archived_at is None:
            continue
        changed = True
        if row is None:
            row = Question(bank=bank_id, tenant_id=tenant_id, course_slug=course.slug, key=key, origin="course",
                           created_at=now, updated_at=now, **metadata)
            db.session.add(row)
            db.session.flush()
        for name, value in metadata.items():
            setattr(row, name, value)
        row.current_version_id = version_of(QuestionVersion, "question_id", row.id,
                                            {"item": item, "definition": question.definition}, version_print, now)
        row.updated_at, row.archived_at = now, None
    for key, row in existing.items():
        if key not in bank.questions and row.archived_at is None and row.origin == "course":
            row.archived_at, changed = now, True
    quizzes = {q.key: q for q in db.session.execute(
        select(Quiz).where(Quiz.bank == bank_id, Quiz.course_slug == course.slug)).scalars()}
    quiz_prints = dict(db.session.execute(select(QuizVersion.quiz_id, QuizVersion.fingerprint).where(
        QuizVersion.id.in_([q.current_version_id for q in quizzes.values() if q.current_version_id])
    )).all()) if quizzes else {}
    for key, settings in bank.quizzes.items():
        values = settings.as_json()
        version_print = fingerprint(values)
        row = quizzes.get(key)
        if row is not None and quiz_prints.get(row.id) == version_print and row.archived_at is None:
            continue
        changed = True
        if row is None:
            row = Quiz(bank=bank_id, tenant_id=tenant_id, course_slug=course.slug, key=key, origin="course",
                       created_at=now, updated_at=now)
            db.session.add(row)
            db.session.flush()
        row.current_version_id = version_of(QuizVersion, "quiz_id", row.id, {"settings": values}, version_print, now)
        row.updated_at, row.archived_at = now, None
    for key, row in quizzes.items():
        if key not in bank.quizzes and row.archived_at is None and row.origin == "course":
            row.archived_at, changed = now, True
    return _store_category_names(course.slug, bank.category_names, bank_id) or changed


def _store_category_names(slug: str, names: dict[str, dict[str, str]], bank_id: int) -> bool:
    rows = {row.category: row for row in db.session.execute(select(QuestionCategory).where(
        QuestionCategory.bank == bank_id, QuestionCategory.course_slug == slug)).scalars()}
    changed = False
    for category, texts in names.items():
        row = rows.pop(category, None)
        if row is None:
            db.session.add(QuestionCategory(bank=bank_id, course_slug=slug, category=category, names=texts))
            changed = True
        elif row.names != texts:
            row.names, changed = texts, True
    for row in rows.values():
        db.session.delete(row)
        changed = True
    return changed

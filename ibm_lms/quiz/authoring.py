"""Writing a tenant's bank: questions and quizzes authored, translated, copied from the shared bank, imported.

Everything writes into the caller's unit of work. A tenant writes only its own bank; the shared
regional bank comes from course folders (`content load`). A question of the tenant's bank with the
key of a shared one stands in for it in that tenant's quizzes (a copy made to adapt it). Saving
makes a new version only when something changed; attempts keep the versions they drew.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from ibm_lms.clock import utcnow
from ibm_lms.content import service as content
from ibm_lms.extensions import db
from ibm_lms.items.service import Item, Problem, parse_item
from ibm_lms.markers import N_, Phrase
from ibm_lms.tenancy.data import Identity

from . import images
from .banks import ID, METADATA_KEYS, BankQuestion, fingerprint, question_metadata, version_of
from .data import QuestionDraft
from .errors import EditConflict, QuestionNotFound, QuizNotFound
from .models import SHARED_BANK, Question, QuestionCategory, QuestionVersion, Quiz, QuizVersion
from .settings import QuizSettings, check_settings
from .texts import clean_texts, localised_texts

AUTHORED, IMPORTED, COPIED = "authored", "imported", "copied"


@dataclass(frozen=True)
class QuestionRecord:
    key: str
    bank: int
    origin: str
    category: str
    tags: tuple[str, ...]
    difficulty: str
    outcomes: tuple[str, ...]
    version: int
    item: Item
    definition: dict = field(hash=False)
    archived: bool = False

    @property
    def shared(self) -> bool:
        return self.bank == SHARED_BANK


def check(slug: str, tenant_id: int, draft: QuestionDraft) -> tuple[BankQuestion | None, list[Problem]]:
    """The draft as a bank question, or every problem with the key path it sits at."""
    problems: list[Problem] = []
    if not isinstance(draft.key, str) or not ID.fullmatch(draft.key):
        problems.append(Problem.of(("key",), N_("must be lower-case letters, digits and hyphens (at most 64)"),
                                   N_("for example ds-q-check-digit-count")))
    definition = clean_texts(draft.definition)
    item, found = parse_item(draft.key, definition, also=METADATA_KEYS)
    problems += found
    category, tags, difficulty = question_metadata(
        # Tags that are not a list (a number, a word) are a problem question_metadata names, not letters to split.
        {"category": draft.category, "tags": list(draft.tags) if isinstance(draft.tags, (list, tuple)) else draft.tags,
         "difficulty": draft.difficulty}, problems)
    codes = content.course_outcome_codes(slug, tenant_id)
    written = definition.get("outcomes") if isinstance(definition.get("outcomes"), list) else []
    for code in (c for c in written if isinstance(c, str)):
        if code not in codes:
            problems.append(Problem.of(("outcomes",), N_("the outcome %(code)s is not one of the course's"),
                                       N_("use one of: %(codes)s"), code=repr(code), codes=", ".join(sorted(codes))))
    unknown = images.missing(tenant_id, [text for _, value in localised_texts(definition) for text in value.values()])
    if unknown:
        problems.append(Problem.of(("prompt",), N_("refers to images not uploaded: %(images)s"),
                                   N_("upload the image on this page and paste the line it gives"),
                                   images=", ".join(d[:12] for d in unknown)))
    if problems or item is None:
        return None, problems
    return BankQuestion(item, category, tags, difficulty, definition), []


def save_question(identity: Identity, slug: str, draft: QuestionDraft, *, base_version: int | None = None,
                  origin: str = AUTHORED, new: bool = False) -> tuple[QuestionRecord | None, list[Problem]]:
    """Saves the draft in the tenant's bank as a new version (none if nothing changed).

    `base_version` is the version the author started from: if someone saved another since, the save
    is refused (EditConflict) rather than silently overwriting their work. A `new` question may not take
    the key of one the course's bank already has, the tenant's own or a shared one."""
    question, problems = check(slug, identity.tenant_id, draft)
    if question is None:
        return None, problems
    now = utcnow()
    row = _own_question(slug, draft.key, identity.tenant_id)
    if new and (row is not None or _shared_question(slug, draft.key) is not None):
        return None, [Problem.of(("key",), N_("%(key)s is already the id of a question in this course's bank"),
                                 N_("choose another id, or open that question to edit or copy it"),
                                 key=repr(draft.key))]
    if row is not None and base_version is not None and _number(row.current_version_id) != base_version:
        raise EditConflict(version=_number(row.current_version_id))
    if row is None:
        row = Question(bank=identity.tenant_id, tenant_id=identity.tenant_id, course_slug=slug, key=draft.key,
                       origin=origin, created_at=now, updated_at=now, category=question.category, tags=[],
                       difficulty=question.difficulty, outcomes=[])
        shared = _shared_question(slug, draft.key)
        row.copied_from_id = shared.id if shared is not None else None
        db.session.add(row)
        db.session.flush()
    _set_version(row, question, identity.user_id or None, now)
    return record_of(row), []


def copy_shared(identity: Identity, slug: str, key: str) -> QuestionRecord:
    """The tenant's own copy of a shared question, made if it has none, to adapt and translate."""
    own = _own_question(slug, key, identity.tenant_id)
    if own is not None and own.archived_at is None:
        return record_of(own)
    shared = _shared_question(slug, key)
    if shared is None or shared.archived_at is not None:
        raise QuestionNotFound()
    version = db.session.get(QuestionVersion, shared.current_version_id)
    draft = QuestionDraft(key, shared.category, tuple(shared.tags), shared.difficulty, version.definition)
    record, _ = save_question(identity, slug, draft, origin=COPIED)
    if record is None:  # the shared question was valid when loaded; the course's outcomes changed since
        raise QuestionNotFound()
    return record


def archive_question(identity: Identity, slug: str, key: str) -> None:
    """Withdraws a question of the tenant's bank from future draws; attempts that drew it keep it."""
    row = _own_question(slug, key, identity.tenant_id)
    if row is None or row.archived_at is not None:
        raise QuestionNotFound()
    row.archived_at = row.updated_at = utcnow()


def own_keys(slug: str, tenant_id: int, keys: list[str]) -> set[str]:
    """Which of `keys` the tenant's own bank of the course already has."""
    return set(db.session.execute(select(Question.key).where(
        Question.bank == tenant_id, Question.course_slug == slug, Question.key.in_(keys or [""]))).scalars())


def import_questions(identity: Identity, slug: str, drafts: list[QuestionDraft]) -> list[QuestionRecord]:
    """Saves every draft or, if any has a problem, none (the caller's unit of work rolls back).

    Returns the records; raises ImportRefused with every problem, each named by its draft's key."""
    from .errors import ImportRefused

    problems: list[str] = []
    checked = []
    for draft in drafts:
        question, found = check(slug, identity.tenant_id, draft)
        problems += [Phrase(N_("%(key)s: %(problem)s"), key=draft.key, problem=p.said()) for p in found]
        checked.append(question)
    if problems:
        raise ImportRefused(problems=tuple(problems))
    return [save_question(identity, slug, draft, origin=IMPORTED)[0] for draft in drafts]


def save_quiz(identity: Identity, slug: str, key: str, settings: dict, *,
              base_version: int | None = None) -> tuple[QuizSettings | None, list[Problem]]:
    """Saves a quiz of the tenant's bank from its settings (the quiz file's table), checked against the
    questions the tenant's quizzes can draw."""
    problems: list[Problem] = []
    if not isinstance(key, str) or not ID.fullmatch(key):
        problems.append(Problem.of(("key",), N_("must be lower-case letters, digits and hyphens (at most 64)"),
                                   N_("for example final-exam")))
    checked, found = check_settings(clean_texts(settings), bank_view(slug, identity.tenant_id))
    problems += found
    if problems or checked is None:
        return None, problems
    now = utcnow()
    row = db.session.execute(select(Quiz).where(Quiz.bank == identity.tenant_id, Quiz.course_slug == slug,
                                                Quiz.key == key)).scalar_one_or_none()
    if row is not None and base_version is not None and _quiz_number(row.current_version_id) != base_version:
        raise EditConflict(version=_quiz_number(row.current_version_id))
    if row is None:
        row = Quiz(bank=identity.tenant_id, tenant_id=identity.tenant_id, course_slug=slug, key=key,
                   origin=AUTHORED, created_at=now, updated_at=now)
        db.session.add(row)
        db.session.flush()
    values = checked.as_json()
    row.current_version_id = version_of(QuizVersion, "quiz_id", row.id, {"settings": values}, fingerprint(values), now)
    row.updated_at, row.archived_at = now, None
    return checked, []


def archive_quiz(identity: Identity, slug: str, key: str) -> None:
    row = db.session.execute(select(Quiz).where(Quiz.bank == identity.tenant_id, Quiz.course_slug == slug,
                                                Quiz.key == key, Quiz.archived_at.is_(None))).scalar_one_or_none()
    if row is None:
        raise QuizNotFound()
    row.archived_at = row.updated_at = utcnow()


def bank_view(slug: str, tenant_id: int) -> dict[str, BankQuestion]:
    """The questions a tenant's quizzes of the course draw from: the shared ones, its own in their place."""
    rows = db.session.execute(
        select(Question, QuestionVersion.item, QuestionVersion.definition)
        .join(QuestionVersion, QuestionVersion.id == Question.current_version_id)
        .where(Question.course_slug == slug, Question.archived_at.is_(None),
               Question.bank.in_((SHARED_BANK, tenant_id)))
        .order_by(Question.bank)).all()
    return {question.key: BankQuestion(Item.from_json(item), question.category, tuple(question.tags),
                                       question.difficulty, definition)
            for question, item, definition in rows}


def category_names(slug: str, tenant_id: int) -> dict[str, dict[str, str]]:
    """The course's categories' names by locale: the shared bank's, a tenant's own course folder's in their place."""
    rows = db.session.execute(
        select(QuestionCategory.category, QuestionCategory.names)
        .where(QuestionCategory.course_slug == slug, QuestionCategory.bank.in_((SHARED_BANK, tenant_id)))
        .order_by(QuestionCategory.bank)).all()
    return {category: names for category, names in rows}


def questions(slug: str, tenant_id: int, *, include_archived: bool = False) -> list[QuestionRecord]:
    """The course's questions a tenant sees: shared ones, and its own (its copies listed in their place)."""
    query = (select(Question).where(Question.course_slug == slug, Question.bank.in_((SHARED_BANK, tenant_id)))
             .order_by(Question.key, Question.bank))
    if not include_archived:
        query = query.where(Question.archived_at.is_(None))
    found: dict[str, Question] = {}
    for row in db.session.execute(query).scalars():
        found[row.key] = row  # ordered by bank: the tenant's own comes last and stands in
    return [record_of(row) for row in found.values()]


def question(slug: str, key: str, tenant_id: int) -> QuestionRecord:
    """The question as the bank lists it: a withdrawn copy gives way to the shared question again, a withdrawn
    question of the academy's own is not there (saving it again brings it back)."""
    own = _own_question(slug, key, tenant_id)
    row = own if own is not None and own.archived_at is None else _shared_question(slug, key)
    if row is None or row.archived_at is not None:
        raise QuestionNotFound()
    return record_of(row)


def record_of(row: Question) -> QuestionRecord:
    version = db.session.get(QuestionVersion, row.current_version_id)
    return QuestionRecord(row.key, row.bank, row.origin, row.category, tuple(row.tags), row.difficulty,
                          tuple(row.outcomes), version.number, Item.from_json(version.item), version.definition,
                          archived=row.archived_at is not None)


def _set_version(row: Question, question: BankQuestion, user_id: int | None, now) -> None:
    item = question.item.as_json()
    metadata = {"category": question.category, "tags": list(question.tags), "difficulty": question.difficulty,
                "outcomes": list(question.item.outcomes)}
    for name, value in metadata.items():
        setattr(row, name, value)
    row.current_version_id = version_of(QuestionVersion, "question_id", row.id,
                                        {"item": item, "definition": question.definition, "created_by": user_id},
                                        fingerprint({"item": item, **metadata}), now)
    row.updated_at, row.archived_at = now, None


def _own_question(slug: str, key: str, tenant_id: int) -> Question | None:
    return db.session.execute(select(Question).where(
        Question.bank == tenant_id, Question.course_slug == slug, Question.key == key)).scalar_one_or_none()


def _shared_question(slug: str, key: str) -> Question | None:
    return db.session.execute(select(Question).where(
        Question.bank == SHARED_BANK, Question.course_slug == slug, Question.key == key)).scalar_one_or_none()


def _number(version_id: int | None) -> int:
    return db.session.get(QuestionVersion, version_id).number if version_id else 0


def _quiz_number(version_id: int | None) -> int:
    return db.session.get(QuizVersion, version_id).number if version_id else 0

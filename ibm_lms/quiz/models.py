"""Quiz tables: question banks and quizzes as immutable versions, attempts and their autosaved answers.

A bank is the shared regional bank (bank 0, no tenant) or one tenant's private bank (bank = the
tenant's id); keys are unique within a bank's course. Attempts and answers always carry their tenant.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ibm_lms.extensions import db

SHARED_BANK = 0


class Question(db.Model):
    __tablename__ = "quiz_questions"
    __table_args__ = (UniqueConstraint("bank", "course_slug", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    bank: Mapped[int] = mapped_column(Integer, index=True)
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id"), index=True)
    course_slug: Mapped[str | None] = mapped_column(String(64), index=True)
    key: Mapped[str] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(64))
    tags: Mapped[list] = mapped_column(JSON, default=list)
    difficulty: Mapped[str] = mapped_column(String(8))
    outcomes: Mapped[list] = mapped_column(JSON, default=list)
    current_version_id: Mapped[int | None] = mapped_column(Integer)
    # Where it came from: a course folder, written in the tool, imported from a file, copied from the shared bank.
    origin: Mapped[str] = mapped_column(String(16))
    copied_from_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    archived_at: Mapped[datetime | None]


class QuestionCategory(db.Model):
    """A category's name in each locale, as a course folder's question-categories.toml gives it: instructors filter the
    bank and build quizzes by category, and read its name, not its id. A category without a row shows its id."""

    __tablename__ = "quiz_categories"
    __table_args__ = (UniqueConstraint("bank", "course_slug", "category"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    bank: Mapped[int] = mapped_column(Integer)
    course_slug: Mapped[str] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(64))
    names: Mapped[dict] = mapped_column(JSON)


class QuestionVersion(db.Model):
    """A question as attempts saw it: editing makes a new version, and past attempts keep theirs."""

    __tablename__ = "quiz_question_versions"
    __table_args__ = (UniqueConstraint("question_id", "number"), UniqueConstraint("question_id", "fingerprint"))

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("quiz_questions.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    fingerprint: Mapped[str] = mapped_column(String(64))
    item: Mapped[dict] = mapped_column(JSON)
    # The definition as its author wrote it (course-format table), kept to edit and translate.
    definition: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime]
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class Quiz(db.Model):
    __tablename__ = "quizzes"
    __table_args__ = (UniqueConstraint("bank", "course_slug", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    bank: Mapped[int] = mapped_column(Integer, index=True)
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id"), index=True)
    course_slug: Mapped[str] = mapped_column(String(64), index=True)
    key: Mapped[str] = mapped_column(String(64))
    current_version_id: Mapped[int | None] = mapped_column(Integer)
    origin: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    archived_at: Mapped[datetime | None]


class QuizVersion(db.Model):
    __tablename__ = "quiz_versions"
    __table_args__ = (UniqueConstraint("quiz_id", "number"), UniqueConstraint("quiz_id", "fingerprint"))

    id: Mapped[int] = mapped_column(primary_key=True)
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quizzes.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    fingerprint: Mapped[str] = mapped_column(String(64))
    settings: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime]


class Attempt(db.Model):
    __tablename__ = "quiz_attempts"
    __table_args__ = (
        UniqueConstraint("user_id", "quiz_id", "number"),
        # One attempt in progress per trainee and quiz: `open` is 1 while it runs and NULL after,
        # and unique indexes let NULLs repeat (SQLite and PostgreSQL alike).
        Index("ux_quiz_attempts_one_open", "user_id", "quiz_id", "open", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quizzes.id"), index=True)
    quiz_version_id: Mapped[int] = mapped_column(ForeignKey("quiz_versions.id"))
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), index=True)
    open: Mapped[int | None] = mapped_column(Integer)
    # The questions drawn for this attempt, in order, with the order of their choices.
    layout: Mapped[list] = mapped_column(JSON)
    started_at: Mapped[datetime]
    deadline_at: Mapped[datetime | None] = mapped_column(index=True)
    finished_at: Mapped[datetime | None]
    score: Mapped[float | None] = mapped_column(Float)
    # Each drawn question's score by its key, written once at submit: what item statistics read
    # (one row per attempt, not one per answer, so a quiz with 100,000 attempts reads quickly).
    question_scores: Mapped[dict | None] = mapped_column(JSON)
    context_id: Mapped[int | None] = mapped_column(ForeignKey("contexts.id"))
    resource_link_id: Mapped[int | None] = mapped_column(Integer)
    locale: Mapped[str] = mapped_column(String(8))


class AttemptAnswer(db.Model):
    """The latest saved response to one question of an attempt; `sequence` keeps a late save from undoing a newer one.

    `response` is None once the trainee cleared the answer (kept, with its sequence, so a late save of the
    old answer cannot bring it back); `complete` is False for an answer with parts still missing."""

    __tablename__ = "quiz_attempt_answers"
    __table_args__ = (UniqueConstraint("attempt_id", "slot"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("quiz_attempts.id"), index=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    slot: Mapped[int] = mapped_column(Integer)
    response: Mapped[dict | None] = mapped_column(JSON)
    complete: Mapped[bool] = mapped_column(default=True)
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    saved_at: Mapped[datetime]
    score: Mapped[float | None] = mapped_column(Float)


class QuizImage(db.Model):
    """An image an author uploaded for the tenant's questions, kept as decoded and written anew."""

    __tablename__ = "quiz_images"
    __table_args__ = (UniqueConstraint("tenant_id", "digest"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    digest: Mapped[str] = mapped_column(String(64))
    media_type: Mapped[str] = mapped_column(String(32))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime]
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class GradeOverride(db.Model):
    """An instructor's grade for a trainee on a quiz, standing in for the one the attempts give.

    Rows are only ever added: the newest one for a trainee and quiz is in force, and one without a grade
    gives the attempts' grade back. Who changed what, when and why stays readable beside the audit trail."""

    __tablename__ = "quiz_grade_overrides"
    __table_args__ = (Index("ix_quiz_grade_overrides_trainee", "tenant_id", "quiz_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quizzes.id"))
    # A fraction of the maximum (0 to 1), as attempt scores are; None ends the override.
    grade: Mapped[float | None] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(String(500))
    overridden_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]

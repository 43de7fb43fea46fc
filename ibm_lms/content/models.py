"""Content tables: the versioned catalogue (courses, their versions, lesson and exercise versions, figures)
and the trainees' progress (lesson progress, exercise answers, course progress), the latter per tenant."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ibm_lms.extensions import db


class Course(db.Model):
    """A course and its current version. Shared courses have no tenant; a tenant's own courses carry it."""

    __tablename__ = "courses"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    horizontal: Mapped[bool] = mapped_column(Boolean, default=False)
    title: Mapped[dict] = mapped_column(JSON)
    summary: Mapped[dict] = mapped_column(JSON)
    outcomes: Mapped[list] = mapped_column(JSON)
    loaded_at: Mapped[datetime]
    current_version_id: Mapped[int | None] = mapped_column(Integer)
    # What the current version was made from: an unchanged reload finds the same and writes nothing.
    fingerprint: Mapped[str | None] = mapped_column(String(64))
    # A course whose folder disappeared stays, with its learners' records, but leaves the catalogue.
    withdrawn_at: Mapped[datetime | None]


class CourseVersion(db.Model):
    """One loaded state of a course: its texts, its structure and which lesson and exercise versions it holds."""

    __tablename__ = "course_versions"
    __table_args__ = (UniqueConstraint("course_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    fingerprint: Mapped[str] = mapped_column(String(64))
    document: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime]


class LessonVersion(db.Model):
    """A lesson's texts in every locale, as trainees saw them; a changed lesson is a new row."""

    __tablename__ = "lesson_versions"
    __table_args__ = (UniqueConstraint("course_id", "lesson_key", "fingerprint"),
                      UniqueConstraint("course_id", "lesson_key", "number"))

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"))
    lesson_key: Mapped[str] = mapped_column(String(64))
    number: Mapped[int] = mapped_column(Integer)
    fingerprint: Mapped[str] = mapped_column(String(64))
    content: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime]


class ExerciseVersion(db.Model):
    """An exercise as trainees answered it; a changed exercise is a new row, old answers keep theirs."""

    __tablename__ = "exercise_versions"
    __table_args__ = (UniqueConstraint("course_id", "exercise_key", "fingerprint"),
                      UniqueConstraint("course_id", "exercise_key", "number"))

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"))
    exercise_key: Mapped[str] = mapped_column(String(64))
    number: Mapped[int] = mapped_column(Integer)
    fingerprint: Mapped[str] = mapped_column(String(64))
    item: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime]


class Figure(db.Model):
    """A course drawing, addressed by the SHA-256 of its SVG: a changed drawing is a new address."""

    __tablename__ = "content_figures"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    svg: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class LessonProgress(db.Model):
    __tablename__ = "lesson_progress"
    __table_args__ = (UniqueConstraint("user_id", "course_id", "lesson_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"))
    lesson_key: Mapped[str] = mapped_column(String(64))
    # The version the trainee last saw (and, once completed, the one completed).
    lesson_version_id: Mapped[int] = mapped_column(ForeignKey("lesson_versions.id"))
    first_viewed_at: Mapped[datetime]
    last_viewed_at: Mapped[datetime]
    completed_at: Mapped[datetime | None]
    seconds_spent: Mapped[int] = mapped_column(Integer, default=0)
    views: Mapped[int] = mapped_column(Integer, default=0)


class ExerciseAnswer(db.Model):
    """Every answer a trainee gave, kept like a quiz answer: what was asked (the version), said and scored."""

    __tablename__ = "exercise_answers"
    __table_args__ = (UniqueConstraint("user_id", "answer_token"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"))
    lesson_key: Mapped[str] = mapped_column(String(64))
    exercise_key: Mapped[str] = mapped_column(String(64))
    exercise_version_id: Mapped[int] = mapped_column(ForeignKey("exercise_versions.id"))
    # The one-time token of the form the answer came from: a replayed form is refused, not counted again.
    answer_token: Mapped[str] = mapped_column(String(64))
    response: Mapped[dict] = mapped_column(JSON)
    score: Mapped[float] = mapped_column(Float)
    success: Mapped[bool] = mapped_column(Boolean)
    context_id: Mapped[int | None] = mapped_column(ForeignKey("contexts.id"))
    # The LTI link the trainee came through (the LTI room's row; content sits below it, so no foreign key).
    resource_link_id: Mapped[int | None] = mapped_column(Integer)
    answered_at: Mapped[datetime]


class CourseProgress(db.Model):
    __tablename__ = "course_progress"
    __table_args__ = (UniqueConstraint("user_id", "course_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"))
    course_version_id: Mapped[int] = mapped_column(ForeignKey("course_versions.id"))
    started_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    last_lesson_key: Mapped[str | None] = mapped_column(String(64))
    completed_modules: Mapped[list] = mapped_column(JSON, default=list)
    completed_at: Mapped[datetime | None]
    score: Mapped[float | None] = mapped_column(Float)

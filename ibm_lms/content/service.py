"""The content room's door: loading the catalogue from courses/ and reading it in a locale."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from ibm_lms.clock import utcnow
from ibm_lms.extensions import db
from ibm_lms.text import SLUG

from .data import CourseDefinition, CourseSummary
from .errors import CourseFileError, CourseNotFound
from .loader import read_all
from .models import Course


@dataclass(frozen=True)
class LoadReport:
    created: int
    updated: int


def check(courses_dir: Path) -> tuple[list[CourseDefinition], list[CourseFileError]]:
    return read_all(courses_dir)


def load(courses_dir: Path) -> LoadReport:
    """Validates every file first and writes nothing unless all of them are valid."""
    courses, errors = read_all(courses_dir)
    if errors:
        raise errors[0]
    existing = {c.slug: c for c in db.session.execute(select(Course)).scalars()}
    now = utcnow()
    created = updated = 0
    for definition in courses:
        row = existing.get(definition.slug)
        if row is None:
            row = Course(slug=definition.slug)
            db.session.add(row)
            created += 1
        else:
            updated += 1
        row.position = definition.order
        row.horizontal = definition.horizontal
        row.title = definition.title
        row.summary = definition.summary
        row.outcomes = list(definition.outcomes)
        row.loaded_at = now
    db.session.commit()
    return LoadReport(created=created, updated=updated)


def _in_locale(course: Course, locale: str, fallback: str = "en") -> CourseSummary:
    def pick(texts: dict) -> str:
        return texts.get(locale) or texts.get(fallback) or ""

    return CourseSummary(
        slug=course.slug,
        order=course.position,
        horizontal=course.horizontal,
        title=pick(course.title),
        summary=pick(course.summary),
        outcomes=tuple(pick(o) for o in course.outcomes),
    )


def catalogue(locale: str) -> list[CourseSummary]:
    rows = db.session.execute(select(Course).order_by(Course.position)).scalars()
    return [_in_locale(row, locale) for row in rows]


def course(slug: str, locale: str) -> CourseSummary:
    # Only a slug a course could have reaches the database (PostgreSQL refuses a NUL in text outright).
    if not SLUG.match(slug):
        raise CourseNotFound(slug=slug[:64])
    row = db.session.execute(select(Course).where(Course.slug == slug)).scalar_one_or_none()
    if row is None:
        raise CourseNotFound(slug=slug[:64])
    return _in_locale(row, locale)


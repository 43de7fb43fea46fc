"""The content room's door: loading the catalogue from courses/ and reading it in a locale."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app
from sqlalchemy import func, select

from ibm_lms.clock import utcnow
from ibm_lms.extensions import app_state, db
from ibm_lms.text import SLUG
from ibm_lms.unit_of_work import unit_of_work

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
    with unit_of_work():
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
    _catalogue_cache().forget()
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


@dataclass
class _CatalogueCache:
    """The catalogue as each locale shows it, built once per catalogue version.

    Every page a trainee opens shows it, and it changes only when an administrator loads the
    courses: the version (when and how many courses were loaded) is read again at most every
    CONTENT_RECHECK_SECONDS, so another worker's load shows within that time."""

    checked_at: float = float("-inf")
    version: tuple | None = None
    by_locale: dict[str, tuple[CourseSummary, ...]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def forget(self) -> None:
        with self.lock:
            self.checked_at, self.version, self.by_locale = float("-inf"), None, {}

    def current(self, locale: str) -> tuple[CourseSummary, ...]:
        now = time.monotonic()
        if now - self.checked_at >= current_app.config["CONTENT_RECHECK_SECONDS"]:
            version = tuple(db.session.execute(select(func.max(Course.loaded_at), func.count(Course.id))).one())
            with self.lock:
                if version != self.version:
                    self.version, self.by_locale = version, {}
                self.checked_at = now
        found = self.by_locale.get(locale)
        if found is None:
            rows = db.session.execute(select(Course).order_by(Course.position)).scalars()
            found = self.by_locale[locale] = tuple(_in_locale(row, locale) for row in rows)
        return found


def _catalogue_cache() -> _CatalogueCache:
    return app_state("content.catalogue", _CatalogueCache)


def catalogue(locale: str) -> list[CourseSummary]:
    return list(_catalogue_cache().current(locale))


def course(slug: str, locale: str) -> CourseSummary:
    # Only a slug a course could have reaches the database (PostgreSQL refuses a NUL in text outright).
    if not SLUG.match(slug):
        raise CourseNotFound(slug=slug[:64])
    row = db.session.execute(select(Course).where(Course.slug == slug)).scalar_one_or_none()
    if row is None:
        raise CourseNotFound(slug=slug[:64])
    return _in_locale(row, locale)


"""The versioned catalogue: course definitions stored as immutable versions, and read back cheaply.

A changed lesson or exercise becomes a new version row and the course a new course version that
names them; unchanged ones keep their rows, so progress and answers keep pointing at what the
trainee saw. A course whose files did not change is recognised by its fingerprint and nothing is
written. Versions never change once written, so each app keeps those it has read.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import asdict, dataclass, field

from flask import current_app
from sqlalchemy import func, insert, select

from ibm_lms.clock import utcnow
from ibm_lms.extensions import app_state, db
from ibm_lms.items.service import Item

from .data import CourseDefinition, LessonDefinition
from .errors import CourseFileError
from .models import Course, CourseVersion, ExerciseVersion, Figure, LessonVersion


def fingerprint(value) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


def _lesson_content(lesson: LessonDefinition) -> dict:
    return {"module": lesson.module, "minutes": lesson.minutes, "outcomes": list(lesson.outcomes),
            "exercises": list(lesson.exercises),
            "texts": {locale: asdict(text) for locale, text in lesson.texts.items()}}


def _course_document(course: CourseDefinition) -> dict:
    """Everything of a course version but the ids of its lesson and exercise versions."""
    return {
        "slug": course.slug, "order": course.order, "horizontal": course.horizontal, "title": course.title,
        "summary": course.summary, "audience": course.audience, "prerequisites": course.prerequisites,
        "outcomes": list(course.outcomes), "completion": course.completion,
        "modules": [{"key": m.key, "title": m.title, "lessons": list(m.lessons)} for m in course.modules],
        "glossary": list(course.glossary), "references": list(course.references),
        "translations": {locale: asdict(status) for locale, status in course.translations.items()},
    }


@dataclass(frozen=True)
class Loaded:
    created: bool
    changed: bool


def store(course: CourseDefinition, *, tenant_id: int | None, existing: Course | None) -> Loaded:
    """Writes what changed of one course into the caller's unit of work."""
    lessons = {lesson.key: (_lesson_content(lesson), fingerprint(_lesson_content(lesson))) for lesson in course.lessons}
    exercises = {key: (item.as_json(), fingerprint(item.as_json())) for key, item in course.exercises.items()}
    document = _course_document(course)
    course_print = fingerprint({"document": document, "lessons": {k: v[1] for k, v in lessons.items()},
                                "exercises": {k: v[1] for k, v in exercises.items()},
                                "figures": sorted(course.figures)})
    if existing is not None:
        if existing.tenant_id != tenant_id:
            # Worded as the checker's problems are (file: what — fix), since the CLI prints it among them.
            raise CourseFileError(path=course.source, reason=f"{course.source}/course.toml: slug: {course.slug!r} is "
                                  "already used by a course of another academy or of the shared catalogue — choose "
                                  "another slug")
        if existing.fingerprint == course_print and existing.withdrawn_at is None:
            return Loaded(created=False, changed=False)
    now = utcnow()
    row = existing
    if row is None:
        row = Course(slug=course.slug, tenant_id=tenant_id, position=course.order, horizontal=course.horizontal,
                     title=course.title, summary=course.summary, outcomes=[], loaded_at=now)
        db.session.add(row)
        db.session.flush()
    _store_figures(course.figures, now)
    document["lessons"] = {}
    for lesson in course.lessons:
        content, lesson_print = lessons[lesson.key]
        version_id, number = _version(LessonVersion, "lesson_key", row.id, lesson.key, lesson_print,
                                      {"content": content}, now)
        document["lessons"][lesson.key] = {
            "version_id": version_id, "number": number, "module": lesson.module, "minutes": lesson.minutes,
            "outcomes": list(lesson.outcomes), "exercises": list(lesson.exercises),
            "titles": {locale: text.title for locale, text in lesson.texts.items()},
            "words": {locale: text.words for locale, text in lesson.texts.items()},
        }
    document["exercises"] = {}
    for key, (item, item_print) in exercises.items():
        version_id, number = _version(ExerciseVersion, "exercise_key", row.id, key, item_print, {"item": item}, now)
        document["exercises"][key] = {"version_id": version_id, "number": number}
    number = (db.session.execute(select(func.max(CourseVersion.number)).where(CourseVersion.course_id == row.id))
              .scalar_one() or 0) + 1
    version = CourseVersion(course_id=row.id, number=number, fingerprint=course_print, document=document,
                            created_at=now)
    db.session.add(version)
    db.session.flush()
    row.position, row.horizontal = course.order, course.horizontal
    row.title, row.summary = course.title, course.summary
    row.outcomes = [outcome["text"] for outcome in course.outcomes]
    row.current_version_id, row.fingerprint, row.loaded_at, row.withdrawn_at = version.id, course_print, now, None
    return Loaded(created=existing is None, changed=True)


def _store_figures(figures: dict[str, str], now) -> None:
    if not figures:
        return
    known = set(db.session.execute(select(Figure.digest).where(Figure.digest.in_(list(figures)))).scalars())
    for digest, svg in figures.items():
        if digest not in known:
            db.session.add(Figure(digest=digest, svg=svg, created_at=now))


def _version(model, key_column: str, course_id: int, key: str, version_print: str, values: dict, now) -> tuple[int, int]:
    """The id and number of the version with this fingerprint, made if it is new."""
    column = getattr(model, key_column)
    found = db.session.execute(
        select(model.id, model.number).where(model.course_id == course_id, column == key,
                                             model.fingerprint == version_print)
    ).first()
    if found is not None:
        return found.id, found.number
    number = (db.session.execute(select(func.max(model.number)).where(model.course_id == course_id, column == key))
              .scalar_one() or 0) + 1
    version_id = db.session.execute(
        insert(model).values(course_id=course_id, number=number, fingerprint=version_print, created_at=now,
                             **{key_column: key}, **values).returning(model.id)
    ).scalar_one()
    return version_id, number


def missing(present: set[str], *, tenant_id: int | None) -> list[Course]:
    """Courses of this catalogue (shared, or one tenant's) still offered whose folder is not in `present`."""
    rows = db.session.execute(
        select(Course).where(Course.withdrawn_at.is_(None),
                             Course.tenant_id.is_(None) if tenant_id is None else Course.tenant_id == tenant_id)
        .order_by(Course.slug)
    ).scalars()
    return [row for row in rows if row.slug not in present]


def withdraw(rows: list[Course]) -> None:
    """The courses leave the catalogue (their versions and the trainees' records stay)."""
    now = utcnow()
    for row in rows:
        row.withdrawn_at, row.loaded_at = now, now


@dataclass(frozen=True)
class CourseRecord:
    id: int
    slug: str
    tenant_id: int | None
    position: int
    horizontal: bool
    version_id: int


@dataclass
class _Catalogue:
    """The courses on offer as each app last read them, re-read when their version changes (see service)."""

    checked_at: float = float("-inf")
    version: tuple | None = None
    courses: dict[str, CourseRecord] = field(default_factory=dict)
    views: dict[tuple, object] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def forget(self) -> None:
        with self.lock:
            self.checked_at, self.version, self.courses, self.views = float("-inf"), None, {}, {}

    def refresh(self) -> None:
        now = time.monotonic()
        if now - self.checked_at < current_app.config["CONTENT_RECHECK_SECONDS"]:
            return
        version = tuple(db.session.execute(select(func.max(Course.loaded_at), func.count(Course.id))).one())
        with self.lock:
            if version != self.version:
                rows = db.session.execute(
                    select(Course.id, Course.slug, Course.tenant_id, Course.position, Course.horizontal,
                           Course.current_version_id)
                    .where(Course.withdrawn_at.is_(None), Course.current_version_id.is_not(None))
                    .order_by(Course.position, Course.slug)
                ).all()
                self.courses = {r.slug: CourseRecord(r.id, r.slug, r.tenant_id, r.position, r.horizontal,
                                                     r.current_version_id) for r in rows}
                self.version, self.views = version, {}
            self.checked_at = now


def catalogue_cache() -> _Catalogue:
    return app_state("content.catalogue", _Catalogue)


def courses_for(tenant_id: int | None) -> list[CourseRecord]:
    """The shared courses and the tenant's own, in catalogue order."""
    cache = catalogue_cache()
    cache.refresh()
    return [c for c in cache.courses.values() if c.tenant_id is None or c.tenant_id == tenant_id]


def all_courses() -> list[CourseRecord]:
    """Every course on offer, shared or an academy's own, in catalogue order."""
    cache = catalogue_cache()
    cache.refresh()
    return list(cache.courses.values())


def course_for(slug: str, tenant_id: int | None) -> CourseRecord | None:
    cache = catalogue_cache()
    cache.refresh()
    found = cache.courses.get(slug)
    if found is None or (found.tenant_id is not None and found.tenant_id != tenant_id):
        return None
    return found


class _Versions:
    """Immutable rows this app has read: a version never changes, so it is read once."""

    LIMIT = 4096

    def __init__(self) -> None:
        self.rows: dict[tuple[str, int | str], object] = {}

    def get(self, kind: str, version_id: int | str, read):
        key = (kind, version_id)
        found = self.rows.get(key)
        if found is None:
            found = read(version_id)
            if found is None:
                return None
            if len(self.rows) >= self.LIMIT:
                self.rows.clear()
            self.rows[key] = found
        return found


def _versions() -> _Versions:
    return app_state("content.versions", _Versions)


def course_version(version_id: int) -> dict | None:
    """A course version's document, with its number."""
    def read(i):
        row = db.session.execute(select(CourseVersion.document, CourseVersion.number)
                                 .where(CourseVersion.id == i)).first()
        return None if row is None else {**row.document, "number": row.number}

    return _versions().get("course", version_id, read)


def lesson_version(version_id: int) -> dict | None:
    return _versions().get("lesson", version_id, lambda i: db.session.execute(
        select(LessonVersion.content).where(LessonVersion.id == i)).scalar_one_or_none())


def exercise_version(version_id: int) -> tuple[Item, int, int] | None:
    """The item of an exercise version, its number and its course's id."""
    def read(i):
        row = db.session.execute(select(ExerciseVersion.item, ExerciseVersion.number, ExerciseVersion.course_id)
                                 .where(ExerciseVersion.id == i)).first()
        return None if row is None else (Item.from_json(row.item), row.number, row.course_id)

    return _versions().get("exercise", version_id, read)


def exercise_item_by_number(course_id: int, key: str, number: int) -> Item | None:
    row = db.session.execute(select(ExerciseVersion.item).where(
        ExerciseVersion.course_id == course_id, ExerciseVersion.exercise_key == key,
        ExerciseVersion.number == number)).scalar_one_or_none()
    return None if row is None else Item.from_json(row)


def figure_svg(digest: str) -> str | None:
    return _versions().get("figure", digest, lambda d: db.session.execute(
        select(Figure.svg).where(Figure.digest == d)).scalar_one_or_none())

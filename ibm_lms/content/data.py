"""Records the content room hands out: courses as their files define them, and as a trainee sees them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ibm_lms.items.data import Item

Localised = dict[str, str]


@dataclass(frozen=True)
class ContentProblem:
    """A problem in a course's files: which file, which line, what is wrong and how to fix it."""

    path: str
    line: int | None
    message: str
    fix: str = ""
    # A warning is shown but does not stop a load (a lesson longer than the guideline, an unused term).
    warning: bool = False

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        kind = "warning: " if self.warning else ""
        return f"{where}: {kind}{self.message}" + (f" — {self.fix}" if self.fix else "")


@dataclass(frozen=True)
class LessonText:
    """One lesson in one locale: its title, its segments (see lessons.py) and its English-word size."""

    title: str
    segments: list[dict]
    words: int


@dataclass(frozen=True)
class LessonDefinition:
    key: str
    module: str
    minutes: int
    outcomes: tuple[str, ...]
    texts: dict[str, LessonText]
    exercises: tuple[str, ...]


@dataclass(frozen=True)
class ModuleDefinition:
    key: str
    title: Localised
    lessons: tuple[str, ...]


@dataclass(frozen=True)
class TranslationStatus:
    status: str  # source, draft or reviewed
    reviewer: str | None = None
    reviewed_on: str | None = None


@dataclass(frozen=True)
class CourseDefinition:
    """A course as its files define it, every text in every locale it has."""

    slug: str
    order: int
    horizontal: bool
    title: Localised
    summary: Localised
    audience: Localised
    prerequisites: Localised
    outcomes: tuple[dict, ...]  # {"code": "DS-1", "text": {locale: …}}
    completion: dict[str, Any]
    modules: tuple[ModuleDefinition, ...]
    lessons: tuple[LessonDefinition, ...]
    exercises: dict[str, Item]
    glossary: tuple[dict, ...]  # {"id", "term": {…}, "definition": {…}}
    references: tuple[dict, ...]  # {"id", "text", "url"}
    translations: dict[str, TranslationStatus]
    figures: dict[str, str]  # digest → SVG text
    source: str


@dataclass(frozen=True)
class CoursePart:
    """More of a course folder that another room reads and keeps (a quiz bank): checked by `content check`,
    stored by `content load` in the same unit of work as the course, so a load stays all or nothing."""

    name: str
    # (the course, its folder) -> (what was read, problems and warnings); reads files only.
    read: Callable[[CourseDefinition, Path], tuple[Any, list[ContentProblem]]]
    # (the course, what was read, the tenant or None) -> whether anything was written.
    store: Callable[[CourseDefinition, Any, int | None], bool]
    # Where a trainee finds this part from the course page: an endpoint taking `slug`, and its label's msgid.
    endpoint: str | None = None
    label: str | None = None
    # (what was read) -> its localised texts ({locale: text}, English always there), for `content coverage`.
    texts: Callable[[Any], list[dict[str, str]]] | None = None


@dataclass(frozen=True)
class CourseSection:
    """A page of a room above this one that a trainee reaches from every course page (the course's
    questionnaires): an endpoint taking `slug`, its label (a lazy text), and whether it waits for something
    from this person once they have completed the course (asked only then: a course page costs no more before)."""

    endpoint: str
    label: Any
    waiting: Callable[[Any, str], bool] | None = None


@dataclass(frozen=True)
class CourseSummary:
    """A course in one locale, for the catalogue."""

    slug: str
    order: int
    horizontal: bool
    title: str
    summary: str
    outcomes: tuple[str, ...]
    minutes: int = 0
    lessons: int = 0
    # The locale the title and summary are shown in (another one when this locale has no text).
    shown_locale: str = "en"


@dataclass(frozen=True)
class LoadReport:
    created: int
    updated: int
    unchanged: int = 0
    withdrawn: int = 0
    warnings: tuple[ContentProblem, ...] = field(default=())
    # Courses the catalogue offers that the folder does not hold, kept because withdrawing was not asked for.
    kept: tuple[str, ...] = ()

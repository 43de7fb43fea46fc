"""Records the content room hands to other rooms."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CourseDefinition:
    """A course as its file defines it, every text in every locale."""

    slug: str
    order: int
    horizontal: bool
    title: dict[str, str]
    summary: dict[str, str]
    outcomes: tuple[dict[str, str], ...]
    source: str


@dataclass(frozen=True)
class CourseSummary:
    """A course in one locale, for pages."""

    slug: str
    order: int
    horizontal: bool
    title: str
    summary: str
    outcomes: tuple[str, ...]

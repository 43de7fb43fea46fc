"""How much of a course each locale covers (pure): the share of the English words that have a translation."""

from __future__ import annotations

import re

from ibm_lms.items.service import localised_texts
from ibm_lms.locales import LOCALES

from .data import CourseDefinition

_WORD = re.compile(r"\w[\w'’-]*")


def _words(text: str) -> int:
    return len(_WORD.findall(text))


def _share(units: list[tuple[int, set[str]]]) -> dict[str, float]:
    """Per locale, the share of the English words whose text it has."""
    total = sum(words for words, _ in units) or 1
    return {locale: round(sum(words for words, have in units if locale in have) / total, 3) for locale in LOCALES}


def _units(texts: list[dict[str, str]]) -> list[tuple[int, set[str]]]:
    return [(max(1, _words(found["en"])), set(found)) for found in texts if found.get("en")]


def coverage_of(course: CourseDefinition, parts: dict[str, list[dict[str, str]]] | None = None) -> dict:
    """{"slug", "status": {locale: status}, "share": {locale: 0…1}, "parts": {name: {locale: 0…1}}}: every text
    counts by its English words; `parts` are the texts other rooms keep in the course folder (a quiz bank)."""
    units: list[tuple[int, set[str]]] = []  # (English words, locales that have the text)

    def add(texts: dict[str, str]) -> None:
        units.extend(_units([texts]))

    for texts in (course.title, course.summary, course.audience, course.prerequisites):
        add(texts)
    for outcome in course.outcomes:
        add(outcome["text"])
    for module in course.modules:
        add(module.title)
    for term in course.glossary:
        add(term["term"])
        add(term["definition"])
    for lesson in course.lessons:
        english = lesson.texts.get("en")
        if english is not None:
            units.append((max(1, english.words), set(lesson.texts)))
    for item in course.exercises.values():
        for texts in localised_texts(item):
            add(texts)
    share = _share(units)
    # A locale with none of the lessons is not a translation yet, whatever titles it has.
    has_lessons = {locale for lesson in course.lessons for locale in lesson.texts}
    status = {locale: (course.translations[locale].status if locale in course.translations
                       else "draft" if locale in has_lessons else "none") for locale in LOCALES}
    return {"slug": course.slug, "share": share, "status": status,
            "reviewers": {locale: s.reviewer for locale, s in course.translations.items() if s.reviewer},
            "parts": {name: _share(_units(texts)) for name, texts in (parts or {}).items() if texts}}

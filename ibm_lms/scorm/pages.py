"""A course's pages as a package shows them, for its templates: the contents page that talks to the player, each
lesson (its exercises as self-checks with the model answer to open), the glossary. Every link is a file of
the package, so the package works offline and under any address the player serves it from."""

from __future__ import annotations

import random

from ibm_lms.content.data import CourseDefinition, LessonDefinition
from ibm_lms.content.service import cited_references, linked_html, linked_markdown
from ibm_lms.i18n.data import pick_text
from ibm_lms.items.data import Item
from ibm_lms.items.service import correct_response

GLOSSARY = "glossary.html"
LAUNCH = "index.html"


def lesson_file(key: str) -> str:
    return f"lesson-{key}.html"


def figure_file(digest: str) -> str:
    return f"figures/{digest}.svg"


def package_link(kind: str, ident: str) -> str:
    if kind == "term":
        return f"{GLOSSARY}#term-{ident}"
    if kind == "ref":
        return f"#ref-{ident}"
    return lesson_file(ident)


def lessons_in_order(course: CourseDefinition) -> list[LessonDefinition]:
    by_key = {lesson.key: lesson for lesson in course.lessons}
    return [by_key[key] for module in course.modules for key in module.lessons if key in by_key]


def _lesson_text(lesson: LessonDefinition, locale: str):
    shown = pick_text({code: code for code in lesson.texts}, locale)
    return lesson.texts[shown.locale], shown.locale


def contents_page(course: CourseDefinition, locale: str) -> dict:
    order = lessons_in_order(course)
    modules = []
    for module in course.modules:
        entries = []
        for key in module.lessons:
            lesson = next((entry for entry in order if entry.key == key), None)
            if lesson is not None:
                text, shown_locale = _lesson_text(lesson, locale)
                entries.append({"key": key, "href": lesson_file(key), "title": text.title, "locale": shown_locale,
                                "minutes": lesson.minutes})
        modules.append({"title": pick_text(module.title, locale), "lessons": entries})
    return {
        "title": pick_text(course.title, locale), "summary": pick_text(course.summary, locale),
        "modules": modules, "lessons": [{"key": lesson.key, "href": lesson_file(lesson.key)} for lesson in order],
        "minutes": sum(lesson.minutes for lesson in order), "has_glossary": bool(course.glossary),
        "outcomes": [(outcome["code"], pick_text(outcome["text"], locale)) for outcome in course.outcomes],
    }


def _exercise(item: Item) -> dict:
    view = {"key": item.key, "item": item, "model": correct_response(item)}
    if item.type == "ordering":
        view["steps"] = _mixed(item.spec["items"], item.spec["answer"], item.key)
    return view


def _mixed(steps: list[dict], answer: list[str], seed: str) -> list[dict]:
    """The steps out of their right order, the same way at every build (a package's bytes follow its files)."""
    mixed = random.Random(seed).sample(list(steps), len(steps))
    if [step["id"] for step in mixed] == list(answer) and len(mixed) > 1:
        mixed = mixed[1:] + mixed[:1]
    return mixed


def _segment(segment: dict) -> dict:
    shown = dict(segment)
    for name in ("html", "caption_html"):
        if name in shown:
            shown[name] = linked_html(shown[name], package_link)
    if segment.get("kind") == "figure":
        shown["src"] = figure_file(segment["digest"])
    return shown


def lesson_page(course: CourseDefinition, lesson: LessonDefinition, locale: str) -> dict:
    order = lessons_in_order(course)
    position = next(index for index, entry in enumerate(order) if entry.key == lesson.key)
    text, shown_locale = _lesson_text(lesson, locale)
    module = next(m for m in course.modules if m.key == lesson.module)
    cited = cited_references(text.segments)

    def neighbour(index: int) -> dict | None:
        if not 0 <= index < len(order):
            return None
        return {"href": lesson_file(order[index].key), "title": _lesson_text(order[index], locale)[0].title}

    return {
        "key": lesson.key, "title": text.title, "shown_locale": shown_locale,
        "course_title": pick_text(course.title, locale), "module_title": pick_text(module.title, locale),
        "segments": [_segment(segment) for segment in text.segments],
        "exercises": {key: _exercise(course.exercises[key]) for key in lesson.exercises if key in course.exercises},
        "position": position + 1, "count": len(order), "minutes": lesson.minutes,
        "previous": neighbour(position - 1), "next": neighbour(position + 1),
        "references": [ref for ref in course.references if ref["id"] in cited],
        "outcomes": [(outcome["code"], pick_text(outcome["text"], locale)) for outcome in course.outcomes
                     if outcome["code"] in lesson.outcomes],
    }


def glossary_page(course: CourseDefinition, locale: str) -> dict:
    terms = [{"id": term["id"], "term": pick_text(term["term"], locale),
              "definition": pick_text(term["definition"], locale)} for term in course.glossary]
    terms.sort(key=lambda term: term["term"].text.casefold())
    return {"title": pick_text(course.title, locale), "terms": terms, "references": list(course.references)}


def exercise_markdown(text: str | None):
    return linked_markdown(text, package_link)

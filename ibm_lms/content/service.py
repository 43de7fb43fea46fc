"""The content room's door: checking and loading courses, the catalogue, course and lesson pages, progress."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from markupsafe import Markup
from sqlalchemy import select

from ibm_lms.extensions import app_state, db
from ibm_lms.i18n.data import pick_text
from ibm_lms.items.service import correct_response, score
from ibm_lms.locales import LOCALES
from ibm_lms.tenancy import service as tenancy
from ibm_lms.tenancy.data import Identity
from ibm_lms.text import SLUG
from ibm_lms.unit_of_work import unit_of_work

from . import catalogue as stored
from . import learning, progress, rendering
from .coverage import coverage_of
from .data import ContentProblem, CourseDefinition, CoursePart, CourseSection, CourseSummary, LoadReport
from .errors import CourseFileError, CourseNotFound, FigureNotFound
from .learning import Where
from .loader import read_all
from .models import Course, ExerciseAnswer
from .tomlfile import FileProblem, line_of, load_toml, parse_toml


def read_toml(path: Path) -> tuple[dict | None, str, ContentProblem | None]:
    """A course folder's TOML file for another room's part: its table and text, or the problem with its line."""
    try:
        raw, text = load_toml(path)
    except FileProblem as problem:
        return None, "", ContentProblem(str(path), problem.line, problem.message, problem.fix)
    return raw, text, None


def read_toml_text(text: str) -> tuple[dict | None, ContentProblem | None]:
    """TOML typed into a form: its table, or the problem with its line."""
    try:
        return parse_toml(text), None
    except FileProblem as problem:
        return None, ContentProblem("", problem.line, problem.message, problem.fix)


def toml_line(text: str, key_path: tuple) -> int | None:
    """The line a key path is written on in a course TOML file (for problems that name it)."""
    return line_of(text, key_path)


def markdown(text: str | None, slug: str):
    """Authored Markdown (a question's prompt) as clean HTML for a page, the course's links resolved."""
    return rendering.markdown(text, slug)


def linked_html(html: str, link: Callable[[str, str], str]) -> Markup:
    """Stored course HTML (a lesson's segment) with its own links made by `link(kind, id)`, for a medium other
    than this tool's pages (a package's files)."""
    return rendering.linked_html(html, link)


def linked_markdown(text: str | None, link: Callable[[str, str], str]) -> Markup:
    """An exercise's Markdown as clean HTML with its own links made by `link(kind, id)`."""
    return rendering.linked_html(rendering.markdown_html(text or ""), link)


def register_part(app, part: CoursePart) -> None:
    """A room above this one reads and keeps more of each course folder (see CoursePart)."""
    app_state("content.parts", dict, app=app)[part.name] = part


def parts() -> list[CoursePart]:
    return list(app_state("content.parts", dict).values())


def register_section(app, section: CourseSection) -> None:
    """A room above this one offers a page of its own on every course page (see CourseSection)."""
    app_state("content.sections", list, app=app).append(section)


def course_sections() -> list[CoursePart | CourseSection]:
    """The parts, then the other rooms' pages, a trainee reaches from the course page."""
    return [part for part in parts() if part.endpoint] + app_state("content.sections", list)


def _read_with_parts(courses_dir: Path):
    courses, problems = read_all(courses_dir)
    read = []
    for course in courses:
        found = {}
        for part in parts():
            data, part_problems = part.read(course, Path(course.source))
            problems += part_problems
            found[part.name] = data
        read.append((course, found))
    return read, problems


def check(courses_dir: Path) -> tuple[list[CourseDefinition], list[ContentProblem]]:
    read, problems = _read_with_parts(courses_dir)
    return [course for course, _ in read], problems


def load(courses_dir: Path, *, tenant_slug: str | None = None, withdraw_missing: bool = False) -> LoadReport:
    """Checks every file first and writes nothing unless all are valid; an unchanged course writes nothing.

    Without a tenant the folder is the shared catalogue; with one, that academy's own courses. Courses the
    catalogue offers and the folder lacks are withdrawn only when asked (`withdraw_missing`): a folder holding
    a few courses is a partial update, not the whole catalogue."""
    read, problems = _read_with_parts(courses_dir)
    errors = [p for p in problems if not p.warning]
    if errors:
        raise CourseFileError(path=errors[0].path, reason="\n".join(str(p) for p in errors))
    courses = [course for course, _ in read]
    created = updated = unchanged = 0
    with unit_of_work():
        tenant_id = tenancy.get_tenant(tenant_slug).id if tenant_slug else None
        existing = {c.slug: c for c in db.session.execute(select(Course)).scalars()}
        registered = {part.name: part for part in parts()}
        for definition, found in read:
            loaded = stored.store(definition, tenant_id=tenant_id, existing=existing.get(definition.slug))
            parts_changed = [registered[name].store(definition, data, tenant_id) for name, data in found.items()]
            changed = loaded.changed or any(parts_changed)
            created += loaded.created
            updated += changed and not loaded.created
            unchanged += not changed
        absent = stored.missing({c.slug for c in courses}, tenant_id=tenant_id)
        if withdraw_missing:
            stored.withdraw(absent)
    stored.catalogue_cache().forget()
    return LoadReport(created=created, updated=updated, unchanged=unchanged,
                      withdrawn=len(absent) if withdraw_missing else 0,
                      warnings=tuple(p for p in problems if p.warning),
                      kept=() if withdraw_missing else tuple(row.slug for row in absent))


def coverage(courses_dir: Path) -> tuple[list[dict], list[ContentProblem]]:
    read, problems = _read_with_parts(courses_dir)
    texts = {part.name: part.texts for part in parts() if part.texts}
    return [coverage_of(course, {name: texts[name](data) for name, data in found.items() if name in texts and data})
            for course, found in read], problems


def _visible(slug: str, tenant_id: int | None) -> stored.CourseRecord:
    # Only a slug a course could have reaches the database (PostgreSQL refuses a NUL in text outright).
    found = stored.course_for(slug, tenant_id) if SLUG.match(slug) else None
    if found is None:
        raise CourseNotFound(slug=slug[:64])
    return found


def _document(course: stored.CourseRecord) -> dict:
    return stored.course_version(course.version_id)


def _minutes(document: dict) -> int:
    return sum(lesson["minutes"] for lesson in document["lessons"].values())


def course_version_number(slug: str, tenant_id: int | None) -> int:
    """The number of the course's current version (events name it); raises CourseNotFound for a course the
    tenant cannot see."""
    return _document(_visible(slug, tenant_id))["number"]


def activity_names(slug: str, tenant_id: int | None) -> dict:
    """The course's title and summary, and its modules' and lessons' titles, each by locale (xAPI names them)."""
    document = _document(_visible(slug, tenant_id))
    return {"course": document["title"], "summary": document["summary"],
            "modules": {m["key"]: m["title"] for m in document["modules"]},
            "lessons": {key: lesson["titles"] for key, lesson in document["lessons"].items()}}


def exercise_item(slug: str, tenant_id: int | None, key: str, number: int):
    """The item of one version of a course's exercise, or None if the course no longer has it."""
    course = _visible(slug, tenant_id)
    return stored.exercise_item_by_number(course.id, key, number)


def course_outcome_codes(slug: str, tenant_id: int | None) -> set[str]:
    """The codes of the course's learning outcomes (questions link them)."""
    return {outcome["code"] for outcome in _document(_visible(slug, tenant_id))["outcomes"]}


def course_title(slug: str, tenant_id: int | None, locale: str):
    return pick_text(_document(_visible(slug, tenant_id))["title"], locale)


def catalogue(locale: str, tenant_id: int | None = None) -> list[CourseSummary]:
    """The courses on offer to a tenant, in a locale; built once per catalogue version, locale and tenant."""
    cache = stored.catalogue_cache()
    courses = stored.courses_for(tenant_id)
    key = (locale, tenant_id)
    found = cache.views.get(key)
    if found is None:
        summaries = []
        for course in courses:
            document = _document(course)
            title = pick_text(document["title"], locale)
            summaries.append(CourseSummary(
                slug=course.slug, order=course.position, horizontal=course.horizontal, title=title.text,
                summary=pick_text(document["summary"], locale).text,
                outcomes=tuple(pick_text(o["text"], locale).text for o in document["outcomes"]),
                minutes=_minutes(document), lessons=len(document["lessons"]), shown_locale=title.locale))
        found = cache.views[key] = tuple(summaries)
    return list(found)


def launchable(locale: str, tenant_id: int | None, query: str = "") -> list[dict]:
    """What a Moodle activity can open, for content selection: each course with its modules and lessons,
    in `locale`, filtered by words in titles and summaries. A lesson with exercises and a course are graded."""
    words = [w for w in query.casefold().split() if w][:10]

    def matches(*texts: str) -> bool:
        haystack = " ".join(texts).casefold()
        return all(word in haystack for word in words)

    found = []
    for course in stored.courses_for(tenant_id):
        document = _document(course)
        title, summary = pick_text(document["title"], locale).text, pick_text(document["summary"], locale).text
        modules = []
        for module in document["modules"]:
            lessons = [{"key": key, "title": pick_text(document["lessons"][key]["titles"], locale).text,
                        "graded": bool(document["lessons"][key]["exercises"]),
                        "minutes": document["lessons"][key]["minutes"]} for key in module["lessons"]]
            lessons = [lesson for lesson in lessons if matches(title, lesson["title"])]
            if lessons:
                modules.append({"key": module["key"], "title": pick_text(module["title"], locale).text,
                                "lessons": lessons})
        if modules or matches(title, summary):
            found.append({"slug": course.slug, "title": title, "summary": summary, "modules": modules,
                          "graded": True})
    return found


def course_progress(identity: Identity) -> dict[str, dict]:
    """Per course the trainee started, how far they are: lessons completed, and whether the course is."""
    started = learning.progress_by_course(identity)
    found = {}
    for course in stored.courses_for(identity.tenant_id):
        if course.id in started:
            _, completed, completed_at = started[course.id]
            total = len(_document(course)["lessons"])
            found[course.slug] = {"completed_lessons": min(completed, total), "lessons": total,
                                  "completed": completed_at is not None, "started": True}
    return found


def completed_at(identity: Identity, slug: str):
    """When the person completed the course, or None (not yet, or no such course for their academy)."""
    course = stored.course_for(slug, identity.tenant_id)
    if course is None:
        return None
    return learning.course_completed_at(identity, course.id)


def completion_counts(tenant_id: int | None = None) -> dict[tuple[int, str], tuple[int, int]]:
    """Per (academy id, course slug): people who started and people who completed it, counts only; every
    academy's when `tenant_id` is None."""
    slugs = {course.id: course.slug for course in stored.all_courses()}
    return {(academy, slugs[course_id]): counts
            for (academy, course_id), counts in learning.completion_counts(tenant_id).items() if course_id in slugs}


def progress_of_users(tenant_id: int, user_ids: list[int], locale: str) -> dict[int, dict]:
    """Per user: lessons completed and courses completed, and per course title (in `locale`) how far."""
    courses = {c.id: c for c in stored.courses_for(tenant_id)}
    found = {}
    for user_id, by_course in learning.progress_of_users(tenant_id, user_ids).items():
        rows = []
        for course_id, (completed, completed_at) in by_course.items():
            course = courses.get(course_id)
            if course is None:
                continue
            document = _document(course)
            rows.append({"slug": course.slug, "title": pick_text(document["title"], locale).text,
                         "lessons": min(completed, len(document["lessons"])), "total": len(document["lessons"]),
                         "completed": completed_at is not None})
        found[user_id] = {"courses": sorted(rows, key=lambda r: r["title"]),
                          "lessons": sum(r["lessons"] for r in rows),
                          "courses_completed": sum(1 for r in rows if r["completed"])}
    return found


def course_page(slug: str, identity: Identity, locale: str) -> dict:
    course = _visible(slug, identity.tenant_id)
    document = _document(course)
    state = learning.standing(identity, course)
    order = [key for module in document["modules"] for key in module["lessons"]]
    exercises = [key for lesson in order for key in document["lessons"][lesson]["exercises"]]
    modules = []
    for module in document["modules"]:
        lessons = [{"key": key, "title": pick_text(document["lessons"][key]["titles"], locale),
                    "minutes": document["lessons"][key]["minutes"],
                    "status": "completed" if key in state["completed"] else "viewed" if key in state["viewed"]
                    else "not_started"} for key in module["lessons"]]
        modules.append({"key": module["key"], "title": pick_text(module["title"], locale), "lessons": lessons,
                        "completed": sum(1 for lesson in lessons if lesson["status"] == "completed")})
    next_key = progress.next_lesson(order, state["completed"], state["last_lesson"])
    shown = [pick_text(document[part], locale) for part in ("title", "summary", "audience", "prerequisites")]
    shown += [module["title"] for module in modules] + [lesson["title"] for m in modules for lesson in m["lessons"]]
    return {
        # The first language this page falls back to, for the note that says so (None: all in the reader's).
        "fallback_locale": next((s.locale for s in shown if s.locale != locale), None),
        "slug": slug, "document": document, "modules": modules, "state": state,
        "title": pick_text(document["title"], locale), "summary": pick_text(document["summary"], locale),
        "audience": pick_text(document["audience"], locale),
        "prerequisites": pick_text(document["prerequisites"], locale),
        "outcomes": [(o["code"], pick_text(o["text"], locale)) for o in document["outcomes"]],
        "minutes": _minutes(document), "next_lesson": next_key,
        "next_title": pick_text(document["lessons"][next_key]["titles"], locale) if next_key else None,
        "started": bool(state["viewed"]), "completed": state["completed_at"] is not None,
        "score": progress.exercise_score(exercises, state["best"]),
        "min_score": float(document["completion"]["min_exercise_score"]),
        "lessons_completed": len(state["completed"] & set(order)), "lessons_total": len(order),
        "translations": _translation_rows(document),
    }


def _translation_rows(document: dict) -> list[dict]:
    """For instructors: each locale's status and how many lessons it has."""
    rows = []
    for locale in LOCALES:
        lessons = sum(1 for lesson in document["lessons"].values() if locale in lesson["titles"])
        status = document["translations"].get(locale)
        rows.append({"locale": locale, "lessons": lessons, "total": len(document["lessons"]),
                     "status": status["status"] if status else ("draft" if lessons else None),
                     "reviewer": status.get("reviewer") if status else None,
                     "reviewed_on": status.get("reviewed_on") if status else None})
    return rows


def lesson_page(slug: str, lesson_key: str, identity: Identity, locale: str) -> dict:
    """The lesson in the best locale it has, its exercises with the trainee's last answers; records the view."""
    course = _visible(slug, identity.tenant_id)
    document = _document(course)
    lesson = learning.lesson_of(document, lesson_key)
    with unit_of_work():
        learning.view_lesson(Where(identity, locale), course, document, lesson_key)
    content = stored.lesson_version(lesson["version_id"])
    shown = pick_text({loc: loc for loc in content["texts"]}, locale)
    text = content["texts"][shown.locale]
    order = [key for module in document["modules"] for key in module["lessons"]]
    position = order.index(lesson_key)
    state = learning.standing(identity, course)
    exercises = {key: _exercise_view(document, key, identity, course) for key in lesson["exercises"]}
    cited = cited_references(text["segments"])
    module = next(m for m in document["modules"] if m["key"] == lesson["module"])
    return {
        "slug": slug, "key": lesson_key, "course_title": pick_text(document["title"], locale),
        "module_title": pick_text(module["title"], locale), "title": text["title"], "segments": text["segments"],
        "shown_locale": shown.locale, "fell_back": shown.locale != locale, "exercises": exercises,
        "position": position + 1, "count": len(order),
        "previous": _neighbour(document, order, position - 1, locale),
        "next": _neighbour(document, order, position + 1, locale),
        "completed": lesson_key in state["completed"], "minutes": lesson["minutes"],
        "references": [r for r in document["references"] if r["id"] in cited],
        "outcomes": [(o["code"], pick_text(o["text"], locale)) for o in document["outcomes"]
                     if o["code"] in lesson["outcomes"]],
    }


_REFERENCE_LINK = re.compile(r'href="ref:([a-z0-9-]+)"')


def cited_references(segments: list[dict]) -> set[str]:
    """The ids of the sources a lesson's segments cite (links ref:<id>)."""
    return {m for s in segments for m in _REFERENCE_LINK.findall(s.get("html", "") + s.get("caption_html", ""))}


def _neighbour(document: dict, order: list[str], index: int, locale: str) -> dict | None:
    if not 0 <= index < len(order):
        return None
    key = order[index]
    return {"key": key, "title": pick_text(document["lessons"][key]["titles"], locale)}


def _exercise_view(document: dict, key: str, identity: Identity, course: stored.CourseRecord) -> dict:
    version_id = document["exercises"][key]["version_id"]
    item = stored.exercise_version(version_id)[0]
    last = db.session.execute(
        select(ExerciseAnswer).where(ExerciseAnswer.user_id == identity.user_id, ExerciseAnswer.course_id == course.id,
                                     ExerciseAnswer.exercise_key == key, ExerciseAnswer.tenant_id == identity.tenant_id)
        .order_by(ExerciseAnswer.id.desc()).limit(1)
    ).scalar_one_or_none()
    answered = None
    if last is not None:
        answered_item = stored.exercise_version(last.exercise_version_id)[0]
        answered = {"response": last.response, "score": last.score, "success": last.success,
                    "item": answered_item, "model": correct_response(answered_item),
                    "parts": _parts(answered_item, last.response)}
    return {"key": key, "version_id": version_id, "item": item, "answered": answered}


def _parts(item, response) -> dict:
    return score(item, response).parts


def answer_exercise(slug: str, lesson_key: str, exercise_key: str, *, version_id: int, token: str, form,
                    identity: Identity, locale: str) -> None:
    course = _visible(slug, identity.tenant_id)
    with unit_of_work():
        learning.answer(Where(identity, locale), course, _document(course), lesson_key, exercise_key, version_id,
                        token, form)


def complete_lesson(slug: str, lesson_key: str, identity: Identity, locale: str) -> bool:
    course = _visible(slug, identity.tenant_id)
    with unit_of_work():
        return learning.complete_lesson(Where(identity, locale), course, _document(course), lesson_key)


def resume_lesson(slug: str, identity: Identity) -> str | None:
    """The lesson to continue with, or None when every lesson is complete."""
    course = _visible(slug, identity.tenant_id)
    document = _document(course)
    state = learning.standing(identity, course)
    order = [key for module in document["modules"] for key in module["lessons"]]
    return progress.next_lesson(order, state["completed"], state["last_lesson"])


def glossary_page(slug: str, identity: Identity, locale: str) -> dict:
    course = _visible(slug, identity.tenant_id)
    document = _document(course)
    terms = [{"id": t["id"], "term": pick_text(t["term"], locale), "definition": pick_text(t["definition"], locale)}
             for t in document["glossary"]]
    terms.sort(key=lambda t: t["term"].text.casefold())
    return {"slug": slug, "title": pick_text(document["title"], locale), "terms": terms,
            "references": document["references"]}


def figure(digest: str) -> str:
    svg = stored.figure_svg(digest) if len(digest) == 64 and all(c in "0123456789abcdef" for c in digest) else None
    if svg is None:
        raise FigureNotFound()
    return svg

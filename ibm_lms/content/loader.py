"""Reads and checks course folders (docs/course-format.md) into CourseDefinitions; no database here.

Every problem of every file is collected, each with its file, line and fix, so an author sees
them all in one run; nothing half-checked leaves this module.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from defusedxml import DefusedXmlException, ElementTree
from marshmallow import ValidationError

from ibm_lms.items.service import Item, parse_item
from ibm_lms.locales import LOCALES

from .data import ContentProblem, CourseDefinition, LessonDefinition, LessonText, ModuleDefinition, TranslationStatus
from .lessons import parse_lesson
from .schemas import CourseSchema, GlossarySchema, ReferencesSchema, TranslationStatusSchema
from .tomlfile import FileProblem, line_of, load_toml, read_text

COURSE_FILE = "course.toml"
MAX_FIGURE_BYTES = 200 * 1024
LESSON_WORDS = (800, 1500)  # the guideline for an English lesson
LESSON_COUNT = (5, 8)
_SVG = "{http://www.w3.org/2000/svg}"
_XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
# url(…) naming anything but a fragment of the drawing itself (quoted or not), or an @import.
_EXTERNAL_IN_STYLE = re.compile(r"url\((?!\s*['\"]?\s*#)|@import", re.IGNORECASE)
# Comments hide nothing from the checks, and must not be where a problem's line is found.
_XML_COMMENT = re.compile(r"<!--.*?-->", re.S)
# The start of an attribute (of any namespace prefix) inside a tag: its name, then "=", closes the group.
_IN_A_TAG = r"<[^<>]*?\s(?P<at>(\w+:)?"
_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,63}\Z")


class _Collector:
    """The problems of one course folder, each tied to its file."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.problems: list[ContentProblem] = []

    def add(self, path: Path, line: int | None, message: str, fix: str = "", *, warning: bool = False) -> None:
        self.problems.append(ContentProblem(str(path), line, message, fix, warning))

    @property
    def errors(self) -> list[ContentProblem]:
        return [p for p in self.problems if not p.warning]


def _messages(messages, path: tuple = ()) -> list[tuple[tuple, str]]:
    """marshmallow's nested messages as (key path, message) pairs."""
    found = []
    if isinstance(messages, dict):
        for key, value in messages.items():
            found += _messages(value, (*path, key) if key != "_schema" else path)
    elif isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        found += [(path, m) for m in messages]
    else:
        for item in messages:
            found += _messages(item, path)
    return found


def _schema_load(schema, raw: dict, text: str, path: Path, out: _Collector):
    try:
        return schema.load(raw)
    except ValidationError as error:
        for keys, message in _messages(error.messages):
            where = ".".join(str(k) for k in keys)
            if message == "Unknown field.":
                message, fix = "is not a setting of this file", "remove it, or correct its name (see docs/course-format.md)"
            elif message == "Missing data for required field.":
                message, fix = "is missing", "add it (see docs/course-format.md)"
            else:
                message, _, fix = message.partition(" — ")
                # marshmallow's own words ("Not a valid integer.") name no fix: the format guide has the example.
                fix = fix or "write it as docs/course-format.md shows for this key"
            out.add(path, line_of(text, keys), f"{where}: {message}" if where else message, fix)
        return None


def _toml(path: Path, out: _Collector, *, required: bool = True) -> tuple[dict | None, str]:
    if not path.exists() and not path.is_symlink():
        if required:
            out.add(path, None, "is missing", "create it (see docs/course-format.md)")
        return None, ""
    try:
        return load_toml(path)
    except FileProblem as problem:
        out.add(path, problem.line, problem.message, problem.fix)
        return None, ""


def _figures(folder: Path, out: _Collector) -> tuple[dict[str, str], dict[str, str]]:
    """(file name → digest, digest → SVG text) of every safe drawing in figures/."""
    names, svgs = {}, {}
    figures = folder / "figures"
    if not figures.is_dir():
        return names, svgs
    for path in sorted(figures.iterdir()):
        if path.suffix != ".svg":
            out.add(path, None, "figures are SVG drawings", "save it as .svg, or remove it")
            continue
        if path.is_symlink() or not path.is_file():
            # A link may point anywhere on the server: a course folder's figures are its own files.
            out.add(path, None, "is a link or a folder, not a drawing", "copy the drawing itself into figures/")
            names[path.name] = ""
            continue
        try:
            svg = read_text(path, MAX_FIGURE_BYTES)
        except FileProblem as problem:
            out.add(path, problem.line, problem.message, problem.fix)
            continue
        problem = _unsafe_svg(svg)
        if problem:
            message, line = problem
            out.add(path, line, message, "draw it with plain SVG shapes and text only")
            # Named still, so that the lessons showing it are not also told it is missing (nothing is loaded).
            names[path.name] = ""
            continue
        digest = hashlib.sha256(svg.encode()).hexdigest()
        names[path.name], svgs[digest] = digest, svg
    return names, svgs


def _unsafe_svg(svg: str) -> tuple[str, int | None] | None:
    """Why a drawing may not be shown and on which line, or None: it must be plain SVG with nothing active or
    remote in it."""
    try:
        # defusedxml refuses document types and entities: no expansion bombs, nothing fetched.
        root = ElementTree.fromstring(svg, forbid_dtd=True)
    except DefusedXmlException:
        return "a document type or entity declaration is not allowed", _svg_line(svg, r"<!(DOCTYPE|ENTITY)")
    except ElementTree.ParseError as error:
        return f"is not well-formed XML ({error})", error.position[0]
    if root.tag != _SVG + "svg":
        return "is not an SVG drawing (its root element must be <svg> in the SVG namespace)", _svg_line(svg, r"<\w")
    if "viewBox" not in root.attrib:
        return "has no viewBox, so it cannot scale to a phone's width", _svg_line(svg, r"<(\w+:)?svg\b")
    for element in root.iter():
        name = element.tag.rsplit("}", 1)[-1]
        if name in ("script", "foreignObject", "iframe", "object", "embed"):
            return f"holds a <{name}> element", _svg_line(svg, rf"<(\w+:)?{name}\b")
        for attribute, value in element.attrib.items():
            local = attribute.rsplit("}", 1)[-1]
            if local.lower().startswith("on"):
                return f"holds an event attribute ({local})", _svg_line(svg, _IN_A_TAG + rf"{re.escape(local)}\s*=)")
            if attribute in ("href", _XLINK_HREF) and not value.startswith("#"):
                return f"links outside the drawing ({value[:60]})", _svg_line(svg, _IN_A_TAG + r"href\s*=\s*['\"](?!#))")
            if local == "style" and _EXTERNAL_IN_STYLE.search(value):
                return "its style loads something from outside the drawing", _svg_line(svg, _EXTERNAL_IN_STYLE.pattern)
        if name == "style" and element.text and _EXTERNAL_IN_STYLE.search(element.text):
            return "its style loads something from outside the drawing", _svg_line(svg, _EXTERNAL_IN_STYLE.pattern)
    return None


def _svg_line(svg: str, pattern: str) -> int | None:
    """The line of the first match (of its group `at`, if it has one) in the drawing's markup outside comments
    (the parsed tree keeps no lines)."""
    markup = _XML_COMMENT.sub(lambda comment: re.sub(r"[^\n]", " ", comment.group(0)), svg)
    found = re.search(pattern, markup, re.IGNORECASE)
    if found is None:
        return None
    return markup.count("\n", 0, found.start("at") if "at" in found.re.groupindex else found.start()) + 1


def read_course(folder: Path) -> tuple[CourseDefinition | None, list[ContentProblem]]:
    """The course a folder defines, or None; and every problem and warning found in it."""
    out = _Collector(folder)
    course_path = folder / COURSE_FILE
    raw, text = _toml(course_path, out)
    course = _schema_load(CourseSchema(), raw, text, course_path, out) if raw is not None else None
    if course is None:
        _check_files_alone(folder, out)
        return None, out.problems
    if course["slug"] != folder.name:
        out.add(course_path, line_of(text, ("slug",)), f"slug {course['slug']!r} differs from its folder "
                f"{folder.name!r}", "make the slug and the folder name the same")
    codes = [o["code"] for o in course["outcomes"]]
    _unique(codes, "outcome code", course_path, text, ("outcomes",), out)
    modules, lesson_entries = [], []
    for module in course["modules"]:
        modules.append(ModuleDefinition(module["id"], module["title"], tuple(e["id"] for e in module["lessons"])))
        lesson_entries += [(module["id"], entry) for entry in module["lessons"]]
    _unique([m.key for m in modules], "module id", course_path, text, ("modules",), out)
    lesson_keys = [entry["id"] for _, entry in lesson_entries]
    _unique(lesson_keys, "lesson id", course_path, text, ("modules",), out)
    if not LESSON_COUNT[0] <= len(lesson_keys) <= LESSON_COUNT[1]:
        out.add(course_path, line_of(text, ("modules",)), f"the course has {len(lesson_keys)} lessons",
                f"a course has {LESSON_COUNT[0]} to {LESSON_COUNT[1]}", warning=True)
    for _, entry in lesson_entries:
        for code in entry["outcomes"]:
            if code not in codes:
                out.add(course_path, _lesson_line(text, entry["id"]), f"lesson {entry['id']!r} names the unknown "
                        f"outcome {code!r}", "use one of the course's outcome codes: " + ", ".join(codes))
    glossary = _optional_list(folder / "glossary.toml", GlossarySchema(), "terms", out)
    references = _optional_list(folder / "references.toml", ReferencesSchema(), "references", out)
    translations = _translations(folder, out)
    figure_names, figures = _figures(folder, out)
    exercises = _exercises(folder, codes, out)
    lessons, linked = _lessons(folder, lesson_entries, set(lesson_keys), glossary, references, figure_names,
                               exercises, out)
    _unused(folder, lessons, linked, glossary, references, exercises, out)
    if out.errors:
        return None, out.problems
    return CourseDefinition(
        slug=course["slug"], order=course["order"], horizontal=course["horizontal"], title=course["title"],
        summary=course["summary"], audience=course["audience"], prerequisites=course["prerequisites"],
        outcomes=tuple(course["outcomes"]), completion=course["completion"], modules=tuple(modules),
        lessons=tuple(lessons), exercises=exercises, glossary=tuple(glossary), references=tuple(references),
        translations=translations, figures=figures, source=str(folder),
    ), out.problems


def _check_files_alone(folder: Path, out: _Collector) -> None:
    """With course.toml unusable, the other files are still checked on their own, so one run shows every problem."""
    figure_names, _ = _figures(folder, out)
    _exercises(folder, None, out)
    for path in sorted((folder / "lessons").glob("*/*.md")):
        try:
            source = read_text(path)
        except FileProblem as problem:
            out.add(path, problem.line, problem.message, problem.fix)
            continue
        for problem in parse_lesson(source, figures=figure_names)[1]:
            out.add(path, problem.line, problem.message, problem.fix)


def _lesson_line(text: str, lesson_key: str) -> int | None:
    for number, line in enumerate(text.split("\n"), start=1):
        if re.match(r"^\s*id\s*=\s*\"" + re.escape(lesson_key) + "\"", line):
            return number
    return None


def _unique(values: list[str], what: str, path: Path, text: str, key: tuple, out: _Collector) -> None:
    seen = set()
    for value in values:
        if value in seen:
            out.add(path, _lesson_line(text, value) or line_of(text, key), f"the {what} {value!r} is used twice",
                    f"give each {what.split()[-1]} its own")
        seen.add(value)


def _optional_list(path: Path, schema, key: str, out: _Collector) -> list[dict]:
    raw, text = _toml(path, out, required=False)
    if raw is None:
        return []
    loaded = _schema_load(schema, raw, text, path, out)
    if not loaded:
        # Its problems are reported; the ids it holds are still known, so that one bad entry does not make every
        # lesson's link to the others a problem too (nothing is loaded while a problem stands).
        written = raw.get(key) if isinstance(raw.get(key), list) else []
        return [{"id": e["id"]} for e in written if isinstance(e, dict) and isinstance(e.get("id"), str)]
    entries = loaded[key]
    seen = set()
    for index, entry in enumerate(entries):
        if entry["id"] in seen:
            out.add(path, line_of(text, (key, index, "id")), f"the id {entry['id']!r} is used twice",
                    "give each entry its own id")
        seen.add(entry["id"])
    return entries


def _translations(folder: Path, out: _Collector) -> dict[str, TranslationStatus]:
    path = folder / "translations.toml"
    raw, text = _toml(path, out, required=False)
    statuses = {"en": TranslationStatus("source")}
    for locale, entry in (raw or {}).items():
        if locale not in LOCALES:
            out.add(path, line_of(text, (locale,)), f"{locale!r} is not an interface locale",
                    "use one of " + ", ".join(LOCALES))
            continue
        loaded = _schema_load(TranslationStatusSchema(), entry if isinstance(entry, dict) else {}, text, path, out)
        if loaded:
            statuses[locale] = TranslationStatus(loaded["status"], loaded.get("reviewer"),
                                                 loaded["reviewed_on"].isoformat() if loaded.get("reviewed_on") else None)
    return statuses


def _exercises(folder: Path, codes: list[str] | None, out: _Collector) -> dict[str, Item]:
    exercises = {}
    directory = folder / "exercises"
    for path in sorted(directory.glob("*")) if directory.is_dir() else ():
        if path.suffix != ".toml" or not _ID.fullmatch(path.stem):
            out.add(path, None, "an exercise file is named <exercise-id>.toml",
                    "use lower-case letters, digits and hyphens, and the .toml ending")
            continue
        raw, text = _toml(path, out)
        if raw is None:
            continue
        item, problems = parse_item(path.stem, raw)
        for problem in problems:
            out.add(path, line_of(text, problem.path), problem.located(), problem.fix_text())
        if item is None:
            continue
        for code in item.outcomes if codes is not None else ():
            if code not in codes:
                out.add(path, line_of(text, ("outcomes",)), f"the outcome {code!r} is not one of the course's",
                        "use one of: " + ", ".join(codes))
        exercises[item.key] = item
    return exercises


def _lessons(folder: Path, entries, lesson_keys: set[str], glossary, references, figure_names: dict[str, str],
             exercises: dict[str, Item], out: _Collector) -> tuple[list[LessonDefinition], set[tuple[str, str]]]:
    """The lessons, and every (scheme, id) they link to."""
    terms, refs = {t["id"] for t in glossary}, {r["id"] for r in references}
    linked: set[tuple[str, str]] = set()
    lessons_dir = folder / "lessons"
    for locale_dir in sorted(lessons_dir.iterdir()) if lessons_dir.is_dir() else ():
        if locale_dir.name not in LOCALES:
            out.add(locale_dir, None, f"{locale_dir.name!r} is not an interface locale",
                    "name lesson folders by locale: " + ", ".join(LOCALES))
            continue
        for path in sorted(locale_dir.iterdir()):
            if path.suffix != ".md" or path.stem not in lesson_keys:
                out.add(path, None, "is no lesson of course.toml",
                        "name it <lesson-id>.md after a lesson listed in course.toml, or remove it")
    definitions = []
    for module_key, entry in entries:
        texts, embedded = {}, None
        for locale in LOCALES:
            path = lessons_dir / locale / f"{entry['id']}.md"
            if not path.exists():
                if locale == "en":
                    out.add(path, None, "the English text of the lesson is missing", "write lessons/en/"
                            + path.name + ": English is the source language")
                continue
            try:
                source = read_text(path)
            except FileProblem as problem:
                out.add(path, problem.line, problem.message, problem.fix)
                continue
            parsed, problems = parse_lesson(source, figures=figure_names)
            for problem in problems:
                out.add(path, problem.line, problem.message, problem.fix)
            if parsed is None:
                continue
            for scheme, ident, line in parsed.links:
                linked.add((scheme, ident))
                known = {"term": terms, "ref": refs, "lesson": lesson_keys}[scheme]
                if ident not in known:
                    what = {"term": "glossary term", "ref": "source", "lesson": "lesson"}[scheme]
                    out.add(path, line, f"links to the {what} {ident!r}, which the course does not have",
                            f"correct the id, or add it to {'course.toml' if scheme == 'lesson' else scheme + 's'}")
            for ident in parsed.exercises:
                if ident not in exercises and not (folder / "exercises" / f"{ident}.toml").exists():
                    out.add(path, _line_of_text(source, f"::: exercise {ident}"),
                            f"embeds the exercise {ident!r}, which has no file",
                            f"add exercises/{ident}.toml, or correct the id")
            if locale == "en":
                embedded = tuple(parsed.exercises)
                if not LESSON_WORDS[0] <= parsed.words <= LESSON_WORDS[1]:
                    out.add(path, None, f"the lesson has {parsed.words} words",
                            f"an English lesson has {LESSON_WORDS[0]} to {LESSON_WORDS[1]}", warning=True)
            elif embedded is not None and tuple(parsed.exercises) != embedded:
                out.add(path, _first_differing_exercise_line(source, parsed.exercises, embedded),
                        "embeds other exercises than the English lesson: "
                        + ", ".join(parsed.exercises) + " instead of " + ", ".join(embedded),
                        "keep the same ::: exercise blocks, in the same order, in every language")
            texts[locale] = LessonText(parsed.title, parsed.segments, parsed.words)
        definitions.append(LessonDefinition(entry["id"], module_key, entry["minutes"], tuple(entry["outcomes"]),
                                            texts, embedded or ()))
    return definitions, linked


def _first_differing_exercise_line(source: str, exercises, english) -> int | None:
    """The line of the first ::: exercise block that is not the English lesson's at its place, or of the last
    block when the English lesson has more."""
    for index, ident in enumerate(exercises):
        if index >= len(english) or ident != english[index]:
            return _line_of_text(source, f"::: exercise {ident}")
    return _line_of_text(source, f"::: exercise {exercises[-1]}") if exercises else None


def _line_of_text(text: str, needle: str) -> int | None:
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            return number
    return None


def _unused(folder: Path, lessons, linked, glossary, references, exercises, out: _Collector) -> None:
    embedded = {key for lesson in lessons for key in lesson.exercises}
    for key in sorted(set(exercises) - embedded):
        out.add(folder / "exercises" / f"{key}.toml", None, "no lesson embeds this exercise",
                f"add ::: exercise {key} to a lesson, or remove the file", warning=True)
    for scheme, entries, file in (("term", glossary, "glossary.toml"), ("ref", references, "references.toml")):
        for entry in entries:
            if (scheme, entry["id"]) not in linked:
                out.add(folder / file, None, f"no lesson links to {entry['id']!r}",
                        f"link it from a lesson with [text]({scheme}:{entry['id']}), or remove it", warning=True)


def read_all(courses_dir: Path) -> tuple[list[CourseDefinition], list[ContentProblem]]:
    """Every course under the folder, and every problem (one bad course hides no other)."""
    courses, problems = [], []
    try:
        folders = sorted(e for e in courses_dir.iterdir() if e.is_dir() and not e.name.startswith("."))
    except OSError as error:
        return [], [ContentProblem(str(courses_dir), None, f"cannot be read: {error.strerror or error}",
                                   "set IBM_LMS_COURSES_DIR to the folder of courses")]
    if not folders:
        problems.append(ContentProblem(str(courses_dir), None, "no course folders found",
                                       "each course is a folder with a course.toml"))
    for folder in folders:
        course, found = read_course(folder)
        problems += found
        if course is not None:
            courses.append(course)
    seen: dict[int, str] = {}
    for course in courses:
        if course.order in seen:
            problems.append(ContentProblem(str(Path(course.source) / COURSE_FILE), None,
                                           f"order {course.order} is also used by {seen[course.order]}",
                                           "give each course its own order"))
        seen[course.order] = course.slug
    return courses, problems

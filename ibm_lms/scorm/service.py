"""The package room's door: courses as SCORM 1.2, SCORM 2004 or cmi5 packages for a learning platform that plays
them itself (a post with a slow or no link to this tool, Moodle's app offline).

A package is built from the course files (courses/), not from the database: it needs no running tool, and
what it holds is what the files say. One package is one course in one language, one launchable unit whose
lessons are pages inside it; the unit is complete when every lesson is marked complete. Exercises are
self-checks there (the model answer opens under each): a package cannot keep its answers from the
learner, so it reports no score.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterable
from importlib import resources
from pathlib import Path

from flask import current_app, render_template
from flask_babel import force_locale

from ibm_lms.content.data import CourseDefinition
from ibm_lms.content.service import check
from ibm_lms.i18n.data import pick_text
from ibm_lms.locales import LOCALES

from . import pages
from .data import BuiltPackage, PackageError, PackagePlan
from .packagers import FLAVOURS
from .packagers.flavour import Flavour

# Files every package holds besides its pages: the tool's own style sheet, the runtime and its adapters.
_STYLE = "assets/app.css"
_TOOL_STATIC = (("css/app.css", _STYLE), ("js/scroll_regions.js", "assets/scroll_regions.js"))
_RUNTIME = ("package.css", "scorm_api.js", "course.js", "lesson.js")
# A fixed date for every entry: the same course files give byte-identical packages, so a rebuild that
# changes nothing uploads nothing new.
_ZIP_TIME = (2020, 1, 1, 0, 0, 0)


def flavours() -> tuple[str, ...]:
    return tuple(FLAVOURS)


def build(courses_dir: Path, out_dir: Path, *, courses: Iterable[str] | None = None,
          locales: Iterable[str] | None = None, formats: Iterable[str] | None = None) -> list[BuiltPackage]:
    """Writes <out_dir>/<course>-<locale>-<format>.zip for each course, locale and format asked (all by
    default). Raises PackageError when the course files have problems or name no such course; nothing is
    written then."""
    definitions, problems = check(courses_dir)
    errors = [problem for problem in problems if not problem.warning]
    if errors:
        raise PackageError("the course files have problems (ibm-lms content check lists them):\n"
                           + "\n".join(str(problem) for problem in errors))
    by_slug = {course.slug: course for course in sorted(definitions, key=lambda course: course.order)}
    wanted = list(by_slug) if courses is None else list(dict.fromkeys(courses))
    unknown = [slug for slug in wanted if slug not in by_slug]
    if unknown:
        raise PackageError(f"no course {', '.join(unknown)} in {courses_dir} (there are: {', '.join(by_slug)})")
    wanted_locales = list(LOCALES if locales is None else dict.fromkeys(locales))
    wanted_formats = list(FLAVOURS if formats is None else dict.fromkeys(formats))
    for name in wanted_locales:
        if name not in LOCALES:
            raise PackageError(f"no interface language {name} (there are: {', '.join(LOCALES)})")
    for name in wanted_formats:
        if name not in FLAVOURS:
            raise PackageError(f"no package format {name} (there are: {', '.join(FLAVOURS)})")
    out_dir.mkdir(parents=True, exist_ok=True)
    built = []
    for slug in wanted:
        for locale in wanted_locales:
            files = _course_files(by_slug[slug], locale)
            for name in wanted_formats:
                built.append(_write(by_slug[slug], locale, FLAVOURS[name], files, out_dir))
    return built


def _course_files(course: CourseDefinition, locale: str) -> dict[str, bytes]:
    """The package's files but its manifest and adapter, the launch page first, each lesson in order."""
    files: dict[str, bytes] = {}
    with current_app.test_request_context("/"), force_locale(locale):
        contents = pages.contents_page(course, locale)
        files[pages.LAUNCH] = _page("scorm/contents.html", page=contents, identifier=_identifier(course, locale),
                                    state_id=_base() + "/xapi/state/package-progress")
        for lesson in pages.lessons_in_order(course):
            files[pages.lesson_file(lesson.key)] = _page("scorm/lesson.html", page=pages.lesson_page(
                course, lesson, locale))
        if course.glossary:
            files[pages.GLOSSARY] = _page("scorm/glossary.html", page=pages.glossary_page(course, locale))
    for digest, svg in sorted(course.figures.items()):
        files[pages.figure_file(digest)] = svg.encode("utf-8")
    static = Path(current_app.static_folder or "")
    for source, target in _TOOL_STATIC:
        files[target] = (static / source).read_bytes()
    for name in _RUNTIME:
        files[f"assets/{name}"] = _runtime(name)
    return files


def _page(template: str, **context) -> bytes:
    return render_template(template, exercise_markdown=pages.exercise_markdown, style=_STYLE, **context).encode()


def _runtime(name: str) -> bytes:
    return resources.files("ibm_lms.scorm").joinpath("runtime", name).read_bytes()


def _identifier(course: CourseDefinition, locale: str) -> str:
    return f"ibm-lms.{course.slug}.{locale}"


def _base() -> str:
    return current_app.config["BASE_URL"].rstrip("/")


def _plan(course: CourseDefinition, locale: str, flavour: Flavour, files: Iterable[str]) -> PackagePlan:
    summary = pick_text(course.summary, locale)
    # The IRIs of the course structure and of its one unit, each its own per language (cmi5 13.1.4). The
    # platform names the unit's statements' object itself (a registration's activityId, never the unit's id).
    packaged = f"{_base()}/packages/cmi5/{course.slug}/{locale}"
    return PackagePlan(
        identifier=_identifier(course, locale),
        course_iri=packaged, unit_iri=f"{packaged}/unit",
        title=pick_text(course.title, locale).text, description=summary.text,
        language=locale, launch=pages.LAUNCH, files=tuple(files),
    )


def _write(course: CourseDefinition, locale: str, flavour: Flavour, files: dict[str, bytes],
           out_dir: Path) -> BuiltPackage:
    contents = {**files, "assets/lms.js": _runtime(flavour.adapter)}
    plan = _plan(course, locale, flavour, contents)
    path = out_dir / f"{course.slug}-{locale}-{flavour.name}.zip"
    partial = path.with_suffix(".zip.part")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        # The manifest at the root, first: players look for it there.
        for name, data in ((flavour.manifest_name, flavour.manifest(plan)), *contents.items()):
            entry = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            archive.writestr(entry, data)
    # A package half written (a full disk) never takes the place of a good one.
    partial.replace(path)
    return BuiltPackage(course=course.slug, locale=locale, flavour=flavour.name, path=path,
                        files=len(contents) + 1, bytes=path.stat().st_size)

"""Reads and validates courses/<slug>/course.toml files into CourseDefinitions (no database here)."""

from __future__ import annotations

import tomllib
from pathlib import Path

from marshmallow import ValidationError

from ibm_lms.text import UnreadableText, read_utf8

from .data import CourseDefinition
from .errors import CourseFileError
from .schemas import CourseSchema

COURSE_FILE = "course.toml"
# A course file holds titles, summaries and outcomes in eight languages: a few KiB.
MAX_COURSE_FILE_BYTES = 256 * 1024


def _flatten(messages, prefix: str = "") -> list[str]:
    found = []
    if isinstance(messages, dict):
        for key, value in messages.items():
            found += _flatten(value, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        found.append(f"{prefix}: {'; '.join(messages)}")
    else:
        for item in messages:
            found += _flatten(item, prefix)
    return found


def _text_of(path: Path) -> str:
    try:
        return read_utf8(path, max_bytes=MAX_COURSE_FILE_BYTES)
    except UnreadableText as error:
        reason = error.reason if error.line is None else f"{error.reason} (line {error.line})"
        raise CourseFileError(path=str(path), reason=reason) from error


def read_course(path: Path) -> CourseDefinition:
    try:
        raw = tomllib.loads(_text_of(path))
    except tomllib.TOMLDecodeError as error:
        # tomllib's message already carries "(at line N, column M)".
        raise CourseFileError(path=str(path), reason=str(error)) from error
    try:
        data = CourseSchema().load(raw)
    except ValidationError as error:
        raise CourseFileError(path=str(path), reason=", ".join(_flatten(error.messages))) from error
    if data["slug"] != path.parent.name:
        raise CourseFileError(
            path=str(path), reason=f"slug {data['slug']!r} differs from its folder {path.parent.name!r}"
        )
    return CourseDefinition(
        slug=data["slug"],
        order=data["order"],
        horizontal=data["horizontal"],
        title=data["title"],
        summary=data["summary"],
        outcomes=tuple(data["outcomes"]),
        source=str(path),
    )


def read_all(courses_dir: Path) -> tuple[list[CourseDefinition], list[CourseFileError]]:
    """Every course under the folder, and every file that failed (so one bad file hides no other)."""
    courses, errors = [], []
    try:
        folders = sorted(entry for entry in courses_dir.iterdir() if entry.is_dir() and not entry.name.startswith("."))
    except OSError as error:
        return [], [CourseFileError(path=str(courses_dir), reason=f"cannot be read: {error.strerror or error}")]
    # Every folder is a course: one whose file is missing or unreadable is reported, never skipped.
    for folder in folders:
        try:
            courses.append(read_course(folder / COURSE_FILE))
        except CourseFileError as error:
            errors.append(error)
    if not folders:
        errors.append(CourseFileError(path=str(courses_dir), reason="no course folders found"))
    seen: dict[int, str] = {}
    for course in courses:
        if course.order in seen:
            errors.append(
                CourseFileError(
                    path=course.source, reason=f"order {course.order} is also used by {seen[course.order]}"
                )
            )
        seen[course.order] = course.slug
    return courses, errors

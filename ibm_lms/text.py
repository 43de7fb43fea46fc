"""Facts about text from outside (forms, files, command lines) that every room checks alike (pure)."""

from __future__ import annotations

import re
from pathlib import Path

# Identifiers, hints, URLs and names never hold these; PostgreSQL refuses NUL in text outright,
# and a Location header cannot hold a line break.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")
# Tenant and course slugs: lower-case letters, digits and hyphens. \Z, not $: "$" also admits a
# trailing line break.
SLUG = re.compile(r"[a-z0-9][a-z0-9-]{1,63}\Z")


# Text that may span lines (titles, descriptions) keeps tabs and line breaks, nothing else of these.
_CONTROL_BUT_LINE_BREAKS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def is_bounded_text(value: object, limit: int, *, multiline: bool = False, empty: bool = False) -> bool:
    """Text from outside that the tool may store and show: valid Unicode (any script), at most `limit`
    characters, non-empty unless `empty`, with no control characters (bar tabs and line breaks when
    `multiline`)."""
    if not isinstance(value, str) or len(value) > limit or (not value and not empty):
        return False
    if (_CONTROL_BUT_LINE_BREAKS if multiline else CONTROL_CHARACTERS).search(value):
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates: bytes that were not UTF-8 on a command line, or \ud800 in JSON
        return False
    return True


class UnreadableText(Exception):
    """A text file that cannot be used; `line` is set when the problem has one."""

    def __init__(self, reason: str, line: int | None = None):
        super().__init__(reason)
        self.reason = reason
        self.line = line


def read_utf8(path: Path, *, max_bytes: int | None = None) -> str:
    try:
        if max_bytes is not None and path.stat().st_size > max_bytes:
            raise UnreadableText(f"larger than {max_bytes // 1024} KiB")
        data = path.read_bytes()
    except OSError as error:
        raise UnreadableText(f"cannot be read: {error.strerror or error}") from error
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise UnreadableText("not UTF-8 text", line=data[:error.start].count(b"\n") + 1) from error


def spreadsheet_cell(value):
    """A value for a CSV or XLSX cell: a text starting with = + - @ (or a tab or carriage return) is a formula to a
    spreadsheet, so one typed by a person (a name, a reason, a key) is kept as text, never run."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value

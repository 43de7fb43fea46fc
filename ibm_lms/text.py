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


# Characters that reorder the text around them (bidirectional embeddings, overrides and isolates): a name shown
# on a certificate or a listing holding one can read as another ("\u202eevil" shows as "live").
BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")


def person_name(value: str | None) -> str | None:
    """A person's name from outside (Moodle's claims, a roster) without bidirectional controls, or None when
    nothing else is left. Removed, not refused: the person cannot fix the name their Moodle sends, and a name in
    Arabic or Hebrew script reads correctly without them."""
    if value is None:
        return None
    cleaned = BIDI_CONTROLS.sub("", value).strip()
    return cleaned or None

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
        # "utf-8-sig": a byte-order mark, as Windows editors write, is no character of the text.
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise UnreadableText("not UTF-8 text", line=data[:error.start].count(b"\n") + 1) from error


def spreadsheet_cell(value):
    """A value for a CSV or XLSX cell: a text starting with = + - @ (or a tab or carriage return) is a formula to a
    spreadsheet, so one typed by a person (a name, a reason, a key) is kept as text, never run."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


# The largest row id either database stores (a signed 64-bit integer): a larger one names no row.
MAX_ROW_ID = 2**63 - 1
# ASCII digits only: str.isdigit() also takes "²" and other scripts' digits, which int() then refuses or reads.
_WHOLE_NUMBER = re.compile(r"[0-9]{1,19}\Z")


def whole_number(value: object, maximum: int = MAX_ROW_ID) -> int:
    """A whole number from outside (a form field, a query parameter), 0 to `maximum`; else ValueError. Fits
    werkzeug's `type=` argument, which answers the default for a value it refuses."""
    if not isinstance(value, str) or not _WHOLE_NUMBER.match(value) or int(value) > maximum:
        raise ValueError(f"not a whole number from 0 to {maximum}")
    return int(value)


def whole_number_or_none(value: object, maximum: int = MAX_ROW_ID) -> int | None:
    try:
        return whole_number(value, maximum)
    except ValueError:
        return None


# A decimal typed in a form: ASCII digits with one optional point or comma (both are decimal marks in the
# academies' languages). float() would also read "1_0" as 10 and other scripts' digits ("１００", "٧٥").
_DECIMAL_NUMBER = re.compile(r"(?:[0-9]{1,15}(?:[.,][0-9]{0,15})?|[.,][0-9]{1,15})\Z")


def decimal_number(value: object) -> float:
    """A decimal number from outside (a form field): ASCII digits, optionally a point or comma and more; else
    ValueError. No sign, exponent, digit separator or surrounding space: the caller strips what it allows."""
    if not isinstance(value, str) or not _DECIMAL_NUMBER.match(value):
        raise ValueError("not a decimal number")
    return float(value.replace(",", "."))


# Lists show a few dozen rows a page: a page past this one would only ask the database for an absurd offset.
MAX_PAGE = 1_000_000


def page_number(value: object) -> int:
    """A list's page number from a query parameter (werkzeug `type=`), 0 to MAX_PAGE; else ValueError."""
    return whole_number(value, MAX_PAGE)


# Course files, question definitions and API bodies nest tables a few levels deep (a scenario's part's option's
# text is five); much deeper is no content, and would run the recursive code that reads or writes it out of stack.
MAX_NESTING = 32


def is_shallow(value: object, limit: int = MAX_NESTING) -> bool:
    """Whether parsed JSON or TOML nests its lists and tables at most `limit` levels deep (walked without
    recursion, so any depth is measured safely)."""
    pending = [(value, 1)]
    while pending:
        current, depth = pending.pop()
        children = current.values() if isinstance(current, dict) else current if isinstance(current, list) else None
        if children is None:
            continue
        if depth > limit:
            return False
        pending.extend((child, depth + 1) for child in children)
    return True

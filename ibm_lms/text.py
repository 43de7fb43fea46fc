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


def is_printable(value: object, limit: int) -> bool:
    """1 to `limit` characters of valid Unicode (any script), with no control characters."""
    if not isinstance(value, str) or not 0 < len(value) <= limit or CONTROL_CHARACTERS.search(value):
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates: bytes that were not UTF-8 on a command line
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

"""Reading course TOML files, and finding the line a key path sits on so that problems can name it (pure).

tomllib reports syntax errors with their line but keeps no positions for values; a problem found
later (an answer that is not an option) is located by walking the file's headers and keys.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from ibm_lms.markers import N_, Phrase
from ibm_lms.text import MAX_NESTING, UnreadableText, is_shallow, read_utf8

# A course file holds texts in eight languages: some tens of KiB at most.
MAX_FILE_BYTES = 512 * 1024
_TOML_POSITION = re.compile(r"\(at line (\d+), column \d+\)")


class FileProblem(Exception):
    def __init__(self, message: str, line: int | None = None, fix: str = ""):
        super().__init__(message)
        self.message, self.line, self.fix = message, line, fix


def read_text(path: Path, max_bytes: int = MAX_FILE_BYTES) -> str:
    try:
        return read_utf8(path, max_bytes=max_bytes)
    except UnreadableText as error:
        raise FileProblem(error.reason, error.line, "save the file as UTF-8 text") from error


def load_toml(path: Path) -> tuple[dict, str]:
    """The file's table and its text; FileProblem names the line of a syntax error."""
    text = read_text(path)
    return parse_toml(text), text


_HUGE_NUMBER = re.compile(r"[0-9_]{4300,}")


def parse_toml(text: str) -> dict:
    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        found = _TOML_POSITION.search(str(error))
        raise FileProblem(_TOML_POSITION.sub("", str(error)).strip(), int(found.group(1)) if found else None,
                          "correct the TOML syntax on that line") from error
    except RecursionError:  # arrays or inline tables nested hundreds deep: the reader runs out of stack
        table = None
    except ValueError as error:  # Python refuses integers of more than 4,300 digits (int_max_str_digits)
        found = _HUGE_NUMBER.search(text)
        # Phrases: the programme editor shows them to an academy's administrator, in their language.
        raise FileProblem(Phrase(N_("a number has thousands of digits, more than can be read")),
                          text.count("\n", 0, found.start()) + 1 if found else None,
                          "write numbers with at most a few digits") from error
    if table is None or not is_shallow(table):
        raise FileProblem(Phrase(N_("lists and tables are nested more than %(levels)d levels deep"), levels=MAX_NESTING),
                          None,
                          "flatten the nesting: a course file needs a few levels at most")
    return table


def line_of(text: str, path: tuple) -> int | None:
    """The 1-based line where the value at `path` is written, as near as the file's layout shows it."""
    # Lines as TOML counts them: "\n" ends one (splitlines would also split at \u2028, \x0c and others).
    lines = text.split("\n")
    low, high, prefix = 0, len(lines), []
    for position, part in enumerate(path):
        if isinstance(part, int):
            if not prefix:
                continue
            header = re.compile(r"^\s*\[\[\s*" + re.escape(".".join(prefix)) + r"\s*\]\]\s*$")
            found = [i for i in range(low, high) if header.match(lines[i])]
            if part < len(found):
                low = found[part]
                high = found[part + 1] if part + 1 < len(found) else _next_sibling_header(lines, low, high, prefix)
            continue
        key = re.escape(str(part))
        table = re.compile(r"^\s*\[{1,2}\s*" + re.escape(".".join([*prefix, str(part)])) + r"\s*\]{1,2}\s*$")
        assignment = re.compile(r"^\s*(?:\"" + key + r"\"|" + key + r")\s*=")
        inline = re.compile(r"[{,]\s*" + key + r"\s*=")
        hit = None
        for i in range(low, high):
            if table.match(lines[i]) or assignment.match(lines[i]):
                hit = i
                break
        if hit is None and position == len(path) - 1:
            hit = next((i for i in range(low, high) if inline.search(lines[i])), None)
        if hit is None:
            return low + 1 if low < len(lines) else None
        low = hit
        prefix.append(str(part))
    return low + 1 if low < len(lines) else None


def _next_sibling_header(lines: list[str], low: int, high: int, prefix: list[str]) -> int:
    """Where the array-of-tables entry opened at `low` ends: the next header that is not inside it."""
    inside = re.compile(r"^\s*\[{1,2}\s*" + re.escape(".".join(prefix)) + r"[.\]]")
    for i in range(low + 1, high):
        stripped = lines[i].strip()
        if stripped.startswith("[") and not inside.match(lines[i]):
            return i
    return high

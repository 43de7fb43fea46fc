"""Validation of xAPI statements, stricter than a Learning Record Store (pure: the standard library only).

`problems(statement)` lists every rule a statement breaks, each as "path: what is wrong", the path naming the value
as it sits in the statement: `result.score.scaled`, `context.contextActivities.parent[0].id`, and map entries by
their key in brackets, `verb.display["en_US"]`. `check(statement)` raises InvalidStatement carrying that list.

The rules are xAPI 1.0.3's (xAPI-Data.md: 2.2 formatting, 2.3.2 voiding, 2.4 the properties, 4 the data types), as
an LRS must enforce them. Three sources make them stricter, and the comments say which one each rule comes from:

- IEEE 9274.1.1 (xAPI 2.0) where it hardened a 1.0.3 "SHOULD*": additional properties are refused, and a
  timestamp is RFC 3339 (hence always with its offset);
- the SHOULDs of 1.0.3 that cost a conforming sender nothing: no empty objects, lower-case hashes, component ids
  without whitespace, interaction responses in the format of their interaction type;
- what LRSs we deliver to refuse although the specification allows it (Ralph refuses every empty string and an
  email domain without a dot, PostgreSQL-backed stores refuse a NUL character): a statement that passes here
  must not be turned away on delivery.

Every input gets a list back, never an exception, and never a slow one: the statement is first walked without
recursion and refused whole when it is not JSON data (a tuple, a non-string key, a reference cycle), holds more
than MAX_VALUES values, nests deeper than MAX_DEPTH levels or more than MAX_TEXT characters; past that, an array
of more than MAX_ITEMS items or a string of more than MAX_STRING_BYTES is one problem, not work.
"""

from __future__ import annotations

import calendar
import json
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from ibm_lms.memo import Memo

__all__ = ["MAX_DEPTH", "MAX_ITEMS", "MAX_STRING_BYTES", "MAX_TEXT", "MAX_VALUES", "InvalidStatement", "check",
           "problems"]

# Size guards: far above anything a statement of ours holds, far below what would make checking slow.
MAX_VALUES = 100_000  # values in the whole statement (objects, arrays, strings, numbers...)
MAX_DEPTH = 64  # levels of nesting; the statement's own shape takes a dozen, extensions the rest
MAX_TEXT = 8_000_000  # characters of all its strings and keys together
MAX_ITEMS = 1_000  # items of one array (components, members, patterns...) or entries of one map
MAX_STRING_BYTES = 1_000_000  # UTF-8 bytes of one string

VOIDED = "http://adlnet.gov/expapi/verbs/voided"
SIGNATURE = "http://adlnet.gov/expapi/attachments/signature"

# The version a statement is checked against: 1.0.x, or 2.0.0 (IEEE 9274.1.1), which adds contextAgents and
# contextGroups to the context and accepts statements marked 2.0.x.
_SPECS = {"1.0.0": "1.0", "1.0.1": "1.0", "1.0.2": "1.0", "1.0.3": "1.0", "2.0.0": "2.0"}


class InvalidStatement(ValueError):
    """A statement that breaks rules: `problems` holds each as "path: what is wrong"."""

    problems: tuple[str, ...]

    def __init__(self, found: Iterable[str]) -> None:
        self.problems = tuple(found)
        shown = "; ".join(self.problems[:5])
        more = len(self.problems) - 5
        super().__init__(f"invalid xAPI statement: {shown}" + (f" (and {more} more)" if more > 0 else ""))


def problems(statement: dict, *, version: str = "1.0.3") -> list[str]:
    """Every rule the statement breaks, as "path: what is wrong", in the order met; [] when it is valid.

    Raises ValueError only for a `version` this module does not know, whatever the statement."""
    checker = _Checker(_spec(version))
    shape = _shape_problem(statement)
    if shape is not None:
        checker.add(*shape)
    else:
        _statement(checker, statement)
    return checker.found


def check(statement: dict, *, version: str = "1.0.3") -> None:
    """Raises InvalidStatement listing the statement's problems, if it has any."""
    found = problems(statement, version=version)
    if found:
        raise InvalidStatement(found)


def _spec(version: str) -> str:
    spec = _SPECS.get(version) if isinstance(version, str) else None
    if spec is None:
        raise ValueError(f"unknown xAPI version {version!r}: use one of {', '.join(_SPECS)}")
    return spec


@dataclass
class _Checker:
    spec: str  # "1.0" or "2.0"
    found: list[str] = field(default_factory=list)

    def add(self, path: str, message: str) -> None:
        self.found.append(f"{path or 'statement'}: {message}")


class _Interaction(NamedTuple):
    """An interaction activity's type and the ids of each of its component lists that is entirely valid."""

    kind: str
    components: Mapping[str, frozenset[str]]


class _Target(NamedTuple):
    """What a statement's object turned out to be: its objectType (None when unreadable), its interaction."""

    kind: str | None
    interaction: _Interaction | None


# --- Paths and messages -------------------------------------------------------------------------------------------

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _prop(path: str, name: object) -> str:
    """The path of a property: dotted when its name reads as one, bracketed otherwise."""
    if isinstance(name, str) and _NAME.fullmatch(name):
        return f"{path}.{name}" if path else name
    return _entry(path, name)


def _entry(path: str, key: object) -> str:
    """The path of a map's entry (a language, an extension IRI): always its key, quoted, in brackets."""
    return f"{path}[{_quote(key)}]"


def _index(path: str, index: int) -> str:
    return f"{path}[{index}]"


def _quote(value: object, limit: int = 60) -> str:
    """A short, printable, JSON-quoted rendering of a key or a value for a message."""
    text = value if isinstance(value, str) else repr(value)
    if len(text) > limit:
        text = text[:limit - 3] + "..."
    # json escapes control characters; an unpaired surrogate would make the message itself unprintable.
    return json.dumps(text, ensure_ascii=False).encode("utf-8", "backslashreplace").decode("utf-8")


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return f"a {type(value).__name__}"


# --- The walk before the checks: JSON data of a sane size --------------------------------------------------------

_LEAVE = object()


def _shape_problem(statement: object) -> tuple[str, str] | None:
    """(path, problem) when the statement is not JSON data of a sane size, found without recursion.

    Only a container that contains itself is a cycle: the same object met twice side by side is fine (JSON
    writes it twice)."""
    # A node is (value, depth, parent node, key in the parent); the path is rebuilt only for a problem.
    stack: list[tuple[Any, ...]] = [(statement, 0, None, None)]
    inside: set[int] = set()
    values = 1
    text = 0
    while stack:
        node = stack.pop()
        if node[0] is _LEAVE:
            inside.discard(node[1])
            continue
        value, depth = node[0], node[1]
        if depth > MAX_DEPTH:
            return "", f"is nested more than {MAX_DEPTH} levels deep"
        if isinstance(value, str):
            text += len(value)
        elif isinstance(value, dict | list):
            if id(value) in inside:
                return _node_path(node), "refers back to an object that contains it (a cycle), which JSON cannot hold"
            values += len(value)
            if values > MAX_VALUES:
                return "", f"holds more than {MAX_VALUES} values"
            inside.add(id(value))
            stack.append((_LEAVE, id(value)))
            if isinstance(value, list):
                stack.extend((item, depth + 1, node, index) for index, item in enumerate(value))
                continue
            for key, item in value.items():
                if not isinstance(key, str):
                    return _node_path(node), f"has the key {_quote(key)}, which is not a string (JSON keys are)"
                text += len(key)
                stack.append((item, depth + 1, node, key))
        elif not (value is None or isinstance(value, bool | int | float)):
            return _node_path(node), f"is {_kind(value)}, which is not a JSON value"
        if text > MAX_TEXT:
            return "", f"holds more than {MAX_TEXT} characters of text"
    return None


def _node_path(node: tuple[Any, ...]) -> str:
    steps = []
    while node[2] is not None:
        steps.append(node[3])
        node = node[2]
    path = ""
    for key in reversed(steps):
        path = _index(path, key) if isinstance(key, int) else _prop(path, key)
    return path


# --- Values -------------------------------------------------------------------------------------------------------

_SURROGATE = re.compile("[\ud800-\udfff]")


def _text_problem(text: str) -> str | None:
    """What makes a string unfit to send whatever it stands for, if anything."""
    if len(text) > MAX_STRING_BYTES or (
            len(text) * 4 > MAX_STRING_BYTES and len(text.encode("utf-8", "surrogatepass")) > MAX_STRING_BYTES):
        return f"is longer than {MAX_STRING_BYTES} bytes, refused as absurd"
    if "\x00" in text:
        # JSON can carry \u0000, but PostgreSQL (text and jsonb) refuses it, and LRSs store statements there.
        return "must not contain the NUL character"
    if _SURROGATE.search(text):
        # Not Unicode text: it cannot be encoded as UTF-8, so no LRS can read it back.
        return "contains an unpaired surrogate, which is not Unicode text"
    return None


def _text(c: _Checker, value: object, path: str) -> str | None:
    """The value when it is a usable, non-empty string.

    Empty strings are refused everywhere outside extensions: they say nothing, and Ralph refuses them all
    (str_min_length=1 in its models)."""
    if not isinstance(value, str):
        c.add(path, f"must be a string, not {_kind(value)}")
        return None
    problem = _text_problem(value) or ("must not be empty" if not value else None)
    if problem is not None:
        c.add(path, problem)
        return None
    return value


def _number(c: _Checker, value: object, path: str) -> int | float | None:
    # Data 2.2: a string, a boolean or null is not a number. NaN and Infinity are not JSON at all (Python's
    # json reads and writes them, other parsers refuse them), and an integer beyond a double's range is one
    # no LRS reads back as written.
    if isinstance(value, bool) or not isinstance(value, int | float):
        c.add(path, f"must be a number, not {_kind(value)}")
        return None
    if isinstance(value, float) and not math.isfinite(value):
        c.add(path, "must be a finite number: NaN and Infinity are not JSON")
        return None
    if isinstance(value, int) and not _fits_double(value):
        c.add(path, "is too large a number for JSON (beyond ±1.8e308)")
        return None
    return value


def _fits_double(number: int) -> bool:
    try:
        float(number)
    except OverflowError:
        return False
    return True


def _boolean(c: _Checker, value: object, path: str) -> None:
    # Data 2.2: "true" or 1 is not a boolean.
    if not isinstance(value, bool):
        c.add(path, f"must be true or false, not {_kind(value)}")


def _enum(c: _Checker, value: object, path: str, choices: tuple[str, ...]) -> str | None:
    # Data 2.2: an enumerated value matches one of the specification's exactly, case included.
    if isinstance(value, str) and value in choices:
        return value
    if isinstance(value, str):
        c.add(path, "must be " + (choices[0] if len(choices) == 1 else "one of " + ", ".join(choices)))
    else:
        c.add(path, f"must be a string, not {_kind(value)}")
    return None


def _properties(c: _Checker, value: object, path: str, what: str, allowed: frozenset[str],
                required: tuple[str, ...] = ()) -> dict[str, Any] | None:
    """The value when it is a non-empty JSON object, its unknown properties and missing required ones reported."""
    if not isinstance(value, dict):
        c.add(path, f"must be {what}, not {_kind(value)}")
        return None
    if not value:
        # Data 2.2: objects SHOULD NOT have a property whose value is an empty object; Ralph refuses them.
        c.add(path, "must not be an empty object")
        return None
    for key in value:
        if key not in allowed:
            # Data 2.2 (LRS SHOULD* reject; IEEE 9274.1.1: shall reject): no property the specification does not
            # define, and keys are case sensitive ("Actor" is not "actor").
            c.add(_prop(path, key), f"is not a property of {what}")
    for key in required:
        if key not in value:
            c.add(_prop(path, key), "is required")
    return value


def _array(c: _Checker, value: object, path: str, what: str) -> list[Any] | None:
    if not isinstance(value, list):
        c.add(path, f"must be an array of {what}, not {_kind(value)}")
        return None
    if len(value) > MAX_ITEMS:
        c.add(path, f"has {len(value)} items, more than the {MAX_ITEMS} accepted")
        return None
    return value


def _map(c: _Checker, value: object, path: str, what: str) -> dict[str, Any] | None:
    """An object whose keys are data (languages, extension IRIs): any keys, not empty, not absurdly many."""
    if not isinstance(value, dict):
        c.add(path, f"must be {what}, not {_kind(value)}")
        return None
    if not value:
        c.add(path, "must not be an empty object")
        return None
    if len(value) > MAX_ITEMS:
        c.add(path, f"has {len(value)} entries, more than the {MAX_ITEMS} accepted")
        return None
    return value


def _any_json(c: _Checker, value: object, path: str) -> None:
    """A value the specification leaves free (an extension's): checked only for what JSON and storage cannot hold.

    Data 4.1: an LRS must not reject a statement for its extension values, nulls and empty strings included;
    but NaN, a NUL or an absurd string are not values at all. Walked without recursion."""
    stack: list[tuple[object, str]] = [(value, path)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, dict):
            stack.extend((inner, _entry(where, key)) for key, inner in reversed(item.items()))
        elif isinstance(item, list):
            stack.extend((item[index], _index(where, index)) for index in range(len(item) - 1, -1, -1))
        elif isinstance(item, str):
            problem = _text_problem(item)
            if problem is not None:
                c.add(where, problem)
        elif isinstance(item, int | float) and not isinstance(item, bool):
            _number(c, item, where)


# --- Formats: UUIDs, timestamps, durations, languages, IRIs, mailboxes, media types -----------------------------

# Data 4.4: a UUID in its standard string form, 8-4-4-4-12 hexadecimal digits; any version and variant, either case.
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def _uuid(c: _Checker, value: object, path: str) -> None:
    text = _text(c, value, path)
    if text is not None and not _UUID.fullmatch(text):
        c.add(path, "must be a UUID in its standard form, such as 3f2b8c1e-6a4d-4f0e-9b7a-2c5d8e1f4a60")


# Data 4.5 asks for ISO 8601 and, SHOULD*, the RFC 3339 profile of it with a time zone; IEEE 9274.1.1 made RFC 3339
# a shall. Both together: the extended format, a "T", seconds, and an offset that is "Z" or ±hh:mm (never the
# -00:00 RFC 3339 allows and ISO 8601 forbids, which the ADL conformance suite rejects). Upper-case T and Z only,
# as ISO 8601 writes them. A naive timestamp is not an instant: an LRS would have to guess its zone.
_TIMESTAMP = re.compile(
    r"(?P<year>[0-9]{4})-(?P<month>[0-9]{2})-(?P<day>[0-9]{2})T(?P<hour>[0-9]{2}):(?P<minute>[0-9]{2})"
    r":(?P<second>[0-9]{2})(?:\.[0-9]+)?(?P<zone>Z|[+-](?P<zone_hour>[0-9]{2}):(?P<zone_minute>[0-9]{2}))")
_NAIVE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:[.,][0-9]+)?)?")


def _timestamp(c: _Checker, value: object, path: str) -> None:
    text = _text(c, value, path)
    if text is None:
        return
    match = _TIMESTAMP.fullmatch(text)
    if match is None:
        c.add(path, "must include a time zone: Z or an offset such as +04:00" if _NAIVE.fullmatch(text) else
              "must be an RFC 3339 date-time with a time zone, such as 2024-05-01T12:30:00.000Z")
        return
    problem = _instant_problem(match)
    if problem is not None:
        c.add(path, problem)


def _instant_problem(match: re.Match[str]) -> str | None:
    year, month, day = int(match["year"]), int(match["month"]), int(match["day"])
    if year == 0:
        return "is in year 0000, which LRSs cannot store (years start at 0001)"
    if not 1 <= month <= 12 or not 1 <= day <= calendar.monthrange(year, month)[1]:
        return "is not a date that exists"
    # Second 60 (a leap second) is valid ISO 8601, but Ralph and most LRS languages' date types refuse it.
    if int(match["hour"]) > 23 or int(match["minute"]) > 59 or int(match["second"]) > 59:
        return "is not a time of day (hours 00-23, minutes and seconds 00-59)"
    if match["zone"] == "-00:00":
        return "has the offset -00:00, which ISO 8601 forbids: write Z or +00:00"
    if match["zone"] != "Z" and (int(match["zone_hour"]) > 23 or int(match["zone_minute"]) > 59):
        return "has an offset that is not ±hh:mm (hours up to 23, minutes up to 59)"
    return None


# Data 4.6: ISO 8601:2004 4.4.3.2, PnYnMnDTnHnMnS, any part left out but at least one present, a T only before
# hours, minutes or seconds, or weeks alone (PnW). Never negative ("-PT5S", "PT-5S"), never empty ("P", "PT").
# A fraction only on the seconds, with a point: ISO 8601 would allow it on the last part and with a comma, but LRSs
# (ADL's, the conformance suite's own patterns) do not. Precision beyond 0.01 s is kept: an LRS SHOULD* NOT refuse it.
_DURATION = re.compile(
    r"P(?:[0-9]+W|(?=[0-9]|T[0-9])(?:[0-9]+Y)?(?:[0-9]+M)?(?:[0-9]+D)?"
    r"(?:T(?=[0-9])(?:[0-9]+H)?(?:[0-9]+M)?(?:[0-9]+(?:\.[0-9]+)?S)?)?)")


def _duration(c: _Checker, value: object, path: str) -> None:
    text = _text(c, value, path)
    if text is None:
        return
    if "-" in text:
        c.add(path, "must not be negative")
    elif not _DURATION.fullmatch(text):
        c.add(path, "must be an ISO 8601 duration such as PT1H30M5.25S or P2DT4H (or weeks alone, P4W)")


# Data 2.2 and 4.2: language map keys, and context.language, are RFC 5646 tags; an LRS MUST at least check the
# sequence of their subtags' lengths. Checked here: the RFC's grammar (language, extlangs, script, region, variants,
# extensions, private use, and the grandfathered tags), case-insensitive, no variant or extension singleton twice,
# and a two-letter language must be a registered one (ISO 639-1, as in the IANA registry; Ralph checks that and
# refuses "xx"). Pragmatic: the primary language has 2 or 3 letters (the 4- and 5-8-letter forms the grammar keeps
# are reserved or unregistered, and they are what "english" would pass as), and three-letter languages, scripts
# and regions are checked for their form only, not against the registry.
_LANGUAGE_TAG = re.compile(
    r"(?P<language>[a-z]{2,3})(?:-[a-z]{3}){0,3}(?:-[a-z]{4})?(?:-(?:[a-z]{2}|[0-9]{3}))?"
    r"(?P<variants>(?:-(?:[a-z0-9]{5,8}|[0-9][a-z0-9]{3}))*)"
    r"(?P<extensions>(?:-[0-9a-wyz](?:-[a-z0-9]{2,8})+)*)"
    r"(?:-x(?:-[a-z0-9]{1,8})+)?",
    re.IGNORECASE | re.ASCII)
_PRIVATE_USE_TAG = re.compile(r"x(?:-[a-z0-9]{1,8})+", re.IGNORECASE | re.ASCII)
_IRREGULAR_TAGS = frozenset((
    "en-gb-oed", "i-ami", "i-bnn", "i-default", "i-enochian", "i-hak", "i-klingon", "i-lux", "i-mingo",
    "i-navajo", "i-pwn", "i-tao", "i-tay", "i-tsu", "sgn-be-fr", "sgn-be-nl", "sgn-ch-de"))
_ISO_639_1 = frozenset((
    "aa", "ab", "ae", "af", "ak", "am", "an", "ar", "as", "av", "ay", "az", "ba", "be", "bg", "bh", "bi", "bm", "bn", "bo",
    "br", "bs", "ca", "ce", "ch", "co", "cr", "cs", "cu", "cv", "cy", "da", "de", "dv", "dz", "ee", "el", "en", "eo", "es",
    "et", "eu", "fa", "ff", "fi", "fj", "fo", "fr", "fy", "ga", "gd", "gl", "gn", "gu", "gv", "ha", "he", "hi", "ho", "hr",
    "ht", "hu", "hy", "hz", "ia", "id", "ie", "ig", "ii", "ik", "in", "io", "is", "it", "iu", "iw", "ja", "ji", "jv", "jw",
    "ka", "kg", "ki", "kj", "kk", "kl", "km", "kn", "ko", "kr", "ks", "ku", "kv", "kw", "ky", "la", "lb", "lg", "li", "ln",
    "lo", "lt", "lu", "lv", "mg", "mh", "mi", "mk", "ml", "mn", "mo", "mr", "ms", "mt", "my", "na", "nb", "nd", "ne", "ng",
    "nl", "nn", "no", "nr", "nv", "ny", "oc", "oj", "om", "or", "os", "pa", "pi", "pl", "ps", "pt", "qu", "rm", "rn", "ro",
    "ru", "rw", "sa", "sc", "sd", "se", "sg", "sh", "si", "sk", "sl", "sm", "sn", "so", "sq", "sr", "ss", "st", "su", "sv",
    "sw", "ta", "te", "tg", "th", "ti", "tk", "tl", "tn", "to", "tr", "ts", "tt", "tw", "ty", "ug", "uk", "ur", "uz", "ve",
    "vi", "vo", "wa", "wo", "xh", "yi", "yo", "za", "zh", "zu"))
_NOT_A_TAG = "is not an RFC 5646 language tag, such as en, en-US or az-Latn"


def _is_language_tag(tag: str) -> bool:
    if tag.lower() in _IRREGULAR_TAGS or _PRIVATE_USE_TAG.fullmatch(tag):
        return True
    match = _LANGUAGE_TAG.fullmatch(tag)
    if match is None:
        return False
    language = match["language"].lower()
    if len(language) == 2 and language not in _ISO_639_1:
        return False
    variants = match["variants"].lower().split("-")[1:]
    singletons = re.findall(r"(?:^|-)([0-9a-wyz])(?=-)", match["extensions"].lower())
    return len(set(variants)) == len(variants) and len(set(singletons)) == len(singletons)


def _language(c: _Checker, value: object, path: str) -> None:
    tag = _text(c, value, path)
    if tag is not None and not _is_language_tag(tag):
        c.add(path, _NOT_A_TAG)


def _language_map(c: _Checker, value: object, path: str) -> None:
    entries = _map(c, value, path, "a language map (language tags to strings)")
    if entries is None:
        return
    seen: set[str] = set()
    for tag, text in entries.items():
        where = _entry(path, tag)
        if not _is_language_tag(tag):
            c.add(where, _NOT_A_TAG)
        elif tag.lower() in seen:
            c.add(where, "repeats a language already in the map (tags ignore case)")
        seen.add(tag.lower())
        _text(c, text, where)


# Data 3.1 and 4.3, RFC 3987: an absolute IRI, scheme ":" then an authority and path, or a path, then an optional
# query and fragment; non-ASCII letters only from the ranges the RFC allows (private-use ones in the query only),
# percent signs only before two hexadecimal digits. Data 2.2: an IRI without a scheme is refused.
_UCSCHAR = ("\u00a0-\ud7ff\uf900-\ufdcf\ufdf0-\uffef"
            + "".join(f"{chr(plane << 16)}-{chr((plane << 16) | 0xFFFD)}" for plane in range(1, 14))
            + "\U000e1000-\U000efffd")
_IPRIVATE = "\ue000-\uf8ff\U000f0000-\U000ffffd\U00100000-\U0010fffd"
_UNRESERVED = "A-Za-z0-9._~\\-" + _UCSCHAR
_SUB_DELIMS = "!$&'()*+,;="
_PCT = "%[0-9A-Fa-f]{2}"
_PCHAR = f"(?:[{_UNRESERVED}{_SUB_DELIMS}:@]|{_PCT})"
_IRI = re.compile(
    r"(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*):"
    f"(?:(?P<authority>//(?:(?:[{_UNRESERVED}{_SUB_DELIMS}:]|{_PCT})*@)?"
    f"(?P<host>\\[[0-9A-Za-z:.{_SUB_DELIMS}~_\\-]+\\]|(?:[{_UNRESERVED}{_SUB_DELIMS}]|{_PCT})*)(?::[0-9]*)?)"
    f"(?:/{_PCHAR}*)*|/?(?:{_PCHAR}+(?:/{_PCHAR}*)*)?)"
    f"(?:\\?(?:{_PCHAR}|[/?{_IPRIVATE}])*)?"
    f"(?:#(?:{_PCHAR}|[/?])*)?")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")
_WHITESPACE = re.compile(r"\s")
# C0 and C1 controls, DEL, and the bidirectional formatting characters RFC 3987 forbids in an IRI.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e]")
_WEB_SCHEMES = ("http", "https")


def _iri_problem(text: str, *, locator: bool = False, ascii_only: bool = False) -> str | None:
    """What keeps a string from being an absolute IRI (an IRL with a host when `locator`, a URI when `ascii_only`)."""
    if not text:
        return "must not be empty"
    if _WHITESPACE.search(text):
        return "must not contain whitespace"
    if _CONTROL.search(text):
        return "must not contain control or bidirectional formatting characters"
    if ascii_only and not text.isascii():
        return "must be a URI: ASCII only, anything else percent-encoded"
    match = _IRI.fullmatch(text)
    if match is None:
        if not _SCHEME.match(text):
            return "must be an absolute IRI with a scheme, such as http://adlnet.gov/expapi/verbs/answered"
        return "is not a valid IRI (RFC 3987)"
    # An IRL locates something: scheme://host/... (Data 2.4.2.4 homePage, 2.4.4.1 moreInfo, 2.4.11 fileUrl). An
    # http(s) IRI without a host names nothing (RFC 9110).
    if (locator or match["scheme"].lower() in _WEB_SCHEMES) and not match["host"]:
        return "must have a host, such as https://example.org/path"
    return None


def _iri(c: _Checker, value: object, path: str, *, locator: bool = False, ascii_only: bool = False) -> str | None:
    text = _text(c, value, path)
    if text is None:
        return None
    problem = _iri_problem(text, locator=locator, ascii_only=ascii_only)
    if problem is not None:
        c.add(path, problem)
        return None
    return text


def _irl(c: _Checker, value: object, path: str) -> None:
    _iri(c, value, path, locator=True)


def _iri_keys(c: _Checker, entries: dict[str, Any], path: str) -> None:
    for key in entries:
        problem = _iri_problem(key)
        if problem is not None:
            c.add(_entry(path, key), f"key {problem}")


# Data 2.4.2.3: mbox is "mailto:" and one email address. The address is held to what Ralph's validator
# (email-validator) accepts: a dot-atom local part of at most 64 characters (Unicode letters allowed), a domain of
# at least two labels of letters, digits and inner hyphens, whose last is not all digits and is no special-use name.
_LOCAL_PART = re.compile(r"[^\s\"(),.:;<>@\[\\\]]+(?:\.[^\s\"(),.:;<>@\[\\\]]+)*")
_DOMAIN = re.compile(r"(?:[^\W_](?:[^\W_]|-){0,61}(?<!-)\.)+[^\W_](?:[^\W_]|-){0,61}(?<!-)")
_SPECIAL_USE_DOMAINS = frozenset(("arpa", "invalid", "local", "localhost", "onion", "test"))


def _is_email(address: str) -> bool:
    local, at, domain = address.rpartition("@")
    if not at or len(local) > 64 or len(domain) > 253 or _CONTROL.search(address):
        return False
    if not _LOCAL_PART.fullmatch(local) or not _DOMAIN.fullmatch(domain):
        return False
    last = domain.rsplit(".", 1)[-1]
    return not last.isdigit() and last.lower() not in _SPECIAL_USE_DOMAINS


def _mbox(c: _Checker, value: object, path: str) -> None:
    text = _text(c, value, path)
    if text is None:
        return
    # The scheme exactly as the specification writes it: Ralph and ADL's LRS refuse "MAILTO:".
    if not text.startswith("mailto:"):
        c.add(path, "must be a mailto IRI: mailto: and an email address")
    elif not _is_email(text[len("mailto:"):]) or _iri_problem(text) is not None:
        # Also an IRI: the address characters an IRI cannot hold unencoded ({, |, }...) are refused too.
        c.add(path, "must be mailto: followed by one email address, such as mailto:trainee@example.org")


def _mbox_sha1sum(c: _Checker, value: object, path: str) -> None:
    text = _text(c, value, path)
    # Data 2.2: lower case for case-insensitive data; Ralph accepts only ^[0-9a-f]{40}$.
    if text is not None and not re.fullmatch(r"[0-9a-f]{40}", text):
        c.add(path, "must be 40 lower-case hexadecimal digits (the SHA-1 of a mailto IRI)")


def _openid(c: _Checker, value: object, path: str) -> None:
    _iri(c, value, path, ascii_only=True)  # Data 2.4.2.3: a URI, not an IRI


# RFC 2046 and RFC 9110: type/subtype, both tokens, then ; name=value parameters (value a token or quoted).
_TCHARS = r"[!#$%&'*+.^_`|~0-9A-Za-z\-]+"
_QUOTED = r'"(?:[^"\\\x00-\x1f\x7f]|\\[^\x00-\x1f\x7f])*"'
_MEDIA_TYPE = re.compile(f"{_TCHARS}/{_TCHARS}(?:[ \t]*;[ \t]*{_TCHARS}=(?:{_TCHARS}|{_QUOTED}))*", re.ASCII)


def _media_type(c: _Checker, value: object, path: str) -> str | None:
    text = _text(c, value, path)
    if text is not None and not _MEDIA_TYPE.fullmatch(text):
        c.add(path, "must be an Internet media type, such as application/pdf")
        return None
    return text


def _sha2(c: _Checker, value: object, path: str) -> None:
    text = _text(c, value, path)
    # Data 2.4.11: the SHA-2 hash of the attachment, hexadecimal: 224, 256, 384 or 512 bits, lower case (as 2.2
    # asks for case-insensitive data; ADL's LRS accepts nothing else).
    if text is not None and not (len(text) in (56, 64, 96, 128) and re.fullmatch(r"[0-9a-f]+", text)):
        c.add(path, "must be a SHA-2 hash in lower-case hexadecimal (64 digits for SHA-256)")


def _length(c: _Checker, value: object, path: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        c.add(path, f"must be an integer, not {_kind(value)}")
    elif value < 0:
        c.add(path, "must not be negative")


# --- Statements ---------------------------------------------------------------------------------------------------

_STATEMENT_PROPS = frozenset(("id", "actor", "verb", "object", "result", "context", "timestamp", "stored",
                              "authority", "version", "attachments"))
# Data 2.4.4.3: a SubStatement MUST NOT have id, stored, version or authority. Nor attachments here: 2.4.11 has them
# sent on the containing statement, and ADL's LRS refuses them in a SubStatement.
_NOT_IN_SUBSTATEMENT = ("id", "stored", "version", "authority", "attachments")
_SUBSTATEMENT_PROPS = frozenset(("objectType", "actor", "verb", "object", "result", "context", "timestamp",
                                 *_NOT_IN_SUBSTATEMENT))
_REQUIRED = ("actor", "verb", "object")  # Data 2.2


def _statement(c: _Checker, value: object) -> None:
    if value == {}:
        for key in _REQUIRED:
            c.add(key, "is required")
        return
    statement = _properties(c, value, "", "a Statement (a JSON object)", _STATEMENT_PROPS, _REQUIRED)
    if statement is None:
        return
    if "id" in statement:
        _uuid(c, statement["id"], "id")
    _core(c, statement, "", in_substatement=False)
    if "stored" in statement:
        _timestamp(c, statement["stored"], "stored")
    if "authority" in statement:
        _authority(c, statement["authority"], "authority")
    if "version" in statement:
        _version(c, statement["version"], "version")
    if "attachments" in statement:
        _attachments(c, statement["attachments"], "attachments")


def _substatement(c: _Checker, value: dict[str, Any], path: str) -> None:
    substatement = _properties(c, value, path, "a SubStatement", _SUBSTATEMENT_PROPS, _REQUIRED)
    if substatement is None:
        return
    for key in _NOT_IN_SUBSTATEMENT:
        if key in substatement:
            c.add(_prop(path, key), "is not allowed in a SubStatement")
    # Data 2.4.4.3: a SubStatement is validated as a statement (its own object decides revision and platform).
    _core(c, substatement, path, in_substatement=True)


def _core(c: _Checker, statement: dict[str, Any], path: str, *, in_substatement: bool) -> None:
    """What a statement and a SubStatement share: actor, verb, object, result, context, timestamp."""
    if "actor" in statement:
        _actor(c, statement["actor"], _prop(path, "actor"))
    verb = _verb(c, statement["verb"], _prop(path, "verb")) if "verb" in statement else None
    target = _Target(None, None)
    if "object" in statement:
        target = _statement_object(c, statement["object"], _prop(path, "object"), in_substatement=in_substatement)
    if verb == VOIDED and target.kind not in (None, "StatementRef"):
        # Data 2.3.2: a voiding statement's object is the StatementRef of the statement it voids.
        c.add(_prop(_prop(path, "object"), "objectType"), "must be StatementRef when the verb is voided")
    if "result" in statement:
        _result(c, statement["result"], _prop(path, "result"), target.interaction)
    if "context" in statement:
        _context(c, statement["context"], _prop(path, "context"), target.kind)
    if "timestamp" in statement:
        _timestamp(c, statement["timestamp"], _prop(path, "timestamp"))


def _version(c: _Checker, value: object, path: str) -> None:
    text = _text(c, value, path)
    if text is None:
        return
    # Data 2.4.10: an LRS accepts a version starting 1.0. and refuses any other; written in full, as the
    # X-Experience-API-Version header is (1.0.3, not 1.0 or 1.0.3-draft). A 2.0 LRS also takes 2.0.x.
    match = re.fullmatch(r"([12]\.0)\.(?:0|[1-9][0-9]*)", text, re.ASCII)
    if match is None or (match[1] == "2.0" and c.spec != "2.0"):
        c.add(path, "must be 1.0.x, such as 1.0.0" + (", or 2.0.x" if c.spec == "2.0" else ""))


def _authority(c: _Checker, value: object, path: str) -> None:
    # Data 2.4.9: an Agent, or, for 3-legged OAuth, a Group of two Agents: the application and the user.
    if not (isinstance(value, dict) and value.get("objectType") == "Group"):
        _actor(c, value, path)
        return
    group = _group(c, value, path)
    if group is None:
        return
    if any(name in group for name in _IFIS):
        # The pair is not a standing group of its own; ADL's LRS refuses an identifier here.
        c.add(path, "must not have an identifier: an authority Group is only the pair of an application and a user")
    members = group.get("member")
    if isinstance(members, list) and members and len(members) != 2:
        c.add(_prop(path, "member"), "must list exactly two Agents: the application and the user")


# --- Actors: Agents and Groups ----------------------------------------------------------------------------------

_IFIS = ("mbox", "mbox_sha1sum", "openid", "account")
_AGENT_PROPS = frozenset(("objectType", "name", *_IFIS))
_GROUP_PROPS = frozenset(("objectType", "name", "member", *_IFIS))
_ACCOUNT_PROPS = frozenset(("homePage", "name"))


def _actor(c: _Checker, value: object, path: str) -> None:
    """An Agent or a Group whose objectType may be left out (then it is an Agent): actor, instructor, authority."""
    if not isinstance(value, dict):
        c.add(path, f"must be an Agent or a Group, not {_kind(value)}")
        return
    kind = _enum(c, value.get("objectType", "Agent"), _prop(path, "objectType"), ("Agent", "Group"))
    if kind == "Group":
        _group(c, value, path)
    elif kind == "Agent":
        _agent(c, value, path)


def _agent(c: _Checker, value: object, path: str) -> None:
    agent = _properties(c, value, path, "an Agent", _AGENT_PROPS)
    if agent is None:
        return
    if "name" in agent:
        _text(c, agent["name"], _prop(path, "name"))
    # Data 2.4.2.1: an Agent is identified by exactly one inverse functional identifier.
    if _identifiers(c, agent, path) == 0:
        c.add(path, "needs an identifier: one of mbox, mbox_sha1sum, openid, account")


def _plain_agent(c: _Checker, value: object, path: str) -> None:
    """An Agent where a Group may not stand: a Group's member, a contextAgent's agent."""
    if isinstance(value, dict) and value.get("objectType", "Agent") != "Agent":
        c.add(_prop(path, "objectType"), "must be Agent: only an Agent can stand here (Groups do not nest)")
        return
    _agent(c, value, path)


def _group(c: _Checker, value: object, path: str) -> dict[str, Any] | None:
    group = _properties(c, value, path, "a Group", _GROUP_PROPS)
    if group is None:
        return None
    if "name" in group:
        _text(c, group["name"], _prop(path, "name"))
    identifiers = _identifiers(c, group, path)
    if "member" in group:
        _members(c, group["member"], _prop(path, "member"))
    elif identifiers == 0:
        # Data 2.4.2.2: a Group without an identifier (anonymous) is known only by its members.
        c.add(_prop(path, "member"), "is required in a Group without an identifier (an anonymous Group)")
    return group


def _typed_group(c: _Checker, value: object, path: str) -> None:
    """A Group that must say so (context.team, a contextGroup's group): objectType Group is required."""
    if isinstance(value, dict) and value.get("objectType") != "Group":
        c.add(_prop(path, "objectType"), "must be Group")
        return
    _group(c, value, path)


def _members(c: _Checker, value: object, path: str) -> None:
    members = _array(c, value, path, "Agents")
    if members is None:
        return
    if not members:
        c.add(path, "must list at least one Agent")
    for index, member in enumerate(members):
        # Data 2.4.2.2: a Group's members are Agents, never Groups.
        _plain_agent(c, member, _index(path, index))


def _identifiers(c: _Checker, actor: dict[str, Any], path: str) -> int:
    """Checks each inverse functional identifier present and returns how many there are."""
    present = [name for name in _IFIS if name in actor]
    if len(present) > 1:
        # Data 2.4.2.1 and 2.4.2.2: never more than one identifier.
        c.add(path, f"has {len(present)} identifiers ({', '.join(present)}); exactly one is allowed")
    for name in present:
        _IFI_CHECKS[name](c, actor[name], _prop(path, name))
    return len(present)


def _account(c: _Checker, value: object, path: str) -> None:
    # Data 2.4.2.4: homePage (an IRL) and name, both required, nothing else.
    account = _properties(c, value, path, "an account", _ACCOUNT_PROPS, ("homePage", "name"))
    if account is None:
        return
    if "homePage" in account:
        _irl(c, account["homePage"], _prop(path, "homePage"))
    if "name" in account:
        _text(c, account["name"], _prop(path, "name"))


_IFI_CHECKS: dict[str, Callable[[_Checker, object, str], None]] = {
    "mbox": _mbox, "mbox_sha1sum": _mbox_sha1sum, "openid": _openid, "account": _account}


# --- Verbs and objects ----------------------------------------------------------------------------------------------

def _verb(c: _Checker, value: object, path: str) -> str | None:
    """Data 2.4.3: id (an IRI) and display (a language map). Returns the id when it is valid."""
    verb = _properties(c, value, path, "a Verb", frozenset(("id", "display")), ("id",))
    if verb is None:
        return None
    verb_id = _iri(c, verb["id"], _prop(path, "id")) if "id" in verb else None
    if "display" in verb:
        _language_map(c, verb["display"], _prop(path, "display"))
    return verb_id


_OBJECT_TYPES = ("Activity", "Agent", "Group", "StatementRef", "SubStatement")


def _statement_object(c: _Checker, value: object, path: str, *, in_substatement: bool) -> _Target:
    # Data 2.4.4: the objectType says what the object is, Activity when left out; an Agent or a Group as object
    # must state its objectType (2.4.4.2), which this dispatch enforces: without one, it is read as an Activity.
    if not isinstance(value, dict):
        c.add(path, f"must be an Activity, Agent, Group, StatementRef or SubStatement, not {_kind(value)}")
        return _Target(None, None)
    kind = _enum(c, value.get("objectType", "Activity"), _prop(path, "objectType"), _OBJECT_TYPES)
    if kind == "Activity":
        return _Target(kind, _activity(c, value, path))
    if kind == "Agent":
        _agent(c, value, path)
    elif kind == "Group":
        _group(c, value, path)
    elif kind == "StatementRef":
        _statement_ref(c, value, path)
    elif kind == "SubStatement" and in_substatement:
        # Data 2.4.4.3: SubStatements do not nest.
        c.add(_prop(path, "objectType"), "must not be SubStatement inside a SubStatement")
    elif kind == "SubStatement":
        _substatement(c, value, path)
    return _Target(kind, None)


def _statement_ref(c: _Checker, value: object, path: str) -> None:
    # Data 2.4.4.3: objectType StatementRef and the id (a UUID) of a statement, both required.
    ref = _properties(c, value, path, "a StatementRef", frozenset(("objectType", "id")), ("objectType", "id"))
    if ref is None:
        return
    if "objectType" in ref:
        _enum(c, ref["objectType"], _prop(path, "objectType"), ("StatementRef",))
    if "id" in ref:
        _uuid(c, ref["id"], _prop(path, "id"))


_ACTIVITY_PROPS = frozenset(("objectType", "id", "definition"))
_COMPONENT_LISTS = ("choices", "scale", "source", "target", "steps")
_DEFINITION_PROPS = frozenset(("name", "description", "type", "moreInfo", "extensions", "interactionType",
                               "correctResponsesPattern", *_COMPONENT_LISTS))
_INTERACTION_TYPES = ("true-false", "choice", "fill-in", "long-fill-in", "matching", "performance", "sequencing",
                      "likert", "numeric", "other")
# Data 2.4.4.1, interaction components: the component lists each interaction type supports, and no other.
_COMPONENTS_FOR = {"choice": ("choices",), "sequencing": ("choices",), "likert": ("scale",),
                   "matching": ("source", "target"), "performance": ("steps",)}


def _activity(c: _Checker, value: object, path: str) -> _Interaction | None:
    """Data 2.4.4.1: id (an IRI: never relative) and an optional definition; its interaction, if it has one.

    A submitted quiz makes forty statements naming the same quiz, course and profile activities, and the same
    question makes the same interaction in every attempt: an activity found valid once (same content, same
    version of the rules) is not walked again. Only valid ones are remembered, so every problem is still
    reported with its own path."""
    key = _activity_key(c, value)
    if key is not None:
        known = _VALID_ACTIVITIES.get(key, _UNKNOWN)
        if known is not _UNKNOWN:
            return known
    before = len(c.found)
    found = _activity_walked(c, value, path)
    if key is not None and len(c.found) == before:
        _VALID_ACTIVITIES.put(key, found)
    return found


_VALID_ACTIVITIES: Memo[tuple[str, str], _Interaction | None] = Memo(20_000)
_UNKNOWN = object()


def _activity_key(c: _Checker, value: object) -> tuple[str, str] | None:
    if not isinstance(value, dict):
        return None
    try:
        return c.spec, json.dumps(value, sort_keys=True, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError):
        return None  # not plain JSON data: walked, and what is wrong reported


def _activity_walked(c: _Checker, value: object, path: str) -> _Interaction | None:
    activity = _properties(c, value, path, "an Activity", _ACTIVITY_PROPS, ("id",))
    if activity is None:
        return None
    if "objectType" in activity:
        _enum(c, activity["objectType"], _prop(path, "objectType"), ("Activity",))
    if "id" in activity:
        _iri(c, activity["id"], _prop(path, "id"))
    if "definition" in activity:
        return _definition(c, activity["definition"], _prop(path, "definition"))
    return None


def _definition(c: _Checker, value: object, path: str) -> _Interaction | None:
    definition = _properties(c, value, path, "an Activity definition", _DEFINITION_PROPS)
    if definition is None:
        return None
    for key in ("name", "description"):
        if key in definition:
            _language_map(c, definition[key], _prop(path, key))
    if "type" in definition:
        _iri(c, definition["type"], _prop(path, "type"))
    if "moreInfo" in definition:
        _irl(c, definition["moreInfo"], _prop(path, "moreInfo"))
    if "extensions" in definition:
        _extensions(c, definition["extensions"], _prop(path, "extensions"))
    return _interaction(c, definition, path)


def _interaction(c: _Checker, definition: dict[str, Any], path: str) -> _Interaction | None:
    lists = [name for name in _COMPONENT_LISTS if name in definition]
    needs_type = bool(lists) or "correctResponsesPattern" in definition
    kind = None
    if "interactionType" in definition:
        kind = _enum(c, definition["interactionType"], _prop(path, "interactionType"), _INTERACTION_TYPES)
    elif needs_type:
        # Data 2.4.4.1: interaction properties belong to an interaction activity, which has an interactionType.
        c.add(_prop(path, "interactionType"), "is required with correctResponsesPattern or a component list")
    components = _component_lists(c, definition, path, lists, kind)
    interaction = _Interaction(kind, components) if kind is not None else None
    if "correctResponsesPattern" in definition:
        where = _prop(path, "correctResponsesPattern")
        patterns = _array(c, definition["correctResponsesPattern"], where, "strings")
        for index, pattern in enumerate(patterns or ()):
            _response(c, pattern, _index(where, index), interaction)
    return interaction


def _component_lists(c: _Checker, definition: dict[str, Any], path: str, lists: list[str],
                     kind: str | None) -> dict[str, frozenset[str]]:
    known = {}
    for name in lists:
        where = _prop(path, name)
        supported = _COMPONENTS_FOR.get(kind, ()) if kind is not None else _COMPONENT_LISTS
        if name not in supported:
            takes = ", ".join(supported) if supported else "no component list"
            c.add(where, f"is not a component list of a {kind} interaction (it takes {takes})")
            continue
        ids = _component_list(c, definition[name], where)
        if ids is not None:
            known[name] = ids
    return known


def _component_list(c: _Checker, value: object, path: str) -> frozenset[str] | None:
    """The ids of a component list when every component in it is valid (else None: nothing to compare with)."""
    components = _array(c, value, path, "interaction components")
    if components is None:
        return None
    ids: set[str] = set()
    whole = True
    for index, component in enumerate(components):
        component_id = _component(c, component, _index(path, index), ids)
        if component_id is None:
            whole = False
        else:
            ids.add(component_id)
    return frozenset(ids) if whole else None


def _component(c: _Checker, value: object, path: str, earlier: set[str]) -> str | None:
    component = _properties(c, value, path, "an interaction component", frozenset(("id", "description")), ("id",))
    if component is None:
        return None
    component_id = _text(c, component["id"], _prop(path, "id")) if "id" in component else None
    if component_id is not None and _WHITESPACE.search(component_id):
        # Data 2.4.4.1: an id SHOULD NOT have whitespace; responses list ids, and Ralph refuses it.
        c.add(_prop(path, "id"), "must not contain whitespace")
        component_id = None
    elif component_id is not None and component_id in earlier:
        # Data 2.4.4.1: within one component list, ids MUST be distinct.
        c.add(_prop(path, "id"), f"repeats the id {_quote(component_id)} of an earlier component")
        component_id = None
    if "description" in component:
        _language_map(c, component["description"], _prop(path, "description"))
    return component_id


# --- Responses: correctResponsesPattern and result.response, in their interaction type's format ------------------
# Data 2.4.4.1, response patterns. An LRS MAY check them; we do, against the activity's own component lists where
# they are given and valid. Characterstring parameters ({case_matters=...}, {lang=...}) go unchecked, as the
# specification says; fill-in, long-fill-in and other responses are free text.

_DECIMAL = re.compile(r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")
_ORDER_MATTERS = re.compile(r"\{order_matters=(?:true|false)\}")


def _response(c: _Checker, value: object, path: str, interaction: _Interaction | None) -> None:
    text = _text(c, value, path)
    if text is None or interaction is None:
        return
    problem = _RESPONSE_FORMATS[interaction.kind](text, interaction.components)
    if problem is not None:
        c.add(path, f"{problem} ({interaction.kind} interaction)")


def _unknown_id(item: str, ids: frozenset[str] | None, list_name: str) -> str | None:
    if ids is not None and item not in ids:
        return f"names {_quote(item)}, which is not an id in {list_name}"
    return None


def _true_false(text: str, components: Mapping[str, frozenset[str]]) -> str | None:
    return None if text in ("true", "false") else "must be true or false"


def _id_list(text: str, components: Mapping[str, frozenset[str]]) -> str | None:
    # choice and sequencing: ids of choices separated by [,].
    for item in text.split("[,]"):
        if not item:
            return "has an empty item between [,] delimiters"
        problem = _unknown_id(item, components.get("choices"), "choices")
        if problem is not None:
            return problem
    return None


def _likert(text: str, components: Mapping[str, frozenset[str]]) -> str | None:
    if "[,]" in text:
        return "must be a single id of scale"
    return _unknown_id(text, components.get("scale"), "scale")


def _matching(text: str, components: Mapping[str, frozenset[str]]) -> str | None:
    for pair in text.split("[,]"):
        ends = pair.split("[.]")
        if len(ends) != 2 or not all(ends):
            return "must be source[.]target pairs separated by [,]"
        problem = (_unknown_id(ends[0], components.get("source"), "source")
                   or _unknown_id(ends[1], components.get("target"), "target"))
        if problem is not None:
            return problem
    return None


def _performance(text: str, components: Mapping[str, frozenset[str]]) -> str | None:
    prefix = _ORDER_MATTERS.match(text)
    for step in text[prefix.end() if prefix else 0:].split("[,]"):
        step_id, delimiter, _answer = step.partition("[.]")
        if not delimiter or not step_id:
            return "must be step_id[.]response items separated by [,]"
        problem = _unknown_id(step_id, components.get("steps"), "steps")
        if problem is not None:
            return problem
    return None


def _numeric(text: str, components: Mapping[str, frozenset[str]]) -> str | None:
    # A number, or a range min[:]max with either end left out (not both).
    low, delimiter, high = text.partition("[:]")
    ends = [low, high] if delimiter else [low]
    if not any(ends) or not all(not end or _DECIMAL.fullmatch(end) for end in ends):
        return "must be a number or a range min[:]max"
    if delimiter and low and high and float(low) > float(high):
        return "has a range whose minimum is above its maximum"
    return None


def _free_text(text: str, components: Mapping[str, frozenset[str]]) -> str | None:
    return None


_RESPONSE_FORMATS: dict[str, Callable[[str, Mapping[str, frozenset[str]]], str | None]] = {
    "true-false": _true_false, "choice": _id_list, "sequencing": _id_list, "likert": _likert,
    "matching": _matching, "performance": _performance, "numeric": _numeric, "fill-in": _free_text,
    "long-fill-in": _free_text, "other": _free_text}


# --- Result ---------------------------------------------------------------------------------------------------------

_RESULT_PROPS = frozenset(("score", "success", "completion", "response", "duration", "extensions"))
_SCORE_PROPS = ("scaled", "raw", "min", "max")


def _result(c: _Checker, value: object, path: str, interaction: _Interaction | None) -> None:
    result = _properties(c, value, path, "a Result", _RESULT_PROPS)
    if result is None:
        return
    if "score" in result:
        _score(c, result["score"], _prop(path, "score"))
    for key in ("success", "completion"):
        if key in result:
            _boolean(c, result[key], _prop(path, key))
    if "response" in result:
        # Data 2.4.4.1: the learner's response takes the format of the correct responses pattern.
        _response(c, result["response"], _prop(path, "response"), interaction)
    if "duration" in result:
        _duration(c, result["duration"], _prop(path, "duration"))
    if "extensions" in result:
        _extensions(c, result["extensions"], _prop(path, "extensions"))


def _score(c: _Checker, value: object, path: str) -> None:
    # Data 2.4.5.1: decimal numbers; scaled within [-1, 1]; raw within [min, max] for the bounds given; min < max.
    score = _properties(c, value, path, "a Score", frozenset(_SCORE_PROPS))
    if score is None:
        return
    numbers = {key: _number(c, score[key], _prop(path, key)) for key in _SCORE_PROPS if key in score}
    scaled, raw, low, high = (numbers.get(key) for key in _SCORE_PROPS)
    if scaled is not None and not -1 <= scaled <= 1:
        c.add(_prop(path, "scaled"), "must be between -1 and 1")
    if low is not None and high is not None and low >= high:
        c.add(_prop(path, "min"), "must be less than max")
    if raw is not None and low is not None and raw < low:
        c.add(_prop(path, "raw"), "must not be below min")
    if raw is not None and high is not None and raw > high:
        c.add(_prop(path, "raw"), "must not be above max")


# --- Context --------------------------------------------------------------------------------------------------------

_CONTEXT_PROPS = frozenset(("registration", "instructor", "team", "contextActivities", "revision", "platform",
                            "language", "statement", "extensions"))
_CONTEXT_2_0_PROPS = ("contextAgents", "contextGroups")  # IEEE 9274.1.1 only
_CONTEXT_ACTIVITY_KINDS = ("parent", "grouping", "category", "other")


def _context(c: _Checker, value: object, path: str, object_kind: str | None) -> None:
    context = _properties(c, value, path, "a Context", _CONTEXT_PROPS | frozenset(_CONTEXT_2_0_PROPS))
    if context is None:
        return
    if "registration" in context:
        _uuid(c, context["registration"], _prop(path, "registration"))
    if "instructor" in context:
        _actor(c, context["instructor"], _prop(path, "instructor"))  # Data 2.4.6: an Agent, or a Group
    if "team" in context:
        _typed_group(c, context["team"], _prop(path, "team"))  # Data 2.4.6: a Group
    if "contextActivities" in context:
        _context_activities(c, context["contextActivities"], _prop(path, "contextActivities"))
    for key in ("revision", "platform"):
        if key in context:
            _about_activity(c, context[key], _prop(path, key), object_kind)
    if "language" in context:
        _language(c, context["language"], _prop(path, "language"))
    if "statement" in context:
        _statement_ref(c, context["statement"], _prop(path, "statement"))
    if "extensions" in context:
        _extensions(c, context["extensions"], _prop(path, "extensions"))
    _context_2_0(c, context, path)


def _about_activity(c: _Checker, value: object, path: str, object_kind: str | None) -> None:
    _text(c, value, path)
    # Data 2.4.6: revision and platform MUST only be used when the statement's object is an Activity.
    if object_kind is not None and object_kind != "Activity":
        c.add(path, f"is only allowed when the object is an Activity (here: {object_kind})")


def _context_activities(c: _Checker, value: object, path: str) -> None:
    # Data 2.4.6.2: keys parent, grouping, category, other; each an Activity or an array of them (the single form
    # is 0.95's, still accepted; the LRS turns it into an array).
    kinds = _properties(c, value, path, "a contextActivities object", frozenset(_CONTEXT_ACTIVITY_KINDS))
    if kinds is None:
        return
    for kind in _CONTEXT_ACTIVITY_KINDS:
        if kind not in kinds:
            continue
        where = _prop(path, kind)
        if isinstance(kinds[kind], dict):
            _activity(c, kinds[kind], where)
            continue
        activities = _array(c, kinds[kind], where, "Activities (or one Activity)")
        for index, activity in enumerate(activities or ()):
            _activity(c, activity, _index(where, index))


def _context_2_0(c: _Checker, context: dict[str, Any], path: str) -> None:
    for key in _CONTEXT_2_0_PROPS:
        if key not in context:
            continue
        where = _prop(path, key)
        if c.spec != "2.0":
            c.add(where, "is an xAPI 2.0 property, not one of a 1.0.3 Context")
            continue
        entries = _array(c, context[key], where, f"{key[:-1]} objects")
        for index, entry in enumerate(entries or ()):
            _context_member(c, entry, _index(where, index), key)


def _context_member(c: _Checker, value: object, path: str, key: str) -> None:
    # IEEE 9274.1.1: a contextAgent is {objectType "contextAgent", agent, relevantTypes}, a contextGroup
    # {objectType "contextGroup", group, relevantTypes}; relevantTypes is optional, but when given a non-empty array
    # of IRIs (the conformance suite refuses an empty one).
    kind = key[:-1]
    member = "agent" if kind == "contextAgent" else "group"
    entry = _properties(c, value, path, f"a {kind}", frozenset(("objectType", member, "relevantTypes")),
                        ("objectType", member))
    if entry is None:
        return
    if "objectType" in entry:
        _enum(c, entry["objectType"], _prop(path, "objectType"), (kind,))
    if member in entry:
        (_plain_agent if member == "agent" else _typed_group)(c, entry[member], _prop(path, member))
    if "relevantTypes" in entry:
        where = _prop(path, "relevantTypes")
        types = _array(c, entry["relevantTypes"], where, "IRIs")
        if types == []:
            c.add(where, "must list at least one IRI")
        for index, iri in enumerate(types or ()):
            _iri(c, iri, _index(where, index))


def _extensions(c: _Checker, value: object, path: str) -> None:
    # Data 4.1: keys are IRIs; values are free (see _any_json).
    entries = _map(c, value, path, "an extensions object (IRIs to values)")
    if entries is None:
        return
    _iri_keys(c, entries, path)
    for key, item in entries.items():
        _any_json(c, item, _entry(path, key))


# --- Attachments ----------------------------------------------------------------------------------------------------

_ATTACHMENT_PROPS = frozenset(("usageType", "display", "description", "contentType", "length", "sha2", "fileUrl"))
_ATTACHMENT_REQUIRED = ("usageType", "display", "contentType", "length", "sha2")


def _attachments(c: _Checker, value: object, path: str) -> None:
    attachments = _array(c, value, path, "Attachments")
    for index, attachment in enumerate(attachments or ()):
        _attachment(c, attachment, _index(path, index))


def _attachment(c: _Checker, value: object, path: str) -> None:
    # Data 2.4.11: usageType (IRI), display (language map), contentType, length and sha2 required; description and
    # fileUrl (an IRL) optional.
    attachment = _properties(c, value, path, "an Attachment", _ATTACHMENT_PROPS, _ATTACHMENT_REQUIRED)
    if attachment is None:
        return
    usage = _iri(c, attachment["usageType"], _prop(path, "usageType")) if "usageType" in attachment else None
    for key in ("display", "description"):
        if key in attachment:
            _language_map(c, attachment[key], _prop(path, key))
    media_type = None
    if "contentType" in attachment:
        media_type = _media_type(c, attachment["contentType"], _prop(path, "contentType"))
    if "length" in attachment:
        _length(c, attachment["length"], _prop(path, "length"))
    if "sha2" in attachment:
        _sha2(c, attachment["sha2"], _prop(path, "sha2"))
    if "fileUrl" in attachment:
        _irl(c, attachment["fileUrl"], _prop(path, "fileUrl"))
    if usage == SIGNATURE and media_type is not None and media_type != "application/octet-stream":
        # Data 2.6: a signature is a JWS sent as application/octet-stream.
        c.add(_prop(path, "contentType"), "must be application/octet-stream for a signature")

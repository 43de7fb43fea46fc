"""Ids from Moodle names: question keys and categories, in ASCII lower case, digits and hyphens (pure)."""

from __future__ import annotations

import re
import unicodedata

MAX_ID = 64
# Room kept at the end of a key for the "-5000" that tells duplicates apart.
_SUFFIX_ROOM = 5
_NOT_ID = re.compile(r"[^a-z0-9]+")

# The alphabets of the interface languages that NFKD cannot reduce to ASCII. The spellings follow
# the common passport-style romanisations; a key only has to be readable, not reversible.
_CYRILLIC = dict(zip("абвгґдеёжзийклмнопрстуфхцчшщъыьэюяєіїў",
                     ["a", "b", "v", "g", "g", "d", "e", "yo", "zh", "z", "i", "y", "k", "l", "m", "n", "o", "p",
                      "r", "s", "t", "u", "f", "kh", "ts", "ch", "sh", "shch", "", "y", "", "e", "yu", "ya", "ye",
                      "i", "yi", "u"], strict=True))
_GEORGIAN = dict(zip("აბგდევზთიკლმნოპჟრსტუფქღყშჩცძწჭხჯჰ",
                     ["a", "b", "g", "d", "e", "v", "z", "t", "i", "k", "l", "m", "n", "o", "p", "zh", "r", "s", "t",
                      "u", "p", "k", "gh", "q", "sh", "ch", "ts", "dz", "ts", "ch", "kh", "j", "h"], strict=True))
_ARMENIAN = dict(zip("աբգդեզէըթժիլխծկհձղճմյնշոչպջռսվտրցւփքօֆ",
                     ["a", "b", "g", "d", "e", "z", "e", "y", "t", "zh", "i", "l", "kh", "ts", "k", "h", "dz", "gh",
                      "ch", "m", "y", "n", "sh", "o", "ch", "p", "j", "r", "s", "v", "t", "r", "ts", "v", "p", "k",
                      "o", "f"], strict=True))
_LATIN_EXTRA = {"ə": "e", "ı": "i", "ß": "ss", "æ": "ae", "ø": "o", "đ": "d", "ł": "l", "þ": "th", "œ": "oe"}
_LETTERS = {**_CYRILLIC, **_GEORGIAN, **_ARMENIAN, **_LATIN_EXTRA}
# Armenian writes u with two letters, and "և" is a ligature of two.
_ARMENIAN_PAIRS = (("ու", "u"), ("և", "ev"))


def transliterate(text: str) -> str:
    """The text in ASCII, letter by letter; what has no ASCII form is dropped."""
    text = text.casefold()
    for pair, latin in _ARMENIAN_PAIRS:
        text = text.replace(pair, latin)
    out = []
    for char in text:
        if char in _LETTERS:
            out.append(_LETTERS[char])
            continue
        decomposed = unicodedata.normalize("NFKD", char)
        out.append("".join(c for c in decomposed if c.isascii()))
    return "".join(out)


def slug(text: str, limit: int = MAX_ID) -> str:
    """Lower-case ASCII letters and digits joined by single hyphens, cut at a hyphen to fit `limit`."""
    words = _NOT_ID.sub("-", transliterate(text)).strip("-")
    if len(words) <= limit:
        return words
    cut = words[:limit]
    if "-" in cut and words[limit] != "-":
        cut = cut.rsplit("-", 1)[0]
    return cut.strip("-")


class KeyMaker:
    """Question keys for one import: the caller's prefix, the name as a slug, "-2", "-3" … for repeats."""

    def __init__(self, prefix: str):
        cleaned = _NOT_ID.sub("-", transliterate(prefix))
        # A prefix keeps its trailing hyphen ("imp-"), but an id starts with a letter or a digit.
        self.prefix = cleaned.lstrip("-")[: MAX_ID // 2]
        self.used: set[str] = set()

    def make(self, name: str) -> str:
        room = MAX_ID - len(self.prefix) - _SUFFIX_ROOM
        base = (self.prefix + (slug(name, room) or "question")).strip("-") or "question"
        key, number = base, 2
        while key in self.used:
            key, number = f"{base}-{number}", number + 1
        self.used.add(key)
        return key


_SEPARATOR = re.compile(r"(?<!/)/(?!/)")
# $course$, $system$, $module$, $cat$ … open a path: they name a context, not a category.
_CONTEXT = re.compile(r"\$\w+\$\Z")


def category_id(path: str, default: str) -> str:
    """The last named category of a Moodle path ("$course$/top/Documents/MRZ" → "mrz"), else `default`.

    Moodle writes a "/" inside a category's name as "//"; "top" and the "Default for …"
    category Moodle creates for every context are not names an author chose.
    """
    parts = [part.replace("//", "/").strip() for part in _SEPARATOR.split(path)]
    named = [part for part in parts if part and not _CONTEXT.match(part) and part.casefold() != "top"]
    if named and named[-1].casefold().startswith("default for "):
        named = []
    return (slug(named[-1]) if named else "") or default_category_id(default)


def default_category_id(default: str) -> str:
    return slug(default) or "imported"

"""The localised texts inside a question's definition: found wherever they sit, translated, cleaned (pure).

A question's definition is a tree of tables; every text in it is a table keyed by locale
({"en": "…", "ru": "…"}). Translation pages and imports work on that shape alone, so a new
question type needs nothing here.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from typing import Any

import nh3

from ibm_lms.locales import LOCALES
from ibm_lms.text import whole_number_or_none

Path = tuple[str | int, ...]

# Authored texts are Markdown; HTML inside them keeps only harmless inline formatting (an allow-list).
INLINE_TAGS = {"strong", "em", "b", "i", "code", "sub", "sup", "br"}
_TAG = re.compile(r"<[a-zA-Z/!]")


def is_localised(value: Any) -> bool:
    return (isinstance(value, dict) and bool(value) and set(value) <= set(LOCALES)
            and all(isinstance(text, str) for text in value.values()))


def localised_texts(raw: Any, path: Path = ()) -> Iterator[tuple[Path, dict[str, str]]]:
    """Every localised text of a definition, with the path to it, in the order it is written."""
    if is_localised(raw):
        yield path, raw
    elif isinstance(raw, dict):
        for name, value in raw.items():
            yield from localised_texts(value, (*path, name))
    elif isinstance(raw, list):
        for index, value in enumerate(raw):
            yield from localised_texts(value, (*path, index))


def with_translation(raw: dict, translations: dict[Path, str], locale: str) -> dict:
    """A copy of the definition with each text at a path given in `locale`; an empty text removes it."""
    result = copy.deepcopy(raw)
    for path, text in translations.items():
        node = result
        for step in path:
            node = node[step]
        if text.strip():
            node[locale] = text
        elif len(node) > 1:
            node.pop(locale, None)
    return result


def clean_texts(raw: Any) -> Any:
    """The definition with HTML in every text reduced to the inline allow-list (scripts, handlers, styles gone)."""
    if is_localised(raw):
        return {locale: clean_text(text) for locale, text in raw.items()}
    if isinstance(raw, dict):
        return {name: clean_texts(value) for name, value in raw.items()}
    if isinstance(raw, list):
        return [clean_texts(value) for value in raw]
    return raw


def clean_text(text: str) -> str:
    if not _TAG.search(text):
        return text  # plain Markdown: nothing to clean, and nh3 would escape its "<" and "&"
    return nh3.clean(text, tags=INLINE_TAGS, attributes={}, strip_comments=True)


def path_name(path: Path) -> str:
    """A path as a form field name and a label: prompt, options.2.text, parts.0.feedback."""
    return ".".join(str(step) for step in path)


def path_of(name: str) -> Path:
    return tuple(step if whole_number_or_none(step) is None else int(step) for step in name.split("."))

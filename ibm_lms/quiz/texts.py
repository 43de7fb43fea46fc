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

from ibm_lms.locales import LOCALES
from ibm_lms.text import whole_number_or_none

from .interchange.data import MAX_TEXT

Path = tuple[str | int, ...]

# Authored texts are Markdown; HTML inside them keeps only harmless inline formatting (an allow-list).
INLINE_TAGS = {"strong", "em", "b", "i", "code", "sub", "sup", "br"}
# Elements whose content is code, not text: it goes with them.
_CONTENT_DROPPED = {"script", "style"}
# CommonMark's raw HTML (spec 6.6): what Markdown hands a browser as markup. A "<" that does
# not open one of these is text: an MRZ (P<UTOERIKSSON<<ANNA) or "a < b" is shown exactly as written.
# Possessive quantifiers: a long run of spaces after "<a" must not be tried at every split.
_ATTRIBUTE = r"""(?:\s++[A-Za-z_:][A-Za-z0-9_.:-]*(?:\s*=\s*(?:[^\s"'=<>`]+|'[^']*'|"[^"]*"))?)"""
_RAW_HTML = re.compile(r"<(?P<close>/)?(?P<name>[A-Za-z][A-Za-z0-9-]*)(?(close)\s*+>|" + _ATTRIBUTE + r"*+\s*+/?>)")
# Comments, processing instructions and CDATA run to their closing mark (found with str.find, in linear time:
# a lazy regex would search to the end of the text from every unclosed opening). "<!-->" and "<!--->" are
# comments too, so a comment's close is looked for from its third character.
_DELIMITED = (("<!--", "-->", 2), ("<?", "?>", 2), ("<![CDATA[", "]]>", 9))
# Removing joins what was around it ("<scr" + "ipt>"): a few passes undo any real text's markup.
_MOST_PASSES = 4
_MARKUP_START = re.compile(r"<(?=[A-Za-z/!?])")
_DECLARATION = re.compile(r"<![A-Za-z]")


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
    """The text with its raw HTML reduced to the inline allow-list, and nothing else changed.

    An HTML sanitiser cannot be given Markdown: it reads the "<" of an MRZ as a tag and drops the
    rest of the text. So only what CommonMark takes for markup is touched: an allowed tag loses its
    attributes, any other tag, comment or declaration goes, and a script or style goes with its
    content. Code spans get no exception, as inside an HTML block Markdown reads their backticks as
    text and their tags as markup. Removing can join "<scr" and "ipt>" into a new tag, so it repeats
    until nothing is left to remove.
    """
    if len(text.strip()) > MAX_TEXT:
        return text  # refused as too long by the item's checks, as it is
    cleaned = text
    for _ in range(_MOST_PASSES):
        if "<" not in cleaned:
            return cleaned
        reduced = _RAW_HTML.sub(_allowed, _without_delimited(_without_code_elements(cleaned)))
        if reduced == cleaned:
            return cleaned
        cleaned = reduced
    # Tags nested in tags ("<a<a<a>>>") give up one level a pass: no author writes that. What is left of
    # markup is made text, so that no later reading can find a tag in it.
    return _MARKUP_START.sub("&lt;", cleaned)


def _allowed(found: re.Match) -> str:
    name = (found.group("name") or "").lower()
    if name not in INLINE_TAGS:
        return ""
    return f"</{name}>" if found.group("close") else f"<{name}>"


def _without_delimited(text: str) -> str:
    text = _without_declarations(text)
    for opening, closing, close_from in _DELIMITED:
        kept, position = [], 0
        while (start := text.find(opening, position)) >= 0:
            end = text.find(closing, start + close_from)
            if end < 0:
                break  # no later opening can close either
            kept.append(text[position:start])
            position = end + len(closing)
        text = "".join(kept) + text[position:]
    return text


def _without_declarations(text: str) -> str:
    """"<!" and a letter up to the next ">": found with str.find, as a pattern would search to the end of the
    text from every unclosed one."""
    kept, position = [], 0
    for found in _DECLARATION.finditer(text):
        if found.start() < position:
            continue
        end = text.find(">", found.end())
        if end < 0:
            break
        kept.append(text[position:found.start()])
        position = end + 1
    return "".join(kept) + text[position:]


def _without_code_elements(text: str) -> str:
    for name in _CONTENT_DROPPED:
        kept, position = [], 0
        closing = re.compile(rf"</{name}\s*>", re.I)
        for opening in re.finditer(rf"<{name}\b[^>]*>", text, flags=re.I):
            if opening.start() < position:
                continue  # inside the element just removed
            end = closing.search(text, opening.end())
            if end is None:
                break
            kept.append(text[position:opening.start()])
            position = end.end()
        text = "".join(kept) + text[position:]
        # A "<script" never closed still opens an HTML block in Markdown: the word goes, its text stays.
        text = re.sub(rf"<{name}(?=[\s/>]|\Z)", "", text, flags=re.I)
    return text


def path_name(path: Path) -> str:
    """A path as a form field name and a label: prompt, options.2.text, parts.0.feedback."""
    return ".".join(str(step) for step in path)


def path_of(name: str) -> Path:
    return tuple(step if whole_number_or_none(step) is None else int(step) for step in name.split("."))

"""Gettext catalogs through Babel's API: extract, update, compile and check (no shelling out to pybabel)."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import PoFileError, read_po, write_po

from ibm_lms.text import UnreadableText, read_utf8

DOMAIN = "messages"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "N_": None, "_l": None}
METHOD_MAP = [("**.py", "python"), ("**/templates/**.html", "jinja2")]
OPTIONS_MAP = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n", "trimmed": "true"}}
_PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|\{(\w+)\}")


class CatalogFileError(Exception):
    """A catalog or template that cannot be read as a whole; names the file and, where known, the line."""


def _read(path: Path, locale: str | None = None) -> Catalog:
    # Whole or not at all: Babel would otherwise skip a broken entry, and the next update would
    # write the catalog back without that translation.
    try:
        text = read_utf8(path)
    except UnreadableText as error:
        where = f"{path}" if error.line is None else f"{path}, line {error.line}"
        raise CatalogFileError(f"{where}: {error.reason}") from error
    try:
        return read_po(io.StringIO(text), locale=locale, abort_invalid=True)
    except PoFileError as error:
        raise CatalogFileError(f"{path}, line {error.lineno}: {error}") from error
    except ValueError as error:
        raise CatalogFileError(f"{path}: {error}") from error


@dataclass(frozen=True)
class Problem:
    locale: str
    msgid: str
    reason: str

    def __str__(self) -> str:
        return f"{self.locale}: {self.reason}: {self.msgid!r}"


def template_path(translations: Path) -> Path:
    return translations / f"{DOMAIN}.pot"


def po_path(translations: Path, locale: str) -> Path:
    return translations / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


def extract(package_dir: Path, translations: Path) -> Catalog:
    catalog = Catalog(project="ibm-lms", charset="utf-8")
    for filename, lineno, message, comments, context in extract_from_dir(
        str(package_dir), METHOD_MAP, OPTIONS_MAP, keywords=KEYWORDS, strip_comment_tags=True
    ):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    translations.mkdir(parents=True, exist_ok=True)
    with template_path(translations).open("wb") as handle:
        write_po(handle, catalog, width=100, omit_header=False, sort_output=True)
    return catalog


def update(translations: Path, locales: tuple[str, ...]) -> None:
    template = _read(template_path(translations))
    for locale in locales:
        path = po_path(translations, locale)
        if path.exists():
            catalog = _read(path, locale)
            catalog.update(template, no_fuzzy_matching=True)
        else:
            catalog = Catalog(locale=locale, project="ibm-lms", charset="utf-8")
            catalog.update(template, no_fuzzy_matching=True)
            path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as handle:
            write_po(handle, catalog, width=100, sort_output=True, ignore_obsolete=True)


def compile_all(translations: Path, locales: tuple[str, ...]) -> list[Path]:
    written = []
    for locale in locales:
        path = po_path(translations, locale)
        if not path.exists():
            continue
        catalog = _read(path, locale)
        target = path.with_suffix(".mo")
        with target.open("wb") as handle:
            write_mo(handle, catalog, use_fuzzy=False)
        written.append(target)
    return written


def _placeholders(text: str) -> set[str]:
    return {a or b for a, b in _PLACEHOLDER.findall(text or "")}


def check(translations: Path, locales: tuple[str, ...], source_locale: str = "en") -> list[Problem]:
    """Every msgid of the template must be translated, unfuzzy, with the same placeholders, in every locale."""
    problems: list[Problem] = []
    template = _read(template_path(translations))
    wanted = [m for m in template if m.id]
    for locale in locales:
        path = po_path(translations, locale)
        if not path.exists():
            problems.append(Problem(locale, str(path), "catalog missing"))
            continue
        catalog = _read(path, locale)
        for message in wanted:
            found = catalog.get(message.id, context=message.context)
            msgid = message.id if isinstance(message.id, str) else message.id[0]
            if found is None:
                problems.append(Problem(locale, msgid, "message missing"))
                continue
            strings = found.string if isinstance(found.string, tuple) else (found.string,)
            if locale != source_locale and (not all(strings) or found.fuzzy):
                problems.append(Problem(locale, msgid, "not translated"))
                continue
            expected = _placeholders(msgid)
            for text in strings:
                if text and _placeholders(text) != expected:
                    problems.append(Problem(locale, msgid, "placeholders differ"))
                    break
        for message in catalog:
            if message.id and template.get(message.id, context=message.context) is None:
                problems.append(Problem(locale, str(message.id), "stale message not in template"))
    return problems

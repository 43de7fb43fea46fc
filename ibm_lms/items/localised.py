"""Localised texts in item files: tables keyed by locale, English required (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ibm_lms.locales import LOCALES
from ibm_lms.markers import N_
from ibm_lms.text import is_bounded_text

from .data import Localised, Problem

SOURCE_LOCALE = "en"
# Longest text of one locale in an item (a scenario with its reasoning).
MAX_TEXT = 20_000


def localised(raw: Any, path: tuple, problems: list[Problem], *, required: bool = True) -> Localised:
    """The table's texts, stripped; a missing English text, an unknown locale or a bad value is a problem."""
    if raw is None:
        if required:
            problems.append(Problem.of(path, N_("is missing"), N_('add a table with at least en = "…"')))
        return {}
    if not isinstance(raw, Mapping):
        problems.append(Problem.of(path, N_("must be a table of texts by locale"),
                                   N_('write it as { en = "…", ru = "…" }')))
        return {}
    texts = {}
    for locale, text in raw.items():
        if locale not in LOCALES:
            problems.append(Problem.of((*path, locale), N_("%(locale)s is not an interface locale"),
                                       N_("use one of %(locales)s"), locale=repr(locale), locales=", ".join(LOCALES)))
        elif not isinstance(text, str) or not text.strip():
            problems.append(Problem.of((*path, locale), N_("must be a non-empty text"),
                                       N_("write the %(locale)s text, or remove the line"), locale=locale))
        elif len(text.strip()) > MAX_TEXT:
            problems.append(Problem.of((*path, locale), N_("is longer than %(limit)s characters"),
                                       N_("shorten it, or split the question"), limit=f"{MAX_TEXT:,}"))
        elif not is_bounded_text(text.strip(), MAX_TEXT, multiline=True):
            problems.append(Problem.of((*path, locale), N_("holds control characters"),
                                       N_("retype it without control characters")))
        else:
            texts[locale] = text.strip()
    if required and SOURCE_LOCALE not in texts and not any(p.path[: len(path)] == path for p in problems):
        problems.append(Problem.of(path, N_("has no English text"), N_('add en = "…": English is the source language')))
    return texts

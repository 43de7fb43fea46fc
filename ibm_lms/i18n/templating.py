"""What a page's templates need of the reader's language, looked up once per page instead of once per string.

Flask-Babel's template `_()` finds the request's locale and catalog again at every call (some 7 µs), and a
40-question attempt page makes about 120 such calls and 300 choices of a text's language. Here the locale
and its catalog are read once when a page starts rendering and the page's callables are bound to them, with
Jinja's new-style gettext semantics (the message is a format string, escaped when autoescaping). A locale
chosen during the request (a launch, the language menu) is already in force when its page renders.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flask_babel import format_decimal, format_percent, get_locale, get_translations
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup, escape

from ibm_lms.extensions import app_state

from .data import Shown, pick_text
from .service import LANGUAGE_NAMES, supported_locales


def page_language() -> dict[str, Any]:
    """The context processor: the locale, the language menu's data and the page's text callables."""
    locale = str(get_locale())
    translations = get_translations()
    gettext = _new_style_gettext(translations.ugettext)
    available = supported_locales()
    return {
        "current_locale": locale,
        "language_names": LANGUAGE_NAMES,
        "language_options": _language_options(locale, available),
        "gettext": gettext,
        "_": gettext,
        "ngettext": _new_style_ngettext(translations.ungettext),
        "shown": lambda texts: pick_text(texts, locale),
        "text": lambda shown: _text(shown, locale),
    }


def _language_options(locale: str, available: tuple[str, ...]) -> Markup:
    """The language menu's choices with the reader's selected: the same eight lines on every page, built once."""
    built = app_state("i18n.language_options", dict)
    key = (locale, available)
    if key not in built:
        built[key] = Markup("").join(
            Markup('<option value="{0}" lang="{0}"{1}>{2}</option>').format(
                code, Markup(" selected") if code == locale else "", LANGUAGE_NAMES[code])
            for code in available
        )
    return built[key]


def _text(shown: Shown, locale: str) -> Markup:
    """A text chosen by fallback carries its language, so that a screen reader reads it in that language."""
    written = _with_code(shown.text)
    if shown.locale != locale:
        return Markup('<span lang="{}">{}</span>').format(shown.locale, written)
    return written


_CODE_SPAN = re.compile(r"`([^`\n]+)`")


def _with_code(text: str) -> Markup:
    """A plain text (an option, a step, a title) escaped, its `code` spans shown as code: an MRZ filler `<` or a
    field's characters read apart from the sentence around them."""
    escaped = escape(text)
    if "`" not in text:
        return escaped
    return Markup(_CODE_SPAN.sub(r"<code>\1</code>", str(escaped)))  # noqa: S704 - escaped above


def _new_style_gettext(lookup: Callable[[str], str]):
    @pass_context
    def gettext(context: Context, message: str, /, **variables: Any) -> str:
        found = lookup(message)
        if context.eval_ctx.autoescape:
            found = Markup(found)  # noqa: S704 - our own catalog's message; the values are escaped by %
        return found % variables

    return gettext


def _new_style_ngettext(lookup: Callable[[str, str, int], str]):
    @pass_context
    def ngettext(context: Context, singular: str, plural: str, count: int, /, **variables: Any) -> str:
        variables.setdefault("num", count)
        found = lookup(singular, plural, count)
        if context.eval_ctx.autoescape:
            found = Markup(found)  # noqa: S704 - our own catalog's message; the values are escaped by %
        return found % variables

    return ngettext


def decimal(value: float, digits: int = 2, *, trim: bool = False) -> str:
    """A number with `digits` decimals (at most `digits` with `trim`: 2.5 h, 3 h), written as the page's locale
    writes it (2,5 in most of the academies' languages)."""
    return format_decimal(value, format="#,##0." + ("#" if trim else "0") * digits if digits else "#,##0")


def percent(share: float, digits: int = 1) -> str:
    """A share from 0 to 1 as a percentage, written as the page's locale writes it."""
    return format_percent(share, format="#,##0." + "0" * digits + "%" if digits else "#,##0%")

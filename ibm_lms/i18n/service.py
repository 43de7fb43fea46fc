"""The i18n room's door: the locale of the current request and the user's own choice."""

from __future__ import annotations

from flask import current_app, request

from ibm_lms.tenancy import service as tenancy
from ibm_lms.unit_of_work import unit_of_work

from .errors import UnsupportedLocale
from .negotiation import choose_locale, normalise, parse_accept_language

# Names of the languages in themselves, for the language menu.
LANGUAGE_NAMES = {
    "en": "English",
    "ru": "Русский",
    "uk": "Українська",
    "ka": "ქართული",
    "hy": "Հայերեն",
    "az": "Azərbaycan",
    "ro": "Română",
    "be": "Беларуская",
}


def supported_locales() -> tuple[str, ...]:
    return tuple(current_app.config["LOCALES"])


def select_locale() -> str:
    """Flask-Babel's locale selector.

    The session's locale was set at launch from launch_presentation.locale (or the
    user's remembered choice when the platform sent none) and changes when the user
    picks another language in the tool.
    """
    return choose_locale(
        supported_locales(),
        chosen_locale=tenancy.chosen_locale(),
        accept_language=parse_accept_language(request.headers.get("Accept-Language")),
        default=current_app.config["BABEL_DEFAULT_LOCALE"],
    )


def launch_locale(claimed: str | None) -> str | None:
    """The supported locale a launch's launch_presentation.locale names, if any: it alone then decides."""
    return normalise(claimed, supported_locales())


def locale_for_launch(launch: str | None, remembered: str | None) -> str:
    """The launch's supported locale, else the user's remembered choice, else Accept-Language."""
    return choose_locale(
        supported_locales(),
        launch_locale=launch,
        chosen_locale=remembered,
        accept_language=parse_accept_language(request.headers.get("Accept-Language")),
        default=current_app.config["BABEL_DEFAULT_LOCALE"],
    )


def choose(locale: str) -> str:
    """Switches the session's language and remembers it for a signed-in user."""
    found = normalise(locale, supported_locales())
    if found is None or found != locale:
        raise UnsupportedLocale(locale=str(locale)[:16])
    tenancy.choose_locale(found)
    identity = tenancy.current_identity()
    if identity is not None:
        with unit_of_work():
            tenancy.set_preferred_locale(identity.tenant_id, identity.user_id, found)
    return found


def missing_catalogs() -> list[str]:
    """The interface languages whose compiled catalog the server cannot find (English needs none)."""
    from pathlib import Path

    folder = Path(current_app.config["TRANSLATIONS_DIR"])
    return [locale for locale in supported_locales()
            if locale != "en" and not (folder / locale / "LC_MESSAGES" / "messages.mo").is_file()]

"""Choosing the interface language (pure): launch claim, then the user's choice, then Accept-Language."""

from __future__ import annotations

from collections.abc import Iterable, Sequence


def normalise(tag: str | None, supported: Sequence[str]) -> str | None:
    """Maps a BCP 47 tag ("uk-UA", "ka_GE", "RU") to a supported locale, or None."""
    if not tag or not isinstance(tag, str):
        return None
    primary = tag.strip().replace("_", "-").split("-", 1)[0].lower()
    return primary if primary in supported else None


def parse_accept_language(header: str | None) -> list[str]:
    """Language tags of an Accept-Language header, best first (q=0 dropped)."""
    weighted: list[tuple[float, int, str]] = []
    for position, part in enumerate((header or "").split(",")):
        pieces = part.strip().split(";")
        tag = pieces[0].strip()
        if not tag or tag == "*":
            continue
        quality = 1.0
        for parameter in pieces[1:]:
            name, _, value = parameter.strip().partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0:
            weighted.append((-quality, position, tag))
    return [tag for _, _, tag in sorted(weighted)]


def choose_locale(
    supported: Sequence[str],
    *,
    launch_locale: str | None = None,
    chosen_locale: str | None = None,
    accept_language: Iterable[str] = (),
    default: str = "en",
) -> str:
    for candidate in (launch_locale, chosen_locale, *accept_language):
        found = normalise(candidate, supported)
        if found:
            return found
    return default

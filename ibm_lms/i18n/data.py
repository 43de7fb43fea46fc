"""Which text to show when a locale has none (pure): the user's locale, then Russian, then English."""

from __future__ import annotations

from dataclasses import dataclass

# Russian is the second language every officer of the region reads; English is the source of all texts.
FALLBACK_LOCALES = ("ru", "en")


@dataclass(frozen=True)
class Shown:
    text: str
    locale: str

    def fell_back_from(self, wanted: str) -> bool:
        return self.locale != wanted


def pick_text(texts: dict[str, str] | None, locale: str) -> Shown:
    """The text in `locale`, else in the first fallback locale that has one; an empty text if none has."""
    texts = texts or {}
    for candidate in (locale, *FALLBACK_LOCALES):
        if texts.get(candidate):
            return Shown(texts[candidate], candidate)
    return Shown("", locale)

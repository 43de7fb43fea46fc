"""Course HTML made ready for one reader: the course's own links turned into URLs, Markdown of exercises rendered."""

from __future__ import annotations

import re
from collections.abc import Callable

from flask import url_for
from markupsafe import Markup, escape

from .lessons import markdown_html

_COURSE_LINK = re.compile(r'href="(term|ref|lesson):([a-z0-9-]+)"')
_EXTERNAL_LINK = re.compile(r'<a href="(https?://[^"]+)"')


def linked_html(html: str, link: Callable[[str, str], str]) -> Markup:
    """Stored, already-cleaned course HTML with the course's own links (term:, ref:, lesson:) made by
    `link(kind, id)`: this tool's URLs on a page, a package's own files in a package."""

    def resolve(match: re.Match) -> str:
        return f'href="{escape(link(*match.groups()))}"'

    resolved = _COURSE_LINK.sub(resolve, html)
    # Sources open beside the platform's frame, not inside it.
    resolved = _EXTERNAL_LINK.sub(lambda m: f'<a target="_blank" href="{m.group(1)}"', resolved)
    return Markup(resolved)  # noqa: S704 - cleaned by nh3 when the course was loaded


def course_html(html: str, slug: str) -> Markup:
    """Stored, already-cleaned lesson HTML with the course's own links turned into this reader's URLs."""

    def link(kind: str, ident: str) -> str:
        if kind == "term":
            return url_for("content.glossary", slug=slug) + "#term-" + ident
        if kind == "ref":
            return "#ref-" + ident
        return url_for("content.lesson", slug=slug, lesson=ident)

    return linked_html(html, link)


def markdown(text: str | None, slug: str) -> Markup:
    """An exercise's or question's Markdown as clean HTML with the course's links resolved."""
    return course_html(markdown_html(text or ""), slug)

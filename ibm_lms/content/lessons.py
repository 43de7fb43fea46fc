"""A lesson file (Markdown with the course format's blocks) checked and turned into safe page segments (pure).

The file is split into its blocks by a line scanner, so that every problem names its line; each
piece of Markdown is rendered by markdown-it and cleaned by nh3 (an allow-list of tags,
attributes and link schemes). Links inside the course stay symbolic (`term:`, `ref:`,
`lesson:`) until a page is rendered, where they become the reader's URLs. See
docs/course-format.md.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache

import nh3
from markdown_it import MarkdownIt

BLOCKS = ("keypoint", "warning", "example", "figure", "exercise")
# Schemes a lesson may link to: public sources, and the course's own terms, sources and lessons.
LINK_SCHEMES = ("https", "http", "term", "ref", "lesson")
_OPENER = re.compile(r"^:::\s*([A-Za-z][\w-]*)(?:\s+(.*?))?\s*$")
_CLOSER = re.compile(r"^:::\s*$")
_FENCE = re.compile(r"^(```|~~~)")
_IMAGE = re.compile(r"^!\[(?P<alt>[^\]]*)\]\((?P<src>[^)\s]+)\)\s*$")
_LINK_TARGET = re.compile(r"^(?P<scheme>[a-z][a-z0-9+.-]*):(?P<rest>.*)$")
_REFUSED_LINK = re.compile(r"\]\((?!https?:|term:|ref:|lesson:)[A-Za-z][A-Za-z0-9+.-]*:")
_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,63}\Z")
_WORD = re.compile(r"\w[\w'’-]*")
ALLOWED_TAGS = {"p", "h2", "h3", "h4", "ul", "ol", "li", "strong", "em", "code", "pre", "blockquote", "table",
                "thead", "tbody", "tr", "th", "td", "a", "br", "hr", "sup", "sub", "del"}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}

_markdown = MarkdownIt("commonmark", {"html": True}).enable("table").enable("strikethrough")


@dataclass(frozen=True)
class LessonProblem:
    line: int
    message: str
    fix: str = ""


@dataclass
class ParsedLesson:
    title: str
    segments: list[dict]
    words: int
    # Course links as (scheme, id, line): term, ref or lesson, checked against the course by the loader.
    links: list[tuple[str, str, int]] = field(default_factory=list)
    exercises: list[str] = field(default_factory=list)
    figures: list[str] = field(default_factory=list)

    def linked(self, scheme: str) -> set[str]:
        return {ident for kind, ident, _ in self.links if kind == scheme}


def clean_html(html: str) -> str:
    return nh3.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, url_schemes=set(LINK_SCHEMES),
                     link_rel="noopener noreferrer")


def plain_words(html: str) -> int:
    return len(_WORD.findall(nh3.clean(html, tags=set())))


class _Renderer:
    """Renders the Markdown pieces of one lesson, collecting its links and problems with their lines."""

    def __init__(self, parsed: ParsedLesson, problems: list[LessonProblem]):
        self.parsed = parsed
        self.problems = problems

    def render(self, text: str, first_line: int) -> str:
        tokens = _markdown.parse(text)
        for token in tokens:
            line = first_line + (token.map[0] if token.map else 0)
            if token.type == "html_block":
                self.problems.append(LessonProblem(line, "raw HTML is not allowed in a lesson",
                                                   "write it in Markdown, or as one of the blocks"))
            if token.type == "heading_open" and token.tag in ("h1",):
                self.problems.append(LessonProblem(line, "only the lesson's first line is a level-1 heading",
                                                   "use ## for sections"))
            for child in token.children or ():
                self._inline(child, line)
            if token.type == "inline" and _REFUSED_LINK.search(token.content):
                self.problems.append(LessonProblem(line, "a link uses a scheme lessons may not link to",
                                                   "link to https:// sources or to term:, ref:, lesson: ids"))
        return clean_html(_markdown.renderer.render(tokens, _markdown.options, {}))

    def _inline(self, child, line: int) -> None:
        if child.type == "html_inline":
            self.problems.append(LessonProblem(line, f"raw HTML is not allowed in a lesson: {child.content}",
                                               "use Markdown: **bold**, *italic*, `code`"))
        elif child.type == "image":
            self.problems.append(LessonProblem(line, "an image outside a figure block",
                                               "put it in a ::: figure block with its caption"))
        elif child.type == "link_open":
            self._link(str(child.attrs.get("href", "")), line)

    def _link(self, href: str, line: int) -> None:
        target = _LINK_TARGET.match(href)
        scheme = target.group("scheme") if target else ""
        if scheme not in LINK_SCHEMES:
            self.problems.append(LessonProblem(line, f"the link {href!r} is neither a public source nor a course link",
                                               "use https://…, or term:ID, ref:ID, lesson:ID"))
            return
        if scheme in ("http", "https"):
            return
        ident = target.group("rest")
        if not _ID.fullmatch(ident):
            self.problems.append(LessonProblem(line, f"{href!r} names no id", f"write {scheme}:some-id"))
            return
        self.parsed.links.append((scheme, ident, line))


def _blocks(lines: list[str], problems: list[LessonProblem]):
    """(kind, argument, first body line index, body lines) for each block, and ("markdown", …) between them."""
    pieces, current, start, in_fence = [], [], 2, False
    block = None  # (kind, argument, opening line number, body lines)
    for number, line in enumerate(lines, start=2):  # line 1 is the title
        if _FENCE.match(line.strip()):
            in_fence = not in_fence
        if not in_fence and _OPENER.match(line.strip()):
            kind, argument = _OPENER.match(line.strip()).groups()
            if block is not None:
                problems.append(LessonProblem(number, f"a ::: {kind} block inside the {block[0]} block opened on "
                                                      f"line {block[2]}",
                                              "close the first block with ::: before opening the next"))
                continue
            if kind not in BLOCKS:
                problems.append(LessonProblem(number, f"unknown block {kind!r}",
                                              "use one of: " + ", ".join(BLOCKS)))
            pieces.append(("markdown", None, start, current))
            block, current = (kind, argument or "", number, []), []
            continue
        if not in_fence and _CLOSER.match(line.strip()):
            if block is None:
                problems.append(LessonProblem(number, "a closing ::: without an open block",
                                              "remove it, or open the block it closes"))
                continue
            pieces.append((block[0], block[1], block[2] + 1, current))
            block, current, start = None, [], number + 1
            continue
        current.append(line)
    if block is not None:
        problems.append(LessonProblem(block[2], f"the {block[0]} block is never closed", "end it with a line :::"))
    else:
        pieces.append(("markdown", None, start, current))
    return pieces


def parse_lesson(text: str, *, figures: Mapping[str, str]) -> tuple[ParsedLesson | None, list[LessonProblem]]:
    """The lesson's title and segments, or None and every problem with its line.

    `figures` maps the course's figure file names to their digests. A lesson's result depends on its
    text and those alone, so it is computed once per process for each (text, figures) pair: checking
    and loading read the same files again and again."""
    return _parse_once(text, tuple(sorted(figures.items())))


@lru_cache(maxsize=2048)
def _parse_once(text: str, figures: tuple[tuple[str, str], ...]) -> tuple[ParsedLesson | None,
                                                                         tuple[LessonProblem, ...]]:
    parsed, problems = _parse(text, dict(figures).get)
    return parsed, tuple(problems)


def _parse(text: str, figure_digest: Callable[[str], str | None]) -> tuple[ParsedLesson | None,
                                                                          list[LessonProblem]]:
    problems: list[LessonProblem] = []
    lines = text.splitlines()
    if not lines or not lines[0].startswith("# ") or not lines[0][2:].strip():
        problems.append(LessonProblem(1, "the first line is not the lesson's title", "start the file with # Title"))
        return None, problems
    parsed = ParsedLesson(title=lines[0][2:].strip(), segments=[], words=0)
    renderer = _Renderer(parsed, problems)
    for kind, argument, first_line, body in _blocks(lines[1:], problems):
        source = "\n".join(body)
        if kind == "markdown":
            if source.strip():
                parsed.segments.append({"kind": "markdown", "html": renderer.render(source, first_line)})
        elif kind in ("keypoint", "warning"):
            parsed.segments.append({"kind": kind, "html": renderer.render(source, first_line)})
        elif kind == "example":
            if not argument:
                problems.append(LessonProblem(first_line - 1, "a worked example needs a title",
                                              "write ::: example The title of the example"))
            parsed.segments.append({"kind": kind, "title": argument, "html": renderer.render(source, first_line)})
        elif kind == "exercise":
            if not _ID.fullmatch(argument):
                problems.append(LessonProblem(first_line - 1, "an exercise block names no exercise id",
                                              "write ::: exercise the-exercise-id"))
            elif source.strip():
                problems.append(LessonProblem(first_line, "an exercise block has no body: the exercise comes "
                                                          "from its file", "leave the block empty"))
            else:
                parsed.exercises.append(argument)
                parsed.segments.append({"kind": "exercise", "id": argument})
        elif kind == "figure":
            segment = _figure(body, first_line, figure_digest, renderer, problems)
            if segment is not None:
                parsed.figures.append(segment.pop("name"))
                parsed.segments.append(segment)
    parsed.words = sum(plain_words(s.get("html", "")) for s in parsed.segments if s["kind"] == "markdown") + sum(
        plain_words(s.get("html", "")) for s in parsed.segments if s["kind"] in ("keypoint", "warning", "example"))
    return (None if problems else parsed), problems


def _figure(body: list[str], first_line: int, figure_digest, renderer: _Renderer,
            problems: list[LessonProblem]) -> dict | None:
    content = [(first_line + i, line) for i, line in enumerate(body) if line.strip()]
    image = _IMAGE.match(content[0][1].strip()) if content else None
    if image is None:
        problems.append(LessonProblem(first_line, "a figure block starts with its image",
                                      "write ![what the figure shows](name.svg) on the block's first line"))
        return None
    alt, name, line = image.group("alt").strip(), image.group("src"), content[0][0]
    if not alt:
        problems.append(LessonProblem(line, "the figure has no alt text",
                                      "describe what the figure shows between the brackets: ![…](name.svg)"))
    digest = figure_digest(name)
    if digest is None:
        problems.append(LessonProblem(line, f"there is no figure {name!r} in the course's figures/ folder",
                                      "add figures/" + name + ", or correct the name"))
    caption = "\n".join(text for _, text in content[1:])
    if not caption.strip():
        problems.append(LessonProblem(line, "the figure has no caption", "write the caption below the image"))
    return {"kind": "figure", "name": name, "digest": digest, "alt": alt,
            "caption_html": renderer.render(caption, content[1][0] if len(content) > 1 else line)}


@lru_cache(maxsize=4096)
def markdown_html(text: str) -> str:
    """An exercise's Markdown text as clean HTML (its course links are resolved when shown)."""
    return clean_html(_markdown.render(text))

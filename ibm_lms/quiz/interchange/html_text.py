"""Texts from Moodle (HTML, Moodle auto-format, Markdown, plain) to the Markdown our items hold (pure).

An allow-list: paragraphs, line breaks, lists, tables, quotes, emphasis, code and http(s) links
become Markdown; everything else is unwrapped to its text, and scripts, styles, frames, forms and
media are dropped with their content. No attribute survives but a link's address, so event
handlers (onerror=…) cannot; a link to anything but http, https or mailto keeps only its words.
What was dropped is reported in Findings, so an importer can say so.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

from ibm_lms.markers import N_

from .data import MAX_SOURCE_TEXT, MAX_TEXT
from .model import Refused

# Moodle's text formats, by the names GIFT ([html]) and Moodle XML (format="html") give them.
HTML, MOODLE, MARKDOWN, PLAIN = "html", "moodle", "markdown", "plain"
FORMAT_NAMES = {"html": HTML, "moodle": MOODLE, "moodle_auto_format": MOODLE, "markdown": MARKDOWN,
                "plain": PLAIN, "plain_text": PLAIN, "wiki_like": PLAIN}

_DROPPED = frozenset({"script", "style", "iframe", "frame", "frameset", "object", "embed", "applet", "noscript",
                      "template", "svg", "math", "head", "title", "textarea", "select", "button", "canvas", "input",
                      "meta", "link", "base", "param", "map", "area", "dialog"})
_MEDIA = frozenset({"img", "image", "audio", "video", "source", "picture", "track"})
_VOID = frozenset({"br", "hr", "img", "input", "meta", "link", "area", "base", "col", "embed", "param", "source",
                   "track", "wbr", "image"})
_BLOCKS = frozenset({"p", "div", "section", "article", "header", "footer", "main", "aside", "nav", "center", "address",
                     "figure", "figcaption", "details", "summary", "fieldset", "legend", "dl", "dt", "dd", "h1", "h2",
                     "h3", "h4", "h5", "h6", "blockquote", "ul", "ol", "li", "table", "thead", "tbody", "tfoot", "tr",
                     "td", "th", "caption", "pre", "hr", "form", "body", "html"})
_STRONG = frozenset({"strong", "b"})
_EMPHASIS = frozenset({"em", "i", "cite", "dfn", "var"})
_CODE = frozenset({"code", "kbd", "samp", "tt"})
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
# Elements a new one of their kind closes, and the containers that stop the search for an open one.
_IMPLIED_END = {"p": frozenset({"div", "li", "td", "th", "blockquote", "section", "article", "table", "ul", "ol"}),
                "li": frozenset({"ul", "ol"})}
_SAFE_SCHEMES = ("http", "https", "mailto")
# Deeper nesting than this is flattened: a hostile file must not exhaust the recursion of the renderer.
_MAX_DEPTH = 100

# Private-use characters stand for line breaks and code while the text is rebuilt; input text never
# carries them (clean_input removes that range).
_BREAK = "\ue010"
_CODE_OPEN, _CODE_CLOSE = "\ue011", "\ue012"
_PRIVATE = re.compile("[\ue000-\ue0ff]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass
class Findings:
    """What a conversion left out: media (by source) and kinds of active content."""

    media: list[str] = field(default_factory=list)
    removed: set[str] = field(default_factory=set)


def clean_input(text: str) -> str:
    """Line endings as \\n, no control characters, none of the private-use characters this module uses."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _PRIVATE.sub("", _CONTROL.sub("", text))


def to_markdown(text: str, text_format: str, findings: Findings) -> str:
    """A Moodle text in the given format as safe Markdown; raises Refused for a text far too long to keep."""
    if len(text) > MAX_SOURCE_TEXT:
        raise Refused(N_("a text is %(length)s characters long; at most %(limit)s are kept"),
                      N_("shorten it, or split the question"), length=f"{len(text):,}", limit=f"{MAX_TEXT:,}")
    text = clean_input(text)
    if text_format == MARKDOWN:
        return _clean_markdown(text, findings)
    if text_format == PLAIN:
        return _plain(text)
    return _HtmlToMarkdown(findings, line_breaks=text_format == MOODLE).convert(text)


def safe_url(url: str) -> str | None:
    """The address if it is an http(s) or mailto link, else None (javascript:, data:, relative paths …)."""
    address = re.sub(r"[\x00-\x20\x7f]+", "", html.unescape(url or ""))
    scheme = address.split(":", 1)[0].casefold() if ":" in address else ""
    if scheme not in _SAFE_SCHEMES or not re.match(r"[A-Za-z][A-Za-z0-9+.-]*:", address):
        return None
    return address.replace("(", "%28").replace(")", "%29")


# --- HTML and Moodle auto-format -------------------------------------------------------------------

class _Node:
    __slots__ = ("attrs", "children", "tag")

    def __init__(self, tag: str, attrs: list[tuple[str, str | None]] | None = None):
        self.tag = tag
        self.attrs = dict(attrs or ())
        self.children: list[_Node | str] = []


class _TreeBuilder(HTMLParser):
    """A forgiving tree: unknown end tags are ignored, unclosed elements end with their parent."""

    def __init__(self, findings: Findings):
        super().__init__(convert_charrefs=True)
        self.root = _Node("#root")
        self.stack = [self.root]
        self.findings = findings

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._note_attributes(tag, attrs)
        node = _Node(tag, attrs)
        if tag in _IMPLIED_END and self._still_open(tag):
            self._close(tag)  # a new paragraph or list item ends the one still open, as browsers do
        self.stack[-1].children.append(node)
        if tag not in _VOID and len(self.stack) < _MAX_DEPTH:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._note_attributes(tag, attrs)
        self.stack[-1].children.append(_Node(tag, attrs))

    def handle_endtag(self, tag: str) -> None:
        if self._open(tag):
            self._close(tag)

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)

    def _open(self, tag: str) -> bool:
        return any(node.tag == tag for node in self.stack[1:])

    def _still_open(self, tag: str) -> bool:
        """Whether an element of this kind is open in the current container (not in an outer list or cell)."""
        for node in reversed(self.stack[1:]):
            if node.tag == tag:
                return True
            if node.tag in _IMPLIED_END[tag]:
                return False
        return False

    def _close(self, tag: str) -> None:
        while self.stack[-1].tag != tag:
            self.stack.pop()
        self.stack.pop()

    def _note_attributes(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name.startswith("on"):
                self.findings.removed.add("event handler attributes (on…=)")
            elif name in ("href", "src", "action", "formaction") and value and safe_url(value) is None \
                    and re.match(r"\s*(javascript|vbscript|data):", html.unescape(value), re.I):
                self.findings.removed.add("script links (javascript:, data:)")
        if tag in _DROPPED:
            self.findings.removed.add(f"<{tag}> elements")


class _HtmlToMarkdown:
    def __init__(self, findings: Findings, *, line_breaks: bool):
        self.findings = findings
        # Moodle auto-format turns each line break of the source into <br>.
        self.line_breaks = line_breaks

    def convert(self, source: str) -> str:
        builder = _TreeBuilder(self.findings)
        builder.feed(source)
        builder.close()
        return "\n\n".join(self._blocks(builder.root)).strip()

    # Blocks: a list of Markdown blocks, to be joined by blank lines.
    def _blocks(self, node: _Node) -> list[str]:
        blocks: list[str] = []
        inline: list[str] = []
        for child in node.children:
            if isinstance(child, _Node) and child.tag in _BLOCKS:
                blocks += _paragraphs("".join(inline))
                inline = []
                blocks += self._block(child)
            else:
                inline.append(self._inline(child))
        return blocks + _paragraphs("".join(inline))

    def _block(self, node: _Node) -> list[str]:
        if node.tag in _HEADINGS:
            text = _squeeze("".join(self._inline(child) for child in node.children))
            return [f"**{text}**"] if text else []
        if node.tag == "blockquote":
            inner = "\n\n".join(self._blocks(node))
            return ["\n".join(("> " + line).rstrip() for line in inner.split("\n"))] if inner else []
        if node.tag in ("ul", "ol"):
            return self._list(node)
        if node.tag == "table":
            return self._table(node)
        if node.tag == "pre":
            return _fence(_text_of(node))
        if node.tag == "hr":
            return []
        return self._blocks(node)

    def _list(self, node: _Node) -> list[str]:
        lines = []
        items = [c for c in node.children if isinstance(c, _Node) and c.tag == "li"]
        start = int(node.attrs["start"]) if (node.attrs.get("start") or "").isdigit() else 1
        for number, item in enumerate(items, start=min(start, 10**8)):
            marker = f"{number}. " if node.tag == "ol" else "- "
            body = "\n\n".join(self._blocks(item)) or ""
            indent = " " * len(marker)
            first, *rest = body.split("\n") if body else [""]
            lines.append(marker + first)
            lines += [(indent + line) if line else "" for line in rest]
        return ["\n".join(lines)] if lines else []

    def _table(self, node: _Node) -> list[str]:
        rows = []
        for row in _descendants(node, "tr"):
            cells = [c for c in row.children if isinstance(c, _Node) and c.tag in ("td", "th")]
            rows.append([_squeeze("".join(self._inline(cell) for cell in [*c.children])).replace(
                _BREAK, " ").replace("|", "\\|") for c in cells])
        rows = [r for r in rows if any(r)]
        if not rows:
            return []
        width = max(len(r) for r in rows)
        lines = ["|" + "|".join(f" {cell} " if cell else " " for cell in r + [""] * (width - len(r))) + "|"
                 for r in rows]
        lines.insert(1, "| " + " | ".join(["---"] * width) + " |")
        return ["\n".join(lines)]

    def _inline(self, child: _Node | str) -> str:
        if isinstance(child, str):
            text = child.replace("\n", _BREAK) if self.line_breaks else child
            return _escape(text)
        tag = child.tag
        if tag in _DROPPED:
            return ""
        if tag in _MEDIA:
            self.findings.media.append(child.attrs.get("src") or child.attrs.get("href") or tag)
            return ""
        if tag == "br":
            return _BREAK
        if tag in _CODE:
            return _CODE_OPEN + _text_of(child) + _CODE_CLOSE
        inner = "".join(self._inline(c) for c in child.children)
        if tag in _STRONG:
            return _wrap(inner, "**")
        if tag in _EMPHASIS:
            return _wrap(inner, "*")
        if tag == "a":
            url = safe_url(child.attrs.get("href") or "")
            label = _squeeze(inner)
            return f"[{label}]({url})" if url and label else inner
        if tag in _BLOCKS:
            return " " + inner + " "
        return inner


def _descendants(node: _Node, tag: str) -> list[_Node]:
    found = []
    for child in node.children:
        if isinstance(child, _Node):
            if child.tag == tag:
                found.append(child)
            elif child.tag != "table":  # a nested table's rows are its own
                found += _descendants(child, tag)
    return found


def _text_of(node: _Node) -> str:
    parts = []
    for child in node.children:
        if isinstance(child, str):
            parts.append(child)
        elif child.tag == "br":
            parts.append("\n")
        elif child.tag not in _DROPPED:
            parts.append(_text_of(child))
    return "".join(parts)


def _wrap(inner: str, mark: str) -> str:
    # "**word **" is not emphasis in Markdown: spaces go outside the marks.
    stripped = inner.strip(" ")
    if not stripped.replace(_BREAK, ""):
        return inner
    lead = " " if inner.startswith(" ") else ""
    trail = " " if inner.endswith(" ") else ""
    return f"{lead}{mark}{stripped}{mark}{trail}"


_ESCAPED = re.compile(r"([\\*`])|((?<![A-Za-z0-9])_|_(?![A-Za-z0-9]))|(\]\()|(<(?=[A-Za-z/!?]))|(&(?=#?\w+;))")


def _escape(text: str) -> str:
    """Text as Markdown that reads the same: emphasis and code marks, and a "<" that could open a tag, lose
    their meaning."""
    def one(found: re.Match) -> str:
        char, underscore, link, less, _ = found.groups()
        if char:
            return "\\" + char
        if underscore:
            return "\\_"
        if link:
            return "]\\("
        if less:
            return "&lt;"
        return "&amp;"
    return _ESCAPED.sub(one, text)


_SPACES = re.compile(r"[ \t\n\f\v\xa0]+")
_BLOCK_START = re.compile(r"(#{1,6}\s|>|[-+]\s|\d{1,9}[.)]\s)")


def _squeeze(text: str) -> str:
    text = _SPACES.sub(" ", text)
    text = re.sub(f" *{_BREAK} *", _BREAK, text)
    text = text.strip(" " + _BREAK)
    return _restore_code(text)


def _paragraphs(inline: str) -> list[str]:
    """Inline Markdown split into paragraphs where two line breaks follow each other."""
    found = []
    for part in re.split(f"(?: *{_BREAK} *){{2,}}", _SPACES.sub(" ", inline)):
        text = _squeeze(part).replace(_BREAK, "\\\n")
        if _BLOCK_START.match(text):
            text = "\\" + text if not text[0].isdigit() else re.sub(r"^(\d+)([.)])", r"\1\\\2", text)
        if text:
            found.append(text)
    return found


def _restore_code(text: str) -> str:
    def code(found: re.Match) -> str:
        content = _SPACES.sub(" ", found.group(1)).strip()
        if not content:
            return ""
        fence = "``" if "`" in content else "`"
        return f"{fence}{content}{fence}" if fence == "`" else f"{fence} {content} {fence}"
    return re.sub(f"{_CODE_OPEN}(.*?){_CODE_CLOSE}", code, text, flags=re.S)


def _fence(text: str) -> list[str]:
    text = text.strip("\n")
    if not text.strip():
        return []
    fence = "~~~" if "```" in text else "```"
    return [f"{fence}\n{text}\n{fence}"]


# --- Markdown and plain text ------------------------------------------------------------------------

# Every repeat below is bounded, so that unclosed marks in a hostile text cost a bounded look-ahead each.
_FENCED = re.compile(r"(?ms)^(```|~~~).{0,20000}?^\1[ \t]*$|`[^`\n]{0,1000}`")
_ACTIVE_ELEMENT = re.compile(
    r"<(" + "|".join(sorted(_DROPPED)) + r")\b[^>]{0,2000}>.*?(?:</\1\s*>|\Z)", re.I | re.S)
_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.S)
_TAG = re.compile(r"</?([A-Za-z][A-Za-z0-9-]{0,40})\b[^<>]{0,2000}>")
_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")
# A link's destination may hold balanced parentheses, as CommonMark reads it: (javascript:alert(1)), (…/a_(b)).
_DESTINATION = r"\(((?:[^()\n]|\([^()\n]{0,1000}\)){0,1000})\)"
_IMAGE = re.compile(r"!\[([^\]\n]{0,500})\]" + _DESTINATION)
_LINK = re.compile(r"(?<!\\)\[([^\]\n]{0,500})\]" + _DESTINATION)
_REFERENCE = re.compile(r"(?m)^ {0,3}\[[^\]\n]{1,500}\]:[ \t]*(\S+).*$")


def _clean_markdown(text: str, findings: Findings) -> str:
    """Markdown kept as written, bar raw HTML (tags become their Markdown, or nothing) and unsafe links."""
    code: list[str] = []

    def protect(found: re.Match) -> str:
        code.append(found.group(0))
        return f"{_CODE_OPEN}{len(code) - 1}{_CODE_CLOSE}"

    text = _FENCED.sub(protect, text)

    def drop_active(found: re.Match) -> str:
        findings.removed.add(f"<{found.group(1).lower()}> elements")
        return ""

    text = _COMMENT.sub("", _ACTIVE_ELEMENT.sub(drop_active, text))
    text = _TAG.sub(lambda found: _tag_as_markdown(found, findings), text)
    text = _TAG_START.sub("&lt;", text)

    def image(found: re.Match) -> str:
        findings.media.append(found.group(2).strip() or "image")
        return ""

    def link(found: re.Match) -> str:
        url = safe_url(found.group(2).strip().split(" ")[0])
        if url is None and re.match(r"\s*(javascript|vbscript|data):", html.unescape(found.group(2)), re.I):
            findings.removed.add("script links (javascript:, data:)")
        return f"[{found.group(1)}]({url})" if url else found.group(1)

    def reference(found: re.Match) -> str:
        return found.group(0) if safe_url(found.group(1)) else ""

    text = _REFERENCE.sub(reference, _LINK.sub(link, _IMAGE.sub(image, text)))
    text = re.sub(f"{_CODE_OPEN}(\\d+){_CODE_CLOSE}", lambda found: code[int(found.group(1))], text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _tag_as_markdown(found: re.Match, findings: Findings) -> str:
    tag = found.group(1).lower()
    closing = found.group(0).startswith("</")
    if tag in _MEDIA and not closing:
        source = re.search(r"""src\s*=\s*["']?([^"'\s>]+)""", found.group(0), re.I)
        findings.media.append(source.group(1) if source else tag)
        return ""
    if re.search(r"\son\w+\s*=", found.group(0), re.I):
        findings.removed.add("event handler attributes (on…=)")
    if tag in _STRONG:
        return "**"
    if tag in _EMPHASIS:
        return "*"
    if tag == "br":
        return "\\\n"
    if tag in _BLOCKS:
        return "\n\n"
    return ""


def _plain(text: str) -> str:
    paragraphs = [p for p in re.split(r"\n\s*\n", text) if p.strip()]
    return "\n\n".join("\\\n".join(_escape(line.strip()) for line in p.strip().split("\n")) for p in paragraphs)


def strip_tags(text: str) -> str:
    """Plain text of a short HTML snippet (a name, a choice): tags and scripts gone, entities decoded."""
    findings = Findings()
    markdown = _HtmlToMarkdown(findings, line_breaks=False).convert(clean_input(text[:MAX_SOURCE_TEXT]))
    return plain_of_markdown(markdown)


# Names of HTML elements, to tell markup from text that merely holds "<" (an MRZ line: OHARA<POPA<<ANA).
_HTML_ELEMENTS = _DROPPED | _MEDIA | _VOID | _BLOCKS | _STRONG | _EMPHASIS | _CODE | frozenset(
    {"a", "abbr", "bdi", "bdo", "big", "del", "font", "ins", "label", "mark", "q", "s", "small", "span", "strike",
     "sub", "sup", "time", "u", "body", "html", "marquee", "blink", "details", "frame", "xml"})
_MARKUP = re.compile(r"<!--.*?(?:-->|\Z)|</?([A-Za-z][A-Za-z0-9-]{0,40})([\s/][^<>]{0,2000})?>", re.S)
_ACTIVE_ATTRIBUTE = re.compile(r"\bon\w+\s*=|(javascript|vbscript|data)\s*:", re.I)


def strip_markup(text: str) -> str:
    """A plain text (an accepted answer, a name) without HTML elements, their scripts and attributes; a "<"
    that opens no element stays, as in an MRZ line."""
    def markup(found: re.Match) -> str:
        name, attributes = found.group(1), found.group(2) or ""
        is_markup = name is None or name.lower() in _HTML_ELEMENTS or _ACTIVE_ATTRIBUTE.search(attributes)
        return "" if is_markup else found.group(0)
    return _MARKUP.sub(markup, _ACTIVE_ELEMENT.sub("", clean_input(text[:MAX_SOURCE_TEXT])))


def plain_of_markdown(text: str) -> str:
    """Markdown as the words it shows: marks, link targets and escapes gone."""
    text = _IMAGE.sub(r"\1", text)
    text = _LINK.sub(r"\1", text)
    # Marks pair up within a line and a bounded span: an unpaired mark must not make the search quadratic.
    text = re.sub(r"(\*\*|__)([^\n]{1,200}?)\1", r"\2", text)
    text = re.sub(r"(?<![\\*\w])([*_])(?!\s)([^\n]{1,200}?)(?<![\s\\])\1(?![*\w])", r"\2", text)
    text = re.sub(r"(`+) ?([^\n]{1,200}?) ?\1", r"\2", text)
    text = re.sub(r"\\\n", "\n", text)
    text = re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", text)
    return html.unescape(text).strip()

"""Our Markdown (paragraphs, lists, tables, quotes, emphasis, code, links) as XHTML for Moodle and QTI (pure).

The subset the course format allows, no more: the output must be well-formed XML (QTI item bodies
are XML) and hold nothing a Moodle or QTI player would run. Links other than http(s) and mailto,
our own term:, ref: and lesson: among them, keep only their words: they mean nothing outside the tool.
"""

from __future__ import annotations

import html
import re

from .html_text import safe_url

_FENCE = re.compile(r"^(```|~~~)")
_LIST_ITEM = re.compile(r"^( {0,3})([-*+]|\d{1,9}[.)])[ \t]+(.*)$")
_HEADING = re.compile(r"^ {0,3}#{1,6}[ \t]+(.*?)[ \t#]*$")
_TABLE_RULE = re.compile(r"^\|?[ \t]*:?-+:?[ \t]*(\|[ \t]*:?-+:?[ \t]*)*\|?[ \t]*$")


def markdown_to_html(text: str) -> str:
    """XHTML blocks for a Markdown text."""
    return "".join(_blocks(text.replace("\r\n", "\n").split("\n")))


def _blocks(lines: list[str]) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            i += 1
        elif _FENCE.match(line.lstrip()):
            i = _code_block(lines, i, out)
        elif line.lstrip().startswith("|"):
            i = _table(lines, i, out)
        elif line.lstrip().startswith(">"):
            i = _quote(lines, i, out)
        elif _LIST_ITEM.match(line):
            i = _list(lines, i, out)
        elif _HEADING.match(line):
            out.append(f"<p><strong>{inline_html(_HEADING.match(line).group(1))}</strong></p>")
            i += 1
        else:
            i = _paragraph(lines, i, out)
    return out


def _code_block(lines: list[str], i: int, out: list[str]) -> int:
    fence = _FENCE.match(lines[i].lstrip()).group(1)
    end = next((j for j in range(i + 1, len(lines)) if lines[j].strip().startswith(fence)), len(lines))
    out.append("<pre><code>" + html.escape("\n".join(lines[i + 1:end]), quote=False) + "</code></pre>")
    return end + 1


def _table(lines: list[str], i: int, out: list[str]) -> int:
    rows = []
    while i < len(lines) and lines[i].lstrip().startswith("|"):
        rows.append(lines[i].strip())
        i += 1
    header = len(rows) > 1 and _TABLE_RULE.match(rows[1])
    cells = [_cells(row) for j, row in enumerate(rows) if not (header and j == 1)]
    parts = ["<table>"]
    for j, row in enumerate(cells):
        tag = "th" if header and j == 0 else "td"
        parts.append("<tr>" + "".join(f"<{tag}>{inline_html(cell)}</{tag}>" for cell in row) + "</tr>")
    out.append("".join(parts) + "</table>")
    return i


def _cells(row: str) -> list[str]:
    row = row.strip()
    row = row[1:] if row.startswith("|") else row
    row = row[:-1] if row.endswith("|") and not row.endswith("\\|") else row
    return [cell.strip().replace("\\|", "|") for cell in re.split(r"(?<!\\)\|", row)]


def _quote(lines: list[str], i: int, out: list[str]) -> int:
    inner = []
    while i < len(lines) and lines[i].lstrip().startswith(">"):
        inner.append(re.sub(r"^\s*> ?", "", lines[i]))
        i += 1
    out.append("<blockquote>" + "".join(_blocks(inner)) + "</blockquote>")
    return i


def _list(lines: list[str], i: int, out: list[str]) -> int:
    first = _LIST_ITEM.match(lines[i])
    indent, ordered = len(first.group(1)), first.group(2)[0].isdigit()

    def sibling(line: str) -> re.Match | None:
        found = _LIST_ITEM.match(line)
        return found if found and len(found.group(1)) == indent and found.group(2)[0].isdigit() == ordered else None

    items: list[list[str]] = []
    width = 0
    while i < len(lines):
        line = lines[i]
        marker = sibling(line)
        if marker:
            items.append([marker.group(3)])
            width = indent + len(marker.group(2)) + 1
        elif not line.strip():
            following = lines[i + 1] if i + 1 < len(lines) else ""
            if not (following.startswith(" " * width) and following.strip()) and not sibling(following):
                break
            items[-1].append("")
        elif line.startswith(" " * min(width, indent + 2)):
            # Content of the item, or a list inside it: dedented to the item's own margin.
            items[-1].append(line[min(width, len(line) - len(line.lstrip())):])
        elif items[-1][-1].strip() and not _starts_block(line):
            items[-1].append(line.strip())  # a lazy continuation line
        else:
            break
        i += 1
    rendered = []
    for item in items:
        loose = any(not line.strip() for line in item) or any(_starts_block(line) for line in item[1:])
        rendered.append("<li>" + ("".join(_blocks(item)) if loose else inline_html("\n".join(item))) + "</li>")
    number = int(first.group(2)[:-1]) if ordered else 1
    opening = f'<ol start="{number}">' if number != 1 else "<ol>" if ordered else "<ul>"
    out.append(opening + "".join(rendered) + ("</ol>" if ordered else "</ul>"))
    return i


def _starts_block(line: str) -> bool:
    stripped = line.lstrip()
    return bool(_LIST_ITEM.match(line) or stripped.startswith(("|", ">")) or _FENCE.match(stripped)
                or _HEADING.match(line))


def _paragraph(lines: list[str], i: int, out: list[str]) -> int:
    text = [lines[i]]
    i += 1
    while i < len(lines) and lines[i].strip() and not _starts_block(lines[i]):
        text.append(lines[i])
        i += 1
    out.append("<p>" + inline_html("\n".join(text)) + "</p>")
    return i


# Private-use characters hold finished pieces (code, escaped characters) while the rest is rewritten.
_HOLD_OPEN, _HOLD_CLOSE = "\ue020", "\ue021"
# Spans are bounded (and code spans, links and emphasis do not cross a blank line) so that an unpaired
# mark costs a bounded look-ahead, never a scan of the rest of the text.
_CODE_SPAN = re.compile(r"(`+)([^\n]{1,1000}?)\1")
_BACKSLASH = re.compile(r"\\([!-/:-@\[-`{-~])")
_HARD_BREAK = re.compile(r"(?:\\| {2,})\n")
_IMAGE = re.compile(r"!\[([^\]\n]{0,500})\]\(([^)\n]{0,1000})\)")
_LINK = re.compile(r"\[([^\]\n]{1,500})\]\(([^)\s]{0,1000})(?:\s+\"[^\"\n]{0,500}\")?\)")
_STRONG = re.compile(r"(\*\*|__)(?=\S)([^\n]{1,1000}?(?:\n[^\n]{1,1000}?)?)(?<=\S)\1")
_EMPHASIS = re.compile(r"(?<![*\w])([*_])(?=\S)([^\n]{1,1000}?(?:\n[^\n]{1,1000}?)?)(?<=\S)\1(?![*\w])")


def inline_html(text: str) -> str:
    """XHTML for one block's inline Markdown."""
    held: list[str] = []

    def hold(piece: str) -> str:
        held.append(piece)
        return f"{_HOLD_OPEN}{len(held) - 1}{_HOLD_CLOSE}"

    text = _CODE_SPAN.sub(lambda found: hold("<code>" + _escape(found.group(2).strip()) + "</code>"), text)
    text = _HARD_BREAK.sub(lambda found: hold("<br/>"), text)
    text = _BACKSLASH.sub(lambda found: hold(_escape(found.group(1))), text)
    text = _escape(html.unescape(text))
    text = _IMAGE.sub(lambda found: found.group(1), text)

    def link(found: re.Match) -> str:
        url = safe_url(html.unescape(found.group(2)))
        return f'<a href="{_escape(url, quote=True)}">{found.group(1)}</a>' if url else found.group(1)

    text = _LINK.sub(link, text)
    text = _STRONG.sub(r"<strong>\2</strong>", text)
    text = _EMPHASIS.sub(r"<em>\2</em>", text)
    text = re.sub(r"[ \t]*\n[ \t]*", "\n", text).strip()
    while _HOLD_OPEN in text:
        text = re.sub(f"{_HOLD_OPEN}(\\d+){_HOLD_CLOSE}", lambda found: held[int(found.group(1))], text)
    return text


def _escape(text: str, *, quote: bool = False) -> str:
    return html.escape(text, quote=quote)


def without_local_links(text: str) -> str:
    """Markdown whose links to our own pages (term:, ref:, lesson:) are reduced to their words."""
    return _LINK.sub(lambda found: found.group(0) if safe_url(found.group(2)) else found.group(1), text)

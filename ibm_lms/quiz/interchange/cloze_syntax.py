"""Moodle's embedded answers ({1:MULTICHOICE:=right#feedback~wrong}), the gaps of its Cloze questions (pure).

A gap is {weight:TYPE:alternatives}: alternatives are separated by ~, a right one starts with = or
a weight %50%, and # starts its feedback; \\} \\# \\~ write those characters inside an answer. The
types and their short names are qtype_multianswer's: MULTICHOICE (MC) and its _V, _H, _S, _VS, _HS
layouts, MULTIRESPONSE (MR, MRH, MRS, MRHS), SHORTANSWER (SA, MW), SHORTANSWER_C (SAC, MWC) and
NUMERICAL (NM). The text around the gaps is HTML, so answers arrive with HTML entities.
"""

from __future__ import annotations

import html
import math
import re

from ibm_lms.markers import N_

from .data import MAX_ANSWERS
from .html_text import HTML, Findings, strip_markup, strip_tags, to_markdown
from .model import (
    Choice,
    Gap,
    MultiChoice,
    Numerical,
    NumericAnswer,
    Refused,
    ShortAnswer,
    gap_marker,
    refuse_marker_lookalike,
)

_START = re.compile(r"\{(\d*):([A-Za-z_]+):")
_SINGLE = {"MULTICHOICE", "MC", "MULTICHOICE_V", "MCV", "MULTICHOICE_H", "MCH", "MULTICHOICE_S", "MCS",
           "MULTICHOICE_VS", "MCVS", "MULTICHOICE_HS", "MCHS"}
_MULTIPLE = {"MULTIRESPONSE", "MR", "MULTIRESPONSE_H", "MRH", "MULTIRESPONSE_S", "MRS", "MULTIRESPONSE_HS", "MRHS"}
_SHORT = {"SHORTANSWER", "SA", "MW"}
_SHORT_CASE = {"SHORTANSWER_C", "SAC", "MWC"}
_NUMERICAL = {"NUMERICAL", "NM"}
_WEIGHT = re.compile(r"%(-?\d+(?:[.,]\d*)?)%")
_NUMBER = re.compile(r"-?(?:\d+[.,]?\d*|[.,]\d+)(?:[eE][-+]?\d+)?\Z")


def split_gaps(text: str) -> tuple[str, list[Gap], list[float]]:
    """The text with a {{n}} marker where each gap was, the gaps, and their marks."""
    refuse_marker_lookalike(text)
    out, gaps, weights = [], [], []
    position = 0
    for start in _START.finditer(text):
        if start.start() < position:
            continue
        if len(gaps) == MAX_ANSWERS:
            raise Refused(N_("the text holds more than %(limit)d gaps"), N_("split the question"), limit=MAX_ANSWERS)
        end = _closing(text, start.end())
        if end < 0:
            raise Refused(N_("the gap %(gap)s… is not closed with '}'"),
                          N_("close the gap; write a '}' inside an answer as \\}"), gap=start.group(0))
        kind = start.group(2).upper()
        gaps.append(_gap(kind, text[start.end():end], start.group(0)))
        weights.append(float(start.group(1) or 1))
        out += [text[position:start.start()], gap_marker(len(gaps))]
        position = end + 1
    out.append(text[position:])
    return "".join(out), gaps, weights


def _closing(text: str, at: int) -> int:
    while at < len(text):
        if text[at] == "\\":
            at += 2
            continue
        if text[at] == "}":
            return at
        at += 1
    return -1


def _alternatives(body: str) -> list[tuple[str, str, str]]:
    """(weight mark, answer, feedback) of each alternative, split at unescaped ~ and #."""
    found, current, at = [], [""], 0
    while at < len(body):
        char = body[at]
        if char == "\\" and at + 1 < len(body):
            current[-1] += body[at:at + 2]
            at += 2
            continue
        if char == "~":
            found.append(current)
            current = [""]
        elif char == "#" and len(current) == 1:
            current.append("")
        else:
            current[-1] += char
        at += 1
    found.append(current)
    alternatives = []
    for parts in found:
        answer, feedback = parts[0], parts[1] if len(parts) > 1 else ""
        mark = ""
        weight = _WEIGHT.match(answer)
        if answer.startswith("="):
            mark, answer = "=", answer[1:]
        elif weight:
            mark, answer = weight.group(0), answer[weight.end():]
        alternatives.append((mark, _unescape(answer).strip(), _unescape(feedback).strip()))
    return [a for a in alternatives if a[1] or a[2]]


def _unescape(text: str) -> str:
    return re.sub(r"\\([}#~\\])", r"\1", text)


def _fraction(mark: str) -> float:
    if mark == "=":
        return 1.0
    if mark:
        return float(mark.strip("%").replace(",", ".")) / 100
    return 0.0


def _gap(kind: str, body: str, opening: str) -> Gap:
    alternatives = _alternatives(body)
    if not alternatives:
        raise Refused(N_("the gap %(gap)s… has no answers"), N_("write the answers after the type, =right~wrong"),
                      gap=opening)
    if kind in _SINGLE or kind in _MULTIPLE:
        findings = Findings()
        choices = tuple(Choice(to_markdown(answer, HTML, findings), _fraction(mark), strip_tags(feedback))
                        for mark, answer, feedback in alternatives)
        return MultiChoice(choices, single=kind in _SINGLE)
    if kind in _SHORT or kind in _SHORT_CASE:
        return ShortAnswer(tuple(Choice(html.unescape(strip_markup(answer)), _fraction(mark))
                                 for mark, answer, _ in alternatives),
                           case_sensitive=kind in _SHORT_CASE)
    if kind in _NUMERICAL:
        return Numerical(tuple(_numeric(answer, mark, opening) for mark, answer, _ in alternatives))
    raise Refused(N_("the gap %(gap)s… has the type %(kind)s, which Moodle's Cloze does not have"),
                  N_("use MULTICHOICE, SHORTANSWER, SHORTANSWER_C or NUMERICAL"), gap=opening, kind=kind)


def _numeric(answer: str, mark: str, opening: str) -> NumericAnswer:
    answer = html.unescape(strip_tags(answer)).strip()
    if answer == "*":
        return NumericAnswer(None, 0.0, _fraction(mark))
    value, _, tolerance = answer.partition(":")
    if not _NUMBER.match(value) or (tolerance and not _NUMBER.match(tolerance)):
        raise Refused(N_("the gap %(gap)s… has %(answer)s, which is not a number (or number:tolerance)"),
                      N_("write numbers as 15 or 15:0.5"), gap=opening, answer=repr(answer))
    return NumericAnswer(float(value.replace(",", ".")), abs(float(tolerance.replace(",", ".") or 0)),
                         _fraction(mark))


def number_text(value: float) -> str:
    """A number as Moodle reads it: no exponent for everyday values, no trailing .0."""
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    text = repr(value)
    return text if "e" in text or len(text) < 18 else f"{value:.12g}"


def _escape(text: str) -> str:
    """An answer or feedback inside a gap: Moodle's escapes, then HTML, as the text around it is HTML."""
    text = text.replace("\\", "\\\\")
    for char in "}#~":
        text = text.replace(char, "\\" + char)
    return html.escape(text, quote=False)


def wildcard_escaped(text: str) -> str:
    """A short answer with its "*" written "\\*": Moodle reads a bare one as a wildcard for any text."""
    return text.replace("*", "\\*")


def fraction_mark(fraction: float) -> str:
    if fraction >= 1 - 1e-9:
        return "="
    if abs(fraction) < 1e-9 or math.isnan(fraction):
        return ""
    return f"%{percent(fraction)}%"


def percent(fraction: float) -> str:
    """A fraction as Moodle writes a grade in percent: 50, 33.33333, -12.5."""
    return f"{round(fraction * 100, 5):.5f}".rstrip("0").rstrip(".")


def write_gap(gap: Gap, plain) -> str:
    """The gap in Moodle's embedded syntax; `plain` turns a Markdown choice into the text Moodle shows."""
    if isinstance(gap, MultiChoice):
        kind = "MULTICHOICE" if gap.single else "MULTIRESPONSE"
        alternatives = [fraction_mark(c.fraction) + _escape(plain(c.text))
                        + (f"#{_escape(plain(c.feedback))}" if c.feedback.strip() else "") for c in gap.choices]
    elif isinstance(gap, ShortAnswer):
        kind = "SHORTANSWER_C" if gap.case_sensitive else "SHORTANSWER"
        alternatives = [fraction_mark(a.fraction) + wildcard_escaped(_escape(a.text)) for a in gap.answers]
    else:
        kind = "NUMERICAL"
        alternatives = ["=" + number_text(a.value) + (f":{number_text(a.tolerance)}" if a.tolerance else ":0")
                        for a in gap.answers if a.value is not None]
    return "{1:" + kind + ":" + "~".join(alternatives) + "}"

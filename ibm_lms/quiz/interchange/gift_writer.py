"""Writing GIFT for Moodle's importer (pure).

Texts go out as [markdown], Moodle's Markdown format, so emphasis, lists and tables survive
without a detour through HTML; every GIFT special character is escaped and line breaks are
written \\n, as one question may not hold a blank line. What GIFT cannot carry is said in a
comment line above the question: units, the steps of an ordering question (written as a matching
of each step to its position), and whole cloze questions, which are skipped.
"""

from __future__ import annotations

import re

from .cloze_syntax import number_text, percent, wildcard_escaped
from .html_text import plain_of_markdown
from .model import (
    Cloze,
    Matching,
    MoodleQuestion,
    MultiChoice,
    Numerical,
    Ordering,
    Outgoing,
    ShortAnswer,
    Skipped,
    TrueFalse,
)

_SPECIAL = {char: "\\" + char for char in "~=#{}:"}


def escape(text: str) -> str:
    """A text as GIFT reads it back: \\ first, then ~ = # { } :, then line breaks as \\n."""
    # Moodle's Markdown (PHP Markdown) breaks a line at two trailing spaces, not at CommonMark's backslash.
    text = re.sub(r"(?<!\\)\\\n", "  \n", text)
    text = text.replace("\\", "\\\\")
    for char, escaped in _SPECIAL.items():
        text = text.replace(char, escaped)
    return text.replace("\r", "").replace("\n", "\\n")


def _comment(text: str) -> str:
    return "// " + " ".join(text.split())


def write(planned: list[Outgoing | Skipped]) -> str:
    lines = [_comment("Exported from the IBM Training Suite. Texts are in Moodle's Markdown format."), ""]
    category = None
    for entry in planned:
        if entry.category != category:
            category = entry.category
            lines += [f"$CATEGORY: $course$/top/{category}", ""]
        if isinstance(entry, Skipped):
            lines += [_comment(f"skipped: {entry.key} ({entry.reason})"), ""]
        elif isinstance(entry.question.body, Cloze):
            lines += [_comment(f"skipped: {entry.key} (cloze has no GIFT form; export Moodle XML to keep it)"), ""]
        else:
            lines += [_question(entry), ""]
    return "\n".join(lines)


def _question(entry: Outgoing) -> str:
    question = entry.question
    head = [_comment(f"question: {entry.key}  name: {question.name}")]
    marks = [f"[id:{_bracketed(question.idnumber)}]"] if question.idnumber else []
    marks += [f"[tag:{_bracketed(tag)}]" for tag in question.tags]
    if marks:
        head.append("// " + " ".join(marks))
    head += [_comment(note) for note in (*entry.notes, *_notes(question))]
    body = _answers(question)
    feedback = f"\t####{escape(question.general_feedback)}\n" if question.general_feedback.strip() else ""
    return "\n".join(head) + f"\n::{escape(question.name)}::[markdown]{escape(question.text)}{{\n{body}{feedback}}}"


def _bracketed(text: str) -> str:
    return " ".join(text.split()).replace("]", "\\]")


def _notes(question: MoodleQuestion) -> list[str]:
    body = question.body
    if isinstance(body, Matching) and body.distractors:
        return ["the answers that match no prompt are written '= -> answer', which Moodle adds to the answers"]
    if isinstance(body, Ordering):
        return ["ordering: GIFT has no ordering question on every Moodle site, so each step is matched "
                "to its position (1 is first)"]
    if isinstance(body, Numerical) and body.units:
        return ["units (" + ", ".join(u.name for u in body.units) + ") are not part of GIFT; the answer is in "
                + body.units[0].name]
    return []


def _answers(question: MoodleQuestion) -> str:
    body = question.body
    if isinstance(body, MultiChoice):
        return "".join(f"\t{_mark(c.fraction, body.single)}{escape(c.text)}"
                       + (f"#{escape(c.feedback)}" if c.feedback.strip() else "") + "\n" for c in body.choices)
    if isinstance(body, TrueFalse):
        right, wrong = (body.feedback_true, body.feedback_false) if body.answer else (
            body.feedback_false, body.feedback_true)
        # {TRUE#shown to a wrong answer#shown to a right answer}
        answer = "TRUE" if body.answer else "FALSE"
        return f"\t{answer}" + (f"#{escape(wrong)}#{escape(right)}" if (wrong + right).strip() else "") + "\n"
    if isinstance(body, ShortAnswer):
        return "".join(f"\t={wildcard_escaped(escape(a.text))}\n" for a in body.answers)
    if isinstance(body, Numerical):
        return "#\n" + "".join(f"\t={number_text(a.value)}:{number_text(a.tolerance)}\n"
                               for a in body.answers if a.value is not None)
    if isinstance(body, Matching):
        return _pairs(body.pairs, body.distractors)
    if isinstance(body, Ordering):
        return _pairs(tuple((item, str(n)) for n, item in enumerate(body.items, start=1)), ())
    raise ValueError(f"no GIFT form for {type(body).__name__}")


def _mark(fraction: float, single: bool) -> str:
    if single and fraction >= 1 - 1e-9:
        return "="
    if abs(fraction) < 1e-9:
        return "~"
    return f"~%{percent(fraction)}%"


def _pairs(pairs: tuple[tuple[str, str], ...], distractors: tuple[str, ...]) -> str:
    # GIFT cannot escape "->": inside a prompt it would end the prompt, so it is written as an arrow.
    lines = [f"\t={escape(prompt.replace('->', '→'))} -> {escape(plain_of_markdown(answer))}\n"
             for prompt, answer in pairs]
    # "= -> answer" (no prompt) is an answer that fits no prompt, as Moodle's matching reads it.
    lines += [f"\t= -> {escape(plain_of_markdown(text))}\n" for text in distractors]
    return "".join(lines)

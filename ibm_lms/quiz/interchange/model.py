"""Moodle's question model, as far as the interchange needs it: what readers produce and writers consume (pure).

Every reader (GIFT, Moodle XML) turns a file into these records and every writer (GIFT, Moodle XML,
QTI) writes them out, so the rules that map them onto our item types live in one place each way
(incoming.py, outgoing.py). Texts are Markdown throughout; fractions are Moodle's grade shares,
1.0 for a fully right answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ibm_lms.markers import N_, Phrase, used_by

# A cloze text marks its gaps {{1}}, {{2}} … in the order of Cloze.gaps.
GAP_MARKER = re.compile(r"\{\{(\d{1,3})\}\}")


def gap_marker(number: int) -> str:
    return "{{" + str(number) + "}}"


def refuse_marker_lookalike(text: str) -> None:
    """A gapped question's text that already holds '{{2}}' would read as a gap of its own: refused, in words that
    say so, rather than as gaps that do not match. (Neither the interchange nor a course's cloze format has a way to
    keep such text literally.)"""
    found = GAP_MARKER.search(text)
    if found:
        raise Refused(N_("the text holds %(marker)s, which this tool reads as a gap"),
                      N_("write it another way, for example with a space between the braces"), marker=found.group(0))


@dataclass(frozen=True)
class Choice:
    text: str
    fraction: float
    feedback: str = ""
    # The line of the file the answer starts on, where the reader knows it (GIFT): a problem found in the
    # answer later names it. Not part of what the answer is.
    line: int | None = field(default=None, compare=False)


@dataclass(frozen=True)
class MultiChoice:
    choices: tuple[Choice, ...]
    single: bool


@dataclass(frozen=True)
class TrueFalse:
    answer: bool
    feedback_true: str = ""       # shown to whoever answers "true"
    feedback_false: str = ""


@dataclass(frozen=True)
class ShortAnswer:
    answers: tuple[Choice, ...]   # plain texts, each with its fraction
    case_sensitive: bool = False


@dataclass(frozen=True)
class NumericAnswer:
    value: float | None           # None: Moodle's "*", which catches every other answer
    tolerance: float = 0.0
    fraction: float = 1.0
    feedback: str = ""


@dataclass(frozen=True)
class Unit:
    name: str
    multiplier: float


@dataclass(frozen=True)
class Numerical:
    answers: tuple[NumericAnswer, ...]
    units: tuple[Unit, ...] = ()
    unit_required: bool = False


@dataclass(frozen=True)
class Matching:
    pairs: tuple[tuple[str, str], ...]    # (prompt in Markdown, answer in plain text)
    distractors: tuple[str, ...] = ()     # answers that match no prompt


@dataclass(frozen=True)
class Ordering:
    items: tuple[str, ...]                # in the right order


Gap = MultiChoice | ShortAnswer | Numerical


@dataclass(frozen=True)
class Cloze:
    gaps: tuple[Gap, ...]                 # gap n is marked {{n}} in the question text
    weights: tuple[float, ...] = ()       # Moodle's marks per gap, when the file gives them


Body = MultiChoice | TrueFalse | ShortAnswer | Numerical | Matching | Ordering | Cloze


@dataclass(frozen=True)
class MoodleQuestion:
    name: str
    text: str
    body: Body
    general_feedback: str = ""
    tags: tuple[str, ...] = ()
    idnumber: str = ""


@dataclass(frozen=True)
class Outgoing:
    """A question ready to be written, with what the writers should say about it in a comment."""

    key: str
    category: str
    question: MoodleQuestion
    notes: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class Skipped:
    """A question (or scenario part) no Moodle or QTI form can carry, and why."""

    key: str
    category: str
    reason: str


class Refused(Exception):
    """A question that cannot be imported (or a syntax the reader cannot take): what, and how to fix it.

    `message` and `fix` are msgids whose %(name)s placeholders take `values`; they become Phrases, English
    wherever a str goes and in the reader's language on a page."""

    def __init__(self, message: str, fix: str, line: int | None = None, **values):
        self.message = message if isinstance(message, Phrase) else Phrase(message, **values)
        super().__init__(self.message)
        self.fix = fix if isinstance(fix, Phrase) else Phrase(fix, **used_by(fix, values))
        self.line = line


class LeftOut(Refused):
    """Something in the file that is not a question (a Moodle description): left out with a note, as the rest of
    the file is imported."""


def note(message: str, fix: str, **values) -> tuple[Phrase, Phrase]:
    """What an import left out of a question (message) and how to get it back (fix), as Phrases."""
    return Phrase(message, **values), Phrase(fix, **used_by(fix, values))

"""Reading GIFT, Moodle's text format for questions, into Moodle questions (pure).

The syntax is Moodle's own (question/format/gift): questions are separated by blank lines,
lines starting with // are comments (Moodle 3.6+ reads [id:…] and [tag:…] in them), $CATEGORY:
switches the category, ::name:: names a question, [html] [moodle] [markdown] [plain] set a text's
format, and the answer block {…} says the type: {T} true/false, {=a ~b} multiple choice, {~%50%a
~%50%b} multiple answers, {=a =b} short answer, {#3.14:0.01} or {#1..5} numerical, {=a -> b}
matching, {>n …} ordering (qtype_ordering), {} essay; text after the block makes a missing-word
question. \\~ \\= \\# \\{ \\} \\: \\\\ escape, \\n is a line break. Each question is read on its
own: a problem in one never stops the reading of the others.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from ibm_lms.markers import N_, Phrase
from ibm_lms.text import whole_number_or_none

from .data import MAX_ANSWERS
from .html_text import FORMAT_NAMES, MOODLE, PLAIN, Findings, strip_markup, to_markdown
from .importing import Entry, at_line, findings_notes
from .incoming import ordering_notes
from .model import (
    Body,
    Choice,
    Cloze,
    LeftOut,
    Matching,
    MoodleQuestion,
    MultiChoice,
    Numerical,
    NumericAnswer,
    Ordering,
    Refused,
    ShortAnswer,
    TrueFalse,
    gap_marker,
    refuse_marker_lookalike,
)

# Escaped characters stand in as private-use characters while the structure is read, as Moodle's
# own reader does with its "&&058;" placeholders; they are put back in every text at the end.
_ESCAPES = {char: chr(0xE000 + ord(char)) for char in "\\:#={}~"}
_ESCAPES["n"] = chr(0xE000 + ord("\n"))
_UNESCAPE = str.maketrans({held: ("\n" if char == "n" else char) for char, held in _ESCAPES.items()})
_ESCAPE_SEQUENCE = re.compile(r"\\([\\:#={}~n])")
_FORMAT = re.compile(r"\[(html|moodle|plain|markdown)\]")
# A weight is one token between percent signs (%50%, %-33.33333%); "%50 of the goods%" is answer text.
_WEIGHT = re.compile(r"%([^%\s]{0,16})%")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\Z")
# qtype_ordering's GIFT form: ">count [select] [layout] [grading] [show] [numbering]" then one item a line.
_ORDERING = re.compile(r"\s*>[ \t]*(\d+)[ \t]*(ALL|EXACT|RANDOM|REL|CONTIGUOUS|CONTIG)?[ \t]*"
                       r"(HORIZONTAL|HORI|H|1|VERTICAL|VERT|V|0)?[ \t]*"
                       r"((?!(?:SHOW|TRUE|YES|HIDE|FALSE)\b)[A-Z_]{3,})?[ \t]*"
                       r"(SHOW|TRUE|YES|1|HIDE|FALSE|NO|0)?[ \t]*(none|123|abc|ABCD|iii|IIII)?[ \t]*\n(.*)\Z", re.S)
_ID = re.compile(r"\[id:((?:\\\]|[^\]\x00-\x1f])+)\]")
_TAG = re.compile(r"\[tag:((?:\\\]|[^\]<>`\x00-\x1f])+)\]")
_TRUE_FALSE = {"T": True, "TRUE": True, "F": False, "FALSE": False}
MISSING_WORD = "_____"


@dataclass(frozen=True)
class Block:
    """One question's lines, between blank lines: comment lines apart, the rest with the comments' lines
    left empty, so an offset in `body` still tells its line."""

    first_line: int
    body: str
    comments: str


_BLOCK = re.compile(r"(?m)^[ \t]*\S.*(?:\n[ \t]*\S.*)*")


def blocks(text: str) -> Iterator[Block]:
    line, at = 1, 0
    for match in _BLOCK.finditer(text):
        line += text.count("\n", at, match.start())
        at = match.start()
        lines = match.group(0).split("\n")
        comment = [raw.lstrip().startswith("//") for raw in lines]
        if not all(comment):
            body = "\n".join("" if is_comment else raw for raw, is_comment in zip(lines, comment, strict=True))
            yield Block(line, body, "\n".join(raw for raw, c in zip(lines, comment, strict=True) if c))


def is_question(block: Block) -> bool:
    text = block.body.strip()
    return not text.startswith("$CATEGORY:") or "\n" in text


def read_block(block: Block) -> Iterator[Entry]:
    """The category switch or question of a block, or why the question could not be read."""
    body = _ESCAPE_SEQUENCE.sub(lambda found: _ESCAPES[found.group(1)], block.body)
    offset = len(body) - len(body.lstrip())
    where = at_line(_line(block, body, offset))
    text = body.strip()
    if text.startswith("$CATEGORY:"):
        first, _, rest = text.partition("\n")
        yield Entry(where, category=_restore(first[len("$CATEGORY:"):]).strip())
        if not rest.strip():
            return
        offset = body.index(rest) + len(rest) - len(rest.lstrip())
        where, text = at_line(_line(block, body, offset)), rest.strip()
    try:
        question, notes = _question(text, block, body, offset)
    except LeftOut as left_out:
        yield Entry(where, notes=((left_out.message, left_out.fix),))
        return
    except Refused as refused:
        yield Entry(where, refused=refused)
        return
    yield Entry(where, question=question, notes=tuple(notes))


def _line(block: Block, body: str, offset: int) -> int:
    return block.first_line + body.count("\n", 0, offset)


def _restore(text: str) -> str:
    return text.translate(_UNESCAPE)


@dataclass
class _Reading:
    """One question as it is being taken apart: where it sits, its text format, what to report."""

    block: Block
    body: str
    start: int
    text_format: str = MOODLE
    # Where the answer block's text starts, from `start`: an answer's problem names the answer's own line.
    answers_at: int = 0
    findings: Findings = field(default_factory=Findings)
    notes: list = field(default_factory=list)

    def line(self, offset_in_text: int) -> int:
        return _line(self.block, self.body, self.start + offset_in_text)

    def answer_line(self, offset_in_answers: int) -> int:
        return self.line(self.answers_at + offset_in_answers)

    def text(self, text: str) -> str:
        """An answer's or a feedback's text, in its own [format] or the question's, as Markdown."""
        text_format, text = _text_format(text.strip(), self.text_format)
        return to_markdown(_restore(text), text_format, self.findings)


def _question(text: str, block: Block, body: str, start: int) -> tuple[MoodleQuestion, list]:
    reading = _Reading(block, body, start)
    name, text, consumed = _name(text, reading)
    reading.start += consumed
    opening, closing = _answer_block(text, reading)
    inside = text[opening + 1:closing]
    before, answer, after = text[:opening], inside.strip(), text[closing + 1:]
    reading.answers_at = opening + 1 + len(inside) - len(inside.lstrip())
    reading.text_format, before = _text_format(before.lstrip(), MOODLE)
    answer, general = _general_feedback(answer)
    content = _answers(answer, reading)
    source = before
    if after.strip():
        # A missing-word question: the answers stand where the blank is. A one-answer type becomes a
        # cloze gap; any other keeps Moodle's blank line in the text.
        gap = isinstance(content, (ShortAnswer, Numerical)) or (isinstance(content, MultiChoice) and content.single)
        if gap:
            refuse_marker_lookalike(_restore(before + after))
        content = Cloze((content,)) if gap else content
        source = before + gap_marker(1 if gap else 0) + after
    question_text = to_markdown(_restore(source).strip(), reading.text_format, reading.findings)
    question_text = question_text.replace(gap_marker(0), MISSING_WORD)
    tags = tuple(tag.replace("\\]", "]").strip() for tag in _TAG.findall(block.comments))
    idnumber = next(iter(_ID.findall(block.comments)), "").replace("\\]", "]").strip()
    question = MoodleQuestion(name=" ".join(strip_markup(_restore(name)).split()), text=question_text, body=content,
                              general_feedback=reading.text(general) if general.strip() else "", tags=tags,
                              idnumber=idnumber)
    return question, reading.notes + findings_notes(reading.findings)


def _name(text: str, reading: _Reading) -> tuple[str, str, int]:
    if not text.startswith("::"):
        return "", text, 0
    end = text.find("::", 2)
    if end < 0:
        raise Refused(N_("the name opened with '::' on line %(line_number)d is not closed"),
                      N_("close it with '::'; a colon inside a text is written \\:"), reading.line(0),
                      line_number=reading.line(0))
    rest = text[end + 2:]
    consumed = end + 2 + len(rest) - len(rest.lstrip())
    return text[2:end], rest.lstrip(), consumed


def _answer_block(text: str, reading: _Reading) -> tuple[int, int]:
    opening, closing = text.find("{"), text.find("}")
    if opening < 0 and closing < 0:
        raise LeftOut(N_("this is a description (text without an answer block {…}): descriptions are not questions "
                         "and are not imported"), N_("add the answers in braces, or leave the text out"))
    if opening < 0 or (0 <= closing < opening):
        raise Refused(N_("the '}' on line %(line_number)d closes no answer block"),
                      N_("write a '}' that belongs to the text as \\}"), reading.line(closing),
                      line_number=reading.line(closing))
    if closing < 0:
        raise Refused(N_("the answer block opened with '{' on line %(line_number)d is not closed before the blank line "
                         "that ends the question"),
                      N_("close it with '}' (a blank line ends a question; write a line break inside a question as "
                         "\\n)"), reading.line(opening), line_number=reading.line(opening))
    nested = text.find("{", opening + 1, closing)
    if nested >= 0:
        raise Refused(N_("a second '{' on line %(line_number)d opens inside the answer block"),
                      N_("close the first block with '}', or write a '{' that belongs to the text as \\{"),
                      reading.line(nested), line_number=reading.line(nested))
    extra = min((p for p in (text.find("{", closing + 1), text.find("}", closing + 1)) if p >= 0), default=-1)
    if extra >= 0:
        raise Refused(N_("a second answer block on line %(line_number)d: a GIFT question has one"),
                      N_("split the question in two, or write braces that belong to the text as \\{ \\}"),
                      reading.line(extra), line_number=reading.line(extra))
    return opening, closing


def _text_format(text: str, default: str) -> tuple[str, str]:
    found = _FORMAT.match(text)
    if not found:
        return default, text
    return FORMAT_NAMES[found.group(1)], text[found.end():]


def _general_feedback(answer: str) -> tuple[str, str]:
    at = answer.rfind("####")
    return (answer, "") if at < 0 else (answer[:at].strip(), answer[at + 4:])


def _answers(answer: str, reading: _Reading) -> Body:
    """The body an answer block stands for, by Moodle's own order of tests."""
    if not answer:
        raise Refused(N_("an essay question ({} with no answers) is not supported: it needs manual grading"),
                      N_("leave it out, or turn it into a question with answers"))
    ordering = _ORDERING.match(answer)
    if ordering:
        return _ordering(ordering, reading)
    if answer.startswith("#"):
        return _numerical(answer, reading)
    if "~" in answer:
        _no_arrow(answer, Phrase(N_("a multiple-choice answer list (it has '~')")))
        return _multichoice(answer, reading)
    if "=" in answer and "->" in answer:
        return _matching(answer, reading)
    head = answer.split("#", 1)[0].strip() if answer.find("#") > 0 else answer
    if head in _TRUE_FALSE:
        return _true_false(answer, head, reading)
    _no_arrow(answer, Phrase(N_("a short answer (no pair starts with '=')")))
    return _short_answer(answer, reading)


def _no_arrow(answer: str, kind: str) -> None:
    if "->" in answer:
        raise Refused(Phrase(N_("'->' is only used in matching questions, but this is %(kind)s"), kind=kind),
                      N_("write every pair of a matching question as =prompt -> answer, with no '~'; or take '->' "
                         "out of the answers"))


def _pieces(answer: str, separators: str, reading: _Reading, *, skip: int = 0) -> list[tuple[int, str]]:
    """The answers of a block after its first `skip` characters, split before each separator as Moodle splits
    them (the first may be empty), each with the line it starts on."""
    count = sum(answer.count(separator, skip) for separator in separators)
    if count > MAX_ANSWERS:
        raise Refused(N_("the answer block holds %(count)s answers; at most %(limit)d are imported"),
                      N_("split the question, or check for a missing blank line between questions"),
                      count=f"{count:,}", limit=MAX_ANSWERS)
    found, at = [], skip
    for piece in re.split(f"(?=[{re.escape(separators)}])", answer[skip:]):
        if piece.strip():
            found.append((reading.answer_line(at + len(piece) - len(piece.lstrip())), piece.strip()))
        at += len(piece)
    return found


def _weight(piece: str, number: int, default: float, line: int) -> tuple[float, str]:
    found = _WEIGHT.match(piece)
    if not found:
        return default, piece
    value = found.group(1).replace(",", ".")
    if not _NUMBER.match(value):
        raise Refused(N_("the weight %(weight)s of answer %(number)d is not a percentage"),
                      N_("write weights as %50% or %-33.33333%, right after = or ~"), line,
                      weight=repr(found.group(0)), number=number)
    fraction = float(value) / 100
    if not -1 <= fraction <= 1:
        raise Refused(N_("the weight %(weight)s of answer %(number)d is outside -100 %% … 100 %%"),
                      N_("use a weight from %-100% to %100%"), line, weight=repr(found.group(0)), number=number)
    return fraction, piece[found.end():]


def _split_feedback(piece: str, reading: _Reading) -> tuple[str, str]:
    text, _, feedback = piece.partition("#")
    return text.strip(), reading.text(feedback) if feedback.strip() else ""


def _multichoice(answer: str, reading: _Reading) -> MultiChoice:
    choices = []
    for number, (line, piece) in enumerate(_pieces(answer, "~=", reading), start=1):
        if piece.startswith("="):
            fraction, piece = 1.0, piece[1:]
        else:
            fraction, piece = _weight(piece[1:].lstrip() if piece.startswith("~") else piece, number, 0.0, line)
        text, feedback = _split_feedback(piece, reading)
        choices.append(Choice(reading.text(text), fraction, feedback, line))
    if len(choices) < 2:
        raise Refused(N_("a multiple-choice question needs at least 2 answers; this one has %(count)d"),
                      N_("add answers, each starting with = (right) or ~ (wrong)"), count=len(choices))
    return MultiChoice(tuple(choices), single="=" in answer)


def _matching(answer: str, reading: _Reading) -> Matching:
    pairs, distractors = [], []
    for number, (line, piece) in enumerate(_pieces(answer, "=", reading), start=1):
        prompt, arrow, match = piece.removeprefix("=").partition("->")
        if not arrow:
            raise Refused(N_("pair %(number)d (%(prompt)s) has no '->'"), N_("write every pair as =prompt -> answer"),
                          line, number=number, prompt=repr(_restore(prompt).strip()[:40]))
        match = " ".join(strip_markup(_restore(match)).split())
        if not match:
            raise Refused(N_("pair %(number)d has no answer after '->'"), N_("write the answer after '->'"), line,
                          number=number)
        if prompt.strip():
            pairs.append((reading.text(prompt), to_markdown(match, PLAIN, reading.findings)))
        else:
            # "= -> answer" is an answer that matches no prompt: Moodle shows it among the others.
            distractors.append(to_markdown(match, PLAIN, reading.findings))
    return Matching(tuple(pairs), tuple(distractors))


def _true_false(answer: str, head: str, reading: _Reading) -> TrueFalse:
    _, wrong, right = ([*answer.split("#", 2), "", ""])[:3]
    is_true = _TRUE_FALSE[head]
    wrong_text = reading.text(wrong) if wrong.strip() else ""
    right_text = reading.text(right) if right.strip() else ""
    # Moodle's {T#a#b}: a is shown to whoever answers wrongly, b to whoever answers rightly.
    if is_true:
        return TrueFalse(True, feedback_true=right_text, feedback_false=wrong_text)
    return TrueFalse(False, feedback_true=wrong_text, feedback_false=right_text)


def _short_answer(answer: str, reading: _Reading) -> ShortAnswer:
    answers = []
    for number, (line, piece) in enumerate(_pieces(answer, "=", reading), start=1):
        fraction, piece = _weight(piece.removeprefix("=").lstrip(), number, 1.0, line)
        text, _, feedback = piece.partition("#")
        text = " ".join(strip_markup(_restore(text)).split())
        if not text:
            raise Refused(N_("answer %(number)d is empty"), N_("write the accepted answer after '='"), line,
                          number=number)
        answers.append(Choice(text, fraction, reading.text(feedback) if feedback.strip() else "", line=line))
    if not answers:
        raise Refused(N_("the answer block lists no answer"), N_("write the accepted answers, each after '='"))
    return ShortAnswer(tuple(answers))


def _numerical(answer: str, reading: _Reading) -> Numerical:
    """`answer` with its leading '#'."""
    answer, _, other = answer.partition("~")  # "~#feedback" is Moodle's feedback for any other number
    pieces = _pieces(answer, "=", reading, skip=1)
    if not pieces:
        raise Refused(N_("the numeric answer block lists no number"),
                      N_("write the number after '#', e.g. {#3.14:0.01}"))
    answers = []
    for number, (line, piece) in enumerate(pieces, start=1):
        fraction, piece = _weight(piece.removeprefix("=").lstrip(), number, 1.0, line)
        value, feedback = _split_feedback(piece, reading)
        answers.append(_numeric_answer(_restore(value).strip(), fraction, feedback, line))
    _, _, other_feedback = other.partition("#")
    if other_feedback.strip():
        answers.append(NumericAnswer(None, 0.0, 0.0, reading.text(other_feedback)))
    return Numerical(tuple(answers))


def _numeric_answer(value: str, fraction: float, feedback: str, line: int) -> NumericAnswer:
    if value == "*":
        return NumericAnswer(None, 0.0, fraction, feedback)
    if ".." in value[1:]:
        low, high = (part.strip() for part in value.split("..", 1))
        _check_numbers(value, line, low, high)
        middle = (float(low) + float(high)) / 2
        return NumericAnswer(middle, abs(float(high) - middle), fraction, feedback)
    exact, _, tolerance = value.partition(":") if ":" in value[1:] else (value, "", "0")
    _check_numbers(value, line, exact.strip(), tolerance.strip())
    return NumericAnswer(float(exact), abs(float(tolerance)), fraction, feedback)


def _check_numbers(value: str, line: int, *numbers: str) -> None:
    for number in numbers:
        if not _NUMBER.match(number):
            decimal_comma = re.fullmatch(r"[+-]?\d+,\d+", number)
            raise Refused(N_("%(number)s in the numeric answer %(value)s is not a number (write decimals with a point)")
                          if decimal_comma else N_("%(number)s in the numeric answer %(value)s is not a number"),
                          N_("write a number, a number:tolerance (3.14:0.01) or a range (1..5)"), line,
                          number=repr(number), value=repr(value))


def _ordering(found: re.Match, reading: _Reading) -> Ordering:
    count, select, _, grading = found.group(1), found.group(2) or "", found.group(3), found.group(4) or ""
    items = tuple(_restore(line).strip() for line in found.group(7).split("\n") if line.strip())
    if len(items) > MAX_ANSWERS:
        raise Refused(N_("the ordering question lists %(count)s items; at most %(limit)d are imported"),
                      N_("split the question, or check for a missing '}' or blank line"), count=f"{len(items):,}",
                      limit=MAX_ANSWERS)
    # A count no whole number reads (digits of other scripts, thousands of them) only means "show them all".
    shown = whole_number_or_none(count)
    reading.notes += ordering_notes(len(items), len(items) if shown is None else shown, select, grading)
    return Ordering(tuple(to_markdown(item, MOODLE, reading.findings) for item in items))

"""Reading Moodle XML (question/format/xml, as Moodle 4.x exports it) into Moodle questions (pure).

The file is parsed by defusedxml with DTDs forbidden: a Moodle export never has one, and a DTD is
how entity bombs and external entities get in. Texts are HTML in CDATA (format="html"), or Moodle
auto-format, Markdown or plain text; images ride along as <file encoding="base64"> elements
referenced by @@PLUGINFILE@@ and are reported, not imported.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator
from dataclasses import dataclass, field
from xml.etree.ElementTree import Element

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeElementTree

from ibm_lms.markers import N_, Phrase
from ibm_lms.text import whole_number_or_none

from .cloze_syntax import split_gaps
from .data import MAX_ANSWERS
from .html_text import FORMAT_NAMES, HTML, PLAIN, Findings, strip_markup, to_markdown
from .importing import Entry, findings_notes
from .incoming import ordering_notes
from .model import (
    Body,
    Choice,
    Cloze,
    Matching,
    MoodleQuestion,
    MultiChoice,
    Numerical,
    NumericAnswer,
    Ordering,
    Refused,
    ShortAnswer,
    TrueFalse,
    Unit,
    gap_marker,
    note,
    refuse_marker_lookalike,
)

# Question types Moodle exports that have no counterpart here, and why, in words an author can act on.
_NOT_SUPPORTED = {
    "essay": N_("essay questions are not supported: they need manual grading"),
    "description": N_("a description is text shown between questions, not a question: it is not imported"),
    "random": N_("a random question is drawn from a category when the quiz starts; it has no content of its own"),
    "randomsamatch": N_("a random short-answer matching question is assembled when the quiz starts from other "
                        "questions; it has no content of its own"),
    "calculated": N_("calculated questions compute their answers from wildcards ({x}) and data sets; our numeric "
                     "questions have one fixed answer"),
    "calculatedsimple": N_("simple calculated questions compute their answers from wildcards ({x}); our numeric "
                           "questions have one fixed answer"),
    "calculatedmulti": N_("calculated multichoice questions compute their choices from wildcards ({x}); our choices "
                          "are fixed texts"),
    "ddimageortext": N_("drag-and-drop onto an image needs the image and drop zones, which we do not have"),
    "ddmarker": N_("drag-and-drop markers need an image and drop zones, which we do not have"),
}
_NOT_SUPPORTED_FIX = N_("leave it out, or rewrite it as a question type we have (choice, numeric, short answer, …)")
_PLACE = re.compile(r"\[\[(\d+)\]\]")


def parse(data: bytes) -> Element:
    """The <quiz> element of a Moodle XML file; raises Refused for anything else."""
    try:
        root = SafeElementTree.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as error:
        raise Refused(N_("the file declares a DTD or entities (%(kind)s), which Moodle XML never has and which can "
                         "hide entity bombs or read other files: it is refused unread"),
                      N_("export the questions from Moodle again, or remove the <!DOCTYPE …> declaration"),
                      kind=type(error).__name__) from None
    except ElementTree.ParseError as error:
        line, column = getattr(error, "position", (None, None))
        raise Refused(N_("the file is not well-formed XML: %(reason)s (line %(line_number)s, column %(column)s)"),
                      N_("export the questions from Moodle again, or correct the XML at that place"), line,
                      reason=_parser_message(error), line_number=line, column=column) from None
    except (ValueError, LookupError) as error:
        raise Refused(N_("the file cannot be read as XML: %(reason)s"), N_("save it as UTF-8 XML"),
                      reason=str(error)) from None
    if root.tag != "quiz":
        raise Refused(N_("the root element is <%(tag)s>, not Moodle XML's <quiz>"),
                      N_("choose a file exported from Moodle in the Moodle XML format"), tag=root.tag[:40])
    return root


def _parser_message(error: ElementTree.ParseError) -> str:
    return re.sub(r":\s*line \d+, column \d+\s*$", "", str(error))


def read(questions: list[Element]) -> Iterator[Entry]:
    """Every category switch and question of the file, or why a question could not be read."""
    number = 0
    for element in questions:
        # Questions are counted as Moodle lists them: a category switch is not one.
        number += element.get("type") != "category"
        yield _entry(number, element)


def _entry(number: int, element: Element) -> Entry:
    kind = element.get("type", "")
    name = " ".join(_plain(element.find("name")).split())
    where = (Phrase(N_("question %(number)d (%(name)s)"), number=number, name=name[:60]) if name
             else Phrase(N_("question %(number)d"), number=number))
    if kind == "category":
        return Entry(where, category=_plain(element.find("category")))
    if kind == "description":
        # Text Moodle shows between questions: the file's questions are imported without it.
        return Entry(where, notes=((Phrase(_NOT_SUPPORTED[kind]), Phrase(_NOT_SUPPORTED_FIX)),))
    try:
        return _question(element, kind, name, where)
    except Refused as refused:
        return Entry(where, refused=refused)


def _question(element: Element, kind: str, name: str, where: str) -> Entry:
    reader = _READERS.get(kind)
    if reader is None:
        raise Refused(_NOT_SUPPORTED.get(kind) or N_("the question type %(kind)s is not one this import knows"),
                      _NOT_SUPPORTED_FIX, **({} if kind in _NOT_SUPPORTED else {"kind": repr(kind[:40])}))
    parts = max(len(element.findall(tag)) for tag in ("answer", "subquestion", "dragbox", "selectoption"))
    if parts > MAX_ANSWERS:
        raise Refused(N_("the question has %(count)s answers; at most %(limit)d are imported"),
                      N_("split the question"), count=f"{parts:,}", limit=MAX_ANSWERS)
    reading = _Reading(_format(element.find("questiontext"), HTML))
    text, body = reader(element, reading)
    reading.notes += _question_settings(element, kind)
    question = MoodleQuestion(name=name, text=text, body=body,
                              general_feedback=reading.rich(element.find("generalfeedback")),
                              tags=tuple(_plain(tag) for tag in element.findall("tags/tag")),
                              idnumber=(element.findtext("idnumber") or "").strip())
    return Entry(where, question=question, notes=tuple(reading.notes + findings_notes(reading.findings)))


def _question_settings(element: Element, kind: str) -> list:
    """What of Moodle's per-question settings ours has no place for."""
    notes = []
    hints = [hint for hint in element.findall("hint") if strip_markup(hint.findtext("text") or "").strip()]
    if hints:
        notes.append(note(N_("its hints (%(count)d) are not kept: our questions give no hints between tries"),
                          N_("put what matters of them into the question's feedback"), count=len(hints)))
    grade = (element.findtext("defaultgrade") or "").strip()
    try:
        weighted = grade and abs(float(grade) - 1) > 1e-9 and float(grade) > 0
    except ValueError:
        weighted = False
    if weighted:
        notes.append(note(N_("its default mark %(mark)s is not kept: in our quizzes every question counts the same"),
                          N_("nothing to do, unless the question should weigh more than the others"),
                          mark=f"{float(grade):g}"))
    if kind in ("multichoice", "matching", "match") and not _true(element.findtext("shuffleanswers"), True):
        notes.append(note(N_("the file keeps its answers in the order written; our quizzes shuffle the choices of "
                             "every question unless the quiz's shuffling of choices is off"),
                          N_("if the order matters (\"all of the above\"), reword the answers so that it does not, "
                             "or switch off shuffling of choices in the quiz")))
    return notes


@dataclass
class _Reading:
    question_format: str
    findings: Findings = field(default_factory=Findings)
    notes: list = field(default_factory=list)

    def rich(self, element: Element | None, default: str | None = None) -> str:
        """A text element (<text> and its format) as Markdown; its <file> attachments are reported."""
        if element is None:
            return ""
        for attached in element.findall("file"):
            self.findings.media.append(attached.get("name") or "a file")
        text = element.findtext("text") or ""
        return to_markdown(text, _format(element, default or self.question_format), self.findings)


def _format(element: Element | None, default: str) -> str:
    name = (element.get("format") if element is not None else None) or ""
    return FORMAT_NAMES.get(name.strip(), default if not name else HTML)


def _plain(element: Element | None) -> str:
    """A plain text (a name, a tag, an answer): Moodle does not render it as HTML, so only markup goes."""
    return strip_markup(element.findtext("text") or "") if element is not None else ""


def _fraction(answer: Element) -> float:
    raw = answer.get("fraction") or answer.findtext("fraction") or "0"
    try:
        value = float(raw) / 100
    except ValueError:
        raise Refused(N_("an answer has the fraction %(fraction)s, which is not a number"),
                      N_("write fractions as percentages: 100, 50, -33.33333"), fraction=repr(raw[:20])) from None
    if not -1.0000001 <= value <= 1.0000001:
        raise Refused(N_("an answer has the fraction %(fraction)s, outside -100 … 100"), N_("use a percentage"),
                      fraction=raw[:20])
    return value


def _true(value: str | None, default: bool) -> bool:
    if value is None:
        return default
    return value.strip().lower() not in ("false", "0", "")


def _multichoice(element: Element, reading: _Reading) -> tuple[str, Body]:
    choices = tuple(Choice(reading.rich(answer), _fraction(answer), reading.rich(answer.find("feedback")))
                    for answer in element.findall("answer"))
    return reading.rich(element.find("questiontext")), MultiChoice(choices, _true(element.findtext("single"), True))


def _truefalse(element: Element, reading: _Reading) -> tuple[str, Body]:
    answers = element.findall("answer")
    if not answers:
        raise Refused(N_("a true/false question without its answers"), N_("export the question from Moodle again"))
    correct, feedback = True, {True: "", False: ""}
    for position, answer in enumerate(answers):
        label = (answer.findtext("text") or "").strip().lower()
        # Old files name the answers in the site's language; then the first is true, as Moodle assumes.
        is_true = label == "true" if label in ("true", "false") else position == 0
        feedback[is_true] = reading.rich(answer.find("feedback"))
        if is_true:
            correct = _fraction(answer) >= 0.999
        elif len(answers) == 1:
            correct = _fraction(answer) < 0.999
    return reading.rich(element.find("questiontext")), TrueFalse(correct, feedback[True], feedback[False])


def _shortanswer(element: Element, reading: _Reading) -> tuple[str, Body]:
    answers = tuple(Choice(" ".join(_plain(answer).split()), _fraction(answer), reading.rich(answer.find("feedback")))
                    for answer in element.findall("answer"))
    case = _true(element.findtext("usecase"), False)
    return reading.rich(element.find("questiontext")), ShortAnswer(answers, case)


def _numerical(element: Element, reading: _Reading) -> tuple[str, Body]:
    answers = []
    for answer in element.findall("answer"):
        raw = (answer.findtext("text") or answer.text or "").strip() or "*"
        tolerance = (answer.findtext("tolerance") or "0").strip() or "0"
        try:
            value = None if raw == "*" else float(raw.replace(",", "."))
            answers.append(NumericAnswer(value, abs(float(tolerance)), _fraction(answer),
                                         reading.rich(answer.find("feedback"))))
        except ValueError:
            raise Refused(N_("the numeric answer %(answer)s (tolerance %(tolerance)s) is not a number"),
                          N_("write the answer and its tolerance as numbers"), answer=repr(raw[:30]),
                          tolerance=repr(tolerance[:20])) from None
    units, required = _units(element, reading)
    return reading.rich(element.find("questiontext")), Numerical(tuple(answers), units, required)


def _units(element: Element, reading: _Reading) -> tuple[tuple[Unit, ...], bool]:
    graded = (element.findtext("unitgradingtype") or "0").strip() not in ("", "0")
    # showunits 3 is qtype_numerical's UNITNONE: the units are listed but not used.
    if (element.findtext("showunits") or "").strip() == "3" and not graded:
        return (), False
    units = []
    for unit in element.findall("units/unit"):
        name = (unit.findtext("unit_name") or "").strip()
        try:
            multiplier = float((unit.findtext("multiplier") or "1").strip())
        except ValueError:
            raise Refused(N_("the unit %(unit)s has a multiplier that is not a number"), N_("correct it"),
                          unit=repr(name)) from None
        if name and multiplier > 0:
            units.append(Unit(name, multiplier))
    required = graded and bool(units)
    penalty = (element.findtext("unitpenalty") or "").strip()
    try:
        partial = required and 0 <= float(penalty) < 1 - 1e-9
    except ValueError:
        partial = False
    if partial:
        notes = note(N_("a wrong or missing unit cost %(penalty)s of the mark in the file; in ours the unit is "
                        "required, and an answer without the right unit scores 0"),
                     N_("nothing to do, unless a wrong unit should only cost part of the mark"),
                     penalty=f"{float(penalty) * 100:g} %")
        reading.notes.append(notes)
    return tuple(units), required


def _matching(element: Element, reading: _Reading) -> tuple[str, Body]:
    pairs, distractors = [], []
    for sub in element.findall("subquestion"):
        prompt = reading.rich(sub)
        answer = to_markdown(" ".join(_plain(sub.find("answer")).split()), PLAIN, reading.findings)
        if prompt.strip():
            pairs.append((prompt, answer))
        elif answer:
            distractors.append(answer)  # an empty subquestion with an answer: an answer that fits no prompt
    return reading.rich(element.find("questiontext")), Matching(tuple(pairs), tuple(distractors))


def _cloze(element: Element, reading: _Reading) -> tuple[str, Body]:
    source = element.find("questiontext")
    html_text = source.findtext("text") if source is not None else ""
    marked, gaps, weights = split_gaps(html_text or "")
    for attached in source.findall("file") if source is not None else ():
        reading.findings.media.append(attached.get("name") or "a file")
    text = to_markdown(marked, _format(source, HTML), reading.findings)
    if not gaps:
        raise Refused(N_("the Cloze question has no gaps ({1:MULTICHOICE:…} and the like)"), N_("write its gaps"))
    return text, Cloze(tuple(gaps), tuple(weights))


def _drag_or_select(element: Element, reading: _Reading) -> tuple[str, Body]:
    """ddwtos and gapselect: [[n]] in the text is a place whose right choice is choice n; the choices of
    the same group are the options there. Each place becomes a single-choice gap."""
    tag = "dragbox" if element.get("type") == "ddwtos" else "selectoption"
    choices = [(_plain(c), (c.findtext("group") or "1").strip())
               for c in element.findall(tag)]
    source = element.find("questiontext")
    gaps = []

    def place(found: re.Match) -> str:
        number = int(found.group(1))
        if not 1 <= number <= len(choices):
            raise Refused(N_("the place [[%(number)d]] names a choice the question does not have"),
                          N_("use [[1]] … [[%(count)d]]"), number=number, count=len(choices))
        group = choices[number - 1][1]
        options = [text for text, g in choices if g == group]
        if len(options) < 2:
            raise Refused(N_("the place [[%(number)d]] has one choice in its group; a gap needs two or more"),
                          N_("add choices to the group"), number=number)
        right = options.index(choices[number - 1][0])
        gaps.append(MultiChoice(tuple(Choice(to_markdown(text, PLAIN, reading.findings), 1.0 if i == right else 0.0)
                                      for i, text in enumerate(options)), single=True))
        return gap_marker(len(gaps))

    written = source.findtext("text") or "" if source is not None else ""
    refuse_marker_lookalike(written)
    marked = _PLACE.sub(place, written)
    if not gaps:
        raise Refused(N_("the question has no places ([[1]] …) in its text"), N_("mark the places with [[n]]"))
    return to_markdown(marked, _format(source, HTML), reading.findings), Cloze(tuple(gaps))


def _ordering(element: Element, reading: _Reading) -> tuple[str, Body]:
    answers = element.findall("answer")
    # The fraction of an ordering answer is its position (1, 2, …), as qtype_ordering exports it.
    positions = [_position(answer.get("fraction"), index) for index, answer in enumerate(answers)]
    items = [reading.rich(answer) for _, answer in sorted(zip(positions, answers, strict=True), key=lambda p: p[0])]
    # A count no whole number reads ("²", thousands of digits) only means "show them all".
    shown = whole_number_or_none((element.findtext("selectcount") or "").strip())
    reading.notes += ordering_notes(len(items), len(items) if shown is None else shown,
                                    element.findtext("selecttype") or "", element.findtext("gradingtype") or "")
    return reading.rich(element.find("questiontext")), Ordering(tuple(items))


def _position(raw: str | None, index: int) -> float:
    try:
        return float(raw) if raw is not None else index
    except ValueError:
        return index


_READERS = {"multichoice": _multichoice, "truefalse": _truefalse, "shortanswer": _shortanswer,
            "numerical": _numerical, "matching": _matching, "match": _matching, "cloze": _cloze,
            "multianswer": _cloze, "ddwtos": _drag_or_select, "gapselect": _drag_or_select, "ordering": _ordering}

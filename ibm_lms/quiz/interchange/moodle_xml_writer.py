"""Writing Moodle XML as Moodle 4.x writes it: HTML texts in CDATA, one category question per category (pure).

Everything Moodle's core types can hold goes in: units of numerical questions, answers that
match no prompt in matching questions (empty subquestions), cloze questions in Moodle's embedded
syntax. An ordering question is written as a matching of each step to its position, which every
Moodle site can import; what is lost on the way is said in an XML comment above the question.
"""

from __future__ import annotations

import re

from .cloze_syntax import number_text, percent, wildcard_escaped, write_gap
from .html_text import plain_of_markdown
from .markdown_html import markdown_to_html
from .model import (
    GAP_MARKER,
    Body,
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

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_TYPES = {MultiChoice: "multichoice", TrueFalse: "truefalse", ShortAnswer: "shortanswer", Numerical: "numerical",
          Matching: "matching", Ordering: "matching", Cloze: "cloze"}


def _text(value: str, indent: str) -> str:
    """<text> holding the value, in CDATA when it has markup, as Moodle's writer does."""
    value = _NOT_XML.sub("", value)
    if any(char in value for char in "<>&"):
        value = "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"
    return f"{indent}<text>{value}</text>\n"


def _html(markdown: str, indent: str) -> str:
    return _text(markdown_to_html(markdown) if markdown.strip() else "", indent)


def _comment(text: str) -> str:
    text = re.sub(r"-{2,}", "–", _NOT_XML.sub("", " ".join(text.split()))).rstrip("-")
    return f"<!-- {text} -->\n"


def _attribute(value: str) -> str:
    return _NOT_XML.sub("", value).replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


def write(planned: list[Outgoing | Skipped]) -> bytes:
    out = ['<?xml version="1.0" encoding="UTF-8"?>\n<quiz>\n']
    category = None
    for entry in planned:
        if entry.category != category:
            category = entry.category
            out.append(_category(category))
        if isinstance(entry, Skipped):
            out.append(_comment(f"skipped: {entry.key} ({entry.reason})"))
        else:
            out.append(_question(entry))
    out.append("</quiz>\n")
    return "".join(out).encode("utf-8")


def _category(category: str) -> str:
    return ("\n<!-- question: 0  -->\n  <question type=\"category\">\n    <category>\n"
            + _text(f"$course$/top/{category}", "      ")
            + "    </category>\n    <info format=\"moodle_auto_format\">\n"
            + _text("", "      ") + "    </info>\n    <idnumber></idnumber>\n  </question>\n")


def _question(entry: Outgoing) -> str:
    question = entry.question
    body = question.body
    notes = [*entry.notes]
    if isinstance(body, Ordering):
        notes.append("ordering, written as a matching of each step to its position (1 is first): Moodle's own "
                     "ordering question type is not on every site")
    if isinstance(body, Cloze) and any(isinstance(g, Numerical) and g.units for g in body.gaps):
        notes.append("units of numeric gaps are not part of Moodle's cloze syntax")
    out = [f"\n<!-- question: {_attribute(entry.key)}  -->\n"] + [_comment(note) for note in notes]
    out.append(f'  <question type="{_TYPES[type(body)]}">\n    <name>\n{_text(question.name, "      ")}    </name>\n')
    out.append(f'    <questiontext format="html">\n{_html_question(question, "      ")}    </questiontext>\n')
    out.append(f'    <generalfeedback format="html">\n{_html(question.general_feedback, "      ")}'
               "    </generalfeedback>\n")
    if not isinstance(body, Cloze):
        out.append("    <defaultgrade>1</defaultgrade>\n")
    out.append("    <penalty>0.3333333</penalty>\n    <hidden>0</hidden>\n")
    out.append(f"    <idnumber>{_attribute(question.idnumber)}</idnumber>\n")
    out.append(_body(body))
    if question.tags:
        out.append("    <tags>\n" + "".join(f"      <tag>{_text(tag, '').strip()}</tag>\n" for tag in question.tags)
                   + "    </tags>\n")
    out.append("  </question>\n")
    return "".join(out)


def _html_question(question: MoodleQuestion, indent: str) -> str:
    if not isinstance(question.body, Cloze):
        return _html(question.text, indent)
    gaps = question.body.gaps
    html = markdown_to_html(question.text)
    html = GAP_MARKER.sub(lambda found: write_gap(gaps[int(found.group(1)) - 1], plain_of_markdown)
                          if 0 < int(found.group(1)) <= len(gaps) else found.group(0), html)
    return _text(html, indent)


def _feedback(text: str, indent: str = "      ") -> str:
    return f'{indent}<feedback format="html">\n{_html(text, indent + "  ")}{indent}</feedback>\n'


_COMBINED = ("    <correctfeedback format=\"html\">\n      <text></text>\n    </correctfeedback>\n"
             "    <partiallycorrectfeedback format=\"html\">\n      <text></text>\n    </partiallycorrectfeedback>\n"
             "    <incorrectfeedback format=\"html\">\n      <text></text>\n    </incorrectfeedback>\n")


def _body(body: Body) -> str:
    if isinstance(body, MultiChoice):
        return _multichoice(body)
    if isinstance(body, TrueFalse):
        return "".join(f'    <answer fraction="{100 if body.answer == value else 0}" format="moodle_auto_format">\n'
                       f"{_text('true' if value else 'false', '      ')}"
                       f"{_feedback(body.feedback_true if value else body.feedback_false)}    </answer>\n"
                       for value in (True, False))
    if isinstance(body, ShortAnswer):
        return f"    <usecase>{int(body.case_sensitive)}</usecase>\n" + "".join(
            f'    <answer fraction="{percent(a.fraction)}" format="moodle_auto_format">\n'
            f'{_text(wildcard_escaped(a.text), "      ")}{_feedback(a.feedback)}    </answer>\n' for a in body.answers)
    if isinstance(body, Numerical):
        return _numerical(body)
    if isinstance(body, Matching):
        return _matching(body.pairs, body.distractors)
    if isinstance(body, Ordering):
        return _matching(tuple((item, str(n)) for n, item in enumerate(body.items, start=1)), ())
    return ""  # a cloze question is all in its text


def _multichoice(body: MultiChoice) -> str:
    out = [f"    <single>{'true' if body.single else 'false'}</single>\n    <shuffleanswers>true</shuffleanswers>\n"
           "    <answernumbering>abc</answernumbering>\n    <showstandardinstruction>0</showstandardinstruction>\n",
           _COMBINED, "    <shownumcorrect/>\n"]
    for choice in body.choices:
        out.append(f'    <answer fraction="{percent(choice.fraction)}" format="html">\n{_html(choice.text, "      ")}'
                   f"{_feedback(choice.feedback)}    </answer>\n")
    return "".join(out)


def _numerical(body: Numerical) -> str:
    out = [f'    <answer fraction="{percent(a.fraction)}" format="moodle_auto_format">\n'
           f"{_text(number_text(a.value) if a.value is not None else '*', '      ')}{_feedback(a.feedback)}"
           f"      <tolerance>{number_text(a.tolerance)}</tolerance>\n    </answer>\n" for a in body.answers]
    if body.units:
        out.append("    <units>\n" + "".join(
            f"      <unit>\n        <multiplier>{number_text(u.multiplier)}</multiplier>\n"
            f"        <unit_name>{_attribute(u.name)}</unit_name>\n      </unit>\n" for u in body.units) + "    </units>\n")
    # unitgradingtype 0 with showunits 0: "units are optional"; 1 with a penalty of 1: a missing or wrong
    # unit makes the answer wrong, as our unit_required does. showunits 3: no units at all.
    graded = body.unit_required and body.units
    out.append(f"    <unitgradingtype>{1 if graded else 0}</unitgradingtype>\n"
               f"    <unitpenalty>{'1.0000000' if graded else '0.1000000'}</unitpenalty>\n"
               f"    <showunits>{0 if body.units else 3}</showunits>\n    <unitsleft>0</unitsleft>\n")
    return "".join(out)


def _matching(pairs: tuple[tuple[str, str], ...], distractors: tuple[str, ...]) -> str:
    out = ["    <shuffleanswers>true</shuffleanswers>\n", _COMBINED, "    <shownumcorrect/>\n"]
    for prompt, answer in pairs:
        out.append(f'    <subquestion format="html">\n{_html(prompt, "      ")}      <answer>\n'
                   f"{_text(plain_of_markdown(answer), '        ')}      </answer>\n    </subquestion>\n")
    # An empty subquestion with an answer: an answer that matches no prompt.
    for text in distractors:
        out.append(f'    <subquestion format="html">\n{_text("", "      ")}      <answer>\n'
                   f"{_text(plain_of_markdown(text), '        ')}      </answer>\n    </subquestion>\n")
    return "".join(out)

"""Writing a 1EdTech QTI 3.0 content package: imsmanifest.xml and one assessment item per question (pure).

Each item declares its response with the right answer (qti-correct-response) and scores it the
way our item does where QTI can say so: a mapping gives single and multiple choice, dilemmas,
matching and short answers their exact partial credit; numbers are compared with their tolerance;
a cloze scores the share of gaps right. An ordering item scores all or nothing (QTI's templates have
no longest-ordered-run), which a comment in the item says. The general feedback is shown after
every answer (qti-modal-feedback). Texts are XHTML in the QTI namespace.
"""

from __future__ import annotations

import html
import io
import re
import zipfile

from defusedxml import ElementTree

from .cloze_syntax import number_text
from .html_text import plain_of_markdown
from .incoming import TRUE_FALSE_WORDS
from .markdown_html import markdown_to_html
from .model import (
    GAP_MARKER,
    Body,
    Choice,
    Cloze,
    Gap,
    Matching,
    MultiChoice,
    Numerical,
    Ordering,
    Outgoing,
    ShortAnswer,
    Skipped,
    TrueFalse,
)

NAMESPACE = "http://www.imsglobal.org/xsd/imsqtiasi_v3p0"
MANIFEST_NAMESPACE = "http://www.imsglobal.org/xsd/qti/qtiv3p0/imscp_v1p1"
_ITEM_SCHEMA = "https://purl.imsglobal.org/spec/qti/v3p0/schema/xsd/imsqti_asiv3p0_v1p0.xsd"
_MANIFEST_SCHEMA = "https://purl.imsglobal.org/spec/qti/v3p0/schema/xsd/imsqtiv3p0_imscpv1p2_v1p0.xsd"
_XSI = "http://www.w3.org/2001/XMLSchema-instance"
# Zip entries carry a fixed date, so the same bank always gives the same bytes.
_ZIP_DATE = (2026, 1, 1, 0, 0, 0)


def _x(text: str) -> str:
    return html.escape(text, quote=True)


def ident(key: str) -> str:
    """A QTI identifier (an XML name) for a key: ours may start with a digit, QTI's may not."""
    return key if key[:1].isalpha() else f"q-{key}"


def write(planned: list[Outgoing | Skipped], locale: str) -> bytes:
    buffer = io.BytesIO()
    resources, skipped = [], []
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        for entry in planned:
            if isinstance(entry, Skipped):
                skipped.append(entry)
                continue
            name = ident(entry.key)
            href = f"items/{name}.xml"
            _add(package, href, item_xml(entry, locale))
            resources.append((name, href))
        _add(package, "imsmanifest.xml", _manifest(resources, skipped))
    return buffer.getvalue()


def _add(package: zipfile.ZipFile, name: str, text: str) -> None:
    ElementTree.fromstring(text.encode("utf-8"))  # a writer bug must not ship a broken file
    info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
    info.compress_type = zipfile.ZIP_DEFLATED
    package.writestr(info, text.encode("utf-8"))


def _manifest(resources: list[tuple[str, str]], skipped: list[Skipped]) -> str:
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             f'<manifest xmlns="{MANIFEST_NAMESPACE}" xmlns:xsi="{_XSI}" '
             f'xsi:schemaLocation="{MANIFEST_NAMESPACE} {_MANIFEST_SCHEMA}" identifier="ibm-lms-question-bank">',
             "  <metadata>\n    <schema>QTI Package</schema>\n    <schemaversion>3.0.0</schemaversion>\n  </metadata>",
             "  <organizations/>", "  <resources>"]
    for name, href in resources:
        lines.append(f'    <resource identifier="{_x(name)}" type="imsqti_item_xmlv3p0" href="{_x(href)}">'
                     f'<file href="{_x(href)}"/></resource>')
    lines.append("  </resources>")
    lines += [_comment(f"skipped: {entry.key} ({entry.reason})") for entry in skipped]
    lines.append("</manifest>")
    return "\n".join(lines) + "\n"


def _comment(text: str) -> str:
    return "  <!-- " + " ".join(text.replace("--", "–").split()).rstrip("-") + " -->"


class _Responses:
    """The response declarations, interactions and scoring of one item, built together."""

    def __init__(self, locale: str):
        self.locale = locale
        self.declarations: list[str] = []
        self.scores: list[str] = []       # one outcome per response, named SCORE-…
        self.processing: list[str] = []

    def add(self, name: str, gap: Gap | TrueFalse | Matching | Ordering) -> str:
        """Declares the response `name`, its scoring, and returns its interaction."""
        if isinstance(gap, MultiChoice):
            return self._choice(name, gap)
        if isinstance(gap, TrueFalse):
            words = TRUE_FALSE_WORDS.get(self.locale, TRUE_FALSE_WORDS["en"])
            choice = MultiChoice((Choice(words[0], float(gap.answer)), Choice(words[1], float(not gap.answer))), True)
            return self._choice(name, choice)
        if isinstance(gap, ShortAnswer):
            return self._text_entry(name, gap)
        if isinstance(gap, Numerical):
            return self._number(name, gap)
        if isinstance(gap, Matching):
            return self._matching(name, gap)
        return self._ordering(name, gap)

    def _declare(self, name: str, cardinality: str, base: str, correct: list[str], mapping: str = "") -> None:
        values = "".join(f"<qti-value>{_x(value)}</qti-value>" for value in correct)
        self.declarations.append(
            f'  <qti-response-declaration identifier="{name}" cardinality="{cardinality}" base-type="{base}">'
            f"<qti-correct-response>{values}</qti-correct-response>{mapping}</qti-response-declaration>")

    def _score(self, name: str, when_answered: str) -> None:
        """SCORE-name: 0 without an answer, else the expression's value."""
        outcome = f"SCORE-{name}"
        self.scores.append(outcome)
        self.processing.append(
            f'<qti-response-condition><qti-response-if><qti-is-null><qti-variable identifier="{name}"/></qti-is-null>'
            f"{_set(outcome, _float(0))}</qti-response-if>{when_answered}</qti-response-condition>")

    def _mapped(self, name: str) -> None:
        mapped = _set(f"SCORE-{name}", f'<qti-map-response identifier="{name}"/>')
        self._score(name, f"<qti-response-else>{mapped}</qti-response-else>")

    def _all_or_nothing(self, name: str, test: str) -> None:
        outcome = f"SCORE-{name}"
        self._score(name, f"<qti-response-else-if>{test}{_set(outcome, _float(1))}</qti-response-else-if>"
                          f"<qti-response-else>{_set(outcome, _float(0))}</qti-response-else>")

    def _choice(self, name: str, body: MultiChoice) -> str:
        ids = [f"C{n}" for n in range(1, len(body.choices) + 1)]
        best = max(c.fraction for c in body.choices)
        right = [i for i, c in zip(ids, body.choices, strict=True)
                 if (c.fraction > 0 if not body.single else c.fraction == best)]
        entries = "".join(f'<qti-map-entry map-key="{i}" mapped-value="{c.fraction:.7g}"/>'
                          for i, c in zip(ids, body.choices, strict=True) if c.fraction)
        self._declare(name, "single" if body.single else "multiple", "identifier", right[:1] if body.single else right,
                      f'<qti-mapping default-value="0" lower-bound="0" upper-bound="1">{entries}</qti-mapping>')
        self._mapped(name)
        choices = "".join(f'<qti-simple-choice identifier="{i}">{markdown_to_html(c.text)}</qti-simple-choice>'
                          for i, c in zip(ids, body.choices, strict=True))
        return (f'<qti-choice-interaction response-identifier="{name}" max-choices="{1 if body.single else 0}" '
                f'shuffle="true">{choices}</qti-choice-interaction>')

    def inline_choice(self, name: str, body: MultiChoice) -> str:
        ids = [f"C{n}" for n in range(1, len(body.choices) + 1)]
        right = max(zip(ids, body.choices, strict=True), key=lambda pair: pair[1].fraction)[0]
        self._declare(name, "single", "identifier", [right])
        self._all_or_nothing(name, _matches(name))
        choices = "".join(f'<qti-inline-choice identifier="{i}">{_x(plain_of_markdown(c.text))}</qti-inline-choice>'
                          for i, c in zip(ids, body.choices, strict=True))
        return (f'<qti-inline-choice-interaction response-identifier="{name}" shuffle="true">{choices}'
                "</qti-inline-choice-interaction>")

    def _text_entry(self, name: str, body: ShortAnswer) -> str:
        answers = [a.text for a in body.answers if a.fraction >= 1 - 1e-9]
        case = "true" if body.case_sensitive else "false"
        entries = "".join(f'<qti-map-entry map-key="{_x(a)}" mapped-value="1" case-sensitive="{case}"/>'
                          for a in dict.fromkeys(answers))
        self._declare(name, "single", "string", answers[:1],
                      f'<qti-mapping default-value="0" lower-bound="0" upper-bound="1">{entries}</qti-mapping>')
        self._mapped(name)
        longest = max((len(a) for a in answers), default=10)
        return f'<qti-text-entry-interaction response-identifier="{name}" expected-length="{max(longest, 10)}"/>'

    def _number(self, name: str, body: Numerical) -> str:
        answer = next(a for a in body.answers if a.value is not None)
        self._declare(name, "single", "float", [number_text(answer.value)])
        tolerance = number_text(answer.tolerance)
        test = (f'<qti-equal tolerance-mode="absolute" tolerance="{tolerance} {tolerance}">'
                f'<qti-variable identifier="{name}"/><qti-correct identifier="{name}"/></qti-equal>')
        self._all_or_nothing(name, test)
        return f'<qti-text-entry-interaction response-identifier="{name}" expected-length="10"/>'

    def _matching(self, name: str, body: Matching) -> str:
        count = len(body.pairs)
        pairs = [f"P{n} A{n}" for n in range(1, count + 1)]
        entries = "".join(f'<qti-map-entry map-key="{pair}" mapped-value="{1 / count:.7g}"/>' for pair in pairs)
        self._declare(name, "multiple", "directedPair", pairs,
                      f'<qti-mapping default-value="0" lower-bound="0" upper-bound="1">{entries}</qti-mapping>')
        self._mapped(name)
        prompts = "".join(f'<qti-simple-associable-choice identifier="P{n}" match-max="1">{markdown_to_html(p)}'
                          "</qti-simple-associable-choice>" for n, (p, _) in enumerate(body.pairs, start=1))
        answers = [(f"A{n}", a) for n, (_, a) in enumerate(body.pairs, start=1)]
        answers += [(f"D{n}", d) for n, d in enumerate(body.distractors, start=1)]
        targets = "".join(f'<qti-simple-associable-choice identifier="{i}" match-max="1">{markdown_to_html(a)}'
                          "</qti-simple-associable-choice>" for i, a in answers)
        return (f'<qti-match-interaction response-identifier="{name}" max-associations="{count}" shuffle="true">'
                f"<qti-simple-match-set>{prompts}</qti-simple-match-set>"
                f"<qti-simple-match-set>{targets}</qti-simple-match-set></qti-match-interaction>")

    def _ordering(self, name: str, body: Ordering) -> str:
        ids = [f"S{n}" for n in range(1, len(body.items) + 1)]
        self._declare(name, "ordered", "identifier", ids)
        self._all_or_nothing(name, _matches(name))
        choices = "".join(f'<qti-simple-choice identifier="{i}">{markdown_to_html(t)}</qti-simple-choice>'
                          for i, t in zip(ids, body.items, strict=True))
        return f'<qti-order-interaction response-identifier="{name}" shuffle="true">{choices}</qti-order-interaction>'

    def outcome_and_processing(self, feedback: bool) -> tuple[str, str]:
        outcomes = [f'  <qti-outcome-declaration identifier="{s}" cardinality="single" base-type="float">'
                    f"<qti-default-value><qti-value>0</qti-value></qti-default-value></qti-outcome-declaration>"
                    for s in ["SCORE", *self.scores]]
        if feedback:
            outcomes.append('  <qti-outcome-declaration identifier="FEEDBACK" cardinality="single" '
                            'base-type="identifier"/>')
        total = "".join(f'<qti-variable identifier="{s}"/>' for s in self.scores)
        rules = [*self.processing, _set("SCORE", f"<qti-divide><qti-sum>{total}</qti-sum>{_float(len(self.scores))}"
                                                 "</qti-divide>" if len(self.scores) > 1 else total)]
        if feedback:
            rules.append(_set("FEEDBACK", '<qti-base-value base-type="identifier">GENERAL</qti-base-value>'))
        return "\n".join(outcomes), "  <qti-response-processing>" + "".join(rules) + "</qti-response-processing>"


def _set(outcome: str, expression: str) -> str:
    return f'<qti-set-outcome-value identifier="{outcome}">{expression}</qti-set-outcome-value>'


def _float(value: float) -> str:
    return f'<qti-base-value base-type="float">{value:g}</qti-base-value>'


def _matches(name: str) -> str:
    return f'<qti-match><qti-variable identifier="{name}"/><qti-correct identifier="{name}"/></qti-match>'


def item_xml(entry: Outgoing, locale: str) -> str:
    question = entry.question
    responses = _Responses(locale)
    content = _item_body(question.text, question.body, responses)
    outcomes, processing = responses.outcome_and_processing(bool(question.general_feedback.strip()))
    feedback = ""
    if question.general_feedback.strip():
        feedback = ('\n  <qti-modal-feedback outcome-identifier="FEEDBACK" identifier="GENERAL" show-hide="show">'
                    f"<qti-content-body>{markdown_to_html(question.general_feedback)}</qti-content-body>"
                    "</qti-modal-feedback>")
    comments = "".join("\n" + _comment(note) for note in (*entry.notes, *_notes(question.body)))
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<qti-assessment-item xmlns="{NAMESPACE}" xmlns:xsi="{_XSI}" xsi:schemaLocation="{NAMESPACE} '
            f'{_ITEM_SCHEMA}" identifier="{_x(ident(entry.key))}" title="{_x(question.name)}" adaptive="false" '
            f'time-dependent="false" xml:lang="{_x(locale)}">{comments}\n'
            + "\n".join(responses.declarations) + "\n" + outcomes + "\n"
            f"  <qti-item-body>{content}</qti-item-body>\n{processing}{feedback}\n</qti-assessment-item>\n")


def _item_body(text: str, body: Body, responses: _Responses) -> str:
    """The question's XHTML with its interaction after it, or, in a cloze, an interaction in each gap."""
    html_text = markdown_to_html(text)
    if not isinstance(body, Cloze):
        return html_text + responses.add("RESPONSE", body)

    def gap(found: re.Match) -> str:
        number = int(found.group(1))
        the_gap, name = body.gaps[number - 1], f"RESPONSE-{number}"
        return responses.inline_choice(name, the_gap) if isinstance(the_gap, MultiChoice) else responses.add(
            name, the_gap)

    return GAP_MARKER.sub(gap, html_text)


def _notes(body: Body) -> list[str]:
    if isinstance(body, Ordering):
        return ["scored all or nothing: QTI has no score for the longest run of steps in order"]
    if isinstance(body, Numerical) and body.units:
        return [f"the answer is a number in {body.units[0].name}; units are not read"]
    return []

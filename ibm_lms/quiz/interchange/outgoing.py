"""Our items as Moodle questions, in one language: what every writer (GIFT, Moodle XML, QTI) starts from (pure).

Moodle's types are poorer than ours in places, and each mapping below says what it keeps:
a dilemma becomes a single-answer multiple choice whose fractions are the options' scores, an
MRZ spot becomes a multiple choice between the specimens, a scenario becomes one question per
part with the case in front. A risk rating and an MRZ check have no Moodle form and are skipped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from ibm_lms.items.data import Item

from .data import UNASSIGNED_OUTCOME, ExportQuestion
from .markdown_html import without_local_links
from .model import (
    Body,
    Choice,
    Cloze,
    Gap,
    Matching,
    MoodleQuestion,
    MultiChoice,
    Numerical,
    NumericAnswer,
    Ordering,
    Outgoing,
    ShortAnswer,
    Skipped,
    TrueFalse,
    Unit,
    gap_marker,
)

# The tag a difficulty other than "medium" travels as: Moodle has no difficulty of its own.
DIFFICULTY_TAG = "difficulty:{}"
_GAP = re.compile(r"\{\{([a-z0-9][a-z0-9-]{0,63})\}\}")
# The positive grades Moodle's question import accepts (question_bank::fraction_options_full), as fractions.
MOODLE_GRADES = (1.0, 0.9, 5 / 6, 0.8, 0.75, 0.7, 2 / 3, 0.6, 0.5, 0.4, 1 / 3, 0.3, 0.25, 0.2, 1 / 6, 1 / 7, 0.125,
                 1 / 9, 0.1, 0.05, 0.0)

_SKIP_REASONS = {
    "risk_rating": "a risk rating scores each dimension by its distance from the model rating; "
                   "neither Moodle nor QTI has a question type that grades that",
    "mrz_check": "an MRZ check asks for decoded fields, check digits and a verdict computed by the ICAO checker; "
                 "neither Moodle nor QTI has a question type that grades that",
}


def pick(texts: Mapping[str, str] | None, locale: str) -> str:
    """The text in `locale`, else in Russian, else in English (the fallback pages use too)."""
    texts = texts or {}
    for candidate in (locale, "ru", "en"):
        if texts.get(candidate):
            return texts[candidate]
    return next(iter(texts.values()), "")


def plan(questions: Iterable[ExportQuestion], locale: str) -> list[Outgoing | Skipped]:
    """Every question as the Moodle questions it becomes, in order, or as skipped with the reason."""
    planned: list[Outgoing | Skipped] = []
    for question in questions:
        # Moodle has no outcomes: they travel as tags, which is where our importer looks for them.
        outcomes = tuple(code for code in question.item.outcomes if code != UNASSIGNED_OUTCOME)
        tags = tuple(dict.fromkeys((*question.tags, *outcomes)))
        if question.difficulty and question.difficulty != "medium":
            tags += (DIFFICULTY_TAG.format(question.difficulty),)
        planned += _plan_item(question.key, question.category, tags, question.item, locale)
    return planned


def _plan_item(key: str, category: str, tags: tuple[str, ...], item: Item, locale: str) -> list[Outgoing | Skipped]:
    if item.type == "scenario":
        return _plan_scenario(key, category, tags, item, locale)
    if item.type in _SKIP_REASONS:
        return [Skipped(key, category, _SKIP_REASONS[item.type])]
    body, notes = _body(item.type, item.spec, locale)
    text = _text(item.prompt, locale)
    if item.type == "cloze":
        text = cloze_text(text, list(item.spec["order"]))
    question = MoodleQuestion(name=_text(item.title, locale) or key, text=text, body=body,
                              general_feedback=_text(item.feedback, locale), tags=tags, idnumber=key)
    return [Outgoing(key, category, question, tuple(notes))]


def _plan_scenario(key: str, category: str, tags: tuple[str, ...], item: Item, locale: str) -> list[Outgoing | Skipped]:
    parts = item.spec["parts"]
    case = _text(item.spec["case"], locale)
    name = _text(item.title, locale) or key
    planned: list[Outgoing | Skipped] = []
    for number, part in enumerate(parts, start=1):
        part_key = f"{key}-part{number}"
        if part["type"] in _SKIP_REASONS:
            planned.append(Skipped(part_key, category, _SKIP_REASONS[part["type"]]))
            continue
        body, notes = _body(part["type"], part["spec"], locale)
        title = _text(part.get("title"), locale)
        question = MoodleQuestion(
            name=f"{name} ({number}/{len(parts)})" + (f": {title}" if title else ""),
            text=f"{case}\n\n{_text(part['prompt'], locale)}", body=body,
            general_feedback=_text(part["feedback"], locale), tags=tags, idnumber=part_key)
        planned.append(Outgoing(part_key, category, question,
                                (f"part {number} of {len(parts)} of the scenario {key}, with its case", *notes)))
    return planned


def _text(texts: Mapping[str, str] | None, locale: str) -> str:
    return without_local_links(pick(texts, locale))


def _body(kind: str, spec: Mapping[str, Any], locale: str) -> tuple[Body, list[str]]:
    if kind == "dilemma":
        return _moodle_grades(_choices(kind, spec, locale))
    if kind in ("single_choice", "multiple_response"):
        return _choices(kind, spec, locale), []
    if kind == "true_false":
        return TrueFalse(spec["answer"], _text(spec["feedback_true"], locale), _text(spec["feedback_false"], locale)), []
    if kind == "short_answer":
        return _short_answer(spec, locale), []
    if kind == "numeric":
        return _numerical(spec), []
    if kind == "matching":
        pairs = tuple((_text(p["prompt"], locale), _text(p["match"], locale)) for p in spec["pairs"])
        return Matching(pairs, tuple(_text(d["text"], locale) for d in spec["distractors"])), []
    if kind == "ordering":
        by_id = {entry["id"]: entry for entry in spec["items"]}
        return Ordering(tuple(_text(by_id[step]["text"], locale) for step in spec["answer"])), []
    if kind == "cloze":
        return _cloze(spec, locale), []
    if kind == "mrz_spot":
        return _mrz_spot(spec, locale), ["an MRZ spot, as a choice between the specimens"]
    raise ValueError(f"no Moodle form for the item type {kind!r}")


def _choices(kind: str, spec: Mapping[str, Any], locale: str) -> MultiChoice:
    options = spec["options"]
    if kind == "dilemma":
        return MultiChoice(tuple(Choice(_text(o["text"], locale), o["score"], _text(o["consequence"], locale))
                                 for o in options), single=True)
    if kind == "single_choice":
        return MultiChoice(tuple(Choice(_text(o["text"], locale), 1.0 if o["id"] == spec["answer"] else 0.0,
                                        _text(o.get("feedback"), locale)) for o in options), single=True)
    # Our multiple response: each right option chosen adds 1/k, each wrong one takes 1/k away. Moodle's
    # fractions say exactly that, and 1/k is one of Moodle's grade steps for every k up to 10.
    share = 1 / len(spec["answer"])
    return MultiChoice(tuple(Choice(_text(o["text"], locale), share if o["id"] in spec["answer"] else -share,
                                    _text(o.get("feedback"), locale)) for o in options), single=False)


def _moodle_grades(body: MultiChoice) -> tuple[MultiChoice, list[str]]:
    """A dilemma's scores on Moodle's grade list, which an import checks every fraction against.

    Our scores are any share from 0 to 1, and Moodle refuses a question with a fraction off its list;
    refusing such a dilemma here would keep a sound question of ours out of Moodle, so the nearest grade is
    written and a note says which options moved."""
    choices, moved = [], []
    for number, choice in enumerate(body.choices, start=1):
        grade = min(MOODLE_GRADES, key=lambda allowed: abs(allowed - choice.fraction))
        if abs(grade - choice.fraction) > 1e-6:
            moved.append(f"option {number} {choice.fraction:g} -> {grade:g}")
        choices.append(replace(choice, fraction=grade))
    notes = [f"scores moved to the nearest grade Moodle accepts: {', '.join(moved)}"] if moved else []
    return replace(body, choices=tuple(choices)), notes


def _short_answer(spec: Mapping[str, Any], locale: str) -> ShortAnswer:
    answers = spec["answers"]
    texts = next(answers[code] for code in (locale, "ru", "en") if answers.get(code))
    return ShortAnswer(tuple(Choice(text, 1.0) for text in texts), spec["case_sensitive"])


def _numerical(spec: Mapping[str, Any]) -> Numerical:
    units = tuple(Unit(u["unit"], float(u["multiplier"])) for u in spec.get("units") or ())
    return Numerical((NumericAnswer(float(spec["answer"]), float(spec.get("tolerance") or 0)),), units,
                     bool(spec.get("unit_required")))


def _gap(gap: Mapping[str, Any], locale: str) -> Gap:
    if gap["type"] == "single_choice":
        return _choices("single_choice", gap["spec"], locale)
    if gap["type"] == "short_answer":
        return _short_answer(gap["spec"], locale)
    return _numerical(gap["spec"])


def _cloze(spec: Mapping[str, Any], locale: str) -> Cloze:
    order = list(spec["order"])
    return Cloze(tuple(_gap(spec["gaps"][gap_id], locale) for gap_id in order))


def cloze_text(text: str, order: list[str]) -> str:
    """A cloze prompt with its {{gap-id}} markers numbered as Moodle numbers its gaps."""
    return _GAP.sub(lambda found: gap_marker(order.index(found.group(1)) + 1) if found.group(1) in order
                    else found.group(0), text)


def _mrz_spot(spec: Mapping[str, Any], locale: str) -> MultiChoice:
    choices = []
    for specimen in spec["specimens"]:
        lines = "\\\n".join(f"`{line}`" for line in specimen["lines"])
        choices.append(Choice(f"{_text(specimen['label'], locale)}\\\n{lines}",
                              1.0 if specimen["id"] == spec["answer"] else 0.0))
    return MultiChoice(tuple(choices), single=True)

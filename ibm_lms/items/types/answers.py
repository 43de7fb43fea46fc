"""Items answered in the trainee's own words and numbers: true/false, short answer, numeric (pure)."""

from __future__ import annotations

import math
import re
import unicodedata

from ibm_lms.locales import LOCALES
from ibm_lms.markers import N_

from ..data import InvalidResponse, Problem, Score
from ..localised import localised
from ..registry import ItemType, register, single

MAX_ANSWER = 200
# 2**53 is where doubles stop holding every integer; 1e15 stays clear of it and of any quantity a border post counts.
MAX_NUMBER = 1e15
_SPACES = re.compile(r"\s+")
# What keyboards type differently for the same letter: Romanian s and t with a cedilla (older layouts) for
# the comma-below letters, and the several apostrophes of Ukrainian ("пов'язаний", "повʼязаний").
_SAME_LETTER = str.maketrans({"ş": "ș", "Ş": "Ș", "ţ": "ț", "Ţ": "Ț", "'": "’", "ʼ": "’", "`": "’"})
# Letters that count as one where case does not count, after casefolding: Azerbaijani capitals do not lower as
# Unicode lowers them (İ becomes i with a combining dot above, and I, which stands for ı, becomes i), so dotted and
# dotless i are one letter; Belarusian and Ukrainian і and ў are not on a Russian layout, which many officers type
# on, so і is the Latin i it looks like and ў is у.
_ONE_LETTER_FOLDED = str.maketrans({"ı": "i", "і": "i", "ў": "у"})
# Quotation marks around a whole answer are not part of it („არ ავნო“, «самоотвод», "recusal").
_QUOTES = "\"«»„“”‚‘"
_NUMBER = re.compile(r"^\s*([-+]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][-+]?\d+)?)\s*(\S.*)?$")


@register
class TrueFalse(ItemType):
    name = "true_false"

    def parse(self, raw, problems):
        answer = raw.get("answer")
        if not isinstance(answer, bool):
            problems.append(Problem.of(("answer",), N_("must be true or false"), "answer = true"))
        return {"answer": answer,
                "feedback_true": localised(raw.get("feedback_true"), ("feedback_true",), problems, required=False),
                "feedback_false": localised(raw.get("feedback_false"), ("feedback_false",), problems, required=False)}

    def read_response(self, item, form):
        value = single(form, "choice")
        if value not in ("true", "false"):
            raise InvalidResponse(N_("choose True or False"), field="choice")
        return {"choice": value == "true"}

    def score(self, item, response):
        right = response["choice"] is item.spec["answer"]
        return Score(1.0 if right else 0.0, right, {"chosen": [str(response["choice"]).lower()]})

    def correct_response(self, item):
        return {"choice": item.spec["answer"]}

    def locale_texts(self, spec):
        return [spec["feedback_true"], spec["feedback_false"]]


def normalise_text(value: str, case_sensitive: bool) -> str:
    text = unicodedata.normalize("NFC", value).translate(_SAME_LETTER)
    text = _SPACES.sub(" ", text).strip().strip(_QUOTES).strip()
    return text if case_sensitive else text.casefold().replace("i\u0307", "i").translate(_ONE_LETTER_FOLDED)


@register
class ShortAnswer(ItemType):
    """Accepted answers per language; a trainee's answer counts if it equals one of any language's."""

    name = "short_answer"

    def parse(self, raw, problems):
        answers = raw.get("answers")
        found = {}
        if not isinstance(answers, dict) or not isinstance(answers.get("en"), list) or not answers["en"]:
            problems.append(Problem.of(("answers",), N_("needs accepted answers, English at least"),
                                       'answers = { en = ["impostor"], ru = ["самозванец"] }'))
        else:
            for locale, texts in answers.items():
                if locale not in LOCALES or not isinstance(texts, list) or not all(
                        isinstance(t, str) and 0 < len(t) <= MAX_ANSWER for t in texts):
                    problems.append(Problem.of(("answers", locale),
                                               N_("must be a list of answers in an interface locale"),
                                               'en = ["first accepted answer", "second"]'))
                else:
                    found[locale] = [t.strip() for t in texts]
        case = raw.get("case_sensitive", False)
        if not isinstance(case, bool):
            problems.append(Problem.of(("case_sensitive",), N_("must be true or false"), "case_sensitive = false"))
            case = False
        return {"answers": found, "case_sensitive": case}

    def read_response(self, item, form):
        value = single(form, "answer")
        if len(value) > MAX_ANSWER:
            raise InvalidResponse(N_("the answer is too long"), field="answer")
        return {"answer": value}

    def score(self, item, response):
        case = item.spec["case_sensitive"]
        given = normalise_text(response["answer"], case)
        right = any(given == normalise_text(a, case) for texts in item.spec["answers"].values() for a in texts)
        return Score(1.0 if right else 0.0, right, {})

    def correct_response(self, item):
        return {"answer": item.spec["answers"]["en"][0]}

    def locale_texts(self, spec):
        return []


def parse_number(text: str) -> tuple[float, str] | None:
    """A number as people type it (a decimal comma too) and what follows it (a unit), or None."""
    found = _NUMBER.match(text or "")
    if not found:
        return None
    value = float(found.group(1).replace(",", "."))
    return (value, (found.group(2) or "").strip()) if math.isfinite(value) else None


def in_answer_unit(spec: dict, text: str) -> float | None:
    """What a numeric answer as typed is worth in the unit of the model answer; None when it is no number, its
    unit is not one the question lists, or a unit is required and missing."""
    parsed = parse_number(text)
    if parsed is None:
        return None
    value, unit = parsed
    if not unit:
        return None if spec["unit_required"] else value
    match = next((u for u in spec["units"] if normalise_text(u["unit"], False) == normalise_text(unit, False)), None)
    return value / match["multiplier"] if match else None


def is_usable_number(value) -> bool:
    """A number an item can hold: finite, and small enough that scoring, reports and exports (which work in
    floating point) read it exactly as written. NaN, infinities and integers of hundreds of digits are not."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return math.isfinite(value) and abs(value) <= MAX_NUMBER
    except OverflowError:  # an int too large to compare as a float
        return False


@register
class Numeric(ItemType):
    name = "numeric"

    def parse(self, raw, problems):
        answer, tolerance = raw.get("answer"), raw.get("tolerance", 0)
        if not is_usable_number(answer):
            problems.append(Problem.of(("answer",), N_("must be a finite number of at most %(limit)s in size"),
                                       "answer = 6", limit=f"{MAX_NUMBER:.0e}"))
        if not is_usable_number(tolerance) or tolerance < 0:
            problems.append(Problem.of(("tolerance",), N_("must be zero or a positive number of at most %(limit)s"),
                                       "tolerance = 0.5", limit=f"{MAX_NUMBER:.0e}"))
            tolerance = 0
        units = raw.get("units", [])
        if not isinstance(units, list) or not all(
                isinstance(u, dict) and isinstance(u.get("unit"), str) and u["unit"]
                and is_usable_number(u.get("multiplier")) and u["multiplier"] > 0 for u in units):
            problems.append(Problem.of(("units",), N_("must be a list of units with their multipliers"),
                                       'units = [{ unit = "kg", multiplier = 1 }]'))
            units = []
        required = raw.get("unit_required", False)
        if required and not units:
            problems.append(Problem.of(("unit_required",), N_("a unit is required but none is listed"),
                                       N_("list the units")))
        return {"answer": answer, "tolerance": tolerance, "units": units, "unit_required": bool(required)}

    def read_response(self, item, form):
        value = single(form, "answer")
        if len(value) > MAX_ANSWER:
            raise InvalidResponse(N_("the answer is too long"), field="answer")
        return {"answer": value}

    def score(self, item, response):
        value = in_answer_unit(item.spec, response["answer"])
        right = value is not None and abs(value - item.spec["answer"]) <= item.spec["tolerance"] + 1e-9
        return Score(1.0 if right else 0.0, right, {})

    def correct_response(self, item):
        unit = f" {item.spec['units'][0]['unit']}" if item.spec["units"] else ""
        number = item.spec["answer"]
        return {"answer": (f"{number:g}" if isinstance(number, float) else str(number)) + unit}

    def locale_texts(self, spec):
        return []

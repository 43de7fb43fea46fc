"""Machine-readable zone items: read and verify one MRZ, or find the altered one among several.

The model answers come from the ICAO Doc 9303 checker, never from the author's hand: a check digit
typed wrongly into a file cannot become a wrong key.
"""

from __future__ import annotations

import re
from datetime import date

from ibm_lms.markers import N_, Phrase
from ibm_lms.mrz.service import NotAnMrz, check_mrz

from ..data import InvalidResponse, Problem, Score
from ..localised import localised
from ..registry import ItemType, given, ids_of, register, single

FIELDS = ("document_code", "issuing_state", "surname", "given_names", "document_number", "nationality",
          "birth_date", "sex", "expiry_date", "optional_data")
# What the trainee reads for each field (and the composite check digit), on the page and in a refused answer.
FIELD_LABELS = {
    "document_code": N_("Document code"),
    "issuing_state": N_("Issuing state"),
    "surname": N_("Surname"),
    "given_names": N_("Given names"),
    "document_number": N_("Document number"),
    "nationality": N_("Nationality"),
    "birth_date": N_("Date of birth"),
    "sex": N_("Sex"),
    "expiry_date": N_("Date of expiry"),
    "optional_data": N_("Optional data"),
    "composite": N_("Composite"),
}
VERDICTS = ("valid", "invalid")
MAX_ANSWER = 64
_DOTTED_DATE = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})\Z")
# Dates are decoded as on the day the item was loaded: a model answer must not change with the clock.
_DATES_AS_OF = date(2026, 1, 1)


def _label(name: str) -> Phrase | str:
    return Phrase(FIELD_LABELS[name]) if name in FIELD_LABELS else name


def _report(lines, path: tuple, problems: list[Problem]):
    if not isinstance(lines, list) or not all(isinstance(line, str) for line in lines):
        problems.append(Problem.of(path, N_("must be a list of the MRZ lines"), 'lines = ["P<UTO…", "L898…"]'))
        return None
    try:
        return check_mrz(lines, today=_DATES_AS_OF)
    except NotAnMrz as error:
        problems.append(Problem.of(path, N_("is not a machine-readable zone: %(reason)s"),
                                   N_("copy the 2 or 3 lines exactly, with every < filler"), reason=error.reason))
        return None


def _as_written(lines) -> list[str]:
    """The lines as the item keeps them; a value that is no list of lines (already a problem) keeps none."""
    if not isinstance(lines, list) or not all(isinstance(line, str) for line in lines):
        return []
    return [line.strip().upper() for line in lines]


def normalise(name: str, value: str) -> str:
    """An answer as the model holds it: upper case, fillers and runs of spaces as one space, dates as ISO."""
    text = " ".join(value.replace("<", " ").split()).upper()
    if name.endswith("_date"):
        dotted = _DOTTED_DATE.match(text)
        if dotted:
            day, month, year = dotted.groups()
            text = f"{year}-{int(month):02d}-{int(day):02d}"
    return text


@register
class MrzCheck(ItemType):
    """One part per field asked, per check digit and for the verdict; the score is the share answered right."""

    name = "mrz_check"

    def parse(self, raw, problems):
        report = _report(raw.get("lines"), ("lines",), problems)
        fields = raw.get("fields", [])
        if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields) or not set(fields) <= set(FIELDS):
            problems.append(Problem.of(("fields",), N_("names fields the MRZ does not have"),
                                       N_("use some of: %(fields)s"), fields=", ".join(FIELDS)))
            fields = []
        asks_digits, asks_verdict = raw.get("check_digits", False), raw.get("verdict", False)
        if not isinstance(asks_digits, bool) or not isinstance(asks_verdict, bool):
            problems.append(Problem.of(("check_digits",), N_("check_digits and verdict must be true or false"),
                                       N_("write check_digits = true")))
        if not fields and not asks_digits and not asks_verdict:
            problems.append(Problem.of(("fields",), N_("the exercise asks nothing"),
                                       N_("list fields, or set check_digits = true or verdict = true")))
        model = None
        if report is not None:
            model = {"fields": {name: report.fields.get(name) or "" for name in fields},
                     "digits": {digit.field: digit.expected for digit in report.check_digits},
                     "printed": {digit.field: digit.found for digit in report.check_digits},
                     "valid": report.valid, "format": report.format}
        return {"lines": _as_written(raw.get("lines")), "fields": fields,
                "check_digits": asks_digits is True, "verdict": asks_verdict is True, "model": model}

    def read_response(self, item, form):
        return self._read(item, form, partial=False)

    def read_partial(self, item, form):
        spec = item.spec
        response = self._read(item, form, partial=True)
        if not any(response["fields"].values()) and not response["digits"] and response["verdict"] is None:
            return None, False
        complete = (len(response["digits"]) == (len(spec["model"]["digits"]) if spec["check_digits"] else 0)
                    and (response["verdict"] is not None or not spec["verdict"]))
        return response, complete

    @staticmethod
    def _read(item, form, *, partial: bool) -> dict:
        spec = item.spec
        response = {"fields": {}, "digits": {}, "verdict": None}
        for name in spec["fields"]:
            value = single(form, f"field-{name}") if form.get(f"field-{name}") not in (None, [""]) else ""
            if len(value) > MAX_ANSWER:
                raise InvalidResponse(N_("%(part)s: too long"), field=f"field-{name}", part=_label(name))
            response["fields"][name] = value
        if spec["check_digits"]:
            for name in spec["model"]["digits"]:
                if partial and not given(form, f"digit-{name}"):
                    continue
                value = single(form, f"digit-{name}")
                if len(value) != 1 or not value.isdigit():
                    raise InvalidResponse(N_("%(part)s: one digit from 0 to 9 is needed"), field=f"digit-{name}",
                                          part=Phrase(N_("Check digit: %(field)s"), field=_label(name)))
                response["digits"][name] = value
        if spec["verdict"] and not (partial and not given(form, "verdict")):
            verdict = single(form, "verdict")
            if verdict not in VERDICTS:
                raise InvalidResponse(N_("say whether all check digits verify"), field="verdict")
            response["verdict"] = verdict
        return response

    def score(self, item, response):
        model = item.spec["model"]
        parts = {}
        for name, expected in model["fields"].items():
            parts[f"field-{name}"] = normalise(name, response["fields"].get(name, "")) == normalise(name, expected)
        for name, expected in (model["digits"].items() if item.spec["check_digits"] else ()):
            parts[f"digit-{name}"] = response["digits"].get(name) == expected
        if item.spec["verdict"]:
            parts["verdict"] = response["verdict"] == ("valid" if model["valid"] else "invalid")
        right = sum(parts.values())
        return Score(round(right / len(parts), 4), right == len(parts), parts)

    def correct_response(self, item):
        model = item.spec["model"]
        return {"fields": dict(model["fields"]),
                "digits": dict(model["digits"]) if item.spec["check_digits"] else {},
                "verdict": ("valid" if model["valid"] else "invalid") if item.spec["verdict"] else None}

    def locale_texts(self, spec):
        return []


@register
class MrzSpot(ItemType):
    """Several specimens, exactly one of them altered: the checker must agree with the author's answer."""

    name = "mrz_spot"

    def parse(self, raw, problems):
        specimens, failing = [], []
        for index, entry in enumerate(ids_of(raw.get("specimens"), "specimens", problems)):
            report = _report(entry.get("lines"), ("specimens", index, "lines"), problems)
            if report is not None and not report.valid:
                failing.append(entry.get("id"))
            specimens.append({"id": entry.get("id"), "lines": _as_written(entry.get("lines")),
                              "label": localised(entry.get("label"), ("specimens", index, "label"), problems)})
        answer = raw.get("answer")
        known = [s["id"] for s in specimens]
        if answer not in known:
            problems.append(Problem.of(("answer",), N_("%(answer)s is not one of the specimens"),
                                       N_("set answer to the id of the altered specimen: %(ids)s"),
                                       answer=repr(answer), ids=", ".join(map(repr, known))))
        elif len(specimens) == len(raw.get("specimens") or []) and failing != [answer]:
            found = (N_("the checker finds failing check digits in %(failing)s, the answer says %(answer)s")
                     if failing else N_("the checker finds no failing check digit, the answer says %(answer)s"))
            problems.append(Problem.of(("answer",), found,
                                       N_("alter exactly the answer's specimen, and keep every other one valid"),
                                       failing=", ".join(map(repr, failing)), answer=repr(answer)))
        return {"specimens": specimens, "answer": answer}

    def read_response(self, item, form):
        choice = single(form, "choice")
        if choice not in {s["id"] for s in item.spec["specimens"]}:
            raise InvalidResponse(N_("not a specimen of this exercise"), field="choice")
        return {"choice": choice}

    def score(self, item, response):
        right = response["choice"] == item.spec["answer"]
        return Score(1.0 if right else 0.0, right, {"chosen": [response["choice"]]})

    def correct_response(self, item):
        return {"choice": item.spec["answer"]}

    def locale_texts(self, spec):
        return [s["label"] for s in spec["specimens"]]

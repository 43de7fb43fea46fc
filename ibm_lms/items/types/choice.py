"""Choice items: one right option, several right options, and dilemmas whose options carry consequences."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ibm_lms.markers import N_

from ..data import InvalidResponse, Item, Problem, Score
from ..localised import localised
from ..registry import ItemType, ids_of, register, several, single, usable_ids


def _options(raw: Mapping[str, Any], problems: list[Problem], extra: tuple[str, ...] = ("feedback",)) -> list[dict]:
    options = []
    for index, entry in enumerate(ids_of(raw.get("options"), "options", problems)):
        option = {"id": entry.get("id"), "text": localised(entry.get("text"), ("options", index, "text"), problems)}
        for name in extra:
            option[name] = localised(entry.get(name), ("options", index, name), problems, required=name != "feedback")
        options.append(option)
    return options


def _known(item: Item) -> set[str]:
    return {option["id"] for option in item.spec["options"]}


@register
class SingleChoice(ItemType):
    name = "single_choice"

    def parse(self, raw, problems):
        options = _options(raw, problems)
        answer = raw.get("answer")
        if options and (not isinstance(answer, str) or answer not in usable_ids(options)):
            ids = ", ".join(repr(o["id"]) for o in options)
            if answer is None:  # said as missing, not as Python's None
                problems.append(Problem.of(("answer",), N_("is missing"),
                                           N_("set answer to the id of the right option: %(ids)s"), ids=ids))
            else:
                problems.append(Problem.of(("answer",), N_("%(answer)s is not one of the options"),
                                           N_("set answer to the id of the right option: %(ids)s"),
                                           answer=repr(answer), ids=ids))
        return {"options": options, "answer": answer}

    def read_response(self, item, form):
        choice = single(form, "choice")
        if choice not in _known(item):
            raise InvalidResponse(N_("not an option of this exercise"), field="choice")
        return {"choice": choice}

    def score(self, item, response):
        right = response["choice"] == item.spec["answer"]
        return Score(1.0 if right else 0.0, right, {"chosen": [response["choice"]]})

    def correct_response(self, item):
        return {"choice": item.spec["answer"]}

    def locale_texts(self, spec):
        return [t for o in spec["options"] for t in (o["text"], o.get("feedback") or {})]


@register
class MultipleResponse(ItemType):
    """Partial credit: each right option chosen adds 1/k, each wrong one takes 1/k away, never below 0."""

    name = "multiple_response"

    def parse(self, raw, problems):
        options = _options(raw, problems)
        answer = raw.get("answer")
        known = usable_ids(options)
        if (not isinstance(answer, list) or not answer or not all(isinstance(a, str) for a in answer)
                or len(set(answer)) != len(answer)):
            problems.append(Problem.of(("answer",), N_("must list the ids of the right options, each once"),
                                       N_('for example answer = ["a", "c"]')))
        elif options and not set(answer) <= known:
            problems.append(Problem.of(("answer",), N_("names options that do not exist: %(ids)s"),
                                       N_("use ids of [[options]]"),
                                       ids=", ".join(repr(a) for a in answer if a not in known)))
        return {"options": options, "answer": answer}

    def read_response(self, item, form):
        choices = several(form, "choices")
        if len(set(choices)) != len(choices) or not set(choices) <= _known(item):
            raise InvalidResponse(N_("not options of this exercise, or one chosen twice"), field="choices")
        # Nothing chosen is an answer too (every option judged wrong), and scores 0 or more.
        return {"choices": sorted(choices)}

    def read_partial(self, item, form):
        # In a quiz, nothing ticked yet is a question not answered, as Moodle counts it.
        response = self.read_response(item, form)
        return (response, True) if response["choices"] else (None, False)

    def score(self, item, response):
        right = set(item.spec["answer"])
        chosen = set(response["choices"])
        step = 1 / len(right)
        scaled = max(0.0, len(chosen & right) * step - len(chosen - right) * step)
        return Score(round(scaled, 4), chosen == right, {"chosen": sorted(chosen)})

    def correct_response(self, item):
        return {"choices": sorted(item.spec["answer"])}

    def locale_texts(self, spec):
        return [t for o in spec["options"] for t in (o["text"], o.get("feedback") or {})]


@register
class Dilemma(ItemType):
    """An integrity dilemma: every option leads somewhere; its score says how well."""

    name = "dilemma"

    def parse(self, raw, problems):
        options = _options(raw, problems, extra=("consequence",))
        # _options gives an option for every table of a well-formed list, and none otherwise.
        for index, (entry, option) in enumerate(zip(raw["options"] if options else [], options, strict=True)):
            value = entry.get("score")
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
                problems.append(Problem.of(("options", index, "score"), N_("must be a number from 0 to 1"),
                                           N_("score = 1.0 for the best course of action, less for the others")))
                value = 0
            option["score"] = float(value)
        if options and not any(o["score"] == 1 for o in options):
            problems.append(Problem.of(("options",), N_("no option scores 1"),
                                       N_("give the best course of action score = 1.0")))
        return {"options": options}

    def read_response(self, item, form):
        choice = single(form, "choice")
        if choice not in _known(item):
            raise InvalidResponse(N_("not an option of this exercise"), field="choice")
        return {"choice": choice}

    def score(self, item, response):
        option = next(o for o in item.spec["options"] if o["id"] == response["choice"])
        return Score(option["score"], option["score"] == 1, {"chosen": [option["id"]]})

    def correct_response(self, item):
        return {"choice": next(o["id"] for o in item.spec["options"] if o["score"] == 1)}

    def locale_texts(self, spec):
        return [t for o in spec["options"] for t in (o["text"], o["consequence"])]

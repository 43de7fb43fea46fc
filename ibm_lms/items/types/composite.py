"""Items made of smaller ones: matching pairs, cloze gaps, scenario parts (pure)."""

from __future__ import annotations

import re

from ibm_lms.markers import N_

from ..data import InvalidResponse, Item, Problem, Score
from ..localised import localised
from ..registry import TYPES, ItemType, given, ids_of, register, single, usable_ids

GAP = re.compile(r"\{\{([a-z0-9][a-z0-9-]{0,63})\}\}")
GAP_TYPES = ("single_choice", "short_answer", "numeric")
PART_EXCLUDED = ("scenario", "cloze")
MAX_PARTS = 12


@register
class Matching(ItemType):
    name = "matching"

    def parse(self, raw, problems):
        pairs = [{"id": e.get("id"), "prompt": localised(e.get("prompt"), ("pairs", i, "prompt"), problems),
                  "match": localised(e.get("match"), ("pairs", i, "match"), problems)}
                 for i, e in enumerate(ids_of(raw.get("pairs"), "pairs", problems, minimum=2))]
        distractors = []
        if raw.get("distractors") is not None:
            distractors = [{"id": e.get("id"), "text": localised(e.get("text"), ("distractors", i, "text"), problems)}
                           for i, e in enumerate(ids_of(raw.get("distractors"), "distractors", problems, minimum=1))]
        overlap = usable_ids(pairs) & usable_ids(distractors)
        if overlap:
            problems.append(Problem.of(("distractors",), N_("uses ids of pairs: %(ids)s"),
                                       N_("give distractors ids of their own"), ids=", ".join(sorted(overlap))))
        return {"pairs": pairs, "distractors": distractors}

    def read_response(self, item, form):
        return {"matches": self._matches(item, form, partial=False)}

    def read_partial(self, item, form):
        matches = self._matches(item, form, partial=True)
        return ({"matches": matches} if matches else None), len(matches) == len(item.spec["pairs"])

    @staticmethod
    def _matches(item, form, *, partial: bool) -> dict[str, str]:
        answers = {p["id"] for p in item.spec["pairs"]} | {d["id"] for d in item.spec["distractors"]}
        matches = {}
        for pair in item.spec["pairs"]:
            name = f"match-{pair['id']}"
            if partial and not given(form, name):
                continue
            chosen = single(form, name)
            if chosen not in answers:
                raise InvalidResponse(N_("not an answer of this question"), field=name)
            matches[pair["id"]] = chosen
        return matches

    def score(self, item, response):
        parts = {pair["id"]: response["matches"].get(pair["id"]) == pair["id"] for pair in item.spec["pairs"]}
        right = sum(parts.values())
        return Score(round(right / len(parts), 4), right == len(parts), parts)

    def correct_response(self, item):
        return {"matches": {pair["id"]: pair["id"] for pair in item.spec["pairs"]}}

    def locale_texts(self, spec):
        return [t for p in spec["pairs"] for t in (p["prompt"], p["match"])] + [d["text"] for d in spec["distractors"]]


def _sub_item(raw: dict, path: tuple, problems: list[Problem], allowed: tuple[str, ...] | None,
              needs_texts: bool) -> dict | None:
    """A gap's or a part's own definition, parsed by its type; its problems carry its path."""
    kind = raw.get("type")
    if (not isinstance(kind, str) or kind not in TYPES or (allowed is not None and kind not in allowed)
            or kind in PART_EXCLUDED):
        problems.append(Problem.of((*path, "type"), N_("%(type)s cannot be used here"), N_("use one of: %(types)s"),
                                   type=repr(kind), types=", ".join(allowed or sorted(set(TYPES) - set(PART_EXCLUDED)))))
        return None
    found: list[Problem] = []
    spec = TYPES[kind].parse(raw, found)
    problems.extend(p.at(path) for p in found)
    part = {"type": kind, "spec": spec}
    if needs_texts:
        part["prompt"] = localised(raw.get("prompt"), (*path, "prompt"), problems)
        part["feedback"] = localised(raw.get("feedback"), (*path, "feedback"), problems)
        part["title"] = localised(raw.get("title"), (*path, "title"), problems, required=False)
    return part


def _as_item(key: str, part: dict) -> Item:
    return Item(key=key, type=part["type"], outcomes=(), title=part.get("title") or {}, prompt=part.get("prompt") or {},
                feedback=part.get("feedback") or {}, spec=part["spec"])


def _part_score(key: str, part: dict, response: dict | None) -> float:
    """A gap's or part's score; one not answered (an attempt submitted in progress) scores 0."""
    return TYPES[part["type"]].score(_as_item(key, part), response).scaled if response is not None else 0.0


def _sub_form(form, prefix: str) -> dict[str, list[str]]:
    return {name[len(prefix):]: values for name, values in form.items() if name.startswith(prefix)}


@register
class Cloze(ItemType):
    """Gaps inside the prompt, each a small single-choice, short-answer or numeric question."""

    name = "cloze"

    def parse(self, raw, problems):
        gaps = {}
        for index, entry in enumerate(ids_of(raw.get("gaps"), "gaps", problems, minimum=1)):
            gap = _sub_item(entry, ("gaps", index), problems, GAP_TYPES, needs_texts=False)
            if gap is not None and isinstance(entry.get("id"), str):
                gaps[entry["id"]] = gap
        prompt = raw.get("prompt") if isinstance(raw.get("prompt"), dict) else {}
        for locale, text in prompt.items():
            if isinstance(text, str):
                named = GAP.findall(text)
                if sorted(named) != sorted(gaps) or len(set(named)) != len(named):
                    problems.append(Problem.of(("prompt", locale), N_("must hold every gap once: %(gaps)s"),
                                               N_("write each {{gap-id}} exactly once in every language"),
                                               gaps=" ".join("{{" + g + "}}" for g in gaps)))
        return {"gaps": gaps, "order": list(gaps)}

    def read_response(self, item, form):
        return {"gaps": {gap_id: TYPES[gap["type"]].read_response(_as_item(gap_id, gap), _sub_form(form, f"{gap_id}-"))
                         for gap_id, gap in item.spec["gaps"].items()}}

    def read_partial(self, item, form):
        read = {gap_id: TYPES[gap["type"]].read_partial(_as_item(gap_id, gap), _sub_form(form, f"{gap_id}-"))
                for gap_id, gap in item.spec["gaps"].items()}
        if all(response is None for response, _ in read.values()):
            return None, False
        return {"gaps": {gap_id: response for gap_id, (response, _) in read.items()}}, all(
            complete for _, complete in read.values())

    def score(self, item, response):
        parts = {gap_id: _part_score(gap_id, gap, response["gaps"].get(gap_id))
                 for gap_id, gap in item.spec["gaps"].items()}
        scaled = sum(parts.values()) / len(parts)
        return Score(round(scaled, 4), scaled == 1.0, parts)

    def correct_response(self, item):
        return {"gaps": {gap_id: TYPES[gap["type"]].correct_response(_as_item(gap_id, gap))
                         for gap_id, gap in item.spec["gaps"].items()}}

    def locale_texts(self, spec):
        return [t for gap in spec["gaps"].values() for t in TYPES[gap["type"]].locale_texts(gap["spec"])]


@register
class Scenario(ItemType):
    """A shared case and the questions about it; the score is the mean of the parts'."""

    name = "scenario"

    def parse(self, raw, problems):
        case = localised(raw.get("case"), ("case",), problems)
        entries = raw.get("parts")
        if not isinstance(entries, list) or not 2 <= len(entries) <= MAX_PARTS:
            problems.append(Problem.of(("parts",), N_("a scenario has 2 to %(count)d [[parts]]"),
                                       N_("add [[parts]] tables, each a question of its own"), count=MAX_PARTS))
            entries = []
        parts = [_sub_item(entry if isinstance(entry, dict) else {}, ("parts", index), problems, None, needs_texts=True)
                 for index, entry in enumerate(entries)]
        return {"case": case, "parts": [p for p in parts if p is not None]}

    def read_response(self, item, form):
        return {"parts": [TYPES[part["type"]].read_response(_as_item(f"part-{i}", part), _sub_form(form, f"part{i}-"))
                          for i, part in enumerate(item.spec["parts"])]}

    def read_partial(self, item, form):
        read = [TYPES[part["type"]].read_partial(_as_item(f"part-{i}", part), _sub_form(form, f"part{i}-"))
                for i, part in enumerate(item.spec["parts"])]
        if all(response is None for response, _ in read):
            return None, False
        return {"parts": [response for response, _ in read]}, all(complete for _, complete in read)

    def score(self, item, response):
        scores = [_part_score(f"part-{i}", part, response["parts"][i])
                  for i, part in enumerate(item.spec["parts"])]
        scaled = sum(scores) / len(scores)
        return Score(round(scaled, 4), scaled == 1.0, {str(i): s for i, s in enumerate(scores)})

    def correct_response(self, item):
        return {"parts": [TYPES[part["type"]].correct_response(_as_item(f"part-{i}", part))
                          for i, part in enumerate(item.spec["parts"])]}

    def locale_texts(self, spec):
        texts = [spec["case"]]
        for part in spec["parts"]:
            texts += [part["prompt"], part["feedback"], part.get("title") or {}]
            texts += TYPES[part["type"]].locale_texts(part["spec"])
        return texts

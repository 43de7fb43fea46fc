"""Ordering items: put the steps of a procedure in their order."""

from __future__ import annotations

from ibm_lms.markers import N_

from ..data import InvalidResponse, Problem, Score
from ..localised import localised
from ..registry import ItemType, given, ids_of, register, single


def longest_ordered_run(order: list[str], answer: list[str]) -> int:
    """How many items keep their right relative order: the longest common subsequence of the two orders."""
    position = {item: index for index, item in enumerate(answer)}
    ranks = [position[item] for item in order]
    # Longest increasing subsequence of the ranks, O(n²): an exercise has a handful of steps.
    best = [1] * len(ranks)
    for i in range(len(ranks)):
        for j in range(i):
            if ranks[j] < ranks[i]:
                best[i] = max(best[i], best[j] + 1)
    return max(best, default=0)


@register
class Ordering(ItemType):
    """Score: the longest run of steps already in the right relative order, over the number of steps."""

    name = "ordering"

    def parse(self, raw, problems):
        items = [{"id": entry.get("id"), "text": localised(entry.get("text"), ("items", index, "text"), problems)}
                 for index, entry in enumerate(ids_of(raw.get("items"), "items", problems, minimum=3))]
        answer = raw.get("answer")
        known = [i["id"] for i in items]
        if not isinstance(answer, list) or sorted(map(str, answer)) != sorted(map(str, known)):
            problems.append(Problem.of(("answer",), N_("must list every item id exactly once, in the right order"),
                                       N_("answer = [%(ids)s] in the right order"),
                                       ids=", ".join(f'"{i}"' for i in known)))
        return {"items": items, "answer": answer}

    def read_response(self, item, form):
        # Without scripts the page asks for each step's position (1…n): they must be a permutation.
        steps = [entry["id"] for entry in item.spec["items"]]
        positions = self._positions(item, form, partial=False)
        if sorted(positions.values()) != list(range(1, len(steps) + 1)):
            raise InvalidResponse(N_("each position may be given to one step only"))
        return {"order": sorted(steps, key=positions.__getitem__)}

    def read_partial(self, item, form):
        positions = self._positions(item, form, partial=True)
        if not positions:
            return None, False
        steps = [entry["id"] for entry in item.spec["items"]]
        if sorted(positions.values()) == list(range(1, len(steps) + 1)):
            return {"order": sorted(steps, key=positions.__getitem__)}, True
        # Positions given so far, kept so the page shows them again; an order only once they all fit.
        return {"order": None, "positions": positions}, False

    @staticmethod
    def _positions(item, form, *, partial: bool) -> dict[str, int]:
        steps = [entry["id"] for entry in item.spec["items"]]
        positions = {}
        for step in steps:
            name = f"position-{step}"
            if partial and not given(form, name):
                continue
            value = single(form, name)
            if not value.isdigit() or not 1 <= int(value) <= len(steps):
                raise InvalidResponse(N_("a position from 1 to %(high)d is needed"), field=name, high=len(steps))
            positions[step] = int(value)
        return positions

    def score(self, item, response):
        answer = item.spec["answer"]
        if response.get("order") is None:
            return Score(0.0, False, {"in_place": []})
        run = longest_ordered_run(response["order"], answer)
        in_place = [step for step, right in zip(response["order"], answer, strict=True) if step == right]
        return Score(round(run / len(answer), 4), response["order"] == answer, {"in_place": in_place})

    def correct_response(self, item):
        return {"order": list(item.spec["answer"])}

    def locale_texts(self, spec):
        return [i["text"] for i in spec["items"]]

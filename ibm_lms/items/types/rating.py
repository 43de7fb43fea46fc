"""Risk ratings: rate each dimension of a scenario (CIRAM: threat, vulnerability, impact) from 1 to 5."""

from __future__ import annotations

from ibm_lms.markers import N_

from ..data import InvalidResponse, Problem, Score
from ..localised import localised
from ..registry import ItemType, given, ids_of, register, single

SCALE = 5


@register
class RiskRating(ItemType):
    """Per dimension 1 when equal to the model, 0.5 when one step away, else 0; the mean of all."""

    name = "risk_rating"

    def parse(self, raw, problems):
        dimensions = []
        for index, entry in enumerate(ids_of(raw.get("dimensions"), "dimensions", problems)):
            model = entry.get("model")
            if isinstance(model, bool) or not isinstance(model, int) or not 1 <= model <= SCALE:
                problems.append(Problem.of(("dimensions", index, "model"), N_("must be a whole number from 1 to %(high)d"),
                                           N_("model = 4 for a high rating"), high=SCALE))
            dimensions.append({
                "id": entry.get("id"), "model": model,
                "label": localised(entry.get("label"), ("dimensions", index, "label"), problems),
                "reasoning": localised(entry.get("reasoning"), ("dimensions", index, "reasoning"), problems),
            })
        return {"dimensions": dimensions, "scale": SCALE}

    def read_response(self, item, form):
        return {"ratings": self._ratings(item, form, partial=False)}

    def read_partial(self, item, form):
        ratings = self._ratings(item, form, partial=True)
        return ({"ratings": ratings} if ratings else None), len(ratings) == len(item.spec["dimensions"])

    @staticmethod
    def _ratings(item, form, *, partial: bool) -> dict[str, int]:
        ratings = {}
        for dimension in item.spec["dimensions"]:
            name = f"rating-{dimension['id']}"
            if partial and not given(form, name):
                continue
            value = single(form, name)
            if not value.isdigit() or not 1 <= int(value) <= SCALE:
                raise InvalidResponse(N_("a rating from 1 to %(high)d is needed"), field=name, high=SCALE)
            ratings[dimension["id"]] = int(value)
        return ratings

    def score(self, item, response):
        parts = {}
        for dimension in item.spec["dimensions"]:
            given_rating = response["ratings"].get(dimension["id"])
            distance = abs(given_rating - dimension["model"]) if given_rating is not None else SCALE
            parts[dimension["id"]] = 1.0 if distance == 0 else 0.5 if distance == 1 else 0.0
        scaled = sum(parts.values()) / len(parts)
        return Score(round(scaled, 4), scaled == 1.0, parts)

    def correct_response(self, item):
        return {"ratings": {d["id"]: d["model"] for d in item.spec["dimensions"]}}

    def locale_texts(self, spec):
        return [t for d in spec["dimensions"] for t in (d["label"], d["reasoning"])]

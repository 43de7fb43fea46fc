"""The item types, each registered under the name item files use for it (pure)."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar

from ibm_lms.markers import N_

from .data import InvalidResponse, Item, MissingValue, Problem, Score

# Ids inside an item (options, steps, dimensions, specimens): the same shape as every other id in a course.
ITEM_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,63}\Z")

# Form values arrive as lists (a field may repeat); a response never holds more than this many.
MAX_FORM_VALUES = 64


class ItemType(ABC):
    """One kind of item: reads its part of a definition, reads a trainee's answer, scores it."""

    name: ClassVar[str]

    @abstractmethod
    def parse(self, raw: Mapping[str, Any], problems: list[Problem]) -> dict[str, Any]:
        """The type's own parts of the definition, as plain JSON; what is wrong goes into `problems`."""

    @abstractmethod
    def read_response(self, item: Item, form: Mapping[str, list[str]]) -> dict[str, Any]:
        """The answer a form holds, checked against the item; raises InvalidResponse."""

    def read_partial(self, item: Item, form: Mapping[str, list[str]]) -> tuple[dict[str, Any] | None, bool]:
        """An answer in progress (a quiz saves each change): (response, complete), or (None, False) when
        nothing is given. Types made of parts override this to keep the parts given so far; a value
        the item cannot take is still refused (InvalidResponse)."""
        try:
            return self.read_response(item, form), True
        except MissingValue:
            return None, False

    @abstractmethod
    def score(self, item: Item, response: Mapping[str, Any]) -> Score:
        """How right the (already checked) response is; a part not given (from read_partial) scores 0."""

    @abstractmethod
    def correct_response(self, item: Item) -> dict[str, Any]:
        """The model answer, in the shape of a response."""

    @abstractmethod
    def locale_texts(self, spec: Mapping[str, Any]) -> list[dict[str, str]]:
        """Every localised text of the type's own parts, for translation coverage."""


TYPES: dict[str, ItemType] = {}


def register(item_type: type[ItemType]) -> type[ItemType]:
    TYPES[item_type.name] = item_type()
    return item_type


def single(form: Mapping[str, list[str]], name: str) -> str:
    values = form.get(name) or []
    if not values or values == [""]:
        raise MissingValue(N_("nothing is chosen or written for one of its parts"), field=name)
    if len(values) != 1 or not values[0]:
        raise InvalidResponse(N_("one of its parts holds more than one value"), field=name)
    return values[0]


def given(form: Mapping[str, list[str]], name: str) -> bool:
    """Whether the form holds something for `name` (an answer in progress may leave parts out)."""
    return bool(form.get(name)) and form.get(name) != [""]


def several(form: Mapping[str, list[str]], name: str) -> list[str]:
    values = form.get(name) or []
    if len(values) > MAX_FORM_VALUES:
        raise InvalidResponse(N_("it holds too many values"), field=name)
    return list(values)


def usable_ids(entries: list[Mapping[str, Any]]) -> set[str]:
    """The entries' ids that are strings: a malformed one is already a problem from ids_of, and may not even be
    hashable."""
    return {entry["id"] for entry in entries if isinstance(entry.get("id"), str)}


def ids_of(raw: Any, key: str, problems: list[Problem], *, minimum: int = 2) -> list[Mapping[str, Any]]:
    """An array of tables with unique, well-formed ids (options, steps, …)."""
    if not isinstance(raw, list) or len(raw) < minimum or not all(isinstance(e, Mapping) for e in raw):
        problems.append(Problem.of((key,), N_("needs at least %(count)d [[%(key)s]] tables"),
                                   N_("add [[%(key)s]] tables, each with an id"), count=minimum, key=key))
        return []
    seen = set()
    for index, entry in enumerate(raw):
        entry_id = entry.get("id")
        if not isinstance(entry_id, str) or not ITEM_ID.fullmatch(entry_id):
            problems.append(Problem.of((key, index, "id"), N_("must be lower-case letters, digits and hyphens"),
                                       N_('for example id = "a"')))
        elif entry_id in seen:
            problems.append(Problem.of((key, index, "id"), N_("%(id)s is used twice"), N_("give each its own id"),
                                       id=repr(entry_id)))
        else:
            seen.add(entry_id)
    return raw

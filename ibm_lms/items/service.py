"""The items' door: read an item file's table into an Item, read and score a trainee's response (pure)."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from ibm_lms.markers import N_

from . import types  # noqa: F401  (registers every item type)
from .data import InvalidResponse, Item, MissingValue, Problem, Score
from .localised import localised
from .reading import plain, tracked, unread_keys
from .registry import ITEM_ID, TYPES
from .types.answers import in_answer_unit
from .types.mrz import FIELD_LABELS as MRZ_FIELD_LABELS

_LOG = logging.getLogger(__name__)
COMMON_KEYS = {"type", "outcomes", "title", "prompt", "feedback"}


def item_types() -> tuple[str, ...]:
    return tuple(sorted(TYPES))


def parse_item(key: str, raw: Mapping[str, Any], *, also: Iterable[str] = ()) -> tuple[Item | None, list[Problem]]:
    """The item a file's table defines, or None and every problem found (never only the first). A key that
    neither the item nor the caller (`also`: the top-level keys it reads itself) reads is a problem too."""
    problems: list[Problem] = []
    raw = tracked(dict(raw))
    raw.used.update(also)
    type_name = raw.get("type")
    item_type = TYPES.get(type_name) if isinstance(type_name, str) else None
    if item_type is None:
        if type_name is None:
            problems.append(Problem.of(("type",), N_("is missing: every item names its type"),
                                       N_("use one of: %(types)s"), types=", ".join(item_types())))
        else:
            problems.append(Problem.of(("type",), N_("%(type)s is not an item type"), N_("use one of: %(types)s"),
                                       type=repr(type_name), types=", ".join(item_types())))
        return None, problems
    outcomes = raw.get("outcomes")
    if not isinstance(outcomes, list) or not outcomes or not all(isinstance(o, str) and o for o in outcomes):
        problems.append(Problem.of(("outcomes",), N_("must list at least one outcome code"), 'outcomes = ["DS-1"]'))
        outcomes = []
    title = localised(raw.get("title"), ("title",), problems)
    prompt = localised(raw.get("prompt"), ("prompt",), problems)
    feedback = localised(raw.get("feedback"), ("feedback",), problems)
    try:
        spec = item_type.parse(raw, problems)
    except (TypeError, ValueError, AttributeError, KeyError, OverflowError):
        # A type's checks missed a value of a kind they did not expect: the author still gets a problem to fix,
        # and the log shows the check to add.
        _LOG.warning("item %s: %s could not read its definition", key, type_name, exc_info=True)
        problems.append(Problem.of((), N_("holds a value of a kind a %(type)s item cannot take"),
                                   N_("compare each key with the examples in docs/course-format.md"), type=type_name))
    if problems:
        return None, problems
    # Only once the rest reads well: a reader that stopped at a problem has not asked for what follows it.
    problems = [Problem.of(path, N_("is not a key %(type)s items have"), N_("remove it, or correct its spelling"),
                           type=type_name) for path in unread_keys(raw)]
    if problems:
        return None, problems
    return Item(key=key, type=type_name, outcomes=tuple(outcomes), title=plain(title), prompt=plain(prompt),
                feedback=plain(feedback), spec=plain(spec)), []


def read_response(item: Item, form: Mapping[str, list[str]]) -> dict[str, Any]:
    return TYPES[item.type].read_response(item, form)


def read_partial(item: Item, form: Mapping[str, list[str]]) -> tuple[dict[str, Any] | None, bool]:
    """An answer in progress: (response, complete), or (None, False) when the form gives nothing."""
    return TYPES[item.type].read_partial(item, form)


def score(item: Item, response: Mapping[str, Any]) -> Score:
    return TYPES[item.type].score(item, response)


def correct_response(item: Item) -> dict[str, Any]:
    return TYPES[item.type].correct_response(item)


def numeric_value(item: Item, response: Mapping[str, Any]) -> float | None:
    """A numeric item's answer as typed ("1,5 kg"), as a number in the unit of its model answer, when it reads as
    one (reports such as xAPI want the number, not the text)."""
    return in_answer_unit(item.spec, response.get("answer") or "")


def localised_texts(item: Item) -> list[dict[str, str]]:
    """Every text of the item by locale: its title, prompt, feedback and its type's own texts."""
    return [item.title, item.prompt, item.feedback, *TYPES[item.type].locale_texts(item.spec)]


__all__ = ["ITEM_ID", "MRZ_FIELD_LABELS", "InvalidResponse", "Item", "MissingValue", "Problem", "Score",
           "correct_response", "item_types", "localised", "localised_texts", "numeric_value", "parse_item", "plain",
           "read_partial", "read_response", "score", "tracked", "unread_keys"]

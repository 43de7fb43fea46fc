"""Answering quiz questions through the forms a trainee's browser posts."""

from __future__ import annotations

import re

from ibm_lms.items.service import Item, correct_response


def fields_of(response: dict, prefix: str = "") -> dict[str, list[str]]:
    """The form fields (as the attempt page names them, after `prefix`) that carry `response`."""
    form: dict[str, list[str]] = {}
    for name, value in response.items():
        if name == "choice":
            form[prefix + "choice"] = [str(value).lower() if isinstance(value, bool) else value]
        elif name == "choices":
            form[prefix + "choices"] = list(value)
        elif name == "order":
            form.update({f"{prefix}position-{step}": [str(i + 1)] for i, step in enumerate(value)})
        elif name == "ratings":
            form.update({f"{prefix}rating-{k}": [str(v)] for k, v in value.items()})
        elif name in ("fields", "digits"):
            form.update({f"{prefix}{name[:-1]}-{k}": [v] for k, v in value.items()})
        elif name == "verdict" and value:
            form[prefix + "verdict"] = [value]
        elif name == "matches":
            form.update({f"{prefix}match-{k}": [v] for k, v in value.items()})
        elif name == "answer":
            form[prefix + "answer"] = [str(value)]
        elif name == "gaps":
            for gap, gap_response in value.items():
                form.update(fields_of(gap_response, f"{prefix}{gap}-"))
        elif name == "parts":
            for index, part_response in enumerate(value):
                form.update(fields_of(part_response, f"{prefix}part{index}-"))
    return form


def right_fields(item: Item, slot: int) -> dict[str, list[str]]:
    return fields_of(correct_response(item), f"q{slot}-")


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def attempt_id_of(response) -> int:
    return int(re.search(r"/quiz/attempts/(\d+)", response.headers["Location"]).group(1))

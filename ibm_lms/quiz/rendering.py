"""Page helpers for quiz templates: choices in the attempt's order, a matching question's answers, cloze gaps."""

from __future__ import annotations

import hashlib
import re

from flask import url_for
from flask_babel import get_locale, gettext
from markupsafe import Markup, escape

from ibm_lms.content import service as content
from ibm_lms.i18n.data import pick_text
from ibm_lms.items.data import Item

from .images import REFERENCE

_GAP = re.compile(r"\{\{([a-z0-9][a-z0-9-]{0,63})\}\}")


def option_of(option_id: str, options: list[dict]) -> dict:
    return next(o for o in options if o["id"] == option_id)


def matching_answers(pairs: list[dict], distractors: list[dict]) -> list[dict]:
    """Every answer a matching question offers, in an order that does not give the pairs away (stable)."""
    answers = [{"id": p["id"], "text": p["match"]} for p in pairs] + [{"id": d["id"], "text": d["text"]}
                                                                     for d in distractors]
    return sorted(answers, key=lambda a: hashlib.sha256(a["id"].encode()).hexdigest())


def _gap_input(number: int, gap_id: str, gap: dict, prefix: str, response: dict | None, disabled: bool) -> str:
    name = f"{prefix}{gap_id}-"
    label = escape(gettext("Gap %(number)s", number=number))
    off = " disabled" if disabled else ""
    if gap["type"] == "single_choice":
        chosen = (response or {}).get("choice")
        options = "".join(
            f'<option value="{escape(o["id"])}"{" selected" if o["id"] == chosen else ""}>'
            f'{escape(pick_text(o["text"], str(get_locale())).text)}</option>' for o in gap["spec"]["options"])
        return (f'<select class="gap" name="{escape(name)}choice" aria-label="{label}"{off}>'
                f'<option value="">–</option>{options}</select>')
    value = escape((response or {}).get("answer", ""))
    mode = ' inputmode="decimal"' if gap["type"] == "numeric" else ""
    return (f'<input type="text" class="gap" name="{escape(name)}answer" value="{value}" aria-label="{label}" '
            f'maxlength="200" autocomplete="off"{mode}{off}>')


def question_markdown(text: str | None, slug: str) -> Markup:
    """A question's Markdown as clean HTML, with the images its author uploaded (`![alt](image:digest)`)."""
    held: list[tuple[str, str]] = []

    def hold(match: re.Match) -> str:
        held.append((match.group(1), match.group(2)))
        return f"QUIZIMAGE{len(held) - 1}QUIZIMAGE"

    html = str(content.markdown(REFERENCE.sub(hold, text or ""), slug))
    for index, (alt, digest) in enumerate(held):
        image = (f'<img class="question-image" src="{escape(url_for("quiz.image", digest=digest))}" '
                 f'alt="{escape(alt)}" loading="lazy">')
        html = html.replace(f"QUIZIMAGE{index}QUIZIMAGE", image)
    return Markup(html)  # noqa: S704 - cleaned by nh3 in content.markdown; the images' parts are escaped here


def cloze_html(item: Item, prefix: str, response: dict | None, disabled: bool, slug: str) -> Markup:
    """The prompt with each {{gap}} replaced by its input: a list for a choice, a text box for the others."""
    html = str(question_markdown(pick_text(item.prompt, str(get_locale())).text, slug))
    gaps = item.spec["gaps"]
    answers = (response or {}).get("gaps", {})
    numbers = {gap_id: index + 1 for index, gap_id in enumerate(item.spec["order"])}

    def replace(match: re.Match) -> str:
        gap_id = match.group(1)
        if gap_id not in gaps:
            return match.group(0)
        return _gap_input(numbers[gap_id], gap_id, gaps[gap_id], prefix, answers.get(gap_id), disabled)

    return Markup(_GAP.sub(replace, html))  # noqa: S704 - the prompt was cleaned by nh3; inputs are escaped here

"""Moodle questions as our items: the raw table of a question file, in one language (pure).

Where Moodle can say more than our types (partial credit on a wrong choice, several accepted
numbers, wildcards in short answers), the question comes in with what our type can hold and a
note says what was left out; where the meaning itself would change (two fully right answers in a
single-answer question, right weights not adding up to 100 %), it is refused with the fix.
"""

from __future__ import annotations

import math
import re

from ibm_lms.locales import LOCALES
from ibm_lms.markers import N_, Phrase

from .data import UNASSIGNED_OUTCOME
from .html_text import plain_of_markdown
from .model import (
    GAP_MARKER,
    Body,
    Choice,
    Cloze,
    Gap,
    Matching,
    MoodleQuestion,
    MultiChoice,
    Numerical,
    NumericAnswer,
    Ordering,
    Refused,
    ShortAnswer,
    TrueFalse,
    note,
)

Note = tuple[str, str]  # (what was left out, how to get it back): Phrases, made by model.note

# Fractions in files are rounded (33.33333 %): this much off still counts as equal.
_EPSILON = 0.0005
# The longest accepted short answer (ibm_lms.items holds answers to the same bound).
MAX_ANSWER = 200
_TITLE_WORDS = 80
# Moodle's short-answer wildcard: an unescaped "*" matches any run of characters.
_WILDCARD = re.compile(r"(?<!\\)\*")
# True and False, for feedback that states the right answer in the bank's own language.
TRUE_FALSE_WORDS = {"en": ("True", "False"), "ru": ("Верно", "Неверно"), "uk": ("Правильно", "Неправильно"),
                    "ka": ("სწორია", "არასწორია"), "hy": ("Ճիշտ է", "Սխալ է"), "az": ("Doğru", "Yanlış"),
                    "ro": ("Adevărat", "Fals"), "be": ("Правільна", "Няправільна")}


class Texts:
    """Texts of one locale as our localised tables. English is the format's source language and is
    required: a bank in another language holds the same text under en until someone translates it."""

    def __init__(self, locale: str):
        if locale not in LOCALES:
            raise ValueError(f"{locale!r} is not an interface locale: use one of {', '.join(LOCALES)}")
        self.locale = locale

    def __call__(self, text: str) -> dict[str, str]:
        return {self.locale: text} if self.locale == "en" else {self.locale: text, "en": text}


def to_raw(question: MoodleQuestion, texts: Texts, notes: list[Note]) -> dict:
    """The question as the table of a question file; raises Refused when our types cannot hold it."""
    if not question.text.strip():
        raise Refused(N_("the question text is empty"), N_("write the question in the question text"))
    prompt = question.text
    if isinstance(question.body, Cloze):
        prompt = GAP_MARKER.sub(lambda found: "{{gap-" + found.group(1) + "}}", prompt)
    raw: dict = {"outcomes": [UNASSIGNED_OUTCOME], "title": texts(title_of(question)), "prompt": texts(prompt),
                 **_body(question, texts, notes)}
    feedback = question.general_feedback.strip() or _stated_answer(question.body, texts.locale)
    raw["feedback"] = texts(feedback)
    return raw


def title_of(question: MoodleQuestion) -> str:
    """The question's name, else the first words of its text (as Moodle names a question without one)."""
    name = " ".join(question.name.split())
    if name:
        return name
    words = " ".join(plain_of_markdown(GAP_MARKER.sub("…", question.text[:1000])).split())
    return words if len(words) <= _TITLE_WORDS else words[:_TITLE_WORDS].rsplit(" ", 1)[0] + "…"


def _body(question: MoodleQuestion, texts: Texts, notes: list[Note]) -> dict:
    body = question.body
    if isinstance(body, MultiChoice):
        return _choice(body, texts, notes)
    if isinstance(body, TrueFalse):
        raw: dict = {"type": "true_false", "answer": body.answer}
        if body.feedback_true.strip():
            raw["feedback_true"] = texts(body.feedback_true)
        if body.feedback_false.strip():
            raw["feedback_false"] = texts(body.feedback_false)
        return raw
    if isinstance(body, ShortAnswer):
        return _short_answer(body, texts, notes)
    if isinstance(body, Numerical):
        return _numeric(body, notes)
    if isinstance(body, Matching):
        return _matching(body, texts)
    if isinstance(body, Ordering):
        return _ordering(body, texts)
    return _cloze(question.text, body, texts, notes)


def option_ids(count: int) -> list[str]:
    """a, b, … z, then o27, o28 …: ids a trainee's form can carry."""
    return [chr(ord("a") + n) if n < 26 else f"o{n + 1}" for n in range(count)]


def _options(choices: tuple[Choice, ...], texts: Texts) -> list[dict]:
    if len(choices) < 2:
        raise Refused(N_("it has %(count)d answer(s); a choice question needs at least 2"),
                      N_("add the missing answers"), count=len(choices))
    options = []
    for number, (option_id, choice) in enumerate(zip(option_ids(len(choices)), choices, strict=True), start=1):
        if not choice.text.strip():
            raise Refused(N_("answer %(number)d is empty"), N_("write the answer's text, or remove it"), choice.line,
                          number=number)
        option = {"id": option_id, "text": texts(choice.text)}
        if choice.feedback.strip():
            option["feedback"] = texts(choice.feedback)
        options.append(option)
    return options


def _choice(body: MultiChoice, texts: Texts, notes: list[Note]) -> dict:
    options = _options(body.choices, texts)
    if body.single:
        fully_right = [(o["id"], c) for o, c in zip(options, body.choices, strict=True) if c.fraction >= 1 - _EPSILON]
        right = [option_id for option_id, _ in fully_right]
        if not right:
            raise Refused(N_("no answer is marked fully right (= or 100 %)"), N_("mark the right answer with ="))
        if len(right) > 1:
            # Named at the second: the first is the one an author most likely meant.
            raise Refused(N_("%(count)d answers are marked fully right in a single-answer question; ours has one "
                             "right answer"), N_("keep one answer with =; or give no answer = and the right ones "
                                                 "positive weights (%50%) to make it a multiple-answer question"),
                          fully_right[1][1].line, count=len(right))
        partial = [f"{_short(c.text)} ({_percent(c.fraction)})" for c in body.choices
                   if _EPSILON < c.fraction < 1 - _EPSILON]
        if partial and all(c.feedback.strip() for c in body.choices):
            return _dilemma(body, options, notes)
        if partial:
            notes.append(note(N_("partial credit is not kept: %(answers)s now score 0"),
                              N_("if an answer deserves credit, turn the question into a multiple-answer one"),
                              answers="; ".join(partial)))
        return {"type": "single_choice", "options": options, "answer": right[0]}
    positive = [(o["id"], c.fraction) for o, c in zip(options, body.choices, strict=True) if c.fraction > _EPSILON]
    if not positive:
        raise Refused(N_("no answer carries a positive weight"),
                      N_("give the right answers weights that add up to 100 %"))
    total = sum(fraction for _, fraction in positive)
    if abs(total - 1) > 0.001 * len(positive):
        raise Refused(N_("the weights of the right answers add up to %(total)s; they must add up to 100 %%"),
                      N_("correct the weights (for two right answers, ~%50% each)"), total=_percent(total))
    if max(f for _, f in positive) - min(f for _, f in positive) > _EPSILON:
        notes.append(note(N_("each right answer now counts the same (1/%(count)d), as our multiple response scores "
                             "it; the file weights them %(weights)s"),
                          N_("nothing to do, unless the difference in weight matters"), count=len(positive),
                          weights=", ".join(_percent(f) for _, f in positive)))
    # Ours takes 1/k off for each wrong answer chosen; Moodle takes what the file says (0 % costs nothing).
    share = 1 / len(positive)
    penalties = [f"{_short(c.text)} ({_percent(c.fraction)})" for c in body.choices
                 if c.fraction <= _EPSILON and abs(c.fraction + share) > _EPSILON]
    if penalties:
        notes.append(note(N_("each wrong answer chosen now takes away %(share)s, as our multiple response scores it; "
                             "the file weights %(answers)s"),
                          N_("nothing to do, unless a wrong answer should cost nothing or the whole question"),
                          share=_percent(share), answers="; ".join(penalties)))
    return {"type": "multiple_response", "options": options, "answer": [option_id for option_id, _ in positive]}


def _dilemma(body: MultiChoice, options: list[dict], notes: list[Note]) -> dict:
    """A single answer with partial credit and feedback on every answer is what our dilemma is: options
    scored from 0 to 1, each with the consequence of choosing it."""
    notes.append(note(N_("imported as a dilemma (options scored 0 to 1, each with its feedback as the consequence), "
                         "which keeps the partial credit"), N_("nothing to do")))
    for option, choice in zip(options, body.choices, strict=True):
        option["consequence"] = option.pop("feedback")
        option["score"] = round(min(1.0, max(0.0, choice.fraction)), 5)
    return {"type": "dilemma", "options": options}


def _short_answer(body: ShortAnswer, texts: Texts, notes: list[Note]) -> dict:
    right, wildcards = [], []
    # A partly right answer is left out whole, with its own note.
    explained = [repr(_short(a.text)) for a in body.answers if a.feedback.strip()
                 and not (_EPSILON < a.fraction < 1 - _EPSILON and a.text.strip() != "*")]
    if explained:
        notes.append(note(N_("the feedback given for single answers (%(answers)s) is not kept: our short answers "
                             "have the question's feedback only"),
                          N_("put what matters of it into the question's general feedback"),
                          answers=", ".join(explained)))
    for answer in body.answers:
        text = answer.text.strip()
        if answer.fraction < 1 - _EPSILON or not text:
            if answer.fraction > _EPSILON and text != "*":
                notes.append(note(N_("the answer %(answer)s worth %(weight)s is left out: our short answers are "
                                     "right or wrong"), N_("add it as accepted if it is right"),
                                  answer=repr(_short(text)), weight=_percent(answer.fraction)))
            continue
        if len(text) > MAX_ANSWER:
            raise Refused(N_("the answer %(answer)s is %(length)s characters long; at most %(limit)d are allowed"),
                          N_("shorten the answer"), answer.line, answer=repr(_short(text)), length=f"{len(text):,}",
                          limit=MAX_ANSWER)
        if _WILDCARD.search(text):
            wildcards.append(text)
            continue
        right.append(text.replace("\\*", "*"))
    if wildcards:
        notes.append(note(N_("left out answers with Moodle's * wildcard, which our short answers do not have: "
                             "%(answers)s"), N_("list the accepted spellings one by one"),
                          answers=", ".join(repr(_short(w)) for w in wildcards)))
    if not right:
        raise Refused(N_("no answer is accepted as fully right"), N_("give at least one answer with = (100 %)"))
    locale = texts.locale
    answers = {locale: right} if locale == "en" else {locale: right, "en": right}
    return {"type": "short_answer", "answers": answers, "case_sensitive": body.case_sensitive}


def _number(value: float) -> int | float:
    """Whole numbers as integers, so the table reads as an author would write it."""
    return int(value) if value.is_integer() and abs(value) < 1e15 else value


def _numeric(body: Numerical, notes: list[Note]) -> dict:
    right = [a for a in body.answers if a.value is not None and a.fraction >= 1 - _EPSILON]
    if not right:
        raise Refused(N_("no number is accepted as fully right"), N_("give the right number with = (100 %)"))
    chosen = right[0]
    dropped = [a for a in right[1:] if not _within(a, chosen)]
    dropped += [a for a in body.answers if a.value is not None and _EPSILON < a.fraction < 1 - _EPSILON]
    if dropped:
        notes.append(note(N_("our numeric questions accept one number with a tolerance; left out %(answers)s"),
                          N_("widen the tolerance of %(number)s if those answers are right"),
                          answers=", ".join(f"{_show(a)} ({_percent(a.fraction)})" for a in dropped),
                          number=_show(chosen)))
    explained = [_show(a) if a.value is not None else "*" for a in body.answers
                 if a.feedback.strip() and a not in dropped]
    if explained:
        notes.append(note(N_("the feedback given for single numbers (%(answers)s) is not kept: our numeric questions "
                             "have the question's feedback only"),
                          N_("put what matters of it into the question's general feedback"),
                          answers=", ".join(explained)))
    raw: dict = {"type": "numeric", "answer": _number(chosen.value), "tolerance": _number(abs(chosen.tolerance))}
    if body.units:
        raw["units"] = [{"unit": u.name, "multiplier": _number(u.multiplier)} for u in body.units]
        raw["unit_required"] = body.unit_required
    return raw


def _within(answer: NumericAnswer, chosen: NumericAnswer) -> bool:
    return (abs(answer.value - chosen.value) + abs(answer.tolerance)) <= abs(chosen.tolerance) + 1e-12


def _show(answer: NumericAnswer) -> str:
    return f"{_number(answer.value)}" + (f" ± {_number(abs(answer.tolerance))}" if answer.tolerance else "")


def _matching(body: Matching, texts: Texts) -> dict:
    if len(body.pairs) < 2:
        raise Refused(N_("it has %(count)d pair(s) of a prompt and its answer; matching needs at least 2"),
                      N_("add pairs written =prompt -> answer"), count=len(body.pairs))
    seen: dict[str, str] = {}
    for prompt, answer in body.pairs:
        if not prompt.strip() or not answer.strip():
            raise Refused(N_("the pair %(prompt)s -> %(answer)s lacks a side"), N_("write both sides"),
                          prompt=repr(_short(prompt)), answer=repr(_short(answer)))
        if answer.casefold() in seen:
            raise Refused(N_("the answer %(answer)s matches two prompts (%(first)s and %(second)s); in ours each "
                             "prompt has an answer of its own"),
                          N_("give each prompt a distinct answer, or split the question in two"),
                          answer=repr(_short(answer)), first=repr(_short(seen[answer.casefold()])),
                          second=repr(_short(prompt)))
        seen[answer.casefold()] = prompt
    raw: dict = {"type": "matching", "pairs": [{"id": f"p{n}", "prompt": texts(prompt), "match": texts(answer)}
                                               for n, (prompt, answer) in enumerate(body.pairs, start=1)]}
    distractors = [d for d in dict.fromkeys(body.distractors) if d.strip() and d.casefold() not in seen]
    if distractors:
        raw["distractors"] = [{"id": f"d{n}", "text": texts(text)} for n, text in enumerate(distractors, start=1)]
    return raw


def _ordering(body: Ordering, texts: Texts) -> dict:
    if len(body.items) < 3:
        raise Refused(N_("it has %(count)d item(s) to order; ours needs at least 3"), N_("add items"),
                      count=len(body.items))
    ids = [f"s{n}" for n in range(1, len(body.items) + 1)]
    return {"type": "ordering", "items": [{"id": i, "text": texts(t)} for i, t in zip(ids, body.items, strict=True)],
            "answer": ids}


def _cloze(text: str, body: Cloze, texts: Texts, notes: list[Note]) -> dict:
    numbers = [int(n) for n in GAP_MARKER.findall(text)]
    if sorted(numbers) != list(range(1, len(body.gaps) + 1)):
        raise Refused(N_("the gaps of the text do not match its answers"), N_("write each gap once in the text"))
    if len(set(body.weights)) > 1:
        notes.append(note(N_("the gaps' marks (%(marks)s) are not kept: each gap counts the same in ours"),
                          N_("nothing to do, unless the weights matter"),
                          marks=", ".join(f"{w:g}" for w in body.weights)))
    gaps = []
    for number, gap in enumerate(body.gaps, start=1):
        gap_notes: list[Note] = []
        try:
            gaps.append({"id": f"gap-{number}", **_gap(gap, texts, gap_notes)})
        except Refused as refused:
            raise Refused(Phrase(N_("gap %(number)d: %(problem)s"), number=number, problem=refused.message),
                          refused.fix) from None
        notes += [(Phrase(N_("gap %(number)d: %(problem)s"), number=number, problem=message), fix)
                  for message, fix in gap_notes]
    return {"type": "cloze", "gaps": gaps}


def _gap(gap: Gap, texts: Texts, notes: list[Note]) -> dict:
    if isinstance(gap, MultiChoice):
        if not gap.single:
            raise Refused(N_("a multiple-response gap (MULTIRESPONSE) takes several answers; our gaps take one"),
                          N_("make it a single-answer gap (MULTICHOICE), or a question of its own"))
        return _choice(gap, texts, notes)
    if isinstance(gap, ShortAnswer):
        return _short_answer(gap, texts, notes)
    return _numeric(gap, notes)


def _stated_answer(body: Body | Gap, locale: str) -> str:
    """Feedback for a question that has none: the right answer, in the words of the bank's own language."""
    if isinstance(body, MultiChoice):
        right = [c for c in body.choices if c.fraction > _EPSILON] if not body.single else [
            max(body.choices, key=lambda c: c.fraction)] if body.choices else []
        explained = [c.feedback for c in right if c.feedback.strip()]
        return "\n\n".join(explained) or "✓ " + "; ".join(plain_of_markdown(c.text) for c in right)
    if isinstance(body, TrueFalse):
        own = body.feedback_true if body.answer else body.feedback_false
        return own.strip() or "✓ " + TRUE_FALSE_WORDS[locale][0 if body.answer else 1]
    if isinstance(body, ShortAnswer):
        return "✓ " + " / ".join(a.text for a in body.answers if a.fraction >= 1 - _EPSILON)
    if isinstance(body, Numerical):
        right = [a for a in body.answers if a.value is not None and a.fraction >= 1 - _EPSILON]
        unit = f" {body.units[0].name}" if body.units else ""
        return ("✓ " + _show(right[0]) + unit) if right else "✓"
    if isinstance(body, Matching):
        return "\n".join(f"- {plain_of_markdown(p)} → {a}" for p, a in body.pairs)
    if isinstance(body, Ordering):
        return "\n".join(f"{n}. {plain_of_markdown(t)}" for n, t in enumerate(body.items, start=1))
    return "\n".join(f"{n}. {_stated_answer(gap, locale).removeprefix('✓ ')}" for n, gap in enumerate(body.gaps, 1))


def _percent(fraction: float) -> str:
    value = round(fraction * 100, 5)
    return f"{value:g} %" if not math.isnan(value) else "?"


def _short(text: str, limit: int = 40) -> str:
    words = " ".join(plain_of_markdown(text[:500]).split())
    return words if len(words) <= limit else words[: limit - 1] + "…"


def ordering_notes(items: int, shown: int, select: str, grading: str) -> list[Note]:
    """What of qtype_ordering's options our ordering does not do: it shows every item, and grades by the
    longest run of items in their right relative order (Moodle's LONGEST_ORDERED_SUBSET)."""
    notes = []
    if select.upper() not in ("", "ALL", "EXACT") and shown < items:
        notes.append(note(N_("Moodle showed %(shown)d of the %(items)d items; ours shows them all"),
                          N_("nothing to do, unless the subset mattered"), shown=shown, items=items))
    if grading and grading.upper() != "LONGEST_ORDERED_SUBSET":
        notes.append(note(N_("graded by the longest run of items in order, not by %(grading)s"),
                          N_("nothing to do: partial credit works the same way for most answers"), grading=grading))
    return notes

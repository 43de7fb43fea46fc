"""What both importers share: from the questions a reader found to ImportedQuestions and problems (pure)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from urllib.parse import unquote

from ibm_lms.items.service import parse_item
from ibm_lms.markers import N_, Phrase
from ibm_lms.text import is_bounded_text

from .data import MAX_TEXT, ImportedQuestion, ImportProblem
from .html_text import Findings
from .incoming import Note, Texts, to_raw
from .keys import KeyMaker, category_id, default_category_id
from .model import MoodleQuestion, Refused, note

MAX_TAGS = 20
MAX_TAG = 64
# A tag that states a difficulty: "hard", "difficulty:hard" (as our export writes it), "difficulty-hard".
_DIFFICULTY_TAG = re.compile(r"(?:difficulty[:\- _]?)?(easy|medium|hard)\Z", re.I)


@dataclass(frozen=True)
class Entry:
    """One thing a reader found: a question, a category switch, or what kept it from reading a question."""

    where: str
    question: MoodleQuestion | None = None
    category: str | None = None
    notes: tuple[Note, ...] = ()
    refused: Refused | None = None


def findings_notes(findings: Findings) -> list[Note]:
    """What a text conversion left out, said the way an author can act on."""
    notes: list[Note] = []
    if findings.media:
        # A <file> gives its name as is, an <img src> URL-encoded: "pass port.png" is "pass%20port.png".
        names = ", ".join(dict.fromkeys(unquote(name.removeprefix("@@PLUGINFILE@@/")) for name in findings.media))
        notes.append(note(N_("the question shows images or media (%(names)s) that are not imported: the question "
                             "comes in without them"),
                          N_("add the figure to the course and refer to it, or describe it in the text"), names=names))
    if findings.removed:
        notes.append(note(N_("the question held active content that was removed: %(kinds)s"),
                          N_("nothing to do: scripts and event handlers never run in the tool"),
                          kinds=", ".join(sorted(findings.removed))))
    return notes


def collect(entries: Iterable[Entry], *, locale: str, default_category: str,
            key_prefix: str) -> tuple[list[ImportedQuestion], list[ImportProblem]]:
    texts = Texts(locale)
    keys = KeyMaker(key_prefix)
    category = default_category_id(default_category)
    questions: list[ImportedQuestion] = []
    problems: list[ImportProblem] = []
    for entry in entries:
        if entry.category is not None:
            category = category_id(entry.category, default_category)
            continue
        problems += [ImportProblem(entry.where, message, fix, blocking=False) for message, fix in entry.notes]
        if entry.refused is not None:
            problems.append(_problem(entry.where, entry.refused))
            continue
        if entry.question is None:
            continue  # left out, as its note says
        imported = _import_one(entry, texts, keys, category, problems)
        if imported is not None:
            questions.append(imported)
    return questions, problems


def _problem(where: str, refused: Refused) -> ImportProblem:
    return ImportProblem(at_line(refused.line) if refused.line else where, refused.message, refused.fix)


def at_line(number: int) -> Phrase:
    """Where a problem is: a line of the file."""
    return Phrase(N_("line %(number)d"), number=number)


def _import_one(entry: Entry, texts: Texts, keys: KeyMaker, category: str,
                problems: list[ImportProblem]) -> ImportedQuestion | None:
    question = entry.question
    notes: list[Note] = []
    try:
        raw = to_raw(question, texts, notes)
        _check_bounds(raw)
    except Refused as refused:
        problems.append(_problem(entry.where, refused))
        return None
    finally:
        problems += [ImportProblem(entry.where, message, fix, blocking=False) for message, fix in notes]
    tags, difficulty = _tags(question.tags, entry.where, problems)
    # Moodle's ID number ([id:…] in GIFT) names a question for good; its name is often "Q1" in every file.
    key = keys.make(question.idnumber or raw["title"][texts.locale])
    item, found = parse_item(key, raw)
    if item is None:
        # The item checker's fixes speak of our TOML ("tolerance = 0.5"); the author of this file wrote GIFT or XML.
        problems += [ImportProblem(entry.where, Phrase(N_("%(where)s: %(problem)s"), where=p.where,
                                                       problem=Phrase(p.message, **dict(p.values))),
                                   Phrase(N_("correct the value in Moodle or in the file, and import it again")))
                     for p in found]
        return None
    return ImportedQuestion(key=key, raw=raw, category=category, tags=tags, difficulty=difficulty, source=entry.where)


def _check_bounds(raw: dict) -> None:
    for path, text in _strings(raw, ()):
        if len(text) > MAX_TEXT:
            raise Refused(N_("a text (%(path)s) is %(length)s characters long; at most %(limit)s are allowed"),
                          N_("shorten it, or split the question"), path=".".join(map(str, path)),
                          length=f"{len(text):,}", limit=f"{MAX_TEXT:,}")
        if not is_bounded_text(text, MAX_TEXT, multiline=True, empty=True):
            raise Refused(N_("a text (%(path)s) holds characters that cannot be stored"),
                          N_("retype it without control characters"), path=".".join(map(str, path)))


def _strings(value, path: tuple) -> Iterator[tuple[tuple, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for name, inner in value.items():
            yield from _strings(inner, (*path, name))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from _strings(inner, (*path, index))


def _tags(found: tuple[str, ...], where: str, problems: list[ImportProblem]) -> tuple[tuple[str, ...], str]:
    tags: list[str] = []
    difficulty = "medium"
    for tag in dict.fromkeys(" ".join(t.split()) for t in found if t.strip()):
        level = _DIFFICULTY_TAG.match(tag)
        if level:
            difficulty = level.group(1).lower()
        elif not is_bounded_text(tag, MAX_TAG):
            problems.append(ImportProblem(where, *note(N_("the tag %(tag)s… is longer than %(limit)d characters and "
                                                          "was left out"), N_("shorten the tag"), tag=repr(tag[:40]),
                                                       limit=MAX_TAG), blocking=False))
        else:
            tags.append(tag)
    if len(tags) > MAX_TAGS:
        problems.append(ImportProblem(where, *note(N_("%(count)d tags: only the first %(limit)d are kept"),
                                                   N_("keep the tags quizzes draw by"), count=len(tags), limit=MAX_TAGS),
                                      blocking=False))
        tags = tags[:MAX_TAGS]
    return tuple(tags), difficulty

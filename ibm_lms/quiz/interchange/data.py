"""The records the interchange hands out and takes in, and the limits every input is held to (pure)."""

from __future__ import annotations

from dataclasses import dataclass

from ibm_lms.items.data import Item

# An import file larger than this is refused unread: a real Moodle bank of a few thousand
# questions without images stays well below it.
MAX_INPUT_BYTES = 20 * 1024 * 1024
MAX_QUESTIONS = 5_000
# The longest text of one locale an item may hold (ibm_lms.items checks the same bound).
MAX_TEXT = 20_000
# A source text (HTML with its markup) longer than this cannot shrink below MAX_TEXT: it is refused
# before it is converted, so a hostile file cannot make the importer parse megabytes of markup.
MAX_SOURCE_TEXT = 10 * MAX_TEXT
# Converting markup costs tens of microseconds a tag: a file holding more tags than this (a few times what a full
# bank of MAX_QUESTIONS rich questions has) is refused before any is converted, so no import keeps a worker for long.
MAX_MARKUP_TAGS = 300_000
# More answers than this in one question is not a question a trainee can answer.
MAX_ANSWERS = 100
# Moodle knows nothing of our outcomes, yet an item needs one: imported questions carry this
# placeholder until an author links them to the course's outcomes.
UNASSIGNED_OUTCOME = "UNASSIGNED"


@dataclass(frozen=True)
class ImportedQuestion:
    """One question read from a Moodle file, in our format."""

    key: str                # a valid question id, unique in the file
    raw: dict               # the table of a questions/<key>.toml file, accepted by items.service.parse_item
    category: str           # from $CATEGORY / <question type="category">, as an id
    tags: tuple[str, ...]   # Moodle tags ([tag:…] comments in GIFT, <tags> in XML)
    difficulty: str         # "medium" unless a tag says otherwise
    source: str             # where it came from: "line 12" (GIFT) or "question 3 (name)" (XML)


@dataclass(frozen=True)
class ImportProblem:
    """What an import could not take as it is: where, what, and how to fix it."""

    where: str              # "line 12", "question 3 (name)" or "file"
    message: str
    fix: str
    # False for a note: the question came in, adapted (partial credit kept another way, an image left
    # out, a script removed); the importer reports it but imports the file.
    blocking: bool = True


@dataclass(frozen=True)
class ExportQuestion:
    """One question of our bank to write out."""

    key: str
    item: Item
    category: str
    tags: tuple[str, ...]
    difficulty: str

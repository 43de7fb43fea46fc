"""Question interchange with Moodle and QTI players: GIFT and Moodle XML both ways, QTI 3.0 out (pure).

Instructors bring the banks they already have in their national Moodle, and take ours back into
it. Imports turn each question into the table of a questions/<key>.toml file, in the language the
bank is written in, and report every question they could not take as it is, with where, what and
the fix; they never raise on what a file holds. Exports write the language asked for (else Russian,
else English), say in comments what a format cannot carry, and skip what it cannot hold at all.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ibm_lms.markers import N_, Phrase

from . import gift, gift_writer, moodle_xml, moodle_xml_writer, outgoing, qti3
from .data import (
    MAX_INPUT_BYTES,
    MAX_MARKUP_TAGS,
    MAX_QUESTIONS,
    UNASSIGNED_OUTCOME,
    ExportQuestion,
    ImportedQuestion,
    ImportProblem,
)
from .html_text import clean_input
from .importing import at_line, collect
from .incoming import Texts
from .model import Refused, note

FILE = Phrase(N_("file"))


def _too_large(size: int) -> ImportProblem | None:
    if size <= MAX_INPUT_BYTES:
        return None
    return ImportProblem(FILE, *note(N_("the file has %(size)s MB; at most %(limit)d MB are imported at once"),
                                     N_("export the questions category by category"), size=f"{size / 1024 / 1024:.1f}",
                                     limit=MAX_INPUT_BYTES // 1024 // 1024))


def _too_many(count: int, *, at_least: bool = False) -> ImportProblem | None:
    if count <= MAX_QUESTIONS:
        return None
    said = (note(N_("the file holds more than %(count)s questions; at most %(limit)s are imported at once"),
                 N_("export the questions category by category"), count=f"{MAX_QUESTIONS:,}", limit=f"{MAX_QUESTIONS:,}")
            if at_least else
            note(N_("the file holds %(count)s questions; at most %(limit)s are imported at once"),
                 N_("export the questions category by category"), count=f"{count:,}", limit=f"{MAX_QUESTIONS:,}"))
    return ImportProblem(FILE, *said)


# An opening or closing HTML tag; an MRZ's "<" fillers ("P<UTOERIKSSON<<ANNA") are none.
_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9]*(?=[\s/>])")


def _too_much_markup(texts: Iterable[str]) -> ImportProblem | None:
    counted = 0
    for text in texts:
        counted += sum(1 for _ in _TAG.finditer(text))
        if counted > MAX_MARKUP_TAGS:
            return ImportProblem(FILE, *note(N_("the file holds more than %(limit)s HTML tags; at most that many are "
                                                "imported at once"), N_("export the questions category by category"),
                                             limit=f"{MAX_MARKUP_TAGS:,}"))
    return None


def import_gift(text: str, *, locale: str, default_category: str,
                key_prefix: str) -> tuple[list[ImportedQuestion], list[ImportProblem]]:
    """The questions of a GIFT text, each in our format, and every problem found (never only the first)."""
    Texts(locale)  # an unknown locale is the caller's mistake, not the file's
    problem = _too_large(len(text.encode("utf-8", "surrogatepass")))
    if problem:
        return [], [problem]
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        line = text.count("\n", 0, error.start) + 1
        return [], [ImportProblem(at_line(line), *note(N_("the text holds characters that are not valid Unicode"),
                                                       N_("save the file as UTF-8 and import it again")))]
    text = clean_input(text.removeprefix("\ufeff"))
    problem = _too_much_markup([text])
    if problem:
        return [], [problem]
    blocks, count = [], 0
    for block in gift.blocks(text):
        blocks.append(block)
        count += gift.is_question(block)
        if count > MAX_QUESTIONS:
            # Counting stops at the limit: a file of a million questions is not read to the end to say so.
            return [], [_too_many(count, at_least=True)]
    entries = (entry for block in blocks for entry in gift.read_block(block))
    return collect(entries, locale=locale, default_category=default_category, key_prefix=key_prefix)


def import_moodle_xml(data: bytes, *, locale: str, default_category: str,
                      key_prefix: str) -> tuple[list[ImportedQuestion], list[ImportProblem]]:
    """The questions of a Moodle XML file, each in our format, and every problem found (never only the first)."""
    Texts(locale)
    if isinstance(data, str):
        data = data.encode("utf-8")
    problem = _too_large(len(data))
    if problem:
        return [], [problem]
    try:
        root = moodle_xml.parse(data)
    except Refused as refused:
        return [], [ImportProblem(at_line(refused.line) if refused.line else FILE, refused.message, refused.fix)]
    questions = root.findall("question")
    problem = _too_many(sum(1 for q in questions if q.get("type") != "category"))
    if problem:
        return [], [problem]
    if not questions:
        return [], [ImportProblem(FILE, *note(N_("the file holds no <question> elements"),
                                              N_("export some questions from Moodle")))]
    problem = _too_much_markup(element.text for element in root.iter() if element.text)
    if problem:
        return [], [problem]
    return collect(moodle_xml.read(questions), locale=locale, default_category=default_category,
                   key_prefix=key_prefix)


def export_gift(questions: list[ExportQuestion], *, locale: str) -> str:
    """The questions as GIFT in one language; what GIFT cannot hold is skipped with a comment saying why."""
    return gift_writer.write(outgoing.plan(questions, locale))


def export_moodle_xml(questions: list[ExportQuestion], *, locale: str) -> bytes:
    """The questions as Moodle XML (UTF-8) in one language."""
    return moodle_xml_writer.write(outgoing.plan(questions, locale))


def export_qti3(questions: list[ExportQuestion], *, locale: str) -> bytes:
    """The questions as a QTI 3.0 content package (a zip of imsmanifest.xml and items/<id>.xml)."""
    return qti3.write(outgoing.plan(questions, locale), locale)


__all__ = ["MAX_INPUT_BYTES", "MAX_QUESTIONS", "UNASSIGNED_OUTCOME", "ExportQuestion", "ImportProblem",
           "ImportedQuestion", "export_gift", "export_moodle_xml", "export_qti3", "import_gift", "import_moodle_xml"]

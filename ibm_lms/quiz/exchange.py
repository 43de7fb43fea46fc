"""Import and export of a course's bank through the interchange formats (GIFT, Moodle XML, QTI 3.0).

An import is all or nothing: every problem of the file (syntax, a type we cannot take, a question
our checks refuse) is reported together, with where it is, and nothing is saved unless there is
none. Moodle has no learning outcomes: an imported question takes the course outcome codes found
among its tags, else the outcome the importer names.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ibm_lms.content import service as content
from ibm_lms.markers import N_, Phrase
from ibm_lms.tenancy.data import Identity

from . import authoring, interchange
from .data import QuestionDraft
from .errors import ImportRefused

IMPORT_FORMATS = ("gift", "moodle-xml")
EXPORT_FORMATS = {"gift": ("text/plain; charset=utf-8", "txt"), "moodle-xml": ("application/xml", "xml"),
                  "qti3": ("application/zip", "zip")}
KEY_PREFIX = "imp-"


@dataclass(frozen=True)
class ExportFile:
    data: bytes
    media_type: str
    filename: str


@dataclass(frozen=True)
class ImportReport:
    imported: int
    # What was adapted on the way in (partial credit kept another way, an image left out): "where: note".
    notes: tuple[str, ...]
    # Keys the bank already had: an import names questions by their titles, so a question imported again
    # becomes a new version of the one it came in as before (its earlier versions stay).
    replaced: tuple[str, ...] = ()


def read(data: bytes, fmt: str, *, locale: str, category: str) -> tuple[list, list[str], list[str]]:
    """The file's questions, every blocking problem and every note, each as "where: message — fix"."""
    if fmt == "gift":
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as error:
            line = data[:error.start].count(b"\n") + 1
            return [], [Phrase(N_("line %(number)d: the file is not UTF-8 text — save it as UTF-8 and import it "
                                  "again"), number=line)], []
        questions, problems = interchange.import_gift(text, locale=locale, default_category=category,
                                                      key_prefix=KEY_PREFIX)
    else:
        questions, problems = interchange.import_moodle_xml(data, locale=locale, default_category=category,
                                                            key_prefix=KEY_PREFIX)
    described = [(p.blocking, Phrase(N_("%(where)s: %(problem)s — %(fix)s"), where=p.where, problem=p.message,
                                     fix=p.fix)) for p in problems]
    return questions, [text for blocking, text in described if blocking], [text for blocking, text in described
                                                                              if not blocking]


def with_outcomes(questions: list, codes: set[str], outcome: str | None) -> tuple[list, list[str]]:
    """Each question linked to the course outcomes its tags name, else to `outcome`."""
    linked, problems = [], []
    for question in questions:
        tagged = [tag.upper() for tag in question.tags if tag.upper() in codes]
        chosen = tagged or ([outcome] if outcome else [])
        if not chosen:
            problems.append(Phrase(N_("%(where)s: the question is linked to no outcome of the course — tag it with an "
                                      "outcome code in Moodle, or name one for the whole file (%(codes)s)"),
                                   where=question.source, codes=", ".join(sorted(codes))))
            continue
        raw = {**question.raw, "outcomes": chosen}
        linked.append(replace(question, raw=raw, tags=tuple(t for t in question.tags if t.upper() not in codes)))
    return linked, problems


def import_file(identity: Identity, slug: str, data: bytes, fmt: str, *, locale: str, category: str,
                outcome: str | None) -> ImportReport:
    """Saves every question of the file into the academy's bank, or nothing (ImportRefused lists why)."""
    codes = content.course_outcome_codes(slug, identity.tenant_id)
    if outcome is not None and outcome not in codes:
        raise ImportRefused(problems=(Phrase(N_("the outcome %(code)s is not one of the course's: %(codes)s"),
                                             code=repr(outcome), codes=", ".join(sorted(codes))),))
    questions, problems, notes = read(data, fmt, locale=locale, category=category)
    linked, unlinked = with_outcomes(questions, codes, outcome)
    problems += unlinked
    if not problems and not linked:
        problems.append(Phrase(N_("file: the file holds no question — export some questions from Moodle")))
    if problems:
        raise ImportRefused(problems=tuple(problems))
    drafts = [QuestionDraft(q.key, q.category, q.tags, q.difficulty,
                            {**q.raw, "category": q.category, "tags": list(q.tags), "difficulty": q.difficulty})
              for q in linked]
    by_key = {q.key: q.source for q in linked}
    had = authoring.own_keys(slug, identity.tenant_id, [draft.key for draft in drafts])
    try:
        saved = authoring.import_questions(identity, slug, drafts)
        return ImportReport(len(saved), tuple(notes), tuple(key for key in (draft.key for draft in drafts) if key in had))
    except ImportRefused as refused:
        # Name each refused question by where it sits in the file, as the file's own problems are.
        raise ImportRefused(problems=tuple(_located(problem, by_key) for problem in refused.problems)) from refused


def _located(problem: str, by_key: dict[str, str]) -> str:
    key = problem.values.get("key") if isinstance(problem, Phrase) else None
    if key not in by_key:
        return problem
    return Phrase(N_("%(where)s (%(key)s): %(problem)s"), where=by_key[key], key=key, problem=problem.values["problem"])


def export_file(slug: str, tenant_id: int | None, fmt: str, locale: str) -> ExportFile:
    bank = authoring.bank_view(slug, tenant_id if tenant_id is not None else 0)
    questions = [interchange.ExportQuestion(key, q.item, q.category, q.tags, q.difficulty)
                 for key, q in sorted(bank.items())]
    if fmt == "gift":
        data = interchange.export_gift(questions, locale=locale).encode("utf-8")
    elif fmt == "moodle-xml":
        data = interchange.export_moodle_xml(questions, locale=locale)
    else:
        data = interchange.export_qti3(questions, locale=locale)
    media_type, extension = EXPORT_FORMATS[fmt]
    return ExportFile(data, media_type, f"{slug}-{locale}.{extension}")

"""Authoring pages: a course's bank (questions and quizzes), the question editor, preview, translation,
the quiz builder. Instructors and administrators only; every form carries its CSRF token."""

from __future__ import annotations

import csv
import io
from importlib import resources

import tomli_w
from flask import Blueprint, Response, abort, jsonify, redirect, render_template, request, url_for
from flask_babel import get_locale, gettext
from markupsafe import Markup

from ibm_lms.content import service as content
from ibm_lms.errors import N_, Phrase, in_reader_language, wants_json
from ibm_lms.i18n import service as i18n
from ibm_lms.locales import LOCALES
from ibm_lms.markers import read
from ibm_lms.tenancy import service as tenancy
from ibm_lms.tenancy.data import Role
from ibm_lms.text import whole_number_or_none

from . import analysis, images, labels, service, statistics, texts
from .data import QuestionDraft
from .errors import EditConflict, ImageRefused, ImportRefused
from .settings import GRADING, KINDS, MAX_QUESTIONS, REVIEW_LEVELS

blueprint = Blueprint("authoring", __name__, url_prefix="/authoring")
author_required = tenancy.role_required(Role.INSTRUCTOR)
MAX_DEFINITION_CHARS = 200_000
# Each row of the quiz builder draws at least one question, and the builder adds three empty rows.
MAX_DRAW_ROWS = MAX_QUESTIONS + 3
ITEM_TYPES = tuple(labels.ITEM_TYPES)


def _locale() -> str:
    return str(get_locale())


def _identity():
    return tenancy.require_identity()


def definition_text(definition: dict) -> str:
    return tomli_w.dumps(definition, multiline_strings=True)


def starter(item_type: str, slug: str, identity) -> str:
    if item_type not in ITEM_TYPES:
        abort(404)
    text = resources.files("ibm_lms.quiz").joinpath("starters", f"{item_type}.toml").read_text(encoding="utf-8")
    codes = sorted(content.course_outcome_codes(slug, identity.tenant_id))
    return text.replace("OUTCOME", codes[0] if codes else "")


def _draft_from(text: str, key: str) -> tuple[QuestionDraft | None, list[dict]]:
    """The question a TOML text defines, or its syntax problem (with the line)."""
    if len(text) > MAX_DEFINITION_CHARS:
        return None, [{"line": None, "message": gettext("the definition is longer than %(count)d characters",
                                                        count=MAX_DEFINITION_CHARS),
                       "fix": gettext("split the case into several questions")}]
    raw, problem = content.read_toml_text(text)
    if problem is not None:
        # The reader's own words for what it found stay as it gives them (in English), marked so inside a sentence
        # in the page's language.
        reason = Markup('<span lang="en">{}</span>').format(problem.message)
        sentence = Markup(gettext("not valid TOML: %(reason)s"))  # noqa: S704 - our own catalog's message
        return None, [{"line": problem.line, "message": sentence % {"reason": reason},
                       "fix": gettext("correct the TOML syntax on that line")}]
    tags = raw.get("tags", [])
    return QuestionDraft(key, raw.get("category"), tuple(tags) if isinstance(tags, list) else tags,
                         raw.get("difficulty"), raw), []


def _shown(problem, line: int | None = None) -> dict:
    """A definition's problem as the page lists it, in the reader's language."""
    return {"line": line, "message": read(problem.located(), in_reader_language),
            "fix": read(problem.fix_text(), in_reader_language)}


def _at_field(label: str, problem, *, fix: bool = True) -> dict:
    """A problem with a field of a form, named by the label its author sees there."""
    return {"line": None, "message": f"{label}: {read(problem.text(), in_reader_language)}",
            "fix": read(problem.fix_text(), in_reader_language) if fix else ""}


def _conflict(conflict: EditConflict) -> dict:
    """A save refused because another save came first, said on the form that keeps the author's changes."""
    return {"line": None, "message": in_reader_language(
        N_("Someone saved version %(version)s while you were editing. Your changes are still on the form: compare "
           "them with that version, and save again to replace it."), conflict.params), "fix": ""}


def _problems(problems, text: str) -> list[dict]:
    # The question's key is a field of the form, not a line of the definition.
    return [_at_field(gettext("Question id"), p) if p.path == ("key",)
            else _shown(p, content.toml_line(text, p.path)) for p in problems]


def _by_name(categories: set[str], names: dict) -> list[str]:
    """Categories in the order of the names the page shows."""
    return sorted(categories, key=lambda c: (names[c].text if c in names else c).casefold())


@blueprint.get("/courses/<slug>/")
@author_required
def bank(slug: str):
    identity = _identity()
    questions = service.bank_questions(identity, slug)
    category = request.args.get("category", "")
    item_type = request.args.get("type", "")
    shown = [q for q in questions if (not category or q.category == category)
             and (not item_type or q.item.type == item_type)]
    names = service.category_names(identity, slug, _locale())
    return render_template("authoring/bank.html", identity=identity, slug=slug, questions=shown,
                           total=len(questions), categories=_by_name({q.category for q in questions}, names),
                           category_names=names,
                           category=category, item_type=item_type, item_types=ITEM_TYPES, labels=labels,
                           quizzes=service.bank_quizzes(identity, slug),
                           course_title=content.course_title(slug, identity.tenant_id, _locale()),
                           locales=LOCALES)


@blueprint.route("/courses/<slug>/questions/new", methods=["GET", "POST"])
@author_required
def new_question(slug: str):
    identity = _identity()
    if request.method == "GET":
        item_type = request.args.get("type", "single_choice")
        return render_template("authoring/question.html", identity=identity, slug=slug, key="", record=None,
                               definition=starter(item_type, slug, identity), problems=[],
                               preview=None)
    return _save(slug, request.form.get("key", "").strip(), None, new=True)


@blueprint.route("/courses/<slug>/questions/<key>/edit", methods=["GET", "POST"])
@author_required
def edit_question(slug: str, key: str):
    identity = _identity()
    record = service.bank_question(identity, slug, key)
    if request.method == "GET":
        return render_template("authoring/question.html", identity=identity, slug=slug, key=key, record=record,
                               definition=definition_text(record.definition), problems=[],
                               preview=None)
    if record.shared:
        abort(403)  # the shared bank is edited in its course folder; a tenant copies the question first
    base = request.form.get("base_version", "")
    return _save(slug, key, record, base_version=whole_number_or_none(base))


def _save(slug: str, key: str, record, *, base_version: int | None = None, new: bool = False):
    identity = _identity()
    text = request.form.get("definition", "")
    draft, problems = _draft_from(text, key)
    preview = None
    if draft is not None:
        if request.form.get("action") == "preview":
            checked, found = service.check_question(identity, slug, draft)
            problems = _problems(found, text)
            preview = checked
        else:
            try:
                saved, found = service.save_question(identity, slug, draft, base_version=base_version, new=new)
            except EditConflict as conflict:
                # The author's text stays on the form, now based on the newer version: saving again replaces it.
                record = service.bank_question(identity, slug, key)
                return render_template("authoring/question.html", identity=identity, slug=slug, key=key,
                                       record=record, definition=text, problems=[_conflict(conflict)],
                                       preview=None), conflict.status
            if saved is not None:
                return redirect(url_for("authoring.edit_question", slug=slug, key=saved.key, saved=saved.version),
                                code=303)
            problems = _problems(found, text)
    status = 200 if preview is not None and not problems else 422
    return render_template("authoring/question.html", identity=identity, slug=slug, key=key, record=record,
                           definition=text, problems=problems, preview=preview), status


@blueprint.get("/courses/<slug>/questions/<key>/preview")
@author_required
def preview_question(slug: str, key: str):
    identity = _identity()
    record = service.bank_question(identity, slug, key)
    return render_template("authoring/preview.html", identity=identity, slug=slug, record=record, labels=labels,
                           category_names=service.category_names(identity, slug, _locale()))


@blueprint.post("/courses/<slug>/questions/<key>/copy")
@author_required
def copy_question(slug: str, key: str):
    record = service.copy_question(_identity(), slug, key)
    return redirect(url_for("authoring.edit_question", slug=slug, key=record.key), code=303)


@blueprint.post("/courses/<slug>/questions/<key>/archive")
@author_required
def archive_question(slug: str, key: str):
    service.archive_question(_identity(), slug, key)
    return redirect(url_for("authoring.bank", slug=slug), code=303)


@blueprint.route("/courses/<slug>/questions/<key>/translate", methods=["GET", "POST"])
@author_required
def translate_question(slug: str, key: str):
    identity = _identity()
    record = service.bank_question(identity, slug, key)
    target = request.values.get("to", "")
    source = request.values.get("from", "en")
    if target not in LOCALES or source not in LOCALES or target == source:
        # The author's own language first: an instructor working in Georgian translates into Georgian.
        interface = str(get_locale())
        target = interface if interface not in (source, "en") else next(
            (locale for locale in LOCALES if locale != source and locale != "en"), "ru")
    entries = list(texts.localised_texts(record.definition))
    problems: list[dict] = []
    if request.method == "POST":
        if record.shared:
            abort(403)
        given = {}
        for path, _ in entries:
            value = request.form.get("text-" + texts.path_name(path))
            if value is not None:
                given[path] = value.replace("\r\n", "\n")
        definition = texts.with_translation(record.definition, given, target)
        draft = QuestionDraft(key, record.category, record.tags, record.difficulty, definition)
        base = request.form.get("base_version", "")
        status = 422
        try:
            saved, found = service.save_question(identity, slug, draft, base_version=whole_number_or_none(base))
        except EditConflict as conflict:
            # The author's texts stay on the form, now based on the newer version: saving again replaces it.
            saved, found, status = None, [], conflict.status
            record = service.bank_question(identity, slug, key)
            entries = list(texts.localised_texts(record.definition))
            problems = [_conflict(conflict)]
        if saved is not None:
            return redirect(url_for("authoring.translate_question", slug=slug, key=key, to=target, saved=saved.version,
                                    **{"from": source}), code=303)
        problems += [_shown(p) for p in found]
    else:
        given, status = {}, 200
    # A refused save shows what the author typed, not the stored texts.
    rows = [{"name": texts.path_name(path), "label": _text_label(path), "source": text.get(source) or text.get("en", ""),
             "target": given.get(path, text.get(target, "")), "multiline": "\n" in (text.get(source) or text.get("en", ""))
             or len(text.get(source) or text.get("en", "")) > 90} for path, text in entries]
    return render_template("authoring/translate.html", identity=identity, slug=slug, record=record, rows=rows,
                           source=source, target=target, locales=LOCALES, problems=problems), \
        status if problems else 200


def _text_label(path: tuple) -> str:
    """A text's place in a definition in the author's words: ("options", 2, "text") is "Option 3 › Text"."""
    words: list[str] = []
    for step in path:
        if isinstance(step, int):
            words[-1:] = [f"{words[-1]} {step + 1}" if words else str(step + 1)]
        else:
            words.append(gettext(labels.TEXT_PARTS[step]) if step in labels.TEXT_PARTS else step)
    return " › ".join(words)


def _number_or_as_typed(value: str) -> int | str:
    """A whole number as a number; anything else as typed, for the quiz's checks to name."""
    number = whole_number_or_none(value)
    return value if number is None else number


# Where a quiz's problem is on the builder: the label its author sees there, not the quiz file's key. A problem
# anywhere else (a key the form never writes) keeps the file's words.
_QUIZ_FIELDS = {"title": N_("Title"), "description": N_("Description"), "kind": N_("Kind"),
                "grading": N_("Grading method"), "time_limit_minutes": N_("Time limit in minutes (0: none)"),
                "attempts": N_("Attempts allowed (0: unlimited)"), "pass_mark": N_("Pass mark (%%)"),
                "review": N_("Settings"), "draw": N_("Questions drawn")}
_DRAW_FIELDS = {"count": N_("Count"), "category": N_("Category"), "outcomes": N_("Outcomes"), "tags": N_("Tags"),
                "difficulty": N_("Difficulty"), "questions": N_("Or these question ids")}


def _on_the_form(problem, draw_rows: list[int]) -> dict:
    """A quiz's problem as the builder lists it: the field's label, what is wrong, and no quiz-file example."""
    path = problem.path
    if path[:1] == ("pass_mark",):
        # "%%": the label's msgid is shared with the page, whose gettext formats it.
        return {"line": None, "message": f"{gettext('Pass mark (%%)') % {}}: {gettext('a whole number from 0 to 100')}",
                "fix": ""}
    if path[:1] == ("draw",) and len(path) >= 2 and isinstance(path[1], int) and path[1] < len(draw_rows):
        column = gettext(_DRAW_FIELDS[path[2]]) if len(path) > 2 and path[2] in _DRAW_FIELDS else ""
        place = gettext("Row %(row)s", row=draw_rows[path[1]] + 1) + (f", {column}" if column else "")
    elif path[:1] and path[0] in _QUIZ_FIELDS:
        place = gettext(_QUIZ_FIELDS[path[0]]) % {}
        if len(path) > 1 and path[0] in ("title", "description") and path[1] in LOCALES:
            place += f" ({i18n.LANGUAGE_NAMES[path[1]]})"
    else:
        return _shown(problem)
    # A fix that is a quiz-file example (pass_mark = 0.7) means nothing on the form.
    return _at_field(place, problem, fix=" = " not in problem.fix)


def _settings_from_form(form) -> tuple[dict, list[int]]:
    """A quiz's settings as the quiz file's table, from the builder's fields, and the form row of each draw."""
    settings: dict = {"title": {}, "description": {}}
    for locale in LOCALES:
        if form.get(f"title-{locale}", "").strip():
            settings["title"][locale] = form[f"title-{locale}"].strip()
        if form.get(f"description-{locale}", "").strip():
            settings["description"][locale] = form[f"description-{locale}"].strip()
    if not settings["description"]:
        del settings["description"]
    for name in ("kind", "grading"):
        settings[name] = form.get(name, "")
    for name in ("time_limit_minutes", "attempts"):
        value = form.get(name, "0").strip()
        settings[name] = _number_or_as_typed(value)
    mark = form.get("pass_mark", "").strip()
    percent = whole_number_or_none(mark)
    settings["pass_mark"] = mark if percent is None else percent / 100
    for name in ("shuffle_questions", "shuffle_choices"):
        settings[name] = form.get(name) == "on"
    settings["review"] = {"after_submit": form.get("review_after_submit", ""),
                          "after_close": form.get("review_after_close", "")}
    draws, rows = [], []
    for index in range(min(whole_number_or_none(form.get("draws", "0")) or 0, MAX_DRAW_ROWS)):
        fixed = [k.strip() for k in form.get(f"draw-{index}-questions", "").replace(",", " ").split() if k.strip()]
        count = form.get(f"draw-{index}-count", "").strip()
        if not fixed and not count:
            continue  # a row the author left empty
        rows.append(index)
        if fixed:
            draws.append({"questions": fixed})
            continue
        draw: dict = {"count": whole_number_or_none(count) or 0}
        for name in ("category", "difficulty"):
            if form.get(f"draw-{index}-{name}", "").strip():
                draw[name] = form[f"draw-{index}-{name}"].strip()
        for name in ("tags", "outcomes"):
            values = [v.strip() for v in form.get(f"draw-{index}-{name}", "").replace(",", " ").split() if v.strip()]
            if values:
                draw[name] = values
        draws.append(draw)
    settings["draw"] = draws
    return settings, rows


@blueprint.route("/courses/<slug>/quizzes/new", methods=["GET", "POST"])
@blueprint.route("/courses/<slug>/quizzes/<key>/edit", methods=["GET", "POST"])
@author_required
def edit_quiz(slug: str, key: str | None = None):
    identity = _identity()
    existing = service.bank_quiz(identity, slug, key) if key else None
    problems: list[dict] = []
    values = existing["settings"] if existing else None
    if request.method == "POST":
        new_key = key or request.form.get("key", "").strip()
        base = request.form.get("base_version", "")
        settings, draw_rows = _settings_from_form(request.form)
        saved, found = service.save_quiz(identity, slug, new_key, settings,
                                         base_version=whole_number_or_none(base) if existing else None)
        if saved is not None:
            return redirect(url_for("authoring.bank", slug=slug, saved=new_key) + "#quizzes", code=303)
        problems = [_on_the_form(p, draw_rows) for p in found]
        values = None
    view = service.bank_view(identity, slug)
    names = service.category_names(identity, slug, _locale())
    return render_template("authoring/quiz.html", identity=identity, slug=slug, key=key, existing=existing,
                           settings=values, form=request.form if request.method == "POST" else None,
                           problems=problems, kinds=KINDS, gradings=GRADING, review_levels=REVIEW_LEVELS, labels=labels,
                           locales=LOCALES, categories=_by_name({q.category for q in view.values()}, names),
                           category_names=names,
                           outcomes=sorted(content.course_outcome_codes(slug, identity.tenant_id)),
                           bank_size=len(view)), 422 if problems else 200


@blueprint.post("/courses/<slug>/quizzes/<key>/archive")
@author_required
def archive_quiz(slug: str, key: str):
    service.archive_quiz(_identity(), slug, key)
    return redirect(url_for("authoring.bank", slug=slug) + "#quizzes", code=303)


@blueprint.post("/courses/<slug>/images")
@author_required
def upload_image(slug: str):
    identity = _identity()
    upload = request.files.get("image")
    if upload is None:
        raise ImageRefused(reason=Phrase(N_("no file was chosen")))
    digest = service.upload_image(identity, slug, upload.read(images.MAX_UPLOAD_BYTES + 1))
    alt = " ".join(request.form.get("alt", "").split())[:200].replace("]", ")").replace("[", "(")
    line = f"![{alt}](image:{digest})"
    if wants_json():
        return jsonify({"digest": digest, "markdown": line, "url": url_for("quiz.image", digest=digest)}), 201
    return render_template("authoring/image.html", identity=identity, slug=slug, line=line, digest=digest,
                           back=request.form.get("back", "")), 201


@blueprint.get("/courses/<slug>/quizzes/<key>/statistics")
@author_required
def quiz_statistics(slug: str, key: str):
    identity = _identity()
    report = service.quiz_statistics(identity, slug, key, request.args.get("which", "all"))
    if request.args.get("format") == "csv":
        return _csv(statistics.to_csv_rows(report.quiz, report.questions), f"{slug}-{key}-statistics.csv")
    title = service.bank_quiz(identity, slug, key)["settings"].title
    return render_template("authoring/statistics.html", identity=identity, slug=slug, key=key, report=report, title=title,
                           whiches=analysis.WHICH, flag_labels=FLAG_LABELS, label=gettext)


FLAG_LABELS = {"easy": N_("Very easy"), "hard": N_("Very hard"),
               "negative_discrimination": N_("Negative discrimination: check the key and the wording"),
               "weak_discrimination": N_("Weak discrimination")}


def _csv(rows: list[list[str]], filename: str):
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        # Labels are msgids marked in the statistics module; numbers and keys pass through unchanged.
        writer.writerow([gettext(cell) if cell and not cell[0].isdigit() and cell in TRANSLATABLE else cell
                         for cell in row])
    return Response("\ufeff" + out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


TRANSLATABLE = set(statistics.QUESTION_HEADER) | {
    "Quiz statistic", "Value", "Attempts", "Average grade (percent of max)", "Median grade (percent of max)",
    "Standard deviation (percent of max)", "Skewness", "Kurtosis", "Coefficient of internal consistency (%)",
    "Error ratio (%)", "Standard error (percent of max)", "negative covariance"}


@blueprint.route("/courses/<slug>/import", methods=["GET", "POST"])
@author_required
def import_questions(slug: str):
    identity = _identity()
    problems: list[dict] = []
    if request.method == "POST":
        upload = request.files.get("file")
        locale = request.form.get("locale", "ru")
        try:
            if upload is None or not upload.filename:
                raise ImportRefused(problems=(gettext("Choose a file to import."),))
            report = service.import_file(identity, slug, upload.read(service.MAX_IMPORT_BYTES + 1),
                                        request.form.get("format", ""), locale=locale if locale in LOCALES else "ru",
                                        category=request.form.get("category", "").strip() or "imported",
                                        outcome=request.form.get("outcome") or None)
        except ImportRefused as refused:
            problems = [{"line": None, "message": read(problem, in_reader_language), "fix": ""}
                        for problem in refused.problems]
        else:
            if not report.notes:
                return redirect(url_for("authoring.bank", slug=slug, imported=report.imported,
                                        replaced=len(report.replaced) or None), code=303)
            return render_template("authoring/import.html", identity=identity, slug=slug, problems=[],
                                   report=report, notes=[read(note, in_reader_language) for note in report.notes],
                                   formats=service.IMPORT_FORMATS, locales=LOCALES, form={},
                                   outcomes=sorted(content.course_outcome_codes(slug, identity.tenant_id)))
    return render_template("authoring/import.html", identity=identity, slug=slug, problems=problems, report=None,
                           formats=service.IMPORT_FORMATS, locales=LOCALES, form=request.form,
                           outcomes=sorted(content.course_outcome_codes(slug, identity.tenant_id))), \
        422 if problems else 200


@blueprint.get("/courses/<slug>/export")
@author_required
def export_questions(slug: str):
    locale = request.args.get("locale", _locale())
    exported = service.export_file(_identity(), slug, request.args.get("format", ""),
                                   locale if locale in LOCALES else "en")
    return Response(exported.data, mimetype=exported.media_type,
                    headers={"Content-Disposition": f'attachment; filename="{exported.filename}"'})

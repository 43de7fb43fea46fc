"""/api/v1: the question bank, quizzes and item statistics of a course, for an academy's tools and scripts."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, jsonify, request
from flask_wtf.csrf import CSRFError
from marshmallow import ValidationError

from ibm_lms.certification import service as certification
from ibm_lms.errors import N_, DomainError, Phrase
from ibm_lms.extensions import csrf
from ibm_lms.locales import LOCALES
from ibm_lms.quiz import service as quiz
from ibm_lms.quiz.data import QuestionDraft
from ibm_lms.tenancy import service as tenancy
from ibm_lms.tenancy.data import Identity, Role
from ibm_lms.text import MAX_NESTING, is_shallow, page_number

from . import openapi, schemas, tokens

blueprint = Blueprint("api", __name__, url_prefix="/api/v1")
# Token requests carry no ambient credential; session requests are protected in _identity() instead.
csrf.exempt(blueprint)
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
MAX_JSON_BYTES = 512 * 1024


class NotSignedIn(DomainError):
    status = 401
    code = "not_signed_in"
    message = N_("Sign in with an API token (Authorization: Bearer) or launch the tool from Moodle.")


class Forbidden(DomainError):
    status = 403
    code = "forbidden"
    message = N_("Only instructors and administrators can use the question bank API.")


class InvalidBody(DomainError):
    status = 422
    code = "invalid_body"
    message = N_("The request body is not what this endpoint takes: %(reason)s")


def _identity(refusal: Callable[[], DomainError] = Forbidden) -> Identity:
    """The caller, by token or session, with at least an instructor's role; `refusal` says why not in the words of
    the API called."""
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, token = header.partition(" ")
        identity = tokens.identity_of(token.strip()) if scheme.lower() == "bearer" else None
        if identity is None:
            raise NotSignedIn()
    else:
        identity = tenancy.current_identity()
        if identity is None:
            raise NotSignedIn()
        if request.method not in SAFE_METHODS:
            csrf.protect()
    if identity.role.rank < Role.INSTRUCTOR.rank:
        raise refusal()
    return identity


def _body(schema) -> dict:
    if (request.content_length or 0) > MAX_JSON_BYTES:
        raise InvalidBody(reason=Phrase(N_("larger than %(size)s KB"), size=MAX_JSON_BYTES // 1024))
    try:
        data = request.get_json(silent=True)
    except RecursionError:  # arrays or objects nested thousands deep: the reader runs out of stack
        data = None
    else:
        if data is None:  # not JSON at all: not UTF-8, a syntax error, a number of thousands of digits
            raise InvalidBody(reason=Phrase(N_("the body is not valid JSON")))
        if not isinstance(data, dict):
            raise InvalidBody(reason=Phrase(N_("a JSON object is expected")))
    if data is None or not is_shallow(data):
        raise InvalidBody(reason=Phrase(N_("arrays and objects are nested more than %(levels)s levels deep"),
                                        levels=MAX_NESTING))
    try:
        return schema.load(data)
    except ValidationError as error:
        raise InvalidBody(reason="; ".join(f"{field}: {', '.join(map(str, messages))}" if isinstance(messages, list)
                                           else f"{field}: {messages}"
                                           for field, messages in error.messages.items())) from error


def _refused(problems, status: int = 422):
    return jsonify({"error": "invalid_definition", "message": "The definition has problems; nothing was saved.",
                    "problems": [{"path": ".".join(map(str, p.path)), "message": p.text(), "fix": p.fix_text()}
                                 for p in problems]}), status


def _summary(record) -> dict:
    return {"key": record.key, "type": record.item.type, "title": record.item.title, "category": record.category,
            "tags": list(record.tags), "difficulty": record.difficulty, "outcomes": list(record.outcomes),
            "version": record.version, "shared": record.shared}


@blueprint.errorhandler(CSRFError)
def _csrf_refused(error: CSRFError):
    return jsonify({"error": "csrf_refused", "message": str(error.description)}), 400


@blueprint.get("/openapi.json")
def openapi_document():
    return jsonify(openapi.document())


@blueprint.get("/courses/<slug>/questions")
def list_questions(slug: str):
    records = quiz.bank_questions(_identity(), slug)
    return jsonify(schemas.QuestionSummarySchema(many=True).dump([_summary(r) for r in records]))


@blueprint.get("/courses/<slug>/questions/<key>")
def get_question(slug: str, key: str):
    record = quiz.bank_question(_identity(), slug, key)
    return jsonify(schemas.QuestionSchema().dump({**_summary(record), "definition": record.definition}))


@blueprint.put("/courses/<slug>/questions/<key>")
def put_question(slug: str, key: str):
    identity = _identity()
    body = _body(schemas.QuestionWriteSchema())
    definition = body["definition"]
    tags = definition.get("tags", [])
    draft = QuestionDraft(key, definition.get("category"), tuple(tags) if isinstance(tags, list) else tags,
                          definition.get("difficulty"), definition)
    record, problems = quiz.save_question(identity, slug, draft, base_version=body["base_version"])
    if record is None:
        return _refused(problems)
    return jsonify(schemas.QuestionSchema().dump({**_summary(record), "definition": record.definition})), 200


@blueprint.post("/courses/<slug>/questions/<key>/copy")
def copy_question(slug: str, key: str):
    record = quiz.copy_question(_identity(), slug, key)
    return jsonify(schemas.QuestionSchema().dump({**_summary(record), "definition": record.definition})), 201


@blueprint.delete("/courses/<slug>/questions/<key>")
def delete_question(slug: str, key: str):
    quiz.archive_question(_identity(), slug, key)
    return "", 204


@blueprint.get("/courses/<slug>/quizzes")
def list_quizzes(slug: str):
    found = quiz.bank_quizzes(_identity(), slug)
    return jsonify(schemas.QuizSchema(many=True).dump(
        [{**q, "settings": _settings_table(q["settings"])} for q in found]))


@blueprint.get("/courses/<slug>/quizzes/<key>")
def get_quiz(slug: str, key: str):
    found = quiz.bank_quiz(_identity(), slug, key)
    return jsonify(schemas.QuizSchema().dump({**found, "settings": _settings_table(found["settings"])}))


@blueprint.put("/courses/<slug>/quizzes/<key>")
def put_quiz(slug: str, key: str):
    identity = _identity()
    body = _body(schemas.QuizWriteSchema())
    saved, problems = quiz.save_quiz(identity, slug, key, body["settings"], base_version=body["base_version"])
    if saved is None:
        return _refused(problems)
    return get_quiz(slug, key)


@blueprint.delete("/courses/<slug>/quizzes/<key>")
def delete_quiz(slug: str, key: str):
    quiz.archive_quiz(_identity(), slug, key)
    return "", 204


@blueprint.get("/courses/<slug>/quizzes/<key>/statistics")
def quiz_statistics(slug: str, key: str):
    report = quiz.quiz_statistics(_identity(), slug, key, request.args.get("which", "all"))
    questions = [{**vars(q), "flags": report.flags[q.key]} for q in report.questions]
    return jsonify(schemas.StatisticsSchema().dump({
        "which": report.which, "quiz": vars(report.quiz), "questions": questions,
        "by_country": report.by_country, "by_language": report.by_language}))


@blueprint.post("/courses/<slug>/images")
def upload_image(slug: str):
    from flask import url_for

    identity = _identity()
    upload = request.files.get("image")
    if upload is None:
        raise InvalidBody(reason=Phrase(N_("a multipart field 'image' is expected")))
    digest = quiz.upload_image(identity, slug, upload.read(quiz.MAX_IMAGE_BYTES + 1))
    return jsonify(schemas.ImageSchema().dump({"digest": digest, "markdown": f"![](image:{digest})",
                                               "url": url_for("quiz.image", digest=digest)})), 201


def _settings_table(settings) -> dict:
    """A quiz's settings in the quiz file's shape, so what GET returns PUT takes back."""
    values = settings.as_json()
    draws = []
    for draw in values.pop("draws"):
        draws.append({"questions": draw["questions"]} if draw["questions"] else
                     {name: value for name, value in draw.items() if value and name != "questions"})
    values["review"] = {"after_submit": values.pop("review_after_submit"),
                        "after_close": values.pop("review_after_close")}
    values["draw"] = draws
    return values


@blueprint.post("/courses/<slug>/import")
def import_questions(slug: str):
    """Body: the file itself, or a multipart field 'file'. Query: format, locale, category, outcome."""
    identity = _identity()
    upload = request.files.get("file")
    data = upload.read(quiz.MAX_IMPORT_BYTES + 1) if upload is not None else request.get_data(cache=False)
    try:
        report = quiz.import_file(identity, slug, data, request.args.get("format", ""),
                                 locale=_locale_arg(), category=request.args.get("category", "imported"),
                                 outcome=request.args.get("outcome"))
    except quiz.ImportRefused as refused:
        return jsonify({"error": refused.code, "message": refused.translated(),
                        "problems": [{"path": "", "message": problem, "fix": ""} for problem in refused.problems]}), 422
    return jsonify(schemas.ImportResultSchema().dump({"imported": report.imported, "notes": list(report.notes),
                                                     "replaced": list(report.replaced)})), 201


@blueprint.get("/courses/<slug>/export")
def export_questions(slug: str):
    exported = quiz.export_file(_identity(), slug, request.args.get("format", ""), _locale_arg())
    return exported.data, 200, {"Content-Type": exported.media_type,
                                "Content-Disposition": f'attachment; filename="{exported.filename}"'}


def _locale_arg() -> str:
    locale = request.args.get("locale", "ru")
    if locale not in LOCALES:
        raise InvalidBody(reason=Phrase(N_("locale must be one of: %(locales)s"), locales=", ".join(LOCALES)))
    return locale


# --- certification: the academy's candidates and credentials, read-only -------------------------------------------

def _academy_identity() -> Identity:
    identity = _identity(refusal=certification.academy_refusal)
    certification.require_academy(identity)
    return identity


@blueprint.get("/certification/candidates")
def certification_candidates():
    identity = _academy_identity()
    page = max(request.args.get("page", 1, type=page_number) or 1, 1)
    filters = certification.Filters(programme=request.args.get("programme") or None,
                                    stage=request.args.get("stage") or None, page=page)
    found, total = certification.candidates(identity.tenant_id, filters)
    return jsonify(schemas.CandidatePageSchema().dump({"total": total, "page": page, "candidates": found}))


@blueprint.get("/certification/credentials")
def certification_credentials():
    identity = _academy_identity()
    state = request.args.get("state") or None
    records = certification.certifications(identity.tenant_id, state=state)
    return jsonify(schemas.CertificationSchema(many=True, exclude=("credential",)).dump(records))


@blueprint.get("/certification/credentials/<credential_id>")
def certification_credential(credential_id: str):
    identity = _academy_identity()
    record = certification.certification(identity.tenant_id, credential_id)
    token = certification.credential_token(credential_id, tenant_id=identity.tenant_id)
    return jsonify({**schemas.CertificationSchema(exclude=("credential",)).dump(record), "credential": token})


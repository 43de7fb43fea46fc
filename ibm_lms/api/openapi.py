"""The OpenAPI 3 document of /api/v1, generated from the marshmallow schemas by apispec."""

from __future__ import annotations

from functools import lru_cache

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from . import schemas

_SLUG = {"name": "slug", "in": "path", "required": True, "schema": {"type": "string"},
         "description": "The course, e.g. document-security"}
_KEY = {"name": "key", "in": "path", "required": True, "schema": {"type": "string"}}
_ERRORS = {status: {"description": text, "content": {"application/json": {"schema": "Error"}}}
           for status, text in (("401", "No valid token and no session"),
                                ("403", "Not an instructor or administrator of the academy"),
                                ("404", "No such course, question or quiz for this academy"))}


def _json(schema: str, description: str, *, many: bool = False) -> dict:
    body = {"type": "array", "items": schema} if many else schema
    return {"description": description, "content": {"application/json": {"schema": body}}}


def _body(schema: str) -> dict:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _refused() -> dict:
    return _json("Error", "The definition has problems (each with its path and fix); nothing was saved")


@lru_cache(maxsize=1)
def document() -> dict:
    # Paths below are relative to /api/v1: a generated client reads where they start from `servers`.
    spec = APISpec(title="IBM Training Suite API", version="1.0.0", openapi_version="3.0.3",
                   plugins=[MarshmallowPlugin()], servers=[{"url": "/api/v1"}],
                   info={"description": "An academy's question bank, quizzes and item statistics. Authenticate "
                                        "with an API token (`ibm-lms api token create`) as a Bearer token."})
    spec.components.security_scheme("token", {"type": "http", "scheme": "bearer"})
    for name in ("Error", "QuestionSummary", "Question", "QuestionWrite", "Quiz", "QuizWrite", "Statistics",
                 "Image", "ImportResult", "Candidate", "CandidatePage", "Certification"):
        spec.components.schema(name, schema=getattr(schemas, f"{name}Schema"))
    security = [{"token": []}]
    spec.path("/courses/{slug}/questions", parameters=[_SLUG], operations={
        "get": {"summary": "The course's questions the academy sees (shared and its own)", "security": security,
                "responses": {"200": _json("QuestionSummary", "The questions", many=True), **_ERRORS}}})
    spec.path("/courses/{slug}/questions/{key}", parameters=[_SLUG, _KEY], operations={
        "get": {"summary": "A question with its definition", "security": security,
                "responses": {"200": _json("Question", "The question"), **_ERRORS}},
        "put": {"summary": "Create or change a question of the academy's bank (a new version)", "security": security,
                "requestBody": _body("QuestionWrite"),
                "responses": {"200": _json("Question", "Saved"), "409": _json("Error", "Someone saved a newer version"),
                              "422": _refused(), **_ERRORS}},
        "delete": {"summary": "Withdraw the academy's question from future draws", "security": security,
                   "responses": {"204": {"description": "Withdrawn"}, **_ERRORS}}})
    spec.path("/courses/{slug}/questions/{key}/copy", parameters=[_SLUG, _KEY], operations={
        "post": {"summary": "Copy a shared question into the academy's bank, to adapt or translate it",
                 "security": security, "responses": {"201": _json("Question", "The academy's copy"), **_ERRORS}}})
    spec.path("/courses/{slug}/quizzes", parameters=[_SLUG], operations={
        "get": {"summary": "The course's quizzes", "security": security,
                "responses": {"200": _json("Quiz", "The quizzes", many=True), **_ERRORS}}})
    spec.path("/courses/{slug}/quizzes/{key}", parameters=[_SLUG, _KEY], operations={
        "get": {"summary": "A quiz's settings", "security": security,
                "responses": {"200": _json("Quiz", "The quiz"), **_ERRORS}},
        "put": {"summary": "Create or change the academy's quiz", "security": security,
                "requestBody": _body("QuizWrite"),
                "responses": {"200": _json("Quiz", "Saved"), "409": _json("Error", "Someone saved a newer version"),
                              "422": _refused(), **_ERRORS}},
        "delete": {"summary": "Withdraw the academy's quiz", "security": security,
                   "responses": {"204": {"description": "Withdrawn"}, **_ERRORS}}})
    spec.path("/courses/{slug}/quizzes/{key}/statistics", parameters=[_SLUG, _KEY, {
        "name": "which", "in": "query", "schema": {"type": "string", "enum": ["all", "first", "last", "highest"]}}],
        operations={"get": {"summary": "Moodle's item statistics over the academy's attempts", "security": security,
                            "responses": {"200": _json("Statistics", "The figures"), **_ERRORS}}})
    spec.path("/courses/{slug}/import", parameters=[_SLUG] + [
        {"name": name, "in": "query", "required": name == "format", "schema": {"type": "string"}, "description": text}
        for name, text in (("format", "gift or moodle-xml"), ("locale", "the language the file is written in"),
                           ("category", "for questions the file places in none"),
                           ("outcome", "a course outcome for questions whose tags name none"))], operations={
        "post": {"summary": "Import a GIFT or Moodle XML file into the academy's bank: every question, or none",
                 "security": security,
                 "requestBody": {"required": True, "content": {
                     "multipart/form-data": {"schema": {"type": "object",
                                                        "properties": {"file": {"type": "string", "format": "binary"}}}},
                     "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}},
                 "responses": {"201": _json("ImportResult", "Imported"),
                               "422": _json("Error", "Every problem of the file, each with its line or question; "
                                                     "nothing was imported"), **_ERRORS}}})
    spec.path("/courses/{slug}/export", parameters=[_SLUG] + [
        {"name": "format", "in": "query", "required": True,
         "schema": {"type": "string", "enum": ["gift", "moodle-xml", "qti3"]}},
        {"name": "locale", "in": "query", "schema": {"type": "string"}}], operations={
        "get": {"summary": "The course's questions the academy sees, as GIFT, Moodle XML or a QTI 3.0 package",
                "security": security, "responses": {"200": {"description": "The file"}, **_ERRORS}}})
    spec.path("/courses/{slug}/images", parameters=[_SLUG], operations={
        "post": {"summary": "Upload an image for the academy's questions (PNG, JPEG, WebP, GIF; 2 MB)",
                 "security": security,
                 "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
                     "type": "object", "properties": {"image": {"type": "string", "format": "binary"}}}}}},
                 "responses": {"201": _json("Image", "Stored"), "400": _json("Error", "Not an image"),
                               "413": _json("Error", "Too large"), **_ERRORS}}})
    academy = {**_ERRORS, "403": {"description": "Not an administrator or approver of the academy",
                                  "content": {"application/json": {"schema": "Error"}}}}
    spec.path("/certification/candidates", parameters=[
        {"name": "programme", "in": "query", "schema": {"type": "string"}},
        {"name": "stage", "in": "query", "schema": {"type": "string"}},
        {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}}], operations={
        "get": {"summary": "The academy's candidates and their standing, 100 a page", "security": security,
                "responses": {"200": _json("CandidatePage", "One page"), **academy}}})
    spec.path("/certification/credentials", parameters=[
        {"name": "state", "in": "query", "schema": {"type": "string"}}], operations={
        "get": {"summary": "The academy's certification decisions, newest first", "security": security,
                "responses": {"200": _json("Certification", "Decisions", many=True), **academy}}})
    spec.path("/certification/credentials/{credential_id}", parameters=[
        {"name": "credential_id", "in": "path", "required": True, "schema": {"type": "string"}}], operations={
        "get": {"summary": "One credential with its compact VC-JWT", "security": security,
                "responses": {"200": _json("Certification", "The credential"), **academy}}})
    return spec.to_dict()

"""What the API reads and writes (marshmallow); the OpenAPI document is generated from these."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from ibm_lms.text import MAX_ROW_ID

ID = validate.Regexp(r"^[a-z0-9][a-z0-9-]{0,63}$", error="lower-case letters, digits and hyphens, at most 64")


def _base_version(**extra) -> fields.Integer:
    # strict: 1.5 or "2" names no version (marshmallow would read 1.5 as 1).
    return fields.Integer(load_default=None, strict=True, validate=validate.Range(min=1, max=MAX_ROW_ID), **extra)


class ProblemSchema(Schema):
    path = fields.String(metadata={"description": "Where in the definition, e.g. options.1.text"})
    message = fields.String()
    fix = fields.String()


class ErrorSchema(Schema):
    error = fields.String(metadata={"description": "A stable code, e.g. question_not_found"})
    message = fields.String(metadata={"description": "What went wrong, in the caller's language"})
    problems = fields.List(fields.Nested(ProblemSchema), metadata={"description": "Every problem of a refused write"})


class QuestionSummarySchema(Schema):
    key = fields.String()
    type = fields.String()
    title = fields.Dict(keys=fields.String(), values=fields.String())
    category = fields.String()
    tags = fields.List(fields.String())
    difficulty = fields.String()
    outcomes = fields.List(fields.String())
    version = fields.Integer()
    shared = fields.Boolean(metadata={"description": "From the regional bank (read-only); copy it to change it"})


class QuestionSchema(QuestionSummarySchema):
    definition = fields.Dict(metadata={"description": "The question in the course format (docs/course-format.md)"})


class QuestionWriteSchema(Schema):
    definition = fields.Dict(required=True, metadata={
        "description": "The question in the course format, with category, tags and difficulty inside it"})
    base_version = _base_version(metadata={
        "description": "The version the change starts from; a save over a newer one is refused (409)"})


class QuizSchema(Schema):
    key = fields.String()
    shared = fields.Boolean()
    version = fields.Integer()
    settings = fields.Dict(metadata={"description": "The quiz file's table (docs/course-format.md, Quizzes)"})


class QuizWriteSchema(Schema):
    settings = fields.Dict(required=True)
    base_version = _base_version()


class QuestionStatsSchema(Schema):
    key = fields.String()
    attempts = fields.Integer()
    facility = fields.Float(allow_none=True)
    sd = fields.Float(allow_none=True)
    random_guess = fields.Float(allow_none=True)
    intended_weight = fields.Float()
    effective_weight = fields.Float(allow_none=True)
    discrimination_index = fields.Float(allow_none=True)
    discriminative_efficiency = fields.Float(allow_none=True)
    flags = fields.List(fields.String())


class QuizStatsSchema(Schema):
    attempts = fields.Integer()
    mean = fields.Float(allow_none=True)
    median = fields.Float(allow_none=True)
    sd = fields.Float(allow_none=True)
    skewness = fields.Float(allow_none=True)
    kurtosis = fields.Float(allow_none=True)
    alpha = fields.Float(allow_none=True)
    error_ratio = fields.Float(allow_none=True)
    standard_error = fields.Float(allow_none=True)


class StatisticsSchema(Schema):
    which = fields.String()
    quiz = fields.Nested(QuizStatsSchema)
    questions = fields.List(fields.Nested(QuestionStatsSchema))
    by_country = fields.Dict(keys=fields.String(), values=fields.List(fields.Float(allow_none=True)))
    by_language = fields.Dict(keys=fields.String(), values=fields.List(fields.Float(allow_none=True)))


class ImageSchema(Schema):
    digest = fields.String()
    markdown = fields.String(metadata={"description": "The line to put in a question's text"})
    url = fields.String()


class ImportResultSchema(Schema):
    imported = fields.Integer()
    replaced = fields.List(fields.String(), metadata={
        "description": "Keys the bank had already: each of these questions got a new version"})
    notes = fields.List(fields.String(), metadata={
        "description": "What was adapted on the way in, e.g. partial credit kept another way, images left out"})


class CandidateSchema(Schema):
    name = fields.String()
    platform_id = fields.String(attribute="who", metadata={"description": "ISSUER:SUB, as the command line names people"})
    programme = fields.String(attribute="programme_key")
    area = fields.String()
    stage = fields.Function(lambda record: record.stage.value, metadata={
        "description": "not_started, in_progress, ready, certified, renewal_open, renewal_ready, lapsed or expired"})
    requirements_met = fields.Integer(attribute="met")
    requirements = fields.Integer(attribute="of")
    missing = fields.List(fields.Dict(), metadata={"description": "Each unmet requirement with have and need"})
    valid_until = fields.Date(allow_none=True)


class CandidatePageSchema(Schema):
    total = fields.Integer()
    page = fields.Integer()
    candidates = fields.List(fields.Nested(CandidateSchema))


class CertificationSchema(Schema):
    id = fields.String()
    programme = fields.String(attribute="programme_key")
    area = fields.String()
    holder = fields.String(metadata={"description": "ISSUER:SUB"})
    holder_name = fields.String()
    path = fields.String(metadata={"description": "initial, renewal or imported"})
    state = fields.String(metadata={"description": "proposed, issued, revoked or withdrawn"})
    approved_by = fields.Function(lambda record: [name for name in (record.proposed_by, record.confirmed_by) if name])
    valid_from = fields.Date(allow_none=True)
    valid_until = fields.Date(allow_none=True)
    revoked_reason = fields.String(allow_none=True)
    credential = fields.String(metadata={"description": "The compact VC-JWT (single credential only)"})

"""The shape of a course's files (course.toml, glossary.toml, references.toml, translations.toml).

Each message says what is wrong and how to fix it; the loader adds the file and line.
"""

from __future__ import annotations

from datetime import date, datetime

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from ibm_lms.locales import LOCALES
from ibm_lms.text import SLUG, is_bounded_text

SLUG_RULE = validate.Regexp(SLUG, error="must be lower-case letters, digits and hyphens — for example \"risk-analysis\"")
ID_RULE = validate.Regexp(r"[a-z0-9][a-z0-9-]{0,63}\Z",
                          error="must be lower-case letters, digits and hyphens — for example \"check-digits\"")
OUTCOME_CODE = validate.Regexp(r"[A-Z][A-Z0-9]*-[0-9]{1,3}\Z", error="must look like DS-1 — letters, a hyphen, a number")
# Locales whose texts every course carries for its title, summary and outcomes: the catalogue lists them.
CATALOGUE_LOCALES = LOCALES
MAX_TEXT = 20_000


class LocalisedText(fields.Dict):
    """A table of texts by locale: English is required, every other interface locale is optional."""

    def __init__(self, *, every_locale: bool = False, multiline: bool = True, **kwargs):
        super().__init__(keys=fields.String(), values=fields.Raw(), **kwargs)
        self.every_locale = every_locale
        self.multiline = multiline

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, dict):
            raise ValidationError('must be a table of texts by locale — write { en = "…", ru = "…" }')
        problems = []
        unknown = sorted(set(value) - set(LOCALES))
        if unknown:
            problems.append("unknown locales: " + ", ".join(unknown) + " — use " + " ".join(LOCALES))
        texts = {}
        for locale, text in value.items():
            if locale in LOCALES:
                if isinstance(text, str) and is_bounded_text(text.strip(), MAX_TEXT, multiline=self.multiline):
                    texts[locale] = text.strip()
                else:
                    problems.append(f"the {locale} text must be non-empty text"
                                    + ("" if self.multiline else " on one line"))
        needed = CATALOGUE_LOCALES if self.every_locale else ("en",)
        missing = [locale for locale in needed if locale not in texts and locale not in value]
        if missing:
            problems.append("missing locales: " + ", ".join(missing) + " — add a line for each")
        if problems:
            raise ValidationError("; ".join(problems))
        return {locale: texts[locale] for locale in LOCALES if locale in texts}


class Outcome(fields.Field):
    """An outcome: its code beside its text in every locale ({ code = "DS-1", en = "…", ru = "…", … })."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, dict):
            raise ValidationError('must be a table — write code = "DS-1" and one line per locale')
        code = value.get("code")
        try:
            OUTCOME_CODE(code if isinstance(code, str) else "")
        except ValidationError as error:
            raise ValidationError("code " + error.messages[0]) from None
        texts = LocalisedText(every_locale=True, multiline=False).deserialize(
            {k: v for k, v in value.items() if k != "code"})
        return {"code": code, "text": texts}


class TomlDate(fields.Field):
    """A TOML date (reviewed_on = 2026-11-30), which TOML itself already parsed."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, date) or isinstance(value, datetime):
            raise ValidationError("must be a date without quotes — for example 2026-11-30")
        return value


class LessonEntrySchema(Schema):
    class Meta:
        unknown = RAISE

    id = fields.String(required=True, validate=ID_RULE)
    minutes = fields.Integer(required=True, strict=True, validate=validate.Range(min=5, max=240,
                             error="must be 5 to 240 minutes of study"))
    outcomes = fields.List(fields.String(validate=OUTCOME_CODE), required=True,
                           validate=validate.Length(min=1, error="name at least one outcome code"))


class ModuleSchema(Schema):
    class Meta:
        unknown = RAISE

    id = fields.String(required=True, validate=ID_RULE)
    title = LocalisedText(required=True, multiline=False)
    lessons = fields.List(fields.Nested(LessonEntrySchema), required=True,
                          validate=validate.Length(min=1, error="a module has at least one [[modules.lessons]]"))


class CompletionSchema(Schema):
    class Meta:
        unknown = RAISE

    lessons = fields.String(load_default="all", validate=validate.OneOf(["all"], error='only lessons = "all" is known'))
    min_exercise_score = fields.Float(load_default=0.0, validate=validate.Range(
        min=0, max=1, error="must be a share from 0 to 1, for example 0.7"))


class CourseSchema(Schema):
    class Meta:
        unknown = RAISE

    slug = fields.String(required=True, validate=SLUG_RULE)
    order = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=999))
    # TOML has booleans: "no" or 0 is a mistake to report, not a value to guess.
    horizontal = fields.Boolean(load_default=False, truthy={True}, falsy={False})
    title = LocalisedText(required=True, every_locale=True, multiline=False)
    summary = LocalisedText(required=True, every_locale=True)
    audience = LocalisedText(required=True)
    prerequisites = LocalisedText(required=True)
    completion = fields.Nested(CompletionSchema, load_default=lambda: {"lessons": "all", "min_exercise_score": 0.0})
    outcomes = fields.List(Outcome(), required=True,
                           validate=validate.Length(min=1, error="a course has at least one [[outcomes]]"))
    modules = fields.List(fields.Nested(ModuleSchema), required=True,
                          validate=validate.Length(min=1, error="a course has at least one [[modules]]"))


class TermSchema(Schema):
    class Meta:
        unknown = RAISE

    id = fields.String(required=True, validate=ID_RULE)
    term = LocalisedText(required=True, multiline=False)
    definition = LocalisedText(required=True)


class GlossarySchema(Schema):
    class Meta:
        unknown = RAISE

    terms = fields.List(fields.Nested(TermSchema), load_default=list)


class ReferenceSchema(Schema):
    class Meta:
        unknown = RAISE

    id = fields.String(required=True, validate=ID_RULE)
    text = fields.String(required=True, validate=validate.Length(min=3, max=2000))
    # The language the work is cited in (a BCP 47 tag); English when not given. Not one of the interface's
    # locales necessarily: a Georgian law is cited in Georgian on every page.
    lang = fields.String(validate=validate.Regexp(r"^[a-z]{2,3}(-[A-Za-z0-9]{1,8})*$",
                                                  error="must be a language tag such as en, ka or pt-BR"))
    url = fields.Url(schemes={"https"}, require_tld=True,
                     error_messages={"invalid": "must be an https:// address — for example https://eur-lex.europa.eu/…"})


class ReferencesSchema(Schema):
    class Meta:
        unknown = RAISE

    references = fields.List(fields.Nested(ReferenceSchema), load_default=list)


class TranslationStatusSchema(Schema):
    class Meta:
        unknown = RAISE

    status = fields.String(required=True, validate=validate.OneOf(["source", "draft", "reviewed"]))
    reviewer = fields.String(validate=validate.Length(min=3, max=255))
    reviewed_on = TomlDate()

    @validates_schema
    def a_review_names_its_reviewer(self, data, **kwargs):
        if data.get("status") == "reviewed" and not (data.get("reviewer") and data.get("reviewed_on")):
            raise ValidationError("a reviewed translation names its reviewer and the date — add reviewer = \"Full "
                                  "name, role\" and reviewed_on = 2026-11-30", "status")

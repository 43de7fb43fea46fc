"""The shape of a course file under courses/<slug>/course.toml."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from ibm_lms.config import LOCALES
from ibm_lms.text import SLUG

SLUG_RULE = validate.Regexp(SLUG, error="must be lower-case letters, digits and hyphens")


class LocalisedText(fields.Dict):
    """A table with one non-empty string per interface locale."""

    def __init__(self, **kwargs):
        super().__init__(keys=fields.String(), values=fields.String(), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, dict):
            # An outcome's code sits beside its texts.
            value = {k: v for k, v in value.items() if k != "code"}
        result = super()._deserialize(value, attr, data, **kwargs)
        missing = [locale for locale in LOCALES if not (result.get(locale) or "").strip()]
        unknown = sorted(set(result) - set(LOCALES))
        problems = []
        if missing:
            problems.append("missing locales: " + ", ".join(missing))
        if unknown:
            problems.append("unknown locales: " + ", ".join(unknown))
        if problems:
            raise ValidationError("; ".join(problems))
        return {locale: result[locale].strip() for locale in LOCALES}


class CourseSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    slug = fields.String(required=True, validate=SLUG_RULE)
    order = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=999))
    # TOML has booleans: "no" or 0 is a mistake to report, not a value to guess.
    horizontal = fields.Boolean(load_default=False, truthy={True}, falsy={False})
    title = LocalisedText(required=True)
    summary = LocalisedText(required=True)
    outcomes = fields.List(LocalisedText(), required=True, validate=validate.Length(min=1))

"""Monitoring pages: a trainee's questionnaires on a course, the academy's training impact, the regional
comparison."""

from __future__ import annotations

from flask import Blueprint, Response, redirect, render_template, request, url_for
from flask_babel import get_locale, gettext

from ibm_lms.tenancy import service as tenancy

from . import indicators, service
from .errors import AnswersNotTaken
from .questionnaires import MAX_COMMENT_CHARS, NOT_APPLICABLE, QUESTIONNAIRES, SCALE

blueprint = Blueprint("monitoring", __name__, url_prefix="/monitoring")


def _locale() -> str:
    return str(get_locale())


def _questionnaires_page(slug: str, *, status: int = 200, refused: AnswersNotTaken | None = None,
                         refused_key: str | None = None):
    identity = tenancy.require_identity()
    states = service.questionnaires(identity, slug)
    thanked = request.args.get("thanked")
    answered = {state.questionnaire.key for state in states if state.answered_at is not None}
    return render_template("monitoring/questionnaires.html", identity=identity, slug=slug,
                           course_title=service.course_title(slug, identity.tenant_id, _locale()),
                           states=states, scale=SCALE, not_applicable=NOT_APPLICABLE,
                           comment_limit=MAX_COMMENT_CHARS, thanked=thanked if thanked in answered else None,
                           refused=refused.translated() if refused else None, refused_key=refused_key,
                           typed=request.form if refused else {}), status


@blueprint.get("/courses/<slug>/questionnaires")
@tenancy.login_required
def questionnaires(slug: str):
    return _questionnaires_page(slug)


@blueprint.post("/courses/<slug>/questionnaires/<key>")
@tenancy.login_required
def answer(slug: str, key: str):
    identity = tenancy.require_identity()
    try:
        service.answer(identity, slug, key, request.form.to_dict(flat=False))
    except AnswersNotTaken as refused:
        # The form again with what was typed and chosen, and why it was not taken.
        return _questionnaires_page(slug, status=refused.status, refused=refused, refused_key=key)
    return redirect(url_for(".questionnaires", slug=slug, thanked=key), code=303)


@blueprint.get("/")
@tenancy.login_required
def academy():
    identity = tenancy.require_identity()
    service.require_academy(identity)
    return render_template("monitoring/academy.html", identity=identity,
                           rows=service.academy_report(identity.tenant_id, _locale()),
                           questionnaires=QUESTIONNAIRES, comments_shown=service.COMMENTS_SHOWN,
                           shown_from=indicators.ACADEMY_SHOWN_FROM, scale=SCALE,
                           regional=service.is_regional(identity))


def _texts() -> dict[str, str]:
    """The CSV files' words in the reader's language: column titles, and each questionnaire's and statement's."""
    texts = {"course": gettext("Course"), "course_key": gettext("Course key"),
             "started": gettext("People who started"), "completed": gettext("People who completed"),
             "questionnaire": gettext("Questionnaire"), "questionnaire_key": gettext("Questionnaire key"),
             "answers": gettext("Answers"), "statement": gettext("Questionnaire statement"),
             "statement_key": gettext("Statement key"), "rated": gettext("People who rated it"),
             "mean": gettext("Mean (1–5)"), "not_applicable": gettext("Does not apply"),
             "comment": gettext("Comment"), **{str(point): gettext(label) for point, label in enumerate(SCALE, 1)}}
    for found in QUESTIONNAIRES.values():
        texts[found.short_title] = gettext(found.short_title)
        texts.update({statement.text: gettext(statement.text) for statement in found.statements})
    return texts


def _academy_csv(build, filename: str) -> Response:
    """One of the academy's CSV files, for its administrators: `build(tenant_id, locale, texts)` writes it."""
    identity = tenancy.require_identity()
    service.require_academy(identity)
    return Response(build(identity.tenant_id, _locale(), _texts()), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@blueprint.get("/export.csv")
@tenancy.login_required
def export():
    return _academy_csv(service.academy_csv, "training-impact.csv")


@blueprint.get("/comments.csv")
@tenancy.login_required
def comments():
    return _academy_csv(service.comments_csv, "training-impact-comments.csv")


@blueprint.get("/regional")
@tenancy.login_required
def regional():
    identity = tenancy.require_identity()
    service.require_regional(identity)
    return render_template("monitoring/regional.html", identity=identity, rows=service.regional_report(_locale()),
                           questionnaires=QUESTIONNAIRES, shown_from=indicators.SHOWN_FROM)

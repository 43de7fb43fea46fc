"""Monitoring pages: a trainee's questionnaires on a course, the academy's training impact, the regional
comparison."""

from __future__ import annotations

from flask import Blueprint, Response, redirect, render_template, request, url_for
from flask_babel import get_locale, gettext

from ibm_lms.tenancy import service as tenancy

from . import indicators, service
from .questionnaires import MAX_COMMENT_CHARS, NOT_APPLICABLE, SCALE

blueprint = Blueprint("monitoring", __name__, url_prefix="/monitoring")


def _locale() -> str:
    return str(get_locale())


@blueprint.get("/courses/<slug>/questionnaires")
@tenancy.login_required
def questionnaires(slug: str):
    identity = tenancy.require_identity()
    return render_template("monitoring/questionnaires.html", identity=identity, slug=slug,
                           course_title=service.course_title(slug, identity.tenant_id, _locale()),
                           states=service.questionnaires(identity, slug), scale=SCALE,
                           not_applicable=NOT_APPLICABLE, comment_limit=MAX_COMMENT_CHARS,
                           thanked=request.args.get("thanked"))


@blueprint.post("/courses/<slug>/questionnaires/<key>")
@tenancy.login_required
def answer(slug: str, key: str):
    identity = tenancy.require_identity()
    service.answer(identity, slug, key, request.form.to_dict(flat=False))
    return redirect(url_for(".questionnaires", slug=slug, thanked=key), code=303)


@blueprint.get("/")
@tenancy.login_required
def academy():
    identity = tenancy.require_identity()
    service.require_academy(identity)
    return render_template("monitoring/academy.html", identity=identity,
                           rows=service.academy_report(identity.tenant_id, _locale()),
                           questionnaires=service.QUESTIONNAIRES, comments_shown=service.COMMENTS_SHOWN,
                           regional=service.is_regional(identity))


@blueprint.get("/export.csv")
@tenancy.login_required
def export():
    identity = tenancy.require_identity()
    service.require_academy(identity)
    heading = {"course": gettext("Course"), "started": gettext("People who started"),
               "completed": gettext("People who completed"), "questionnaire": gettext("Questionnaire"),
               "statement": gettext("Questionnaire statement"),
               "rated": gettext("Answers"), "mean": gettext("Mean (1–5)"),
               "not_applicable": gettext("Does not apply"),
               **{str(point): gettext(label) for point, label in enumerate(SCALE, 1)}}
    return Response(service.academy_csv(identity.tenant_id, _locale(), heading), mimetype="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="training-impact.csv"'})


@blueprint.get("/regional")
@tenancy.login_required
def regional():
    identity = tenancy.require_identity()
    service.require_regional(identity)
    return render_template("monitoring/regional.html", identity=identity, rows=service.regional_report(_locale()),
                           questionnaires=service.QUESTIONNAIRES, shown_from=indicators.SHOWN_FROM)

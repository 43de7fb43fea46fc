"""Instructors' grade pages: every trainee's grade on a quiz, one trainee's history, and the override form.

Instructors and administrators of the academy only; the door checks the role again, and every form
carries its CSRF token (checked for the whole app)."""

from __future__ import annotations

import csv
import io

from flask import Blueprint, Response, redirect, render_template, request, url_for
from flask_babel import get_locale, gettext

from ibm_lms.tenancy import service as tenancy
from ibm_lms.tenancy.data import Role
from ibm_lms.text import spreadsheet_cell

from . import service
from .errors import OverrideRefused, OwnGrade

blueprint = Blueprint("grades", __name__)
instructor_required = tenancy.role_required(Role.INSTRUCTOR)
DONE_NOTICES = {"overridden", "ended"}


def _locale() -> str:
    return str(get_locale())


def _percent(value: float | None) -> str:
    return "" if value is None else f"{value * 100:.2f}".rstrip("0").rstrip(".")


@blueprint.get("/courses/<slug>/quizzes/<key>/grades")
@instructor_required
def quiz_grades(slug: str, key: str):
    identity = tenancy.require_identity()
    page = service.quiz_grades(identity, slug, key, _locale())
    if request.args.get("format") == "csv":
        return _csv(page, f"{slug}-{key}-grades.csv")
    return render_template("quiz/grades.html", identity=identity, slug=slug, key=key, page=page)


@blueprint.route("/courses/<slug>/quizzes/<key>/grades/<int:user_id>", methods=["GET", "POST"])
@instructor_required
def trainee_grade(slug: str, key: str, user_id: int):
    identity = tenancy.require_identity()
    problem, status = None, 200
    if request.method == "POST":
        try:
            service.override_grade(identity, slug, key, user_id, request.form.get("grade"),
                                   request.form.get("reason"))
        except (OverrideRefused, OwnGrade) as refused:
            problem, status = refused.translated(), refused.status
        else:
            done = "overridden" if (request.form.get("grade") or "").strip() else "ended"
            return redirect(url_for("grades.trainee_grade", slug=slug, key=key, user_id=user_id, done=done),
                            code=303)
    page = service.trainee_grade(identity, slug, key, user_id, _locale())
    done = request.args.get("done")
    return render_template("quiz/grade.html", identity=identity, slug=slug, key=key, page=page, problem=problem,
                           typed={"grade": request.form.get("grade", ""), "reason": request.form.get("reason", "")},
                           done=done if done in DONE_NOTICES else None, percent=_percent), status


def _csv(page: dict, filename: str) -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([gettext("Trainee"), gettext("Region"), gettext("Attempts"), gettext("Grade from the attempts (%)"),
                     gettext("Override (%)"), gettext("Reason"), gettext("Overridden by"), gettext("Grade (%)"),
                     gettext("Passed")])
    for row in page["rows"]:
        override = row.standing.override
        writer.writerow([spreadsheet_cell(row.name), spreadsheet_cell(row.region or ""), row.standing.attempts,
                         _percent(row.standing.attempts_grade), _percent(override.grade) if override else "",
                         spreadsheet_cell(override.reason) if override else "", spreadsheet_cell(row.overridden_by or ""),
                         _percent(row.standing.grade), gettext("Yes") if row.passed else gettext("No")])
    return Response("\ufeff" + out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})

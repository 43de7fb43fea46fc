"""Pages of the content room: the course catalogue and a course's page."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_babel import get_locale

from ibm_lms.tenancy import service as tenancy

from . import service

blueprint = Blueprint("content", __name__)


@blueprint.get("/courses/")
@tenancy.login_required
def catalogue():
    identity = tenancy.require_identity()
    return render_template(
        "content/catalogue.html",
        identity=identity,
        courses=service.catalogue(str(get_locale())),
    )


@blueprint.get("/courses/<slug>")
@tenancy.login_required
def course(slug: str):
    identity = tenancy.require_identity()
    return render_template(
        "content/course.html",
        identity=identity,
        course=service.course(slug, str(get_locale())),
    )

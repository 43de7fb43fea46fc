"""Pages of the content room: the course catalogue and a course's page."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_babel import get_locale

from ibm_lms.tenancy import service as tenancy
from ibm_lms.tenancy.identity import login_required, require_identity

from . import service

blueprint = Blueprint("content", __name__)


@blueprint.get("/courses/")
@login_required
def catalogue():
    identity = require_identity()
    return render_template(
        "content/catalogue.html",
        identity=identity,
        context_title=tenancy.context_title(identity.tenant_id, identity.context_id),
        courses=service.catalogue(str(get_locale())),
    )


@blueprint.get("/courses/<slug>")
@login_required
def course(slug: str):
    identity = require_identity()
    return render_template(
        "content/course.html",
        identity=identity,
        context_title=tenancy.context_title(identity.tenant_id, identity.context_id),
        course=service.course(slug, str(get_locale())),
    )

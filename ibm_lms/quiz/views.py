"""A trainee's quiz pages: the course's quizzes, a quiz, an attempt (autosaved), its review."""

from __future__ import annotations

import re

from flask import Blueprint, jsonify, redirect, render_template, request, url_for
from flask_babel import get_locale

from ibm_lms.errors import wants_json
from ibm_lms.tenancy import service as tenancy
from ibm_lms.tenancy.data import Role
from ibm_lms.text import whole_number_or_none

from . import labels, service
from .attempts import MAX_SEQUENCE

blueprint = Blueprint("quiz", __name__)
_FIELD = re.compile(r"q(\d{1,3})-(.+)")


def _locale() -> str:
    return str(get_locale())


@blueprint.get("/courses/<slug>/quizzes/")
@tenancy.login_required
def quizzes(slug: str):
    identity = tenancy.require_identity()
    return render_template("quiz/list.html", identity=identity, slug=slug, labels=labels,
                           page=service.quizzes_page(slug, identity.tenant_id, _locale()))


@blueprint.get("/courses/<slug>/quizzes/<key>")
@tenancy.login_required
def quiz(slug: str, key: str):
    identity = tenancy.require_identity()
    return render_template("quiz/quiz.html", identity=identity, slug=slug,
                           page=service.quiz_page(slug, key, identity, _locale()),
                           instructor=identity.role.rank >= Role.INSTRUCTOR.rank)


@blueprint.post("/courses/<slug>/quizzes/<key>/attempts")
@tenancy.login_required
def start(slug: str, key: str):
    attempt_id = service.start(slug, key, tenancy.require_identity(), _locale())
    return redirect(url_for("quiz.attempt", attempt_id=attempt_id), code=303)


@blueprint.get("/quiz/attempts/<int:attempt_id>")
@tenancy.login_required
def attempt(attempt_id: int):
    identity = tenancy.require_identity()
    page = service.attempt_page(attempt_id, identity, _locale())
    if page["attempt"].status != "in_progress":
        return redirect(url_for("quiz.review", attempt_id=attempt_id), code=303)
    return render_template("quiz/attempt.html", identity=identity, page=page)


def _forms() -> dict[int, dict[str, list[str]]]:
    """The posted answers per slot: fields named q<slot>-<field>."""
    forms: dict[int, dict[str, list[str]]] = {}
    for name in request.form:
        found = _FIELD.fullmatch(name)
        if found:
            forms.setdefault(int(found.group(1)), {})[found.group(2)] = request.form.getlist(name)
    return forms


@blueprint.post("/quiz/attempts/<int:attempt_id>/save")
@tenancy.login_required
def save(attempt_id: int):
    identity = tenancy.require_identity()
    sequence = whole_number_or_none(request.form.get("sequence", "0"), MAX_SEQUENCE) or 0
    saved = service.save(attempt_id, identity, _forms(), sequence)
    if wants_json():
        return jsonify({"saved": saved})
    if request.form.get("then") == "submit":
        service.submit(attempt_id, identity, _locale())
        return redirect(url_for("quiz.review", attempt_id=attempt_id), code=303)
    return redirect(url_for("quiz.attempt", attempt_id=attempt_id), code=303)


@blueprint.post("/quiz/attempts/<int:attempt_id>/submit")
@tenancy.login_required
def submit(attempt_id: int):
    service.submit(attempt_id, tenancy.require_identity(), _locale())
    return redirect(url_for("quiz.review", attempt_id=attempt_id), code=303)


@blueprint.get("/quiz/attempts/<int:attempt_id>/review")
@tenancy.login_required
def review(attempt_id: int):
    identity = tenancy.require_identity()
    page = service.review_page(attempt_id, identity, _locale())
    if page["attempt"].status == "in_progress":
        return redirect(url_for("quiz.attempt", attempt_id=attempt_id), code=303)
    return render_template("quiz/review.html", identity=identity, page=page)


@blueprint.get("/quiz/images/<digest>")
@tenancy.login_required
def image(digest: str):
    found = service.image(tenancy.require_identity(), digest)
    # Private: an academy's images are its own; immutable: the address is the digest of the bytes.
    return found.data, 200, {"Content-Type": found.media_type, "Cache-Control": "private, max-age=31536000, immutable",
                             "Content-Security-Policy": "default-src 'none'; sandbox"}

"""The language menu's form target."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, redirect, request, url_for

from ibm_lms.text import CONTROL_CHARACTERS

from . import service

blueprint = Blueprint("i18n", __name__, url_prefix="/i18n")


def _safe_next(target: str | None) -> str:
    # Only same-site relative paths, so the form cannot be used as an open redirect. urlsplit ignores
    # tabs and line breaks, which a Location header cannot hold: such a target is no target.
    if target and not CONTROL_CHARACTERS.search(target):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//"):
            return target
    return url_for("content.catalogue")


@blueprint.post("/locale")
def choose_locale():
    service.choose(request.form.get("locale", ""))
    return redirect(_safe_next(request.form.get("next")), code=303)

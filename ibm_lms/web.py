"""App-wide HTTP concerns: security headers, the health check and the home redirect."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from flask import Blueprint, Flask, jsonify, redirect, url_for
from sqlalchemy import text

from .extensions import db

blueprint = Blueprint("web", __name__)

# Pages load nothing from elsewhere; only the registered platforms (and the tool itself) may frame them.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action {form_targets}; frame-ancestors {ancestors}"
)
FRAME_ANCESTORS = "ibm_lms.frame_ancestors"


def add_frame_ancestor_source(app: Flask, source: Callable[[], Iterable[str]]) -> None:
    """Lets a room name origins that may frame the tool (the LTI room: its registered platforms)."""
    app.extensions.setdefault(FRAME_ANCESTORS, []).append(source)


def _frame_ancestors(app: Flask) -> str:
    origins = {"'self'"}
    for source in app.extensions.get(FRAME_ANCESTORS, ()):
        origins.update(source())
    return " ".join(sorted(origins))


def content_security_policy(app: Flask, *, form_targets: Iterable[str] = ()) -> str:
    """The policy every page gets; a page that posts a form elsewhere names that origin."""
    targets = " ".join(["'self'", *sorted(set(form_targets))])
    return CONTENT_SECURITY_POLICY.format(form_targets=targets, ancestors=_frame_ancestors(app))


@blueprint.get("/")
def home():
    return redirect(url_for("content.catalogue"))


@blueprint.get("/healthz")
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as error:
        return jsonify({"status": "unhealthy", "database": type(error).__name__}), 503
    return jsonify({"status": "ok", "database": "ok"})


def init_app(app: Flask) -> None:
    app.register_blueprint(blueprint)

    @app.after_request
    def security_headers(response):
        if "Content-Security-Policy" not in response.headers:
            response.headers["Content-Security-Policy"] = content_security_policy(app)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if app.config["SESSION_COOKIE_SECURE"]:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response

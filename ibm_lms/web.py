"""App-wide HTTP concerns: security headers, the health check and the home redirect."""

from __future__ import annotations

from flask import Blueprint, Flask, jsonify, redirect, url_for
from sqlalchemy import text

from .extensions import db

blueprint = Blueprint("web", __name__)

# The tool is framed by the platforms it is registered with; pages load nothing from elsewhere.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self' https:"
)


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
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if app.config["SESSION_COOKIE_SECURE"]:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response

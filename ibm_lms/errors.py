"""Domain errors carry a status and a translatable message whose values may be Phrases (a reason, a field's name),
said in the reader's language when shown and in English in logs; one handler renders them as HTML or JSON."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flask import Flask, current_app, jsonify, render_template, request
from flask_babel import gettext
from werkzeug.exceptions import HTTPException

from ibm_lms.markers import N_, Phrase, read

log = logging.getLogger(__name__)

__all__ = ["N_", "DomainError", "Phrase", "in_reader_language", "register_error_handlers", "wants_json"]


def in_reader_language(msgid: str, values: Mapping[str, Any]) -> str:
    """A msgid said with its values in the request's language; values that are Phrases are said in it too."""
    return gettext(msgid, **{name: read(value, in_reader_language) for name, value in values.items()})


class DomainError(Exception):
    """Base of every room's errors. `message` is an untranslated msgid, translated when shown."""

    status = 400
    code = "bad_request"
    message = N_("The request could not be processed.")

    def __init__(self, message: str | None = None, *, code: str | None = None, **params):
        self.message = message or self.message
        self.code = code or self.code
        self.params = params
        # Logs read in English whatever the reader's language.
        super().__init__(str(Phrase(self.message, **params)))

    def translated(self) -> str:
        return in_reader_language(self.message, self.params)


def wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def _render(status: int, code: str, message: str):
    if wants_json() or request.path.startswith("/api/"):
        return jsonify({"error": code, "message": message}), status
    return render_template("layout/error.html", status=status, code=code, message=message, back=_way_back(),
                           opening=request.method in ("GET", "HEAD")), status


def _way_back() -> str | None:
    """The page the reader came from, when it is one of this tool's (a lesson whose answer was refused, say)."""
    came_from = request.referrer
    if came_from and came_from.startswith(request.host_url) and came_from != request.url:
        return came_from
    return None


# Werkzeug's own HTTP errors, with messages routed through the catalogs.
_HTTP_MESSAGES = {
    400: N_("The request could not be understood."),
    401: N_("Please open this tool from your Moodle course."),
    403: N_("You do not have permission to see this page."),
    404: N_("This page does not exist."),
    405: N_("This address does not accept that kind of request."),
    413: N_("The request is too large."),
    429: N_("Too many requests. Please wait a moment and try again."),
    500: N_("Something went wrong on our side. The error has been logged."),
}


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def handle_domain_error(error: DomainError):
        log.warning("%s %s refused: %s (%s)", request.method, request.path, error.code, error)
        return _render(error.status, error.code, error.translated())

    @app.errorhandler(HTTPException)
    def handle_http_error(error: HTTPException):
        status = error.code or 500
        msgid = _HTTP_MESSAGES.get(status)
        message = gettext(msgid) if msgid else (error.description or error.name)
        response, status = _render(status, error.name.lower().replace(" ", "_"), message)
        # What the error itself says in headers stays (Allow on a 405, as HTTP requires; Retry-After).
        response = current_app.make_response(response)
        for name, value in error.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response, status

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception):
        log.exception("Unhandled error on %s %s", request.method, request.path)
        return _render(500, "internal_error", gettext(_HTTP_MESSAGES[500]))

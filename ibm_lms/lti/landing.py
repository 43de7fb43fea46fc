"""Which of the tool's pages a launch lands on: the link's target, resolved through the app's own routes."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, url_for
from werkzeug.exceptions import HTTPException

from ibm_lms.extensions import app_state

from .data import DEEP_LINKING_REQUEST, LaunchClaims

# Pages a resource link may point at; any other target lands on the catalogue.
LANDING_ENDPOINTS = frozenset({"content.catalogue", "content.course", "content.lesson", "content.resume",
                               "content.glossary", "quiz.quizzes", "quiz.quiz"})


def landing_path(claims: LaunchClaims) -> str:
    if claims.message_type == DEEP_LINKING_REQUEST:
        return url_for("lti.deep_link")
    base_path = urlsplit(current_app.config["BASE_URL"]).path.rstrip("/")
    path = urlsplit(claims.target_link_uri).path
    relative = path[len(base_path):] if path.startswith(base_path) else path
    # Matching needs no request: one adapter per app serves every launch.
    routes = app_state("lti.landing_routes", lambda: current_app.url_map.bind("localhost"))
    try:
        endpoint, arguments = routes.match(relative, method="GET")
    except HTTPException:
        endpoint, arguments = None, {}
    if endpoint not in LANDING_ENDPOINTS:
        return url_for("content.catalogue")
    return url_for(endpoint, **arguments)

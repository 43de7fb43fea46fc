"""Deep linking: an instructor picks courses in the tool and they come back to Moodle as activities.

The request's settings are kept in the session after the launch; the answer is an
LtiDeepLinkingResponse built by pylti1p3 and signed with the tool's current key.
"""

from __future__ import annotations

from dataclasses import dataclass

import jwt
from flask import current_app, session
from pylti1p3.deep_link import DeepLink
from pylti1p3.deep_link_resource import DeepLinkResource
from pylti1p3.registration import Registration

from ibm_lms.content import service as content
from ibm_lms.content.data import CourseSummary
from ibm_lms.errors import N_, DomainError

from . import keys
from .claims import DL, LaunchClaims

_SESSION_KEY = "deep_linking"


class DeepLinkingError(DomainError):
    code = "deep_linking"


@dataclass(frozen=True)
class DeepLinkingResponse:
    return_url: str
    token: str


def remember(claims: LaunchClaims) -> None:
    """Keeps what the answer needs from a deep-linking launch; call after the session was renewed."""
    settings = claims.deep_linking_settings or {}
    accept_multiple = settings.get("accept_multiple", True)
    session[_SESSION_KEY] = {
        "return_url": settings["deep_link_return_url"],
        "data": settings.get("data"),
        "accept_multiple": accept_multiple not in (False, "false"),
        "title": settings.get("title") if isinstance(settings.get("title"), str) else None,
        "issuer": claims.issuer,
        "client_id": claims.client_id,
        "deployment_id": claims.deployment_id,
    }


def pending() -> dict | None:
    return session.get(_SESSION_KEY)


def respond(slugs: list[str], locale: str) -> DeepLinkingResponse:
    """Signs the answer for the chosen courses (unknown slugs are ignored) and ends the selection."""
    courses = {course.slug: course for course in content.catalogue(locale)}
    selected: list[CourseSummary] = [courses[slug] for slug in dict.fromkeys(slugs) if slug in courses]
    request = pending()
    if request is None:
        raise DeepLinkingError(N_("There is no content selection to answer. Start again from Moodle."))
    if not selected:
        raise DeepLinkingError(N_("Choose at least one course."))
    if len(selected) > 1 and not request["accept_multiple"]:
        raise DeepLinkingError(N_("The platform accepts only one course here."))
    base = current_app.config["BASE_URL"]
    resources = [
        DeepLinkResource().set_url(f"{base}/courses/{course.slug}").set_title(course.title)
        .set_custom_params({"course": course.slug})
        for course in selected
    ]
    registration = Registration().set_issuer(request["issuer"]).set_client_id(request["client_id"])
    message = DeepLink(registration, request["deployment_id"], {"data": request["data"]}).get_message_jwt(resources)
    for item, course in zip(message[DL + "content_items"], selected,
                            strict=True):
        item["text"] = course.summary
    if request["data"] is None:
        del message[DL + "data"]
    key = keys.current_key()
    token = jwt.encode(message, keys.private_key_pem(key), algorithm="RS256", headers={"kid": key.kid})
    session.pop(_SESSION_KEY, None)
    return DeepLinkingResponse(return_url=request["return_url"], token=token)

"""Deep linking: an instructor picks courses in the tool and they come back to Moodle as activities.

A deep-linking launch stores what the answer needs in `lti_deep_link_requests`; the session
holds only that row's id. Answering deletes the row in the statement that finds it, so each
request is answered once, whatever copy of the session (an old cookie, an `ltik` link) asks
again. The answer is an LtiDeepLinkingResponse built by pylti1p3 and signed with the tool's
current key.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

import jwt
from flask import current_app, session
from pylti1p3.deep_link import DeepLink
from pylti1p3.deep_link_resource import DeepLinkResource
from pylti1p3.registration import Registration
from sqlalchemy import delete, select

from ibm_lms.clock import utcnow
from ibm_lms.content import service as content
from ibm_lms.content.data import CourseSummary
from ibm_lms.errors import N_, DomainError
from ibm_lms.extensions import db
from ibm_lms.tenancy.identity import current_identity

from . import keys
from .claims import DL, LaunchClaims
from .models import DeepLinkRequest

_SESSION_KEY = "deep_linking"


class DeepLinkingError(DomainError):
    code = "deep_linking"


@dataclass(frozen=True)
class DeepLinkingResponse:
    return_url: str
    token: str


def record(claims: LaunchClaims, *, tenant_id: int, user_id: int) -> str:
    """Stores what the answer needs, in the launch's transaction; returns the id the session keeps."""
    now = utcnow()
    db.session.execute(delete(DeepLinkRequest).where(DeepLinkRequest.expires_at <= now))
    settings = claims.deep_linking_settings or {}
    accept_multiple = settings.get("accept_multiple", True)
    request_id = secrets.token_urlsafe(32)
    db.session.add(DeepLinkRequest(
        id=request_id, tenant_id=tenant_id, user_id=user_id,
        expires_at=now + timedelta(seconds=current_app.config["LTI_DEEP_LINK_TTL_SECONDS"]),
        settings={
            "return_url": settings["deep_link_return_url"],
            "data": settings.get("data"),
            "accept_multiple": accept_multiple not in (False, "false"),
            "title": settings.get("title") if isinstance(settings.get("title"), str) else None,
            "issuer": claims.issuer,
            "client_id": claims.client_id,
            "deployment_id": claims.deployment_id,
        },
    ))
    return request_id


def keep_in_session(request_id: str) -> None:
    """Call after the session was renewed for the launch."""
    session[_SESSION_KEY] = request_id


def _this_users_request():
    """The conditions naming the session's open request, for its own user only."""
    request_id, identity = session.get(_SESSION_KEY), current_identity()
    if not isinstance(request_id, str) or identity is None:
        return None
    return (DeepLinkRequest.id == request_id, DeepLinkRequest.tenant_id == identity.tenant_id,
            DeepLinkRequest.user_id == identity.user_id, DeepLinkRequest.expires_at > utcnow())


def _settings(conditions) -> dict | None:
    if conditions is None:
        return None
    return db.session.execute(select(DeepLinkRequest.settings).where(*conditions)).scalar_one_or_none()


def pending() -> dict | None:
    return _settings(_this_users_request())


def respond(slugs: list[str], locale: str) -> DeepLinkingResponse:
    """Signs the answer for the chosen courses (unknown slugs are ignored) and ends the selection."""
    courses = {course.slug: course for course in content.catalogue(locale)}
    selected: list[CourseSummary] = [courses[slug] for slug in dict.fromkeys(slugs) if slug in courses]
    key = keys.current_key()  # before the request is taken: creating a first key commits
    conditions = _this_users_request()
    # Taken in the statement that finds it: of two answers to one request, one gets the row. A
    # selection refused below puts it back (rollback) for the instructor to choose again.
    request = None if conditions is None else db.session.execute(
        delete(DeepLinkRequest).where(*conditions).returning(DeepLinkRequest.settings)
    ).scalar_one_or_none()
    if request is None:
        raise DeepLinkingError(N_("There is no content selection to answer. Start again from Moodle."))
    if not selected or (len(selected) > 1 and not request["accept_multiple"]):
        db.session.rollback()
        raise DeepLinkingError(N_("Choose at least one course.") if not selected
                               else N_("The platform accepts only one course here."))
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
    token = jwt.encode(message, keys.private_key_pem(key), algorithm="RS256", headers={"kid": key.kid})
    db.session.commit()
    session.pop(_SESSION_KEY, None)
    return DeepLinkingResponse(return_url=request["return_url"], token=token)

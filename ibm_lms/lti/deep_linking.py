"""Deep linking: an instructor picks courses in the tool and they come back to Moodle as activities.

A deep-linking launch stores what the answer needs in `lti_deep_link_requests`; the session
holds only that row's id. Answering deletes the row in the statement that finds it, so each
request is answered once, whatever copy of the session (an old cookie, an `ltik` link) asks
again. The answer is an LtiDeepLinkingResponse built by pylti1p3 and signed with the tool's
current key. Nothing here commits: the launch door does.
"""

from __future__ import annotations

import secrets
from dataclasses import asdict
from datetime import timedelta

import jwt
from flask import current_app
from pylti1p3.deep_link import DeepLink
from pylti1p3.deep_link_resource import DeepLinkResource
from pylti1p3.registration import Registration
from sqlalchemy import delete, select

from ibm_lms.clock import utcnow
from ibm_lms.content import service as content
from ibm_lms.content.data import CourseSummary
from ibm_lms.errors import N_
from ibm_lms.extensions import db
from ibm_lms.tenancy import service as tenancy
from ibm_lms.web import tool_url

from . import keys
from .data import CLAIM_CONTENT_ITEMS, CLAIM_DEEP_LINKING_DATA, DeepLinkingResponse, LaunchClaims
from .errors import DeepLinkingError
from .models import DeepLinkRequest


def record(claims: LaunchClaims, *, tenant_id: int, user_id: int) -> str:
    """Stores what the answer needs, in the launch's transaction; returns the id the session keeps."""
    now = utcnow()
    db.session.execute(delete(DeepLinkRequest).where(DeepLinkRequest.expires_at <= now))
    settings = claims.deep_linking
    request_id = secrets.token_urlsafe(32)
    db.session.add(DeepLinkRequest(
        id=request_id, tenant_id=tenant_id, user_id=user_id,
        expires_at=now + timedelta(seconds=current_app.config["LTI_DEEP_LINK_TTL_SECONDS"]),
        settings={
            **asdict(settings),
            "issuer": claims.issuer,
            "client_id": claims.client_id,
            "deployment_id": claims.deployment_id,
        },
    ))
    return request_id


def _this_users_request():
    """The conditions naming the session's open request, for its own user only."""
    request_id, identity = tenancy.deep_link_request_id(), tenancy.current_identity()
    if request_id is None or identity is None:
        return None
    return (DeepLinkRequest.id == request_id, DeepLinkRequest.tenant_id == identity.tenant_id,
            DeepLinkRequest.user_id == identity.user_id, DeepLinkRequest.expires_at > utcnow())


def pending() -> dict | None:
    conditions = _this_users_request()
    if conditions is None:
        return None
    return db.session.execute(select(DeepLinkRequest.settings).where(*conditions)).scalar_one_or_none()


def respond(slugs: list[str], locale: str) -> DeepLinkingResponse:
    """Signs the answer for the chosen courses (unknown slugs are ignored) and ends the selection.

    A refused selection raises, and the caller's unit of work rolls back: the request stays open
    for the instructor to choose again."""
    identity = tenancy.current_identity()
    tenant_id = identity.tenant_id if identity else None
    courses = {course.slug: course for course in content.catalogue(locale, tenant_id)}
    selected: list[CourseSummary] = [courses[slug] for slug in dict.fromkeys(slugs) if slug in courses]
    conditions = _this_users_request()
    # Taken in the statement that finds it: of two answers to one request, one gets the row.
    request = None if conditions is None else db.session.execute(
        delete(DeepLinkRequest).where(*conditions).returning(DeepLinkRequest.settings)
    ).scalar_one_or_none()
    if request is None:
        raise DeepLinkingError(N_("There is no content selection to answer. Start again from Moodle."))
    if not selected:
        raise DeepLinkingError(N_("Choose at least one course."))
    if len(selected) > 1 and not request["accept_multiple"]:
        raise DeepLinkingError(N_("The platform accepts only one course here."))
    resources = [
        DeepLinkResource().set_url(tool_url("content.course", slug=course.slug)).set_title(course.title)
        .set_custom_params({"course": course.slug})
        for course in selected
    ]
    registration = Registration().set_issuer(request["issuer"]).set_client_id(request["client_id"])
    message = DeepLink(registration, request["deployment_id"], {"data": request["data"]}).get_message_jwt(resources)
    for item, course in zip(message[CLAIM_CONTENT_ITEMS], selected, strict=True):
        item["text"] = course.summary
    if request["data"] is None:
        del message[CLAIM_DEEP_LINKING_DATA]
    key = keys.current_key()
    token = jwt.encode(message, keys.private_key_pem(key), algorithm="RS256", headers={"kid": key.kid})
    return DeepLinkingResponse(return_url=request["return_url"], token=token)

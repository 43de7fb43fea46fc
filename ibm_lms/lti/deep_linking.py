"""Deep linking: an instructor picks courses and lessons in the tool, and they come back to Moodle as activities.

A deep-linking launch stores what the answer needs in `lti_deep_link_requests`; the session
holds only that row's id. Answering deletes the row in the statement that finds it, so each
request is answered once, whatever copy of the session (an old cookie, an `ltik` link) asks
again. The answer is an LtiDeepLinkingResponse built by pylti1p3 and signed with the tool's
current key. Gradable items carry a line item (Moodle makes a gradebook column only for those),
unless the platform said it accepts none. Nothing here commits: the launch door does.
"""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass
from datetime import timedelta

import jwt
from flask import current_app
from pylti1p3.deep_link import DeepLink
from pylti1p3.deep_link_resource import DeepLinkResource
from pylti1p3.lineitem import LineItem
from pylti1p3.registration import Registration
from sqlalchemy import delete, select

from ibm_lms.clock import utcnow
from ibm_lms.content import service as content
from ibm_lms.errors import N_
from ibm_lms.extensions import db
from ibm_lms.quiz import service as quiz_service
from ibm_lms.tenancy import service as tenancy
from ibm_lms.web import tool_url

from . import keys
from .data import CLAIM_CONTENT_ITEMS, CLAIM_DEEP_LINKING_DATA, DeepLinkingResponse, LaunchClaims
from .errors import DeepLinkingError
from .models import DeepLinkRequest

SCORE_MAXIMUM = 100
LINE_ITEM_TAG = "ibm-lms"


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


@dataclass(frozen=True)
class Choice:
    """One thing the instructor picked: a course, one lesson of it, or one of its quizzes."""

    slug: str
    lesson: str | None
    title: str
    text: str
    graded: bool
    quiz: str | None = None

    @property
    def resource_id(self) -> str:
        # The same resource id the grade outbox uses to find this item's column.
        if self.quiz:
            return f"{self.slug}/quiz:{self.quiz}"
        return f"{self.slug}/{self.lesson}" if self.lesson else self.slug


def picker(locale: str, tenant_id: int | None, query: str = "") -> list[dict]:
    """Everything an activity can open, per course: the course, its lessons and its quizzes."""
    words = [w for w in query.casefold().split() if w]
    if not words:
        courses = content.launchable(locale, tenant_id, "")
        for course in courses:
            course["quizzes"] = quiz_service.quizzes(course["slug"], tenant_id, locale)
        return courses
    # A quiz is found by its title with its course's: its course is listed for it even when nothing else of the
    # course matches (then without its lessons).
    matching = {course["slug"]: course for course in content.launchable(locale, tenant_id, query)}
    found = []
    for course in content.launchable(locale, tenant_id, ""):
        listed = matching.get(course["slug"]) or {**course, "modules": []}
        listed["quizzes"] = [q for q in quiz_service.quizzes(course["slug"], tenant_id, locale)
                             if all(w in (course["title"] + " " + q.title).casefold() for w in words)]
        if course["slug"] in matching or listed["quizzes"]:
            found.append(listed)
    return found


def choices(picked: list[str], locale: str, tenant_id: int | None) -> list[Choice]:
    """The picked values ("course:slug", "lesson:slug/lesson", "quiz:slug/quiz", or a plain course slug) that
    exist, in order."""
    offered = {}
    for course in picker(locale, tenant_id):
        offered[course["slug"]] = Choice(course["slug"], None, course["title"], course["summary"], True)
        for module in course["modules"]:
            for lesson in module["lessons"]:
                offered[f"{course['slug']}/{lesson['key']}"] = Choice(
                    course["slug"], lesson["key"], lesson["title"], course["title"], lesson["graded"])
        for quiz in course["quizzes"]:
            # Every course has a pre-test, a post-test and a final exam: Moodle's activity and gradebook column
            # name the course too, or a course page lists several "Final exam"s.
            offered[f"{course['slug']}/quiz:{quiz.key}"] = Choice(course["slug"], None, f"{course['title']}: {quiz.title}",
                                                                  course["title"], True, quiz=quiz.key)
    found = []
    for value in dict.fromkeys(picked):
        if value.startswith("quiz:"):
            slug, _, quiz = value[5:].partition("/")
            key = f"{slug}/quiz:{quiz}"
        else:
            key = value.split(":", 1)[1] if value.startswith(("course:", "lesson:")) else value
        if key in offered:
            found.append(offered[key])
    return found


def _resource(choice: Choice, settings: dict) -> DeepLinkResource:
    if choice.quiz:
        url, custom = tool_url("quiz.quiz", slug=choice.slug, key=choice.quiz), {"course": choice.slug,
                                                                                "quiz": choice.quiz}
    elif choice.lesson:
        url = tool_url("content.lesson", slug=choice.slug, lesson=choice.lesson)
        custom = {"course": choice.slug, "lesson": choice.lesson}
    else:
        url, custom = tool_url("content.course", slug=choice.slug), {"course": choice.slug}
    resource = DeepLinkResource().set_url(url).set_title(choice.title).set_custom_params(custom)
    # Moodle makes a gradebook column only for an item with a line item; a platform may refuse them.
    if choice.graded and settings.get("accept_lineitem") is not False:
        resource.set_lineitem(LineItem().set_score_maximum(SCORE_MAXIMUM).set_label(choice.title)
                              .set_resource_id(choice.resource_id).set_tag(LINE_ITEM_TAG))
    return resource


def _presentation(settings: dict) -> dict:
    """Shown in the course page's frame when the platform accepts that, else in a window of its own."""
    targets = settings.get("accept_presentation_document_targets") or ()
    if "iframe" in targets:
        return {"iframe": {}}
    if "window" in targets:
        return {"window": {"targetName": "_blank"}}
    return {}


def respond(picked: list[str], locale: str) -> DeepLinkingResponse:
    """Signs the answer for the chosen items (unknown ones are ignored) and ends the selection.

    A refused selection raises, and the caller's unit of work rolls back: the request stays open
    for the instructor to choose again."""
    identity = tenancy.current_identity()
    selected = choices(picked, locale, identity.tenant_id if identity else None)
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
    registration = Registration().set_issuer(request["issuer"]).set_client_id(request["client_id"])
    message = DeepLink(registration, request["deployment_id"], {"data": request["data"]}).get_message_jwt(
        [_resource(choice, request) for choice in selected])
    for item, choice in zip(message[CLAIM_CONTENT_ITEMS], selected, strict=True):
        item["text"] = choice.text
        item.update(_presentation(request))
    if request["data"] is None:
        del message[CLAIM_DEEP_LINKING_DATA]
    key = keys.current_key()
    token = jwt.encode(message, keys.signing_key(key), algorithm="RS256", headers={"kid": key.kid})
    return DeepLinkingResponse(return_url=request["return_url"], token=token)

"""LTI endpoints: JWKS, configuration, login, launch, dynamic registration, the gradebook and members pages."""

from __future__ import annotations

import logging
import re

from flask import Blueprint, current_app, jsonify, redirect, render_template, request, url_for
from flask_babel import get_locale

from ibm_lms.content import service as content
from ibm_lms.errors import N_, wants_json
from ibm_lms.extensions import csrf
from ibm_lms.tenancy import service as tenancy
from ibm_lms.tenancy.data import Role
from ibm_lms.web import content_security_policy

from . import keys, login, nrps, registration, services_view
from . import launch as launches
from .ags.errors import ServiceRefused
from .configuration import tool_configuration
from .cookies import forget_state_cookie
from .errors import (
    LaunchRejected,
    LtiError,
    PlatformRefusedSignIn,
    RosterNotOffered,
    RosterUnavailable,
    SignedInAsSomeoneElse,
    StateMissing,
)
from .outbound import OutboundError
from .urls import origin_of

log = logging.getLogger(__name__)
blueprint = Blueprint("lti", __name__)
PROBE_COOKIE = "ibm_lms_cookies"


@blueprint.get("/.well-known/jwks.json")
def jwks():
    response = jsonify(keys.published_jwks())
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@blueprint.get("/lti/config")
def config():
    return jsonify(tool_configuration())


@blueprint.route("/lti/login", methods=["GET", "POST"])
@csrf.exempt
def oidc_login():
    source = request.form if request.method == "POST" else request.args
    started = launches.start_login(source)
    top_level = source.get("lti1p3_new_window") == "1"
    if top_level or request.cookies.get(PROBE_COOKIE):
        # Cookies are known to work here: a plain GET redirect, which Moodle's Lax session cookie survives.
        response = redirect(started.auth_url, code=302)
    else:
        # First visit from this frame: check in the browser that our cookies are kept, else offer a new window.
        response = current_app.make_response(
            render_template(
                "lti/login_check.html",
                auth_url=started.auth_url,
                state=started.state,
                storage_target=started.params.get("lti_storage_target", ""),
                platform_origin=started.platform_origin,
                new_window_url=login.new_window_url(started.params),
                probe_cookie=PROBE_COOKIE,
                secure=current_app.config["SESSION_COOKIE_SECURE"],
            )
        )
    response.headers["Cache-Control"] = "no-store"
    return started.cookie_service.update_response(response)


# Our storage page sends this header; a cross-site form cannot, and a cross-site script would need CORS.
STORAGE_VERIFIED_HEADER = "X-IBM-LMS-Storage-Verified"


def _storage_verified_request() -> bool:
    if request.headers.get(STORAGE_VERIFIED_HEADER) != "1":
        return False
    return request.headers.get("Origin") == origin_of(current_app.config["BASE_URL"])


@blueprint.post("/lti/launch")
@csrf.exempt
def launch():
    _refuse_a_platform_error()
    storage_verified = _storage_verified_request()
    try:
        completed = launches.complete_launch(request.form, request.cookies, storage_verified=storage_verified)
    except StateMissing as error:
        if wants_json() or storage_verified:
            raise
        return _cookies_blocked(error)
    tenancy.sign_in(completed.identity, resource_link_id=completed.resource_link_id, locale=completed.locale,
                    cookieless=completed.via_platform_storage,
                    deep_link_request_id=completed.deep_link_request_id)
    if storage_verified:
        # Our storage page navigates there; the session rides in the URL only if our cookies are lost.
        location = completed.landing_path
        if completed.via_platform_storage:
            location = tenancy.with_token(current_app, location)
        response = jsonify({"location": location})
    else:
        response = redirect(completed.landing_path, code=303)
    forget_state_cookie(response, request.form["state"])
    return response


_OIDC_ERROR = re.compile(r"[a-z_]{1,40}")


def _refuse_a_platform_error() -> None:
    """An authentication error the platform posted back instead of an id token (OpenID Connect Core 3.1.2.6):
    said as what the trainee can do, not as a malformed launch."""
    error = request.form.get("error")
    if error is None or request.form.get("id_token"):
        return
    code = error if _OIDC_ERROR.fullmatch(error) else "unknown"
    log.warning("the platform refused the sign-in: %s (%s)", code,
                " ".join(request.form.get("error_description", "").split())[:200])
    if code in ("access_denied", "login_required"):
        raise SignedInAsSomeoneElse(error=code)
    raise PlatformRefusedSignIn(error=code)


def _cookies_blocked(error: StateMissing):
    """No cookie came back: read the state from the platform's storage if it offers one, else a new window."""
    pending = launches.pending_login(error.state)
    if pending is None:
        # No login waits for this state: a replay (the launch deleted its cookie) or a login long expired.
        raise LaunchRejected(N_("This launch was already used or its login has expired."))
    # The session would then travel in URLs; a browser that cannot use that gets the new window at once.
    usable = tenancy.url_sessions_possible(request)
    origin = pending.storage_origin if pending and error.storage_target and usable else None
    if origin:
        page = render_template(
            "lti/storage_check.html",
            fields={"id_token": request.form.get("id_token", ""), "state": error.state,
                    "lti_storage_target": error.storage_target},
            platform_origin=origin,
            message=error.translated(),
        )
        return page, 200, {"Cache-Control": "no-store"}
    page = render_template(
        "lti/cookies_blocked.html",
        new_window_url=login.new_window_url(pending.params) if pending and pending.params else None,
        message=error.translated(),
    )
    return page, error.status, {"Cache-Control": "no-store"}


@blueprint.get("/lti/deep-link")
@tenancy.role_required(Role.INSTRUCTOR)
def deep_link():
    query = request.args.get("q", "")[:200]
    return render_template(
        "lti/deep_link.html", request_settings=launches.pending_deep_link(), query=query,
        courses=launches.picker(str(get_locale()), tenancy.require_identity().tenant_id, query),
    )


@blueprint.post("/lti/deep-link")
@tenancy.role_required(Role.INSTRUCTOR)
def deep_link_answer():
    picked = request.form.getlist("item") + request.form.getlist("course")
    answer = launches.answer_deep_link(picked, str(get_locale()))
    response = current_app.make_response(render_template("lti/deep_link_return.html", answer=answer))
    # The answer is a form posted to the platform: allow exactly that target.
    response.headers["Content-Security-Policy"] = content_security_policy(
        current_app, form_targets=[origin_of(answer.return_url)]
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.get("/lti/register")
def dynamic_registration():
    """Moodle frames this page: every answer, a refusal too, may be shown in the registering platform's frame
    and says in the administrator's language what happened and what to do."""
    registering = origin_of(request.args.get("openid_configuration") or "")
    try:
        result = registration.register(request.args)
        page, status = render_template("lti/registered.html", result=result), 200
    except LtiError as error:
        page = render_template("lti/registration_failed.html", message=error.translated(), code=error.code,
                               advice=registration.advice(error))
        status = error.status
    response = current_app.make_response((page, status))
    response.headers["Content-Security-Policy"] = content_security_policy(
        current_app, framed_by=[registering] if registering else [])
    response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.get("/lti/gradebook")
@tenancy.role_required(Role.INSTRUCTOR)
def gradebook():
    identity = tenancy.require_identity()
    view = services_view.gradebook(identity)
    members = tenancy.roster(identity.tenant_id, identity.context_id) if identity.context_id else []
    progress = content.progress_of_users(identity.tenant_id, [m.user_id for m in members], str(get_locale()))
    return render_template("lti/gradebook.html", identity=identity, view=view, members=members, progress=progress)


@blueprint.post("/lti/gradebook/retry")
@tenancy.role_required(Role.INSTRUCTOR)
def gradebook_retry():
    services_view.retry_link_parked(tenancy.require_identity())
    return redirect(url_for("lti.gradebook"), code=303)


@blueprint.post("/lti/roster/sync")
@tenancy.role_required(Role.INSTRUCTOR)
def roster_sync():
    link = services_view.link_id(tenancy.require_identity())
    if link is None:
        raise RosterNotOffered()
    try:
        nrps.sync_link(link)
    except LookupError as error:
        raise RosterNotOffered() from error
    except (ServiceRefused, OutboundError) as error:
        raise RosterUnavailable(reason=str(error)) from error
    return redirect(url_for("lti.gradebook"), code=303)

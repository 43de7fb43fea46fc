"""LTI endpoints: JWKS, configuration, OIDC login, launch, dynamic registration."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, redirect, render_template, request

from ibm_lms.errors import wants_json
from ibm_lms.extensions import csrf
from ibm_lms.tenancy.identity import sign_in

from . import keys, login, registration, service
from . import launch as launch_validation
from .errors import StateMissing

blueprint = Blueprint("lti", __name__)
PROBE_COOKIE = "ibm_lms_cookies"


@blueprint.get("/.well-known/jwks.json")
def jwks():
    response = jsonify(keys.published_jwks())
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@blueprint.get("/lti/config")
def config():
    return jsonify(service.tool_configuration())


@blueprint.route("/lti/login", methods=["GET", "POST"])
@csrf.exempt
def oidc_login():
    source = request.form if request.method == "POST" else request.args
    started = login.start(source)
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
                nonce=started.nonce,
                storage_target=started.params.get("lti_storage_target", ""),
                platform_origin=started.platform_origin,
                new_window_url=login.new_window_url(started.params),
                probe_cookie=PROBE_COOKIE,
                secure=current_app.config["SESSION_COOKIE_SECURE"],
            )
        )
    response.headers["Cache-Control"] = "no-store"
    return started.cookie_service.update_response(response)


@blueprint.post("/lti/launch")
@csrf.exempt
def launch():
    try:
        completed = service.complete_launch(request.form, request.cookies)
    except StateMissing as error:
        if wants_json():
            raise
        if error.storage_target:
            page = _storage_check_page(error)
            if page is not None:
                return page
        params = service.login_params_for_state(error.state)
        return (
            render_template(
                "lti/cookies_blocked.html",
                new_window_url=login.new_window_url(params) if params else None,
                message=error.translated(),
            ),
            error.status,
        )
    sign_in(completed.identity, resource_link_id=completed.resource_link_id, locale=completed.locale,
            cookieless=completed.via_platform_storage)
    return redirect(completed.landing_path, code=303)


def _storage_check_page(error: StateMissing):
    """The platform offers client-side storage: let our page read the state back from it, then resubmit."""
    origin = service.platform_origin_for_state(error.state)
    secret = launch_validation.begin_storage_check(error.state) if origin else None
    if secret is None:
        return None
    return render_template(
        "lti/storage_check.html",
        fields={"id_token": request.form.get("id_token", ""), "state": error.state,
                "lti_storage_target": error.storage_target, "storage_check": secret},
        platform_origin=origin,
        message=error.translated(),
    )


@blueprint.get("/lti/register")
def dynamic_registration():
    result = registration.register(request.args)
    return render_template("lti/registered.html", result=result)

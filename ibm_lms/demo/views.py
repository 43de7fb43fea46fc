"""The demo platform's pages: a course page framing the tool, its JWKS, its OIDC authorisation endpoint, Moodle's
grade and roster services and the gradebook they fill."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from urllib.parse import urlencode

import jwt
from flask import Blueprint, abort, current_app, jsonify, redirect, render_template, request

from ibm_lms.extensions import app_state, csrf
from ibm_lms.i18n.service import LANGUAGE_NAMES
from ibm_lms.lti.data import CLAIM_CONTENT_ITEMS, DEEP_LINKING_REQUEST, LTI, RESOURCE_LINK_REQUEST
from ibm_lms.web import tool_url

from .activities import ACTIVITIES, DEFAULT, activity_of
from .moodle_services import MoodleServices
from .platform import DEMO_USERS, SimulatedPlatform, load_or_create_key

blueprint = Blueprint("demo", __name__, url_prefix="/demo")
CLIENT_ID = "ibm-lms-demo"
DEPLOYMENT_ID = "demo-deployment-1"
PLATFORM_PATH = "/demo/platform"


def issuer(base_url: str) -> str:
    return base_url + PLATFORM_PATH


def token_url(base_url: str) -> str:
    return issuer(base_url) + "/mod/lti/token.php"


@lru_cache(maxsize=4)
def _platform(base_url: str, key_path: str) -> SimulatedPlatform:
    return SimulatedPlatform(
        issuer=issuer(base_url), client_id=CLIENT_ID, deployment_id=DEPLOYMENT_ID,
        private_key=load_or_create_key(Path(key_path)), kid="demo-platform-key-1",
    )


def platform() -> SimulatedPlatform:
    config = current_app.config
    return _platform(config["BASE_URL"], str(Path(config["INSTANCE_PATH"]) / "demo_platform_key.pem"))


def _new_services(base_url: str, tool_jwks_url: str) -> MoodleServices:
    services = MoodleServices(
        base_url=issuer(base_url), client_id=CLIENT_ID, token_url=token_url(base_url), path_prefix=PLATFORM_PATH,
        tool_jwks=lambda: _tool_keys(tool_jwks_url).fetch_data(),
        members=[{"status": "Active", "user_id": user.subject, "name": f"{user.given_name} {user.family_name}",
                  "given_name": user.given_name, "family_name": user.family_name, "email": user.email,
                  "roles": list(user.roles)} for user in DEMO_USERS.values()],
    )
    for activity in ACTIVITIES.values():
        if activity.graded:
            services.graded_link(activity.resource_link_id, label=activity.title)
    return services


def services() -> MoodleServices:
    """The demo course's gradebook and roster, kept in memory while the demo runs."""
    base_url, jwks_url = current_app.config["BASE_URL"], tool_url("lti.jwks")
    return app_state("demo.services", lambda: _new_services(base_url, jwks_url))


@blueprint.get("/")
def home():
    return render_template("demo/home.html", activities=ACTIVITIES.values(), language_names=LANGUAGE_NAMES,
                           locales=current_app.config["LOCALES"])


@blueprint.get("/launch")
def launch():
    """What Moodle does when a person opens an activity: starts the tool's login with the activity's target, the
    person as login hint and, in the message hint, what the platform needs back to make the launch."""
    user_key, _, purpose = request.args.get("login_hint", "").partition(":")
    activity = ACTIVITIES.get(request.args.get("activity", DEFAULT.key))
    locale = request.args.get("locale", "")
    if (activity is None or user_key not in DEMO_USERS or purpose not in ("", "select")
            or locale not in current_app.config["LOCALES"]):
        abort(400)
    target = tool_url(activity.endpoint, **activity.values) if not purpose else tool_url("content.catalogue")
    params = platform().login_parameters(target_link_uri=target, login_hint=request.args["login_hint"],
                                         message_hint=f"{locale} {activity.key}")
    return redirect(tool_url("lti.oidc_login") + "?" + urlencode(params))


@lru_cache(maxsize=4)
def _tool_keys(jwks_url: str) -> jwt.PyJWKClient:
    # Kept like a platform keeps a tool's key set; the client fetches again for a kid it has not seen.
    return jwt.PyJWKClient(jwks_url)


@blueprint.post("/platform/deep-link-return")
@csrf.exempt
def deep_link_return():
    """Where the tool returns selected content: verified against the tool's published keys, as Moodle does."""
    base = current_app.config["BASE_URL"]
    try:
        signing_key = _tool_keys(tool_url("lti.jwks")).get_signing_key_from_jwt(
            request.form.get("JWT", "")
        )
        answer = jwt.decode(request.form["JWT"], signing_key.key, algorithms=["RS256"], audience=issuer(base),
                            issuer=CLIENT_ID)
    except (jwt.PyJWTError, KeyError):
        abort(400)
    items = answer.get(CLAIM_CONTENT_ITEMS, [])
    return render_template("demo/selected.html", items=items)


@blueprint.route("/platform/mod/lti/<path:service_path>", methods=["GET", "POST", "PUT", "DELETE"])
@csrf.exempt
def moodle_service(**_service_path):
    """Moodle's token endpoint and its grade and roster services, where the tool sends scores and reads members.

    The services read the whole request path themselves, as they do on the test platform's own server, so the
    part this route captures is not passed on.
    """
    answer = services().handle(request)
    if answer is None:
        abort(404)
    return answer


@blueprint.get("/gradebook")
def gradebook():
    """The demo course's gradebook, as the teacher sees it in Moodle: a column per line item, a row per person."""
    sim_services = services()
    with sim_services.lock:
        columns = [{"label": item.get("label", ""), "maximum": item.get("scoreMaximum"),
                    "scores": dict(sim_services.scores.get(key, {}))}
                   for key, item in sim_services.line_items.items()]
    people = [(user.subject, f"{user.given_name} {user.family_name}") for user in DEMO_USERS.values()]
    return render_template("demo/gradebook.html", columns=columns, people=people,
                           any_score=any(column["scores"] for column in columns))


@blueprint.get("/platform/jwks.json")
def jwks():
    return jsonify(platform().jwks())


@blueprint.get("/platform/auth")
def authorize():
    """The platform's OIDC authorisation endpoint: answers with an id token posted back to the tool."""
    args = request.args
    sim = platform()
    if sim.authentication_request_problems(args, redirect_uri=tool_url("lti.launch")):
        abort(400)
    # "instructor:select" asks for content selection (deep linking) instead of opening the link.
    user_key, _, purpose = args.get("login_hint", "").partition(":")
    user = DEMO_USERS.get(user_key)
    if user is None or purpose not in ("", "select"):
        abort(400)
    locale, activity = activity_of(args.get("lti_message_hint", ""))
    if locale not in current_app.config["LOCALES"]:
        locale = "en"
    message_type = DEEP_LINKING_REQUEST if purpose == "select" else RESOURCE_LINK_REQUEST
    claims = sim.launch_claims(
        nonce=args["nonce"], target_link_uri=tool_url(activity.endpoint, **activity.values), user=user,
        locale=locale, message_type=message_type,
        resource_link={"id": activity.resource_link_id, "title": activity.title},
        deep_link_return_url=tool_url("demo.deep_link_return"),
    )
    if message_type == RESOURCE_LINK_REQUEST:
        claims.update(services().claims(activity.resource_link_id))  # grades and roster, as Moodle offers them
        services().enrol(user.subject, user.roles)
    else:
        claims[LTI + "target_link_uri"] = tool_url("content.catalogue")
    return render_template("demo/form_post.html", action=args["redirect_uri"],
                           fields={"id_token": sim.sign(claims), "state": args["state"]})

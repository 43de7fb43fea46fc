"""The demo platform's pages: a course page framing the tool, its JWKS and its OIDC authorisation endpoint."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import jwt
from flask import Blueprint, abort, current_app, jsonify, render_template, request

from ibm_lms.extensions import csrf
from ibm_lms.i18n.service import LANGUAGE_NAMES
from ibm_lms.lti.data import CLAIM_CONTENT_ITEMS, DEEP_LINKING_REQUEST, RESOURCE_LINK_REQUEST
from ibm_lms.web import tool_url

from .platform import DEMO_USERS, SimulatedPlatform, load_or_create_key

blueprint = Blueprint("demo", __name__, url_prefix="/demo")
CLIENT_ID = "ibm-lms-demo"
DEPLOYMENT_ID = "demo-deployment-1"


def issuer(base_url: str) -> str:
    return base_url + "/demo/platform"


@lru_cache(maxsize=4)
def _platform(base_url: str, key_path: str) -> SimulatedPlatform:
    return SimulatedPlatform(
        issuer=issuer(base_url), client_id=CLIENT_ID, deployment_id=DEPLOYMENT_ID,
        private_key=load_or_create_key(Path(key_path)), kid="demo-platform-key-1",
    )


def platform() -> SimulatedPlatform:
    config = current_app.config
    return _platform(config["BASE_URL"], str(Path(config["INSTANCE_PATH"]) / "demo_platform_key.pem"))


@blueprint.get("/")
def home():
    sim = platform()
    params = sim.login_parameters(target_link_uri=tool_url("content.catalogue"), login_hint="trainee")
    del params["login_hint"]
    return render_template("demo/home.html", login_url=tool_url("lti.oidc_login"), params=params,
                           language_names=LANGUAGE_NAMES, locales=current_app.config["LOCALES"])


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
    hint = args.get("lti_message_hint", "")
    locale = hint if hint in current_app.config["LOCALES"] else "en"
    claims = sim.launch_claims(
        nonce=args["nonce"], target_link_uri=tool_url("content.catalogue"), user=user, locale=locale,
        message_type=DEEP_LINKING_REQUEST if purpose == "select" else RESOURCE_LINK_REQUEST,
        deep_link_return_url=tool_url("demo.deep_link_return"),
    )
    return render_template("demo/form_post.html", action=args["redirect_uri"],
                           fields={"id_token": sim.sign(claims), "state": args["state"]})

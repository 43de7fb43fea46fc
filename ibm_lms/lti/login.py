"""OIDC third-party initiated login: pylti1p3 builds the authentication request, we keep state and nonce in the database."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlencode

from flask import current_app
from pylti1p3.contrib.flask import FlaskOIDCLogin, FlaskRequest, FlaskSessionService
from pylti1p3.exception import OIDCException
from sqlalchemy import delete, insert

from ibm_lms.clock import utcnow
from ibm_lms.database import execute_alone
from ibm_lms.extensions import app_state, db
from ibm_lms.text import CONTROL_CHARACTERS
from ibm_lms.web import tool_url

from . import platforms
from .cookies import ToolCookieService
from .errors import LoginRejected, PlatformDisabled, UnknownPlatform
from .models import LoginState
from .tool_conf import DatabaseToolConf
from .urls import origin_of, within_tool

# The parameters a platform may send to initiate a login (LTI 1.3 Core 5.1.1).
LOGIN_PARAMETERS = (
    "iss",
    "login_hint",
    "target_link_uri",
    "lti_message_hint",
    "lti_deployment_id",
    "client_id",
    "lti_storage_target",
)
MAX_PARAMETER_LENGTH = 4096
_INSERT_STATE = insert(LoginState)
# What our logins hand out ("state-" and a URL-safe random token); anything else names no login.
_STATE = re.compile(r"[A-Za-z0-9_-]{16,128}")
# Abandoned logins are swept by every Nth login of an application, off the common path.
PURGE_EVERY = 100


class _LoginCounter:
    def __init__(self) -> None:
        self.since_purge = 0


@dataclass(frozen=True)
class LoginRedirect:
    auth_url: str
    state: str
    cookie_service: ToolCookieService
    params: dict

    @property
    def platform_origin(self) -> str | None:
        """Where client-side storage messages go: the origin of the platform's authorisation endpoint."""
        return origin_of(self.auth_url)


class _LoginStateRecorder(FlaskSessionService):
    """pylti1p3 hands over the nonce and then the state; both go into one LoginState row."""

    def __init__(self, request, platform_id: int, ttl: int):
        super().__init__(request)
        self._platform_id = platform_id
        self._ttl = ttl
        self.nonce: str | None = None
        self.state: str | None = None

    def save_nonce(self, nonce: str):
        self.nonce = nonce

    def save_state_params(self, state: str, params):
        self.state = state
        expires = utcnow() + timedelta(seconds=self._ttl)
        # Committed at once, in one round trip: any worker may receive the launch that follows.
        execute_alone(_INSERT_STATE, {"state": state, "nonce": self.nonce, "platform_id": self._platform_id,
                                "params": params, "expires_at": expires})


class _ToolOIDCLogin(FlaskOIDCLogin):
    def _generate_nonce(self) -> str:
        return secrets.token_urlsafe(32)

    def _get_uuid(self) -> str:
        return secrets.token_urlsafe(24)


def _parameters(source) -> dict[str, str]:
    found = {}
    for name in LOGIN_PARAMETERS:
        value = source.get(name)
        if value is None or value == "":
            continue
        if len(value) > MAX_PARAMETER_LENGTH or CONTROL_CHARACTERS.search(value):
            raise LoginRejected(reason=name)
        found[name] = value
    return found


def _purge_expired_states_now_and_then() -> None:
    counter = app_state("lti.login_counter", _LoginCounter)
    counter.since_purge += 1
    if counter.since_purge >= PURGE_EVERY:
        counter.since_purge = 0
        db.session.execute(delete(LoginState).where(LoginState.expires_at <= utcnow()))


def start(source) -> LoginRedirect:
    """Validates a login initiation and prepares the redirect to the platform's authorisation endpoint.

    The state is committed on its own at once (any worker may receive the launch); the caller's unit
    of work commits the rest."""
    params = _parameters(source)
    for required in ("iss", "login_hint", "target_link_uri"):
        if required not in params:
            raise LoginRejected(reason=required)
    base_url = current_app.config["BASE_URL"]
    if not within_tool(params["target_link_uri"], base_url):
        raise LoginRejected(reason="target_link_uri")
    tool_conf = DatabaseToolConf()
    platform = tool_conf.find_platform(params["iss"], params.get("client_id"))
    if platform is None:
        raise UnknownPlatform(issuer=params["iss"][:200], client_id=params.get("client_id", "-")[:200])
    if platform.disabled:
        raise PlatformDisabled()
    if "lti_deployment_id" in params and not platforms.directory().has_deployment(platform,
                                                                                   params["lti_deployment_id"]):
        raise LoginRejected(reason="lti_deployment_id")
    request = FlaskRequest(request_data={**params, "client_id": platform.client_id})
    cookies = ToolCookieService(request)
    recorder = _LoginStateRecorder(request, platform.id, current_app.config["LTI_STATE_TTL_SECONDS"])
    login = _ToolOIDCLogin(request, tool_conf, session_service=recorder, cookie_service=cookies)
    login.pass_params_to_launch({"target_link_uri": params["target_link_uri"], "login": params})
    try:
        redirect = login.get_redirect_object(tool_url("lti.launch"))
    except OIDCException as error:
        raise LoginRejected(reason=str(error)) from error
    _purge_expired_states_now_and_then()
    return LoginRedirect(
        auth_url=redirect.get_redirect_url(), state=recorder.state,
        cookie_service=cookies, params=params,
    )


def is_well_formed_state(value: object) -> bool:
    return isinstance(value, str) and _STATE.fullmatch(value) is not None


def new_window_url(params: dict) -> str:
    """Login again as a top-level page, where the tool's cookies are first-party."""
    query = {k: v for k, v in params.items() if k != "lti_storage_target"}
    query["lti1p3_new_window"] = "1"
    return tool_url("lti.oidc_login") + "?" + urlencode(query)

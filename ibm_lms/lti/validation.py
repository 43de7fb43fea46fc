"""Launch validation: pylti1p3's message launch with the gaps closed (nothing here commits but the state).

pylti1p3 never consumes the nonce (a replayed id_token and state pass), fetches the
platform's JWKS without a timeout and never refetches for an unknown kid, and checks
neither audience nor azp. This subclass keeps the library's registration, deployment
and message checks and replaces the rest: the state must come back in the browser's
cookie and exist in the database, the nonce must be the one bound to that state, and
both are consumed in one statement, last, so a forged launch stores nothing. That
statement commits on its own: if recording the launch then fails, the trainee starts
again from the platform, as a state is good for one launch whatever happens next.
"""

from __future__ import annotations

import logging
import time

import requests
from flask import current_app
from jwt.algorithms import RSAAlgorithm
from jwt.utils import base64url_decode
from pylti1p3.contrib.flask import FlaskMessageLaunch, FlaskRequest
from pylti1p3.exception import LtiException
from sqlalchemy import bindparam, delete, literal_column, select

from ibm_lms.clock import utcnow
from ibm_lms.database import execute, execute_alone
from ibm_lms.extensions import app_state
from ibm_lms.markers import N_

from . import platform_keys
from .claims import ACCEPTED_ALGORITHMS, ClaimError, check_claims, check_header, check_shapes
from .cookies import STATE_COOKIE_PREFIX, ToolCookieService
from .data import CLAIM_DEPLOYMENT_ID, LaunchClaims, PlatformRecord
from .errors import LaunchRejected, StateMissing
from .login import is_well_formed_state
from .models import LoginState
from .tool_conf import DatabaseToolConf

log = logging.getLogger(__name__)
# "RS256" → RSA with SHA-256, and so on for every algorithm the claims module accepts.
_SIGNATURE_ALGORITHMS = {name: RSAAlgorithm(getattr(RSAAlgorithm, "SHA" + name[2:])) for name in ACCEPTED_ALGORITHMS}
MAX_ID_TOKEN_LENGTH = 32 * 1024
# One statement both checks and burns the state, so two concurrent replays cannot both pass. It
# burns it only for the token its login was for (nonce, page), committed on its own in one round
# trip; a token that does not match leaves the state for the genuine launch.
_FOR_THIS_STATE = (
    LoginState.state == bindparam("state"),
    LoginState.platform_id == bindparam("platform_id"),
)
_CONSUME_STATE = (
    delete(LoginState)
    .where(*_FOR_THIS_STATE, LoginState.expires_at > bindparam("now"), LoginState.nonce == bindparam("nonce"),
           LoginState.params["target_link_uri"].as_string() == bindparam("target_link_uri"))
    .returning(LoginState.state)
)
# A launch that read its state back from the platform's storage: its login must have asked for that.
_CONSUME_STATE_KEPT_BY_PLATFORM = _CONSUME_STATE.where(
    LoginState.params[("login", "lti_storage_target")].as_string() != literal_column("''")
)
_PENDING_STATE = select(LoginState.nonce, LoginState.params, LoginState.expires_at).where(*_FOR_THIS_STATE)


def _service_session() -> requests.Session:
    # pylti1p3 would build a requests.Session per launch; its service calls (AGS, NRPS) can share one.
    return app_state("lti.service_session", requests.Session)


class ToolMessageLaunch(FlaskMessageLaunch):
    def __init__(self, request: FlaskRequest, tool_conf: DatabaseToolConf, cookies: ToolCookieService):
        super().__init__(request, tool_conf, cookie_service=cookies, requests_session=_service_session())
        self.tool_conf = tool_conf
        self.claims: LaunchClaims | None = None
        self.cookie_names: tuple[str, ...] = ()
        # Set by the view for a same-origin request from our page that read the state back from the platform.
        self.storage_verified = False
        self.via_platform_storage = False

    # -- the order of checks: nothing is written until every check has passed --
    def validate(self):
        self._validated = True
        try:
            self.validate_state()
            self.validate_jwt_format()
            self._algorithm, self._kid = check_header(self._jwt.get("header", {}))
            check_shapes(self._jwt["body"])
            self.validate_registration()
            self.validate_jwt_signature()
            self.validate_deployment()
            self._check_claims()
            self.validate_message()
            self._consume_state()
        except ClaimError as error:
            self._validated = False
            raise LaunchRejected(error.reason, **error.params) from error
        except LtiException as error:
            self._validated = False
            log.warning("pylti1p3 refused a launch: %s", error)
            raise LaunchRejected(N_("The launch message is invalid.")) from error
        return self

    def get_client_id(self) -> str:
        # With several audiences the authorised party names us; pylti1p3 would take the first audience.
        body = self._jwt.get("body", {})
        audience, authorised = body.get("aud"), body.get("azp")
        if isinstance(audience, list):
            return authorised if isinstance(authorised, str) and authorised in audience else audience[0]
        return audience

    def validate_state(self):
        state = self._get_request_param("state")
        if not state:
            raise LaunchRejected(N_("The launch has no state."))
        if not is_well_formed_state(state):
            raise LaunchRejected(N_("The launch state does not match."))
        cookie = self._cookie_service.get_cookie(state)
        if cookie is None:
            if any(name.startswith(STATE_COOKIE_PREFIX) for name in self.cookie_names):
                raise LaunchRejected(N_("The launch state does not match."))
            if self.storage_verified:
                # The platform's client-side storage held the state, as our own page confirmed; the
                # login must have asked for that storage (checked when the state is consumed).
                self.via_platform_storage = True
                return self
            raise StateMissing(state=state, storage_target=self._get_request_param("lti_storage_target") or "")
        if cookie != state:
            raise LaunchRejected(N_("The launch state does not match."))
        return self

    def validate_jwt_format(self):
        token = self._get_request_param("id_token") or ""
        if not token:
            raise LaunchRejected(N_("The launch has no id token."))
        try:
            super().validate_jwt_format()
        except LtiException as error:
            raise LaunchRejected(N_("The id token is not a well-formed JWT.")) from error
        if not isinstance(self._jwt.get("header"), dict) or not isinstance(self._jwt.get("body"), dict):
            raise LaunchRejected(N_("The id token is not a well-formed JWT."))
        return self

    def validate_registration(self):
        try:
            return super().validate_registration()
        except LtiException as error:
            issuer = self._jwt["body"].get("iss")
            if isinstance(issuer, str) and self.tool_conf.issuer_is_registered(issuer):
                raise LaunchRejected(N_("The id token is not addressed to this tool (audience).")) from error
            raise LaunchRejected(N_("The launch comes from a platform that is not registered.")) from error

    def validate_jwt_signature(self):
        assert self._registration is not None
        key = platform_keys.public_key(self._registration.get_key_set_url(), self._kid)
        if key is None:
            raise LaunchRejected(N_("The id token was signed with a key the platform does not publish."))
        # The header and body were parsed and checked already; only the signature is left, and
        # checking it directly skips PyJWT's second pure-Python pass over the whole token.
        signing_input, _, signature = self._get_request_param("id_token").rpartition(".")
        try:
            valid = _SIGNATURE_ALGORITHMS[self._algorithm].verify(
                signing_input.encode("ascii"), key, base64url_decode(signature.encode("ascii"))
            )
        except (ValueError, UnicodeEncodeError) as error:
            raise LaunchRejected(N_("The id token's signature is invalid.")) from error
        if not valid:
            raise LaunchRejected(N_("The id token's signature is invalid."))
        return self

    def validate_deployment(self):
        try:
            return super().validate_deployment()
        except LtiException as error:
            raise LaunchRejected(
                N_("The deployment %(deployment_id)s is not registered for this platform."),
                deployment_id=str(self._jwt["body"].get(CLAIM_DEPLOYMENT_ID, ""))[:100],
            ) from error

    def _check_claims(self):
        config = current_app.config
        platform: PlatformRecord = self.tool_conf.platform
        self.claims = check_claims(
            self._jwt["body"],
            issuer=platform.issuer,
            client_id=platform.client_id,
            now=int(time.time()),
            skew=config["LTI_CLOCK_SKEW_SECONDS"],
            max_age=config["LTI_MAX_TOKEN_AGE_SECONDS"],
            base_url=config["BASE_URL"],
        )

    def _consume_state(self):
        platform: PlatformRecord = self.tool_conf.platform
        values = {
            "state": self._get_request_param("state"),
            "platform_id": platform.id,
            "now": utcnow(),
            "nonce": self.claims.nonce,
            "target_link_uri": self.claims.target_link_uri,
        }
        statement = _CONSUME_STATE_KEPT_BY_PLATFORM if self.via_platform_storage else _CONSUME_STATE
        if execute_alone(statement, values).first() is None:
            raise self._why_not_consumed(values)

    def _why_not_consumed(self, values: dict) -> LaunchRejected:
        pending = execute(_PENDING_STATE, {"state": values["state"], "platform_id": values["platform_id"]}).first()
        if pending is None or pending.expires_at <= values["now"]:
            return LaunchRejected(N_("This launch was already used or its login has expired."))
        if pending.nonce != values["nonce"]:
            return LaunchRejected(N_("The nonce does not match this login."))
        params = pending.params or {}
        if params.get("target_link_uri") != values["target_link_uri"]:
            return LaunchRejected(N_("The launch leads to another page than its login asked for."))
        # Left: the state came back from the platform's storage, which its login never asked for.
        return LaunchRejected(N_("The launch state does not match."))

def validate(form, cookies, *, storage_verified: bool = False) -> ToolMessageLaunch:
    """Validates a launch POST; on success its state is already consumed and committed (one use only)."""
    token = form.get("id_token") or ""
    if len(token) > MAX_ID_TOKEN_LENGTH:
        raise LaunchRejected(N_("The id token is too large."))
    request = FlaskRequest(
        cookies=cookies,
        request_data={
            "id_token": token,
            "state": form.get("state") or "",
            "lti_storage_target": form.get("lti_storage_target") or "",
        },
    )
    tool_conf = DatabaseToolConf()
    launch = ToolMessageLaunch(request, tool_conf, ToolCookieService(request))
    launch.cookie_names = tuple(cookies)
    launch.storage_verified = storage_verified
    launch.validate()
    return launch

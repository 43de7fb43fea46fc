"""pylti1p3's cookie service with our cookie policy: partitioned cross-site cookies over https."""

from __future__ import annotations

from flask import current_app
from pylti1p3.contrib.flask import FlaskCookieService

# pylti1p3 names a login's state cookie "lti1p3-" + the state, and its states start "state-".
STATE_COOKIE_PREFIX = "lti1p3-state-"


def state_cookie_name(state: str) -> str:
    return ToolCookieService._cookie_prefix + "-" + state


class ToolCookieService(FlaskCookieService):
    """Flags come from IBM_LMS_BASE_URL, not request.is_secure, so TLS ended at a proxy still gets Secure cookies."""

    def update_response(self, response):
        config = current_app.config
        for key, data in self._cookie_data_to_set.items():
            # The state cookie lives as long as the login state in the database, not pylti1p3's fixed 5 minutes.
            lifetime = config["LTI_STATE_TTL_SECONDS"] if key.startswith(STATE_COOKIE_PREFIX) else data["exp"]
            response.set_cookie(
                key,
                str(data["value"]),
                max_age=lifetime,
                path="/",
                httponly=True,
                secure=config["SESSION_COOKIE_SECURE"],
                samesite=config["SESSION_COOKIE_SAMESITE"],
                partitioned=config["SESSION_COOKIE_PARTITIONED"],
            )
        return response


def forget_state_cookie(response, state: str) -> None:
    """A consumed launch's state cookie is dead weight: in a real Moodle frame it would ride on every
    later request until it expired. Deleted with the flags it was set with, or browsers keep it."""
    config = current_app.config
    response.delete_cookie(
        state_cookie_name(state),
        path="/",
        httponly=True,
        secure=config["SESSION_COOKIE_SECURE"],
        samesite=config["SESSION_COOKIE_SAMESITE"],
        partitioned=config["SESSION_COOKIE_PARTITIONED"],
    )

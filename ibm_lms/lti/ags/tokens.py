"""Access tokens for a platform's services (LTI Security Framework 1.0, 4.1): OAuth 2 client credentials
with a JWT assertion signed by the tool's key, kept per platform and scope set until shortly before expiry."""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field

import jwt
from flask import current_app

from ibm_lms.extensions import app_state
from ibm_lms.unit_of_work import unit_of_work

from .. import keys
from ..data import PlatformRecord
from ..outbound import request
from .errors import ServiceRefused

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
# A token is used until this many seconds before the platform says it expires.
EXPIRY_MARGIN_SECONDS = 60
MAX_ANSWER_BYTES = 64 * 1024


@dataclass
class _Tokens:
    found: dict[tuple[int, tuple[str, ...]], tuple[str, float]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    fetched: int = 0


def _tokens() -> _Tokens:
    return app_state("lti.ags_tokens", _Tokens)


def forget(platform: PlatformRecord, scopes: tuple[str, ...]) -> None:
    with _tokens().lock:
        _tokens().found.pop((platform.id, tuple(sorted(scopes))), None)


def access_token(platform: PlatformRecord, scopes: tuple[str, ...]) -> str:
    key = (platform.id, tuple(sorted(scopes)))
    cache = _tokens()
    cached = cache.found.get(key)
    if cached is not None and cached[1] > time.monotonic():
        return cached[0]
    token, lifetime = _fetch(platform, key[1])
    with cache.lock:
        cache.found[key] = (token, time.monotonic() + max(10, lifetime - EXPIRY_MARGIN_SECONDS))
        cache.fetched += 1
    return token


def _assertion(platform: PlatformRecord) -> str:
    now = int(time.time())
    # A first key made here must be committed (and so published) before the platform checks the assertion.
    with unit_of_work():
        tool_key = keys.current_key()
        signer, kid = keys.signing_key(tool_key), tool_key.kid
    claims = {"iss": platform.client_id, "sub": platform.client_id,
              "aud": platform.auth_audience or platform.auth_token_url,
              "iat": now, "exp": now + 300, "jti": secrets.token_urlsafe(24)}
    return jwt.encode(claims, signer, algorithm="RS256", headers={"kid": kid})


def _fetch(platform: PlatformRecord, scopes: tuple[str, ...]) -> tuple[str, int]:
    answer = request("POST", platform.auth_token_url, timeout=current_app.config["LTI_SERVICE_TIMEOUT_SECONDS"],
                     max_bytes=MAX_ANSWER_BYTES, headers={"Accept": "application/json"},
                     data={"grant_type": "client_credentials", "client_assertion_type": ASSERTION_TYPE,
                           "client_assertion": _assertion(platform), "scope": " ".join(scopes)})
    body = answer.json()
    if answer.status != 200 or not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
        raise ServiceRefused(answer, step="token")
    lifetime = body.get("expires_in")
    return body["access_token"], lifetime if isinstance(lifetime, int) and lifetime > 0 else 3600

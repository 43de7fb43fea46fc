"""Rate limits on what anyone may call without signing in (LTI login and launch, dynamic registration, certificate
verification), per client address, with Flask-Limiter.

Rooms name their anonymous endpoints (`limit(app, endpoint, kind)`); the limits come from settings, generous
enough for a classroom behind one NAT address launching at once. Counts are kept in each worker's memory unless
IBM_LMS_RATE_LIMIT_STORAGE names a shared store (e.g. redis://127.0.0.1:6379), so with N workers and memory the
effective limit is up to N times the setting. Behind a proxy the client address is the one ProxyFix accepted
from the configured hop, so a forged X-Forwarded-For from a client does not buy a new allowance.
"""

from __future__ import annotations

from flask import Flask
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from .extensions import app_state

KINDS = {"launch": "RATE_LIMIT_LAUNCH", "public": "RATE_LIMIT_PUBLIC"}


def _limiter(app: Flask) -> Limiter:
    def make() -> Limiter:
        limiter = Limiter(key_func=get_remote_address, storage_uri=app.config["RATE_LIMIT_STORAGE"],
                          headers_enabled=True, strategy="moving-window")
        limiter.init_app(app)
        return limiter
    return app_state("ratelimits.limiter", make, app=app)


def init_app(app: Flask) -> None:
    app.config.setdefault("RATELIMIT_ENABLED", app.config.get("RATE_LIMITS", True))
    _limiter(app)


def limit(app: Flask, endpoint: str, kind: str) -> None:
    """Limits one anonymous endpoint by the setting of its kind ("launch" or "public"); the endpoints of a kind
    share one allowance per address (a login and its launch count as two requests)."""
    if not app.config["RATELIMIT_ENABLED"]:
        # A disabled Limiter still runs its per-request bookkeeping in every limited view: leave them bare.
        return
    limiter = _limiter(app)
    shared = limiter.shared_limit(lambda: app.config[KINDS[kind]], scope=kind)
    app.view_functions[endpoint] = shared(app.view_functions[endpoint])

"""Registered platforms as each process sees them: read from the database, kept for a short while.

Every login and launch needs the registration and its deployments; reading them once per
half minute instead of several times per flow keeps launches cheap. A deployment not in
the cached entry causes one reload, so a newly added deployment works at once; a removed
registration stops working in other processes within the cache lifetime.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from ibm_lms.extensions import db

from .models import Deployment, Platform
from .urls import origin_of


@dataclass(frozen=True)
class PlatformEntry:
    id: int
    tenant_id: int
    issuer: str
    client_id: str
    auth_login_url: str
    auth_token_url: str
    keyset_url: str
    auth_audience: str | None
    deployment_ids: frozenset[str]


_entries: dict[tuple[str, str], tuple[float, PlatformEntry]] = {}
_lock = threading.Lock()


def clear() -> None:
    global _origins
    with _lock:
        _entries.clear()
        _origins = (0.0, frozenset())


def _load(issuer: str, client_id: str | None) -> PlatformEntry | None:
    query = select(Platform).where(Platform.issuer == issuer)
    if client_id:
        query = query.where(Platform.client_id == client_id)
    found = db.session.execute(query.limit(2)).scalars().all()
    # Without a client_id the issuer must be unambiguous.
    if len(found) != 1:
        return None
    platform = found[0]
    deployments = db.session.execute(
        select(Deployment.deployment_id).where(Deployment.platform_id == platform.id)
    ).scalars()
    return PlatformEntry(
        id=platform.id, tenant_id=platform.tenant_id, issuer=platform.issuer, client_id=platform.client_id,
        auth_login_url=platform.auth_login_url, auth_token_url=platform.auth_token_url,
        keyset_url=platform.keyset_url, auth_audience=platform.auth_audience,
        deployment_ids=frozenset(deployments),
    )


def find(issuer: str, client_id: str | None, *, fresh: bool = False) -> PlatformEntry | None:
    if not issuer:
        return None
    key = (issuer, client_id or "")
    now = time.monotonic()
    cached = _entries.get(key)
    if cached is not None and cached[0] > now and not fresh:
        return cached[1]
    entry = _load(issuer, client_id)
    with _lock:
        if entry is None:
            _entries.pop(key, None)
        else:
            _entries[key] = (now + current_app.config["LTI_PLATFORM_CACHE_SECONDS"], entry)
    return entry


_origins: tuple[float, frozenset[str]] = (0.0, frozenset())


def platform_origins() -> frozenset[str]:
    """Origins of every registered platform (issuer and login endpoint), for the frame-ancestors policy."""
    global _origins
    now = time.monotonic()
    if _origins[0] > now:
        return _origins[1]
    found = set()
    try:
        rows = db.session.execute(select(Platform.issuer, Platform.auth_login_url)).all()
    except SQLAlchemyError:
        # Without the database (see /healthz) no platform may frame us; the response itself still goes out.
        db.session.rollback()
        return frozenset()
    for issuer, login_url in rows:
        found.update(origin for origin in (origin_of(issuer), origin_of(login_url)) if origin)
    _origins = (now + current_app.config["LTI_PLATFORM_CACHE_SECONDS"], frozenset(found))
    return _origins[1]


def has_deployment(entry: PlatformEntry, deployment_id: str) -> bool:
    if deployment_id in entry.deployment_ids:
        return True
    refreshed = find(entry.issuer, entry.client_id, fresh=True)
    return refreshed is not None and deployment_id in refreshed.deployment_ids

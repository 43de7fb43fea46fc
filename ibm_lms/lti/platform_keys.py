"""The platforms' public keys: fetched with a timeout, cached per key set in the database and in each application.

A launch normally finds its key in memory. The database row lets every worker share
one fetch; Cache-Control decides how long it is reused. A kid we have not seen makes
us refetch once (a platform may have rotated), at most once per key set in a short
window so random kids cannot turn us into a request amplifier.

Fetches of one key set are made one at a time: by the threads of a process (a lock) and,
on PostgreSQL, by all workers (an advisory lock held until the fetched set is committed),
so launches arriving together on a cold cache wait for one fetch instead of each making
their own. SQLite deployments run in one process.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from jwt.algorithms import RSAAlgorithm
from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError

from ibm_lms.clock import utcnow
from ibm_lms.database import upsert
from ibm_lms.errors import N_, Phrase
from ibm_lms.extensions import app_state, db
from ibm_lms.unit_of_work import in_unit_of_work, unit_of_work

from .cache_control import max_age_seconds
from .errors import PlatformKeysUnavailable
from .models import PlatformKeySet
from .outbound import OutboundError, request_json

log = logging.getLogger(__name__)
MAX_JWKS_BYTES = 256 * 1024



@dataclass
class _CachedSet:
    keys: dict[str, object]
    expires_at: datetime
    fetched_at: datetime


@dataclass
class _KeySets:
    """One application's key sets in memory, and what lets its threads fetch each set one at a time."""

    cached: dict[str, _CachedSet] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    fetch_locks: dict[str, threading.Lock] = field(default_factory=dict)
    # The last failed fetch per key set: (monotonic time, reason), shared with those who waited on it.
    failures: dict[str, tuple[float, object]] = field(default_factory=dict)

    def keep(self, url: str, entry: _CachedSet) -> None:
        with self.lock:
            self.cached[url] = entry


def _key_sets() -> _KeySets:
    return app_state("lti.platform_key_sets", _KeySets)


def _parse(jwks: dict) -> dict[str, object]:
    keys = {}
    for jwk in jwks.get("keys", []) if isinstance(jwks, dict) else []:
        if not isinstance(jwk, dict) or jwk.get("kty") != "RSA" or not jwk.get("kid"):
            continue
        if jwk.get("use", "sig") != "sig":
            continue
        try:
            keys[jwk["kid"]] = RSAAlgorithm.from_jwk(json.dumps(jwk))
        except (ValueError, TypeError, KeyError):
            log.warning("Skipping an unreadable key %s in a platform key set", jwk.get("kid"))
    return keys


def _fetch(url: str) -> tuple[dict, int]:
    config = current_app.config
    try:
        answer = request_json("GET", url, timeout=config["LTI_JWKS_TIMEOUT_SECONDS"], max_bytes=MAX_JWKS_BYTES)
    except OutboundError as error:
        raise PlatformKeysUnavailable(reason=error.reason) from error
    jwks = answer.body
    if answer.status != 200 or not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
        raise PlatformKeysUnavailable(reason=Phrase(N_("the key set has no keys list")))
    ttl = max_age_seconds(answer.headers.get("Cache-Control"), config["LTI_JWKS_DEFAULT_TTL_SECONDS"])
    return jwks, ttl


def _store(url: str, jwks: dict, ttl: int) -> _CachedSet:
    now = utcnow()
    entry = _CachedSet(keys=_parse(jwks), expires_at=now + timedelta(seconds=ttl), fetched_at=now)
    upsert(
        PlatformKeySet.__table__,
        {"url": url, "jwks": jwks, "fetched_at": now, "expires_at": entry.expires_at},
        conflict_on=("url",),
        update=("jwks", "fetched_at", "expires_at"),
    )
    return entry


def _from_database(url: str, known: _CachedSet | None = None) -> _CachedSet | None:
    """The stored key set, or None if there is none or it expired; `known` is reused if it is that same fetch."""
    row = db.session.execute(select(PlatformKeySet).where(PlatformKeySet.url == url)).scalar_one_or_none()
    if row is None or row.expires_at <= utcnow():
        return None
    if known is not None and known.fetched_at == row.fetched_at:
        return known
    entry = _CachedSet(keys=_parse(row.jwks), expires_at=row.expires_at, fetched_at=row.fetched_at)
    _key_sets().keep(url, entry)
    return entry


def _too_slow() -> PlatformKeysUnavailable:
    return PlatformKeysUnavailable(reason=Phrase(N_("the platform answered too slowly")))


def fetch_lock_id(url: str) -> int:
    """The PostgreSQL advisory lock that lets one worker at a time fetch this key set."""
    return int.from_bytes(hashlib.sha256(url.encode()).digest()[:8], "big", signed=True)


@contextmanager
def _one_fetch_at_a_time(url: str) -> Iterator[None]:
    """Holds the key set's fetch lock for this application's threads, and shares a failed fetch.

    Waits are bounded by what one fetch may take. Whoever waited on a fetch that failed gets
    that failure instead of trying again: a platform that is down costs one timeout, not one
    per queued launch.
    """
    if in_unit_of_work():
        # The fetch commits a shared cache and may wait seconds: never inside someone's transaction.
        raise RuntimeError("platform keys are fetched before a unit of work begins, not inside one")
    # Waiting must not hold a pooled connection. Validation has nothing pending: this only hands it back.
    db.session.rollback()
    bound = _wait_bound()
    sets = _key_sets()
    with sets.lock:
        fetch_lock = sets.fetch_locks.setdefault(url, threading.Lock())
    waiting_since = time.monotonic()
    if not fetch_lock.acquire(timeout=bound):
        raise _too_slow()
    try:
        failed = sets.failures.get(url)
        if failed is not None and failed[0] >= waiting_since:
            raise PlatformKeysUnavailable(reason=failed[1])
        try:
            yield
        except PlatformKeysUnavailable as error:
            sets.failures[url] = (time.monotonic(), error.params["reason"])
            raise
    finally:
        fetch_lock.release()


def _wait_bound() -> float:
    return 2 * current_app.config["LTI_JWKS_TIMEOUT_SECONDS"] + 1


def _lock_across_workers(url: str) -> None:
    """On PostgreSQL, waits for any other worker fetching this key set; held until the unit of work ends."""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    try:
        db.session.execute(text(f"SET LOCAL lock_timeout = {int(_wait_bound() * 1000)}"))
        db.session.execute(select(func.pg_advisory_xact_lock(fetch_lock_id(url))))
    except OperationalError as error:
        raise _too_slow() from error


def _fetch_unless_fetched_since(url: str, since: datetime | None) -> _CachedSet:
    """Fetches the key set, unless another worker stored one newer than `since` while we waited.

    A fetched key set is a shared cache, good whatever becomes of the launch that asked for it:
    it is its own unit of work, and committing it ends the advisory lock's transaction.
    """
    with _one_fetch_at_a_time(url), unit_of_work():
        _lock_across_workers(url)
        shared = _from_database(url)
        if shared is not None and (since is None or shared.fetched_at > since):
            return shared
        entry = _store(url, *_fetch(url))
    _key_sets().keep(url, entry)
    return entry


def _current(url: str) -> _CachedSet:
    entry = _key_sets().cached.get(url)
    if entry is not None and entry.expires_at > utcnow():
        return entry
    entry = _from_database(url)
    if entry is not None:
        return entry
    return _fetch_unless_fetched_since(url, None)


def public_key(url: str, kid: str):
    """The platform's public key with this kid, or None if the platform does not publish it."""
    entry = _current(url)
    key = entry.keys.get(kid)
    if key is not None:
        return key
    window = timedelta(seconds=current_app.config["LTI_JWKS_MIN_REFETCH_SECONDS"])
    if entry.fetched_at + window > utcnow():
        # Another worker may have refetched already; the database is cheaper than the platform.
        shared = _from_database(url, known=entry)
        return shared.keys.get(kid) if shared else None
    return _fetch_unless_fetched_since(url, entry.fetched_at).keys.get(kid)

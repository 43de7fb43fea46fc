"""How an academy's statements name their people and places, cached per app.

Every learning event needs these facts, and a launch or an answer must not pay a query for each. What never
changes is kept for good: the platform's (issuer, sub) of a user and the platform's id of a context, and an
academy's slug and pseudonym key. What an administrator may change (the country, whether names are shared) is
re-read after ACADEMY_SECONDS, so another worker follows a change within that time; the worker that made the
change forgets it at once.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from ibm_lms.database import after_commit
from ibm_lms.extensions import app_state, db
from ibm_lms.tenancy import service as tenancy

from . import settings
from .models import LrsSettings

ACADEMY_SECONDS = 30
# Bounds of the per-process caches of immutable facts: a full cache is emptied and refilled as events come.
MAX_REMEMBERED = 50_000


@dataclass(frozen=True)
class Academy:
    slug: str
    country: str | None
    share_identity: bool
    pseudonym_key: bytes


def academy(tenant_id: int) -> Academy:
    cache = app_state("xapi.academies", dict)
    found = cache.get(tenant_id)
    if found is not None and found[1] > time.monotonic():
        return found[0]
    row = db.session.get(LrsSettings, tenant_id)
    committed = row is not None
    if row is None:
        row = settings.settings_row(tenant_id)
    known = Academy(slug=tenancy.get_tenant_by_id(tenant_id).slug, country=row.country,
                    share_identity=bool(row.share_identity), pseudonym_key=settings.pseudonym_key(row))

    def remember() -> None:
        cache[tenant_id] = (known, time.monotonic() + ACADEMY_SECONDS)

    # A row this transaction made may yet roll back, and its key with it: it is remembered once committed.
    if committed:
        remember()
    else:
        after_commit(remember)
    return known


def forget_academy(tenant_id: int) -> None:
    app_state("xapi.academies", dict).pop(tenant_id, None)


def subject(tenant_id: int, user_id: int) -> tuple[str, str]:
    """The (issuer, sub) a platform knows the user by; a user row never changes them."""
    return _remembered("xapi.subjects", (tenant_id, user_id), lambda: tenancy.subject_of(tenant_id, user_id))


def lti_context(tenant_id: int, context_id: int | None) -> str | None:
    """The platform's own id of a context (a Moodle course id), which a context row never changes."""
    if context_id is None:
        return None
    return _remembered("xapi.contexts", (tenant_id, context_id), lambda: tenancy.lti_context_of(tenant_id, context_id))


def _remembered(name: str, key, read):
    cache = app_state(name, dict)
    if key in cache:
        return cache[key]
    value = read()
    if len(cache) >= MAX_REMEMBERED:
        cache.clear()
    cache[key] = value
    return value

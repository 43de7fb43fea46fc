"""Issuing, checking and revoking API tokens."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from ibm_lms.clock import utcnow
from ibm_lms.extensions import db
from ibm_lms.tenancy.data import Identity, Role

from .models import ApiToken

PREFIX = "ibm_"
# A token's last use is written at most this often, not on every request.
TOUCH_EVERY = timedelta(minutes=5)


@dataclass(frozen=True)
class TokenRecord:
    id: int
    tenant_id: int
    name: str
    role: str
    created_at: object
    last_used_at: object
    revoked: bool


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue(tenant_id: int, name: str, role: Role) -> tuple[TokenRecord, str]:
    """A new token (shown once) for the tenant, acting with `role`."""
    token = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(tenant_id=tenant_id, name=name, digest=_digest(token), role=role.value, created_at=utcnow())
    db.session.add(row)
    db.session.flush()
    return _record(row), token


def identity_of(token: str) -> Identity | None:
    """The identity a presented token acts as, or None for an unknown or revoked one."""
    if not token.startswith(PREFIX) or len(token) > 200:
        return None
    digest = _digest(token)
    row = db.session.execute(select(ApiToken).where(ApiToken.digest == digest)).scalar_one_or_none()
    if row is None or row.revoked_at is not None or not hmac.compare_digest(row.digest, digest):
        return None
    now = utcnow()
    if row.last_used_at is None or now - row.last_used_at > TOUCH_EVERY:
        row.last_used_at = now
        db.session.commit()
    # A token is no person: user_id 0 marks what it writes as written by the academy's API.
    return Identity(user_id=0, tenant_id=row.tenant_id, role=Role(row.role), context_id=None,
                    display_name=f"API: {row.name}")


def listed(tenant_id: int) -> list[TokenRecord]:
    return [_record(row) for row in db.session.execute(
        select(ApiToken).where(ApiToken.tenant_id == tenant_id).order_by(ApiToken.id)).scalars()]


def revoke(tenant_id: int, token_id: int) -> bool:
    row = db.session.execute(select(ApiToken).where(ApiToken.id == token_id, ApiToken.tenant_id == tenant_id)
                             ).scalar_one_or_none()
    if row is None:
        return False
    row.revoked_at = row.revoked_at or utcnow()
    return True


def _record(row: ApiToken) -> TokenRecord:
    return TokenRecord(row.id, row.tenant_id, row.name, row.role, row.created_at, row.last_used_at,
                       row.revoked_at is not None)

"""Each academy's credential-signing keys: made on first need, sealed at rest, rotated on demand, and every key
that ever signed published for as long as its credentials may be checked."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from ibm_lms import sealed
from ibm_lms.clock import utcnow
from ibm_lms.extensions import db

from . import credentials
from .models import SigningKey

PURPOSE = "certification signing keys"


@dataclass(frozen=True)
class ActiveKey:
    kid: str
    private_pem: bytes


def _create(tenant_id: int) -> SigningKey:
    made = credentials.new_key()
    row = SigningKey(tenant_id=tenant_id, kid=made.kid, algorithm=credentials.SIGNING_ALGORITHM,
                     private_key=sealed.seal(PURPOSE, made.private_pem), public_jwk=made.public_jwk)
    db.session.add(row)
    db.session.flush()
    return row


def active(tenant_id: int) -> ActiveKey:
    """The academy's current key (made now if it has none). The caller commits."""
    row = db.session.execute(select(SigningKey).where(SigningKey.tenant_id == tenant_id,
                                                      SigningKey.retired_at.is_(None))
                             .order_by(SigningKey.id.desc()).limit(1)).scalar_one_or_none()
    row = row or _create(tenant_id)
    return ActiveKey(kid=row.kid, private_pem=sealed.unseal(PURPOSE, row.private_key))


def rotate(tenant_id: int) -> str:
    """Retires the current key (it stays published) and makes a new one; returns the new key's id."""
    for row in db.session.execute(select(SigningKey).where(SigningKey.tenant_id == tenant_id,
                                                           SigningKey.retired_at.is_(None))).scalars():
        row.retired_at = utcnow()
    return _create(tenant_id).kid


def jwks(tenant_id: int) -> dict:
    rows = db.session.execute(select(SigningKey.public_jwk).where(SigningKey.tenant_id == tenant_id)
                              .order_by(SigningKey.id)).scalars()
    return {"keys": [dict(jwk) for jwk in rows]}


def unreadable_count() -> int:
    tokens = db.session.execute(select(SigningKey.private_key).where(SigningKey.retired_at.is_(None))).scalars()
    return sum(1 for token in tokens if not sealed.readable(PURPOSE, token))

"""The tool's RSA key pair: generated on first use, encrypted at rest, published as a JWKS, rotated on demand."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import timedelta
from functools import lru_cache

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import current_app
from sqlalchemy import or_, select, update

from ibm_lms import sealed
from ibm_lms.audit import service as audit
from ibm_lms.clock import utcnow
from ibm_lms.extensions import db
from ibm_lms.unit_of_work import unit_of_work

from .errors import ToolKeyUnreadable
from .models import ToolKey


def _b64(number: int) -> str:
    raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def public_jwk(public_key: rsa.RSAPublicKey) -> dict:
    numbers = public_key.public_numbers()
    jwk = {"kty": "RSA", "e": _b64(numbers.e), "n": _b64(numbers.n)}
    # RFC 7638 thumbprint: a kid that names the key itself.
    canonical = json.dumps(jwk, separators=(",", ":"), sort_keys=True).encode()
    kid = base64.urlsafe_b64encode(hashlib.sha256(canonical).digest()).rstrip(b"=").decode()
    return {**jwk, "kid": kid, "alg": "RS256", "use": "sig"}


PURPOSE = "ibm-lms tool signing keys"


def _encrypt(pem: bytes) -> str:
    return sealed.seal(PURPOSE, pem)


def _create_key() -> ToolKey:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    jwk = public_jwk(private.public_key())
    key = ToolKey(kid=jwk["kid"], private_key=_encrypt(pem), public_jwk=jwk, created_at=utcnow())
    db.session.add(key)
    db.session.flush()
    return key


def current_key() -> ToolKey:
    """The signing key, created on first use inside the caller's unit of work.

    Two workers creating the first key at once each create their own (kids are thumbprints, so
    they never collide): both are published, and the newest signs."""
    found = db.session.execute(
        select(ToolKey).where(ToolKey.retired_at.is_(None)).order_by(ToolKey.id.desc()).limit(1)
    ).scalar_one_or_none()
    return found if found is not None else _create_key()


def private_key_pem(key: ToolKey) -> str:
    try:
        return sealed.unseal(PURPOSE, key.private_key).decode()
    except sealed.InvalidToken as error:
        raise ToolKeyUnreadable() from error


@lru_cache(maxsize=16)
def _loaded(secret: str, token: str) -> rsa.RSAPrivateKey:
    return serialization.load_pem_private_key(sealed.unseal(PURPOSE, token), password=None)


def signing_key(key: ToolKey) -> rsa.RSAPrivateKey:
    """The key ready to sign with. Loading a PEM checks the RSA key (~40 ms); a token per grade or
    deep-linking answer must not pay that each time."""
    try:
        return _loaded(current_app.config["SECRET_KEY"], key.private_key)
    except sealed.InvalidToken as error:
        raise ToolKeyUnreadable() from error


def unreadable_count() -> int:
    """Signing keys still in use (the current one and those published for the grace period) that the configured
    secret key cannot open."""
    tokens = db.session.execute(select(ToolKey.private_key).where(ToolKey.retired_at.is_(None))).scalars()
    return sum(1 for token in tokens if not sealed.readable(PURPOSE, token))


def rotate(*, actor: str) -> tuple[str, list[str]]:
    """Retires every current key and creates a new one (audited); returns the new kid and the retired ones.
    Retired keys stay published for the grace period."""
    with unit_of_work():
        retiring = [
            kid for kid in db.session.execute(select(ToolKey.kid).where(ToolKey.retired_at.is_(None))).scalars()
        ]
        db.session.execute(update(ToolKey).where(ToolKey.retired_at.is_(None)).values(retired_at=utcnow()))
        kid = _create_key().kid
        audit.record(actor=actor, action="tool_key.rotated", subject=f"tool key {kid}",
                     details={"retired": retiring})
    return kid, retiring


def published_jwks() -> dict:
    """The public keys platforms verify the tool's messages with; makes the first key if there is none."""
    with unit_of_work():
        current_key()
        grace = timedelta(seconds=current_app.config["LTI_KEY_GRACE_SECONDS"])
        rows = db.session.execute(
            select(ToolKey.public_jwk)
            .where(or_(ToolKey.retired_at.is_(None), ToolKey.retired_at > utcnow() - grace))
            .order_by(ToolKey.id.desc())
        ).scalars()
        return {"keys": list(rows)}

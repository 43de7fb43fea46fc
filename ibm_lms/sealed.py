"""Secrets kept in the database sealed with a key derived from IBM_LMS_SECRET_KEY, one key per purpose
(the tool's signing keys, an academy's LRS password): a copied table reveals none of them."""

from __future__ import annotations

import base64
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

__all__ = ["InvalidToken", "seal", "unseal"]


@lru_cache(maxsize=16)
def fernet(secret: str, purpose: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode()).derive(secret.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def seal(purpose: str, plain: bytes) -> str:
    return fernet(current_app.config["SECRET_KEY"], purpose).encrypt(plain).decode()


@lru_cache(maxsize=64)
def _unsealed(secret: str, purpose: str, token: str) -> bytes:
    return fernet(secret, purpose).decrypt(token.encode())


def unseal(purpose: str, token: str) -> bytes:
    """The plain bytes; raises InvalidToken when the secret key changed or the value was tampered with."""
    return _unsealed(current_app.config["SECRET_KEY"], purpose, token)

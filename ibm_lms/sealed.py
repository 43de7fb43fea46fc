"""Secrets kept in the database sealed with a key derived from IBM_LMS_SECRET_KEY, one key per purpose
(the tool's signing keys, an academy's LRS password): a copied table reveals none of them."""

from __future__ import annotations

import base64
from collections.abc import Callable
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import Flask, current_app

from .config import ConfigurationError
from .extensions import app_state

__all__ = ["InvalidToken", "add_check", "readable", "require_readable", "seal", "unreadable", "unseal"]


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


def readable(purpose: str, token: str) -> bool:
    try:
        unseal(purpose, token)
    except InvalidToken:
        return False
    return True


def add_check(app: Flask, what: str, count_unreadable: Callable[[], int]) -> None:
    """A room names secrets it keeps sealed and how to count those the configured key cannot open."""
    app_state("sealed.checks", dict, app=app)[what] = count_unreadable


def unreadable(app: Flask) -> dict[str, int]:
    """Per kind of stored secret, how many the configured IBM_LMS_SECRET_KEY cannot open (kinds with none left
    out): a changed key is found before it breaks a launch or a delivery. Needs an app context."""
    found = {what: count() for what, count in app_state("sealed.checks", dict, app=app).items()}
    return {what: number for what, number in found.items() if number}


def require_readable(app: Flask) -> None:
    """Refuses, in one line that says what to do, to run with a secret key that cannot open what is stored."""
    found = unreadable(app)
    if found:
        listed = "; ".join(f"{what}: {number}" for what, number in found.items())
        raise ConfigurationError(
            f"IBM_LMS_SECRET_KEY cannot open secrets stored with another key ({listed}). Set the key they were "
            "stored with. If it is lost: 'ibm-lms keys rotate --force' makes a new signing key (platforms fetch it "
            "from the published key set), and 'ibm-lms xapi lrs set --tenant T --password-stdin' stores each "
            "LRS password again.")

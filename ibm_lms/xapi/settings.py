"""An academy's LRS: where its statements go, with which credentials, and how its people are named."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import select

from ibm_lms import sealed
from ibm_lms.database import insert_new
from ibm_lms.extensions import db

from .models import LrsSettings

CREDENTIALS_PURPOSE = "ibm-lms lrs credentials"
PSEUDONYM_PURPOSE = "ibm-lms xapi pseudonyms"
AUTH_KINDS = ("basic", "oauth")


@dataclass(frozen=True)
class Lrs:
    """Where to send, resolved: the academy's own LRS or the default one from the configuration."""

    endpoint: str
    auth: str
    username: str
    password: str
    token_url: str | None = None

    @property
    def statements_url(self) -> str:
        return self.endpoint.rstrip("/") + "/statements"


@dataclass(frozen=True)
class TenantView:
    tenant_id: int
    endpoint: str | None
    auth: str
    username: str | None
    has_password: bool
    country: str | None
    share_identity: bool
    open_until: datetime | None
    failures: int


class SettingsRefused(ValueError):
    pass


def settings_row(tenant_id: int) -> LrsSettings:
    """The academy's row, made with a fresh pseudonym key on first need (inside the caller's unit of work).

    Two workers may meet an academy's first event at once: the row is inserted if absent, never twice, and both
    read the one that won (so both name people with the same key)."""
    row = db.session.get(LrsSettings, tenant_id)
    if row is None:
        insert_new(LrsSettings.__table__, [{
            "tenant_id": tenant_id, "auth": "basic", "share_identity": False, "failures": 0,
            "pseudonym_key_sealed": sealed.seal(PSEUDONYM_PURPOSE, secrets.token_bytes(32))}], ["tenant_id"])
        row = db.session.get(LrsSettings, tenant_id, populate_existing=True)
    return row


def check_endpoint(endpoint: str) -> str:
    parts = urlsplit(endpoint)
    if parts.scheme not in ("https", "http") or not parts.hostname or parts.query or parts.fragment:
        raise SettingsRefused("the endpoint must be an http(s) address without query, e.g. https://lrs.example/xAPI/")
    if parts.scheme == "http" and parts.hostname not in ("127.0.0.1", "localhost", "::1"):
        raise SettingsRefused("an LRS on another machine is reached over https only (credentials travel with "
                              "every request)")
    return endpoint if endpoint.endswith("/") else endpoint + "/"


def configure(tenant_id: int, *, endpoint: str | None = None, username: str | None = None,
              password: str | None = None, auth: str | None = None, token_url: str | None = None,
              country: str | None = None, share_identity: bool | None = None) -> TenantView:
    """Changes what is given, inside the caller's unit of work; a new endpoint closes the breaker."""
    row = settings_row(tenant_id)
    if endpoint is not None:
        row.endpoint = check_endpoint(endpoint) if endpoint else None
        row.failures, row.open_until = 0, None
    if auth is not None:
        if auth not in AUTH_KINDS:
            raise SettingsRefused("auth must be basic or oauth")
        row.auth = auth
    if token_url is not None:
        row.token_url = check_endpoint(token_url).rstrip("/") if token_url else None
    if username is not None:
        row.username = username or None
    if password is not None:
        row.secret_sealed = sealed.seal(CREDENTIALS_PURPOSE, password.encode()) if password else None
    if country is not None:
        if country and (len(country) != 2 or not country.isalpha()):
            raise SettingsRefused("country is an ISO 3166 alpha-2 code, e.g. GE, UA, MD")
        row.country = country.upper() or None
    if share_identity is not None:
        row.share_identity = share_identity
    if row.auth == "oauth" and row.endpoint and not row.token_url:
        raise SettingsRefused("OAuth needs the LRS's token address (--token-url)")
    return view(tenant_id)


def view(tenant_id: int) -> TenantView:
    row = db.session.get(LrsSettings, tenant_id)
    if row is None:
        return TenantView(tenant_id, None, "basic", None, False, None, False, None, 0)
    return TenantView(tenant_id, row.endpoint, row.auth, row.username, row.secret_sealed is not None, row.country,
                      row.share_identity, row.open_until, row.failures)


def lrs_for(tenant_id: int) -> Lrs | None:
    """The LRS an academy's statements go to: its own, else the configured default, else none yet."""
    row = db.session.get(LrsSettings, tenant_id)
    if row is not None and row.endpoint:
        password = sealed.unseal(CREDENTIALS_PURPOSE, row.secret_sealed).decode() if row.secret_sealed else ""
        return Lrs(row.endpoint, row.auth, row.username or "", password, row.token_url)
    return default_lrs()


def default_lrs() -> Lrs | None:
    config = current_app.config
    if not config.get("LRS_ENDPOINT"):
        return None
    return Lrs(check_endpoint(config["LRS_ENDPOINT"]), "basic", config.get("LRS_USERNAME") or "",
               config.get("LRS_PASSWORD") or "")


def tenants_with_lrs() -> list[int] | None:
    """The academies whose statements can go out now; None means every academy (a default LRS is set)."""
    if default_lrs() is not None:
        return None
    return list(db.session.execute(select(LrsSettings.tenant_id).where(LrsSettings.endpoint.is_not(None))).scalars())


def pseudonym_key(row: LrsSettings) -> bytes:
    return sealed.unseal(PSEUDONYM_PURPOSE, row.pseudonym_key_sealed)


def pseudonym(key: bytes, issuer: str, subject: str) -> str:
    """An opaque, stable name for a person in one academy: the same LTI user always gets the same one,
    and it cannot be turned back into the platform's user id without the academy's sealed key."""
    return hmac.new(key, f"{issuer}\n{subject}".encode(), hashlib.sha256).hexdigest()[:32]


def unreadable_count() -> int:
    """LRS passwords and pseudonym keys the configured secret key cannot open."""
    count = 0
    for secret, pseudonym_key in db.session.execute(select(LrsSettings.secret_sealed,
                                                           LrsSettings.pseudonym_key_sealed)):
        count += secret is not None and not sealed.readable(CREDENTIALS_PURPOSE, secret)
        count += not sealed.readable(PSEUDONYM_PURPOSE, pseudonym_key)
    return count

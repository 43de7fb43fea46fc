"""The one owner of the session's contents: the signed-in identity, the language chosen, and the
open deep-linking request. Other rooms reach these through `tenancy.service`, never by session key.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import abort, current_app, g, session
from flask_wtf.csrf import generate_csrf

from .data import Identity, RecordedIdentity, Role
from .errors import NotSignedIn
from .session_transport import carry_in_urls

_IDENTITY = "identity"
_LOCALE = "locale"
_DEEP_LINK_REQUEST = "deep_linking"


def sign_in(
    recorded: RecordedIdentity, *, resource_link_id: int | None, locale: str, cookieless: bool = False,
    deep_link_request_id: str | None = None,
) -> None:
    # A fresh session on every launch: nothing of a previous user's session survives. The same person's CSRF
    # secret does: the pages they still have open (an exam in another tab, when they open a second activity in
    # Moodle) keep saving instead of failing every request from then on.
    before = session.get(_IDENTITY)
    same_person = isinstance(before, dict) and (before.get("user_id"), before.get("tenant_id")) == (
        recorded.user_id, recorded.tenant_id)
    csrf_key = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    csrf_secret = session.get(csrf_key) if same_person else None
    session.clear()
    if csrf_secret:
        session[csrf_key] = csrf_secret
    g.pop("identity", None)
    if cookieless:
        carry_in_urls()
    session.permanent = True
    session[_IDENTITY] = {
        "user_id": recorded.user_id,
        "tenant_id": recorded.tenant_id,
        "role": recorded.role.value,
        "context_id": recorded.context_id,
        "display_name": recorded.display_name,
        "resource_link_id": resource_link_id,
        "context_title": recorded.context_title,
    }
    session[_LOCALE] = locale
    if deep_link_request_id is not None:
        session[_DEEP_LINK_REQUEST] = deep_link_request_id
    # Made now, with the session the launch sets anyway: the pages after it (every one has the language
    # form) then leave the session unchanged and need not sign and send it again.
    generate_csrf()


def current_identity() -> Identity | None:
    if "identity" in g:
        return g.identity
    raw = session.get(_IDENTITY)
    identity = None
    if isinstance(raw, dict):
        try:
            identity = Identity(
                user_id=int(raw["user_id"]),
                tenant_id=int(raw["tenant_id"]),
                role=Role(raw["role"]),
                context_id=raw.get("context_id"),
                display_name=raw.get("display_name"),
                resource_link_id=raw.get("resource_link_id"),
                context_title=raw.get("context_title"),
            )
        except (KeyError, TypeError, ValueError):
            identity = None
    g.identity = identity
    return identity


def require_identity() -> Identity:
    identity = current_identity()
    if identity is None:
        raise NotSignedIn()
    return identity


def role_required(minimum: Role) -> Callable[[Callable], Callable]:
    """Signed in with at least this role, else 403."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args, **kwargs):
            if require_identity().role.rank < minimum.rank:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorate


def login_required(view: Callable) -> Callable:
    @wraps(view)
    def wrapped(*args, **kwargs):
        require_identity()
        return view(*args, **kwargs)

    return wrapped


def chosen_locale() -> str | None:
    """The language of this session: set at launch, changed by the user's own choice."""
    value = session.get(_LOCALE)
    return value if isinstance(value, str) else None


def choose_locale(locale: str) -> None:
    session[_LOCALE] = locale


def deep_link_request_id() -> str | None:
    value = session.get(_DEEP_LINK_REQUEST)
    return value if isinstance(value, str) else None


def forget_deep_link_request() -> None:
    session.pop(_DEEP_LINK_REQUEST, None)

"""Where the session travels: in its partitioned cookie, or, for browsers that keep no cookie of ours
at all inside the platform's frame, in a signed `ltik` token carried by every link and form.

Token mode starts only after a launch proved through the platform's client-side storage that the
browser drops our cookies. The token is the same signed session a cookie would hold, so any worker
can read it, and it expires with the session.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import Flask, request, session
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from itsdangerous import BadSignature, URLSafeTimedSerializer

TOKEN_PARAMETER = "ltik"  # noqa: S105 - a parameter name, not a secret


class TransportedSession(SecureCookieSession):
    travels_in_urls = False

    def __init__(self, initial=None):
        super().__init__(initial)
        # Signed once per state of the session: a page with many links signs it once, not per link.
        self.url_token: str | None = None
        marks_modified = self.on_update

        def on_update(changed):
            marks_modified(changed)
            changed.url_token = None

        self.on_update = on_update


class CompactJSON:
    """Sessions hold only JSON values (ids, strings, flags), so Flask's tagged serializer for
    tuples, bytes, markup and dates only adds cost to every request that saves one."""

    @staticmethod
    def dumps(value) -> str:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)

    @staticmethod
    def loads(value):
        return json.loads(value)


class SessionTransport(SecureCookieSessionInterface):
    session_class = TransportedSession
    serializer = CompactJSON()

    def __init__(self, app: Flask):
        self._tokens = URLSafeTimedSerializer(app.secret_key, salt="ibm-lms-session-in-urls",
                                              serializer=self.serializer)

    def open_session(self, app: Flask, request):
        if app.config["SESSION_COOKIE_NAME"] in request.cookies:
            return super().open_session(app, request)
        # Only the query string: reading a body here would run before size limits can answer 413.
        token = request.args.get(TOKEN_PARAMETER)
        if not token or request.headers.get("Sec-Fetch-Dest") != "iframe":
            # Such a session only ever lives inside the platform's frame (frame-ancestors admits no
            # other page). A link opened anywhere else must not sign its reader in as the link's owner,
            # or a trainee lured to someone's link would work, and be graded, under that person's name.
            return self.session_class()
        try:
            data = self._tokens.loads(token, max_age=app.config["SESSION_TOKEN_MAX_AGE_SECONDS"])
        except BadSignature:
            return self.session_class()
        opened = self.session_class(data)
        opened.travels_in_urls = True
        return opened

    def save_session(self, app: Flask, session, response) -> None:
        if getattr(session, "travels_in_urls", False):
            return
        super().save_session(app, session, response)

    def token(self, app: Flask, session) -> str:
        if session.url_token is None:
            session.url_token = self._tokens.dumps(dict(session))
        return session.url_token


def url_sessions_possible(request) -> bool:
    """Whether this browser could use a session in URLs at all: only one that says where a page is
    shown (Sec-Fetch-Dest) can prove a later request is inside the platform's frame."""
    return request.headers.get("Sec-Fetch-Dest") is not None


def travels_in_urls() -> bool:
    """Whether this request's session rides in its links (each link then carries the reader's token)."""
    return getattr(session, "travels_in_urls", False)


def carry_in_urls() -> None:
    """Switches the current session to travel in URLs (the browser keeps no cookie of ours)."""
    session.travels_in_urls = True


def with_token(app: Flask, url: str) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != TOKEN_PARAMETER]
    query.append((TOKEN_PARAMETER, app.session_interface.token(app, session)))
    return urlunsplit(parts._replace(query=urlencode(query)))


def sessionless(view):
    """Marks a view whose URLs never carry the session (static, content-addressed files: cacheable by anyone)."""
    view.sessionless = True
    return view


def init_app(app: Flask) -> None:
    app.session_interface = SessionTransport(app)

    @app.url_defaults
    def add_token(endpoint, values):
        if endpoint == "static" or not getattr(session, "travels_in_urls", False):
            return
        if getattr(app.view_functions.get(endpoint), "sessionless", False):
            return
        values[TOKEN_PARAMETER] = app.session_interface.token(app, session)

    @app.after_request
    def token_on_redirects(response):
        location = response.headers.get("Location")
        if location and response.status_code in (301, 302, 303, 307, 308) and getattr(
            session, "travels_in_urls", False
        ):
            target = urlsplit(location)
            if not target.netloc or target.netloc == request.host:
                response.headers["Location"] = with_token(app, location)
        return response

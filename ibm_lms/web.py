"""App-wide HTTP concerns: security headers, request limits, the tool's public URLs and its static files' URLs."""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Callable, Iterable
from functools import lru_cache
from pathlib import Path

from flask import Flask, current_app, has_request_context, request, url_for
from werkzeug.exceptions import BadRequest
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from .extensions import app_state
from .text import MAX_ROW_ID

# Pages load nothing from elsewhere; only the registered platforms (and the tool itself) may frame them.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action {form_targets}; frame-ancestors {ancestors}"
)
FRAME_ANCESTORS = "ibm_lms.frame_ancestors"


def add_frame_ancestor_source(app: Flask, source: Callable[[], frozenset[str]]) -> None:
    """Lets a room name origins that may frame the tool (the LTI room: its registered platforms).

    The source returns the same frozenset object while nothing changed, so the policy built from
    it is reused rather than rebuilt on every response."""
    app.extensions.setdefault(FRAME_ANCESTORS, []).append(source)


@lru_cache(maxsize=256)
def _policy(ancestor_sets: tuple[frozenset[str], ...], form_targets: tuple[str, ...]) -> str:
    ancestors = {"'self'"}.union(*ancestor_sets)
    targets = " ".join(["'self'", *sorted(set(form_targets))])
    return CONTENT_SECURITY_POLICY.format(form_targets=targets, ancestors=" ".join(sorted(ancestors)))


def content_security_policy(app: Flask, *, form_targets: Iterable[str] = (), framed_by: Iterable[str] = ()) -> str:
    """The policy every page gets; a page that posts a form elsewhere names that origin, and a page a
    not-yet-registered platform frames (dynamic registration) names that platform."""
    sources = app.extensions.get(FRAME_ANCESTORS, ())
    return _policy((*(source() for source in sources), frozenset(framed_by)), tuple(form_targets))


class _RowIdConverter(IntegerConverter):
    """`<int:…>` in every route: digits only, at most the largest id a row can have, so that a longer number is
    a 404 like any other id that names nothing, not an overflow in the database driver."""

    def __init__(self, url_map, fixed_digits: int = 0, min: int | None = None, max: int | None = MAX_ROW_ID,
                 signed: bool = False) -> None:
        super().__init__(url_map, fixed_digits, min, max, signed)


def install_url_converters(app: Flask) -> None:
    """Before any room adds a route: a rule takes its converters when it is added."""
    app.url_map.converters["int"] = _RowIdConverter


def allow_larger_body(app: Flask, endpoint: str, max_bytes: int) -> None:
    """Lets one endpoint (an upload, an import) take a larger request than the app-wide limit."""
    app_state("web.body_limits", dict, app=app)[endpoint] = max_bytes


def install_body_limits(app: Flask) -> None:
    """Registered before CSRF protection, which reads the form (and so applies the limit) first."""

    @app.before_request
    def _body_limit() -> None:
        limit = app_state("web.body_limits", dict).get(request.endpoint)
        if limit is not None:
            request.max_content_length = limit
            request.max_form_memory_size = limit


def tool_url(endpoint: str, **values) -> str:
    """The absolute address of one of the tool's pages on its public base URL: for platforms, tokens
    and messages that leave the tool, so it never carries the session in its query."""
    builder = app_state("web.url_builder", lambda: current_app.url_map.bind("tool.invalid", script_name="/"))
    return current_app.config["BASE_URL"] + builder.build(endpoint, values)


# A static file's URL names its content's hash, so browsers keep it a year and a new release is a new URL.
STATIC_FOR_A_YEAR = "public, max-age=31536000, immutable"
STATIC_UNVERSIONED = "public, max-age=300"


def static_fingerprint(app: Flask, filename: str) -> str | None:
    """The first 12 hex digits of the SHA-256 of a static file, computed once per app."""
    known = app_state("web.static_fingerprints", dict, app=app)
    if filename not in known:
        path = Path(app.static_folder or "", filename)
        try:
            known[filename] = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        except OSError:
            known[filename] = None
    return known[filename]


def static_url(filename: str) -> str:
    """A static file's address with its fingerprint: the same for every reader (no session rides on it),
    so built once per file and mount point, not on every page."""
    known = app_state("web.static_urls", dict)
    key = (request.script_root if has_request_context() else None, filename)
    found = known.get(key)
    if found is None:
        found = known[key] = url_for("static", filename=filename)
    return found


def checks_its_own_query(app: Flask, endpoint: str) -> None:
    """Lets one endpoint refuse a NUL in its query itself, in its own words (the LTI login answers a platform)."""
    app_state("web.own_query_checks", set, app=app).add(endpoint)


def refuse_nul_in_address() -> None:
    """No page takes a NUL character in its path or query (PostgreSQL cannot even compare a text holding one):
    such a request is refused as a whole, before any view reads it."""
    if "\x00" in request.path:
        raise BadRequest("the address holds a NUL character")
    if (b"%00" in request.query_string or b"\x00" in request.query_string) and \
            request.endpoint not in app_state("web.own_query_checks", set):
        raise BadRequest("the address holds a NUL character")


class TrustedProxyFix:
    """ProxyFix for requests from a trusted proxy only. Served directly (`serve --certfile`), a client's own
    X-Forwarded-For would otherwise choose the address that rate limits and the monitoring endpoints trust."""

    def __init__(self, wsgi_app, trusted: Iterable[str]):
        self._direct = wsgi_app
        self._proxied = ProxyFix(wsgi_app, x_for=1, x_proto=1, x_host=1)
        trusted = tuple(trusted)
        self._everyone = trusted == ("*",)
        self._networks = () if self._everyone else tuple(ipaddress.ip_network(t, strict=False) for t in trusted)

    def trusts(self, peer: str) -> bool:
        if self._everyone or not peer:  # no address: a unix socket, which only the host's own proxy reaches
            return True
        try:
            address = ipaddress.ip_address(peer)
        except ValueError:
            return False
        # Bound to both stacks ("::"), an IPv4 proxy arrives as ::ffff:127.0.0.1.
        mapped = getattr(address, "ipv4_mapped", None) or address
        return any(mapped in network or address in network for network in self._networks)

    def __call__(self, environ, start_response):
        handler = self._proxied if self.trusts(environ.get("REMOTE_ADDR", "")) else self._direct
        return handler(environ, start_response)


def init_app(app: Flask) -> None:
    app.jinja_env.globals["static_url"] = static_url
    app.before_request(refuse_nul_in_address)

    @app.url_defaults
    def fingerprint_static(endpoint, values):
        if endpoint == "static" and "filename" in values and "v" not in values:
            version = static_fingerprint(app, values["filename"])
            if version:
                values["v"] = version

    @app.after_request
    def cache_static(response):
        if request.endpoint == "static" and response.status_code == 200:
            filename = (request.view_args or {}).get("filename", "")
            fresh = request.args.get("v") and request.args.get("v") == static_fingerprint(app, filename)
            response.headers["Cache-Control"] = STATIC_FOR_A_YEAR if fresh else STATIC_UNVERSIONED
        return response

    @app.after_request
    def security_headers(response):
        if "Content-Security-Policy" not in response.headers:
            response.headers["Content-Security-Policy"] = content_security_policy(app)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if app.config["SESSION_COOKIE_SECURE"]:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response

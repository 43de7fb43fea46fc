"""(d) The stack's floor: only the work no LTI 1.3 tool can skip, on the same stack as ours.

Not a tool: it validates nothing beyond the RS256 signature, aud, iss and exp (what PyJWT's
jwt.decode checks by default) plus the state cookie and a single-use nonce. It shows how much server CPU a
login, a launch and the first page cost on Flask + gunicorn + the database driver before any
real validation or bookkeeping, so our figure can be read against what the stack itself needs.

- Login: one INSERT of state and nonce (autocommit), a 302 to the platform with the state cookie.
- Launch: one RS256 check with a key set fetched once per worker (the token split and its
  header and body base64-decoded once, the signature checked with PyJWT's RSAAlgorithm, as ours
  does: jwt.get_unverified_header + jwt.decode would run PyJWT's pure-Python per-character pass
  over the whole token twice, work ours shows a tool can skip), one DELETE … RETURNING that
  consumes the state and nonce (autocommit), Flask's signed session cookie holding what the
  page shows (name, role, context title, locale), a 303 to /courses/.
- First page (GET /courses/): Flask's session cookie verified (no session, no page: 401), one
  SELECT of the trainee's progress (the page shows it per course; the benchmark's trainees have
  none, so it returns no row), the catalogue rendered with Jinja (bench/templates/catalogue.html,
  the markup ibm_lms renders). The catalogue is static data: it is read once per worker from
  BENCH_CATALOGUE_FILE (JSON written by bench/run.py from the courses/ folder), not from the
  database.

Configured from the environment by bench/run.py: BENCH_ISSUER, BENCH_CLIENT_ID,
BENCH_AUTH_LOGIN_URL, BENCH_KEYSET_URL, BENCH_TOOL_BASE_URL, BENCH_SECRET_KEY,
BENCH_CATALOGUE_FILE, BENCH_STATIC_DIR (the static URLs' fingerprints, page_data.static_urls) and
BENCH_DATABASE_URL: postgresql://… or sqlite:///<path>, a database
holding the tables in SCHEMA["postgresql"] or SCHEMA["sqlite"]. On SQLite each connection uses the
pragmas ours sets (journal_mode=WAL, synchronous=NORMAL): the floor is the same stack configured the
same way, not a slower one.
"""

from __future__ import annotations

import json
import os
import secrets
import time
import urllib.request
from urllib.parse import urlencode

import jwt
from flask import Flask, abort, redirect, render_template, request, session
from jwt.algorithms import RSAAlgorithm
from jwt.utils import base64url_decode
from page_data import (
    LANGUAGES,
    PROGRESS_QUERY,
    PROGRESS_TABLE_DDL,
    context_title_of,
    duration,
    locale_of,
    pick,
    progress_by_course,
    role_of,
    static_urls,
)

ISSUER = os.environ.get("BENCH_ISSUER", "http://127.0.0.1:9001")
CLIENT_ID = os.environ.get("BENCH_CLIENT_ID", "bench-client")
AUTH_LOGIN_URL = os.environ.get("BENCH_AUTH_LOGIN_URL", ISSUER + "/auth")
KEYSET_URL = os.environ.get("BENCH_KEYSET_URL", ISSUER + "/jwks")
LAUNCH_URL = os.environ.get("BENCH_TOOL_BASE_URL", "http://127.0.0.1:8000").rstrip("/") + "/lti/launch"
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "")
STATE_TTL_SECONDS = 600
SCHEMA = {
    "postgresql": ["CREATE TABLE IF NOT EXISTS floor_state "
                   "(state text PRIMARY KEY, nonce text NOT NULL, expires_at timestamptz NOT NULL)", PROGRESS_TABLE_DDL],
    "sqlite": ["CREATE TABLE IF NOT EXISTS floor_state "
               "(state TEXT PRIMARY KEY, nonce TEXT NOT NULL, expires_at REAL NOT NULL)", PROGRESS_TABLE_DDL],
}

app = Flask(__name__)
app.secret_key = os.environ.get("BENCH_SECRET_KEY") or secrets.token_urlsafe(32)
app.jinja_env.globals["static_urls"] = static_urls()
_keys: dict[str, jwt.PyJWK] = {}
_RS256 = RSAAlgorithm(RSAAlgorithm.SHA256)


def _catalogue() -> dict[str, list[dict]]:
    """Each locale's course list, built once: the catalogue only changes when courses are loaded."""
    path = os.environ.get("BENCH_CATALOGUE_FILE")
    if not path:
        return {}
    with open(path, encoding="utf-8") as handle:
        courses = json.load(handle)
    return {code: [{"slug": c["slug"], "horizontal": c["horizontal"], "title": pick(c["title"], code),
                    "summary": pick(c["summary"], code), "lessons": c["lessons"], "duration": duration(c["minutes"])}
                   for c in courses]
            for code, _ in LANGUAGES}


CATALOGUE = _catalogue()


class _Postgres:
    """One autocommit connection per worker: sync workers serve one request at a time."""

    def __init__(self, url: str):
        import psycopg

        self.connection = psycopg.connect(url, autocommit=True)

    def save_state(self, state: str, nonce: str) -> None:
        self.connection.execute(
            "INSERT INTO floor_state (state, nonce, expires_at) VALUES (%s, %s, now() + interval '10 minutes')",
            (state, nonce),
        )

    def consume_state(self, state: str, nonce: str) -> bool:
        return self.connection.execute(
            "DELETE FROM floor_state WHERE state = %s AND nonce = %s AND expires_at > now() RETURNING 1",
            (state, nonce),
        ).fetchone() is not None

    def progress(self, sub: str) -> dict[str, dict]:
        return progress_by_course(self.connection.execute(PROGRESS_QUERY.format("%s"), (sub,)).fetchall())


class _SQLite:
    """One connection per worker in autocommit mode, with the pragmas ibm_lms sets on every SQLite connection
    (ibm_lms/database.py, `_sqlite_for_a_server`): write-ahead logging and synchronous=NORMAL, so that the
    login's INSERT and the launch's DELETE cost here what the same writes cost ours."""

    def __init__(self, path: str):
        import sqlite3

        self.connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.connection.execute("PRAGMA journal_mode=WAL")
        self.connection.execute("PRAGMA synchronous=NORMAL")

    def save_state(self, state: str, nonce: str) -> None:
        self.connection.execute("INSERT INTO floor_state (state, nonce, expires_at) VALUES (?, ?, ?)",
                                (state, nonce, time.time() + STATE_TTL_SECONDS))

    def consume_state(self, state: str, nonce: str) -> bool:
        # fetchall: the statement (and its write) finishes here, not when the cursor is collected.
        return bool(self.connection.execute(
            "DELETE FROM floor_state WHERE state = ? AND nonce = ? AND expires_at > ? RETURNING 1",
            (state, nonce, time.time()),
        ).fetchall())

    def progress(self, sub: str) -> dict[str, dict]:
        return progress_by_course(self.connection.execute(PROGRESS_QUERY.format("?"), (sub,)).fetchall())


_store: _Postgres | _SQLite | None = None


def _database() -> _Postgres | _SQLite:
    global _store
    if _store is None:
        if DATABASE_URL.startswith("sqlite:///"):
            _store = _SQLite(DATABASE_URL[len("sqlite:///"):])
        else:
            _store = _Postgres(DATABASE_URL)
    return _store


def _key(kid: str) -> jwt.PyJWK:
    if kid not in _keys:
        with urllib.request.urlopen(KEYSET_URL, timeout=5) as response:
            for entry in json.load(response)["keys"]:
                _keys[entry["kid"]] = jwt.PyJWK(entry, algorithm="RS256")
    if kid not in _keys:
        abort(400)
    return _keys[kid]


def _verified_claims(token: str) -> dict | None:
    """The id token's claims if its RS256 signature, iss, aud and exp are right; else None."""
    try:
        header_segment, body_segment, signature_segment = token.split(".")
        header = json.loads(base64url_decode(header_segment))
        if header.get("alg") != "RS256":
            return None
        key = _key(header.get("kid", ""))
        if not _RS256.verify(f"{header_segment}.{body_segment}".encode("ascii"), key.key,
                             base64url_decode(signature_segment)):
            return None
        claims = json.loads(base64url_decode(body_segment))
    except (ValueError, TypeError, AttributeError, UnicodeError):
        return None
    audience = claims.get("aud")
    if claims.get("iss") != ISSUER or not (audience == CLIENT_ID
                                           or (isinstance(audience, list) and CLIENT_ID in audience)):
        return None
    if not isinstance(claims.get("exp"), (int, float)) or claims["exp"] <= time.time():
        return None
    return claims


@app.get("/lti/login")
def login():
    if request.args.get("iss") != ISSUER or not request.args.get("login_hint"):
        abort(400)
    state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(32)
    _database().save_state(state, nonce)
    query = {
        "scope": "openid", "response_type": "id_token", "response_mode": "form_post", "prompt": "none",
        "client_id": CLIENT_ID, "redirect_uri": LAUNCH_URL, "state": state, "nonce": nonce,
        "login_hint": request.args["login_hint"],
    }
    if "lti_message_hint" in request.args:
        query["lti_message_hint"] = request.args["lti_message_hint"]
    response = redirect(AUTH_LOGIN_URL + "?" + urlencode(query), code=302)
    response.set_cookie(f"lti1p3-{state}", state, max_age=600, httponly=True, samesite="Lax")
    return response


@app.post("/lti/launch")
def launch():
    state = request.form.get("state", "")
    token = request.form.get("id_token", "")
    if not state or request.cookies.get(f"lti1p3-{state}") != state:
        abort(400)
    claims = _verified_claims(token)
    if claims is None:
        abort(400)
    if not _database().consume_state(state, claims.get("nonce", "")):
        abort(400)
    role, role_label = role_of(claims)
    session["user"] = {"sub": claims["sub"], "name": claims.get("name", ""), "role": role,
                       "role_label": role_label, "context": context_title_of(claims),
                       "locale": locale_of(claims)}
    return redirect("/courses/", code=303)


@app.get("/courses/")
def catalogue():
    user = session.get("user")
    if user is None:
        abort(401)
    locale = user["locale"]
    return render_template("catalogue.html", locale=locale, languages=LANGUAGES, name=user["name"],
                           role=user["role"], role_label=user["role_label"], context_title=user["context"],
                           courses=CATALOGUE.get(locale, ()), progress=_database().progress(user["sub"]))

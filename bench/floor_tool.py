"""(d) The stack's floor: only the work no LTI 1.3 tool can skip, on the same stack as ours.

Not a tool: it validates nothing beyond what PyJWT checks by itself (RS256 signature, aud,
iss, exp) plus the state cookie and a single-use nonce. It shows how much server CPU a
login+launch costs on Flask + gunicorn + psycopg before any real validation or bookkeeping,
so our figure can be read against what the stack itself needs.

- Login: one INSERT of state and nonce (autocommit), a 302 to the platform with the state cookie.
- Launch: one RS256 check with a key set fetched once per worker, one DELETE … RETURNING that
  consumes the state and nonce (autocommit), Flask's signed session cookie, a 303 to /courses/.

Configured from the environment by bench/run.py: BENCH_ISSUER, BENCH_CLIENT_ID,
BENCH_AUTH_LOGIN_URL, BENCH_KEYSET_URL, BENCH_TOOL_BASE_URL, BENCH_SECRET_KEY and
BENCH_DATABASE_URL (a PostgreSQL database holding the table in STATE_TABLE_DDL).
"""

from __future__ import annotations

import json
import os
import secrets
import urllib.request
from urllib.parse import urlencode

import jwt
import psycopg
from flask import Flask, abort, redirect, request, session

ISSUER = os.environ.get("BENCH_ISSUER", "http://127.0.0.1:9001")
CLIENT_ID = os.environ.get("BENCH_CLIENT_ID", "bench-client")
AUTH_LOGIN_URL = os.environ.get("BENCH_AUTH_LOGIN_URL", ISSUER + "/auth")
KEYSET_URL = os.environ.get("BENCH_KEYSET_URL", ISSUER + "/jwks")
LAUNCH_URL = os.environ.get("BENCH_TOOL_BASE_URL", "http://127.0.0.1:8000").rstrip("/") + "/lti/launch"
STATE_TABLE_DDL = ("CREATE TABLE IF NOT EXISTS floor_state "
                   "(state text PRIMARY KEY, nonce text NOT NULL, expires_at timestamptz NOT NULL)")

app = Flask(__name__)
app.secret_key = os.environ.get("BENCH_SECRET_KEY") or secrets.token_urlsafe(32)
_connection: psycopg.Connection | None = None
_keys: dict[str, jwt.PyJWK] = {}


def _database() -> psycopg.Connection:
    # One connection per worker: sync workers serve one request at a time.
    global _connection
    if _connection is None or _connection.closed:
        _connection = psycopg.connect(os.environ["BENCH_DATABASE_URL"], autocommit=True)
    return _connection


def _key(kid: str) -> jwt.PyJWK:
    if kid not in _keys:
        with urllib.request.urlopen(KEYSET_URL, timeout=5) as response:
            for entry in json.load(response)["keys"]:
                _keys[entry["kid"]] = jwt.PyJWK(entry, algorithm="RS256")
    if kid not in _keys:
        abort(400)
    return _keys[kid]


@app.get("/lti/login")
def login():
    if request.args.get("iss") != ISSUER or not request.args.get("login_hint"):
        abort(400)
    state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(32)
    _database().execute(
        "INSERT INTO floor_state (state, nonce, expires_at) VALUES (%s, %s, now() + interval '10 minutes')",
        (state, nonce),
    )
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
    try:
        key = _key(jwt.get_unverified_header(token).get("kid", ""))
        claims = jwt.decode(token, key, algorithms=["RS256"], audience=CLIENT_ID, issuer=ISSUER)
    except jwt.PyJWTError:
        abort(400)
    consumed = _database().execute(
        "DELETE FROM floor_state WHERE state = %s AND nonce = %s AND expires_at > now() RETURNING 1",
        (state, claims.get("nonce", "")),
    ).fetchone()
    if consumed is None:
        abort(400)
    session["user"] = claims["sub"]
    return redirect("/courses/", code=303)

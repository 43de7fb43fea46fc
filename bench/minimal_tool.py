"""(b) A minimal LTI 1.3 tool built the way pylti1p3's own Flask example builds one, with library defaults.

- ToolConfDict with one issuer, one client id and one deployment; the platform's keys
  come from its key_set_url (no key_set pasted in, no public-key cache configured).
- Login: FlaskOIDCLogin(FlaskRequest(), tool_conf).redirect(launch_url): a plain 302,
  the state in a cookie, the nonce in Flask's (cookie) session.
- Launch: FlaskMessageLaunch(FlaskRequest(), tool_conf).get_launch_data(), with the default
  session storage and cookie service (the launch data is kept in Flask's cookie session, under
  its launch id), then a 303 to /courses/?launch_id=<id>, as pylti1p3's example carries the
  launch id to the tool's next pages.
- First page (GET /courses/): FlaskMessageLaunch.from_cache(launch_id, …) restores the launch
  from the session, as pylti1p3's example does on every page after the launch; the course list
  and the trainee's progress are read from the tool's database on every request (SQLAlchemy Core:
  one SELECT of the `courses` table that bench/run.py fills from the courses/ folder, one of the
  trainee's `progress` rows, none for the benchmark's trainees), and the page is rendered with
  Jinja (bench/templates/catalogue.html, the markup ibm_lms renders).

Configured from the environment by bench/run.py:
BENCH_ISSUER, BENCH_CLIENT_ID, BENCH_DEPLOYMENT_ID, BENCH_AUTH_LOGIN_URL,
BENCH_AUTH_TOKEN_URL, BENCH_KEYSET_URL, BENCH_TOOL_BASE_URL, BENCH_SECRET_KEY,
BENCH_DATABASE_URL (postgresql+psycopg://… or sqlite:///<path>, holding page_data's COURSES_TABLE_DDL and
PROGRESS_TABLE_DDL), BENCH_STATIC_DIR (the static URLs' fingerprints, page_data.static_urls) and optionally
BENCH_PRIVATE_KEY_FILE (a PEM; otherwise a key is generated at start).
"""

from __future__ import annotations

import json
import os
import secrets

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask, redirect, render_template, request
from page_data import (
    LANGUAGES,
    PROGRESS_QUERY,
    context_title_of,
    duration,
    locale_of,
    pick,
    progress_by_course,
    role_of,
    static_urls,
)
from pylti1p3.contrib.flask import FlaskMessageLaunch, FlaskOIDCLogin, FlaskRequest
from pylti1p3.tool_config import ToolConfDict
from sqlalchemy import create_engine, text

ISSUER = os.environ.get("BENCH_ISSUER", "http://127.0.0.1:9001")
CLIENT_ID = os.environ.get("BENCH_CLIENT_ID", "bench-client")
DEPLOYMENT_ID = os.environ.get("BENCH_DEPLOYMENT_ID", "1")
TOOL_BASE_URL = os.environ.get("BENCH_TOOL_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
COURSES_QUERY = text("SELECT slug, horizontal, title, summary, lessons, minutes FROM courses ORDER BY position")
TRAINEE_PROGRESS_QUERY = text(PROGRESS_QUERY.format(":sub"))


def _private_key_pem() -> str:
    path = os.environ.get("BENCH_PRIVATE_KEY_FILE")
    if path:
        with open(path) as handle:
            return handle.read()
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def _public_key_pem(private_pem: str) -> str:
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


PRIVATE_KEY = _private_key_pem()
PUBLIC_KEY = _public_key_pem(PRIVATE_KEY)


def get_tool_conf() -> ToolConfDict:
    tool_conf = ToolConfDict({
        ISSUER: {
            "default": True,
            "client_id": CLIENT_ID,
            "auth_login_url": os.environ.get("BENCH_AUTH_LOGIN_URL", ISSUER + "/auth"),
            "auth_token_url": os.environ.get("BENCH_AUTH_TOKEN_URL", ISSUER + "/token"),
            "key_set_url": os.environ.get("BENCH_KEYSET_URL", ISSUER + "/jwks"),
            "key_set": None,
            "deployment_ids": [DEPLOYMENT_ID],
        }
    })
    tool_conf.set_private_key(ISSUER, PRIVATE_KEY)
    tool_conf.set_public_key(ISSUER, PUBLIC_KEY)
    return tool_conf


engine = create_engine(os.environ.get("BENCH_DATABASE_URL") or "sqlite://")
app = Flask(__name__)
app.secret_key = os.environ.get("BENCH_SECRET_KEY") or secrets.token_urlsafe(32)
app.jinja_env.globals["static_urls"] = static_urls()


@app.route("/login", methods=["GET", "POST"])
def login():
    # As in pylti1p3's Flask example: a tool conf and a FlaskRequest per request.
    tool_conf = get_tool_conf()
    flask_request = FlaskRequest()
    return FlaskOIDCLogin(flask_request, tool_conf).redirect(TOOL_BASE_URL + "/launch")


@app.post("/launch")
def launch():
    tool_conf = get_tool_conf()
    flask_request = FlaskRequest()
    message_launch = FlaskMessageLaunch(flask_request, tool_conf)
    message_launch.get_launch_data()
    return redirect(f"/courses/?launch_id={message_launch.get_launch_id()}", code=303)


@app.get("/courses/")
def catalogue():
    tool_conf = get_tool_conf()
    message_launch = FlaskMessageLaunch.from_cache(request.args.get("launch_id", ""), FlaskRequest(), tool_conf)
    launch_data = message_launch.get_launch_data()
    locale = locale_of(launch_data)
    role, role_label = role_of(launch_data)
    with engine.connect() as connection:
        rows = connection.execute(COURSES_QUERY).all()
        progress = progress_by_course(connection.execute(TRAINEE_PROGRESS_QUERY, {"sub": launch_data["sub"]}).all())
    courses = [{"slug": row.slug, "horizontal": row.horizontal, "title": pick(json.loads(row.title), locale),
                "summary": pick(json.loads(row.summary), locale), "lessons": row.lessons,
                "duration": duration(row.minutes)} for row in rows]
    return render_template("catalogue.html", locale=locale, languages=LANGUAGES, name=launch_data.get("name"),
                           role=role, role_label=role_label, context_title=context_title_of(launch_data),
                           courses=courses, progress=progress)

"""The app as a whole: configuration, health, headers, errors, architecture and migrations."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from werkzeug.serving import make_server

from ibm_lms import config as settings
from ibm_lms.extensions import db

ROOT = Path(__file__).resolve().parent.parent


def test_missing_secret_key_stops_start_up(tmp_path):
    with pytest.raises(settings.ConfigurationError, match=r"IBM_LMS_SECRET_KEY is not set.*IBM_LMS_DEMO=1"):
        settings.build({"INSTANCE_PATH": str(tmp_path)}, environ={})


def test_missing_secret_key_is_a_clear_cli_message(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "IBM_LMS_INSTANCE_PATH": str(tmp_path)}
    result = subprocess.run([sys.executable, "-m", "ibm_lms", "platform", "list"], env=env, capture_output=True,
                            text=True, timeout=60, cwd=ROOT)
    assert result.returncode == 2
    assert "IBM_LMS_SECRET_KEY is not set" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("environment", "arguments", "message"),
    [
        ({"IBM_LMS_DATABASE_URL": "postgresql://postgres@127.0.0.1:1/none"}, ["platform", "list"],
         "the database could not be used"),
        ({}, ["platform", "list"], "Run 'ibm-lms db upgrade'"),  # a new SQLite file, never migrated
        ({"IBM_LMS_BASE_URL": "https://*.example"}, ["platform", "list"], "IBM_LMS_BASE_URL must be"),
        ({}, ["serve", "--port", "70000"], "Invalid value for '--port'"),
        ({}, ["serve", "--workers", "0"], "Invalid value for '--workers'"),
    ],
)
def test_cli_problems_are_one_clear_line(tmp_path, environment, arguments, message):
    env = {"PATH": "/usr/bin:/bin", "IBM_LMS_INSTANCE_PATH": str(tmp_path), "IBM_LMS_SECRET_KEY": "k" * 40,
           **environment}
    result = subprocess.run([sys.executable, "-m", "ibm_lms", *arguments], env=env, capture_output=True,
                            text=True, timeout=60, cwd=ROOT)
    assert result.returncode != 0 and message in result.stderr, result.stderr[-500:]
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("arguments", [["--help"], ["platform", "add", "--help"]])
def test_help_needs_no_secret_key(tmp_path, arguments):
    env = {"PATH": "/usr/bin:/bin", "IBM_LMS_INSTANCE_PATH": str(tmp_path)}
    result = subprocess.run([sys.executable, "-m", "ibm_lms", *arguments], env=env, capture_output=True,
                            text=True, timeout=60, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert ("platform" if arguments == ["--help"] else "--keyset-url") in result.stdout
    assert not (tmp_path / "secret_key").exists()


@pytest.mark.parametrize("url", ["tool.example", "http://[::1", "https://tool.example/lms?x=1",
                                 "https://tool.example/#top", "https://*.example", "https://tool.example:99999",
                                 "ftp://tool.example", "https://admin@tool.example"])
def test_bad_base_url_is_refused(tmp_path, url):
    with pytest.raises(settings.ConfigurationError, match="absolute http"):
        settings.build({"BASE_URL": url, "SECRET_KEY": "x", "INSTANCE_PATH": str(tmp_path)}, environ={})


@pytest.mark.parametrize("url", ["mysql://u@h/d", "not a url", "oracle://x"])
def test_an_unsupported_database_url_is_refused(tmp_path, url):
    with pytest.raises(settings.ConfigurationError, match="IBM_LMS_DATABASE_URL must be a postgresql"):
        settings.build({"SECRET_KEY": "x", "INSTANCE_PATH": str(tmp_path)}, environ={"IBM_LMS_DATABASE_URL": url})


def test_an_instance_path_that_is_a_file_is_refused(tmp_path):
    taken = tmp_path / "a-file"
    taken.write_text("")
    with pytest.raises(settings.ConfigurationError, match="cannot be used as a folder"):
        settings.build({"SECRET_KEY": "x", "INSTANCE_PATH": str(taken)}, environ={})


@pytest.mark.parametrize(("value", "message"), [
    ("soon", "number of seconds"), ("-5", "zero or more"), ("nan", "zero or more"), ("inf", "zero or more"),
])
def test_bad_recent_write_interval_is_refused(tmp_path, value, message):
    with pytest.raises(settings.ConfigurationError, match=message):
        settings.build({"SECRET_KEY": "x", "INSTANCE_PATH": str(tmp_path)},
                       environ={"IBM_LMS_RECENT_WRITE_SECONDS": value})


def test_recent_write_interval_comes_from_the_environment(tmp_path):
    built = settings.build({"SECRET_KEY": "x", "INSTANCE_PATH": str(tmp_path)},
                           environ={"IBM_LMS_RECENT_WRITE_SECONDS": "0"})
    assert built["RECENT_WRITE_SECONDS"] == 0.0


def test_cookie_policy_follows_the_scheme():
    assert settings.cookie_policy("https://tool.example") == {
        "SESSION_COOKIE_SECURE": True, "SESSION_COOKIE_SAMESITE": "None", "SESSION_COOKIE_PARTITIONED": True,
        "SESSION_COOKIE_HTTPONLY": True, "SESSION_COOKIE_NAME": "ibm_lms_session"}
    assert settings.cookie_policy("http://127.0.0.1:5000")["SESSION_COOKIE_SECURE"] is False


def test_environment_is_read_and_postgres_urls_get_our_driver(tmp_path):
    built = settings.build(environ={"IBM_LMS_SECRET_KEY": "s", "IBM_LMS_DATABASE_URL": "postgres://u@h/d",
                                    "IBM_LMS_INSTANCE_PATH": str(tmp_path)})
    assert built["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@h/d"
    assert built["BABEL_TRANSLATION_DIRECTORIES"] == str(ROOT / "translations")


def test_healthz(client):
    health = client.get("/healthz").get_json()
    assert (health["status"], health["database"]) == ("ok", "ok")
    # Each outbox's queue, so that monitoring sees statements or scores piling up.
    assert set(health["outboxes"]) == {"grades", "quiz deadlines", "xapi events", "xapi statements"}
    assert health["outboxes"]["xapi statements"] == {"pending": 0, "delivered": 0, "parked": 0}
    assert health["outboxes"]["xapi events"] == {"pending": 0, "failing": 0}


def test_healthz_shows_queue_counts_to_the_monitoring_host_only(app, client):
    outside = {"REMOTE_ADDR": "203.0.113.9"}
    assert client.get("/healthz", environ_base=outside).get_json() == {"status": "ok", "database": "ok"}
    app.config["METRICS_TOKEN"] = "scrape-token-123"
    with_token = client.get("/healthz", environ_base=outside, headers={"Authorization": "Bearer scrape-token-123"})
    assert with_token.get_json()["outboxes"]["grades"] == client.get("/healthz").get_json()["outboxes"]["grades"]


def test_outbox_counts_serve_probes_for_a_while_then_are_read_again(app, client, monkeypatch):
    """A count reads every row an outbox keeps: probes and scrapes within OUTBOX_COUNT_SECONDS share one."""
    from sqlalchemy import event

    from ibm_lms import outboxes
    from ibm_lms.clock import utcnow
    from ibm_lms.tenancy import service as tenancy
    from ibm_lms.xapi.models import StatementOutbox

    counts = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        if "count(" in statement.lower() and "GROUP BY" in statement:
            counts.append(statement)

    clock = [1000.0]
    monkeypatch.setattr(outboxes.time, "monotonic", lambda: clock[0])
    assert app.config["OUTBOX_COUNT_SECONDS"] == 15
    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        assert client.get("/healthz").get_json()["outboxes"]["xapi statements"]["pending"] == 0
        read = len(counts)
        assert read >= 3  # one count per outbox
        tenant = tenancy.ensure_tenant("probe-academy")
        db.session.add(StatementOutbox(tenant_id=tenant.id, statement_id="6b0b2c53-7c4a-4c7e-9a51-0d6f1c6f8f01",
                                       verb="launched", statement={}, status="pending", next_attempt_at=utcnow(),
                                       created_at=utcnow()))
        db.session.commit()
        clock[0] += 10
        assert client.get("/healthz").get_json()["outboxes"]["xapi statements"]["pending"] == 0
        assert "ibm_lms_outbox_items" in client.get("/metrics").get_data(as_text=True)
        assert len(counts) == read  # within the interval: no count read again
        clock[0] += 6
        assert client.get("/healthz").get_json()["outboxes"]["xapi statements"]["pending"] == 1
        assert len(counts) == 2 * read
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)


def test_the_outbox_count_interval_must_be_seconds(tmp_path):
    for wrong in ("soon", "-1", "nan"):
        with pytest.raises(settings.ConfigurationError, match="IBM_LMS_OUTBOX_COUNT_SECONDS"):
            settings.build(environ={"IBM_LMS_SECRET_KEY": "s", "IBM_LMS_INSTANCE_PATH": str(tmp_path),
                                    "IBM_LMS_OUTBOX_COUNT_SECONDS": wrong})


def test_security_headers(client):
    response = client.get("/lti/config")
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_unknown_page_is_a_translated_404(client):
    response = client.get("/nowhere", headers={"Accept-Language": "ru"})
    assert response.status_code == 404 and '<html lang="ru">' in response.get_data(as_text=True)
    assert client.get("/nowhere", headers={"Accept": "application/json"}).get_json()["error"] == "not_found"


def test_migrations_match_the_models(app):
    with db.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), db.metadata)
    assert differences == []


def test_only_registered_platforms_may_frame_the_tool(client, platform):
    policy = client.get("/lti/config").headers["Content-Security-Policy"]
    ancestors = policy.split("frame-ancestors", 1)[1].split(";")[0].split()
    assert sorted(ancestors) == sorted(["'self'", platform.base_url])


def test_healthz_reports_an_unreachable_database(tmp_path):
    from tests.conftest import make_app

    broken = make_app("postgresql://nobody@127.0.0.1:1/none", tmp_path)
    response = broken.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["status"] == "unhealthy"


def test_hot_statements_fail_with_sqlalchemys_errors_and_hide_their_values(app):
    import datetime

    from sqlalchemy import insert
    from sqlalchemy.exc import IntegrityError

    from ibm_lms.database import execute, execute_alone
    from ibm_lms.extensions import db
    from ibm_lms.tenancy.models import Tenant

    now = datetime.datetime(2026, 1, 1)
    execute_alone(insert(Tenant), {"slug": "ge-academy", "name": "Georgian academy", "created_at": now})
    with pytest.raises(IntegrityError) as raised:
        execute(insert(Tenant), {"slug": "ge-academy", "name": "Secret Name", "created_at": now})
    db.session.rollback()
    assert "Secret Name" not in str(raised.value)
    # A statement that would need Core's defaults is refused, not half-run.
    with pytest.raises(ValueError, match="needs a value for 'created_at'"):
        execute(insert(Tenant), {"slug": "md-academy", "name": "Moldovan academy"})


def test_a_read_sees_the_requests_own_writes_and_opens_no_transaction_when_there_is_none(app):
    import datetime

    from sqlalchemy import insert, select

    from ibm_lms.database import read
    from ibm_lms.extensions import db
    from ibm_lms.tenancy.models import Tenant

    db.session.remove()
    slugs = select(Tenant.slug)
    assert read(slugs) == []
    assert not db.session().in_transaction()
    db.session.execute(insert(Tenant), {"slug": "am-academy", "name": "Armenian academy",
                                        "created_at": datetime.datetime(2026, 1, 1)})
    # Uncommitted, so only the session's own transaction can see it.
    assert [row.slug for row in read(slugs)] == ["am-academy"]
    db.session.rollback()
    assert read(slugs) == []


@pytest.mark.parametrize("command", ["serve", "demo"])
def test_a_busy_port_is_one_line_naming_it(tmp_path, command):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {"PATH": "/usr/bin:/bin", "IBM_LMS_INSTANCE_PATH": str(tmp_path), "IBM_LMS_SECRET_KEY": "s" * 40}
        result = subprocess.run([sys.executable, "-m", "ibm_lms", command, "--port", str(port)], env=env,
                                capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert result.returncode != 0 and f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "--port" in result.stderr and "Traceback" not in result.stderr


def test_help_shows_the_products_commands_and_version_prints_it():
    env = {"PATH": "/usr/bin:/bin"}
    shown = subprocess.run([sys.executable, "-m", "ibm_lms", "--help"], env=env, capture_output=True, text=True,
                           timeout=60, cwd=ROOT).stdout
    assert " serve " in shown and " tenant " in shown
    assert " run " not in shown and " shell " not in shown and "--app" not in shown
    db_help = subprocess.run([sys.executable, "-m", "ibm_lms", "db", "--help"], env=env, capture_output=True,
                             text=True, timeout=60, cwd=ROOT).stdout
    listed = [line.split()[0] for line in db_help.split("Commands:")[1].splitlines() if line.strip()]
    assert "upgrade" in listed and "revision" not in listed and "init" not in listed
    developer = subprocess.run([sys.executable, "-m", "ibm_lms", "--help"], env={**env, "IBM_LMS_DEVELOPER": "1"},
                               capture_output=True, text=True, timeout=60, cwd=ROOT).stdout
    assert " shell " in developer
    version = subprocess.run([sys.executable, "-m", "ibm_lms", "--version"], env=env, capture_output=True, text=True,
                             timeout=60, cwd=ROOT)
    assert version.returncode == 0 and version.stdout.startswith("ibm-lms 0.")


def test_in_demo_mode_the_front_door_leads_to_the_demo_platform(migrated_database):
    from tests.conftest import make_app

    demo = make_app(*migrated_database, DEMO_MODE=True)
    page = demo.test_client().get("/").get_data(as_text=True)
    assert 'id="demo-link"' in page and 'href="/demo/"' in page and "Your session has ended" not in page


def test_the_demo_sets_up_from_nothing_and_says_so(tmp_path):
    """The README's first command, without serving: schema, courses, the demo platform; twice, as a newcomer
    who runs it again would."""
    env = {"PATH": "/usr/bin:/bin", "IBM_LMS_INSTANCE_PATH": str(tmp_path)}
    for _ in range(2):
        result = subprocess.run([sys.executable, "-m", "ibm_lms", "demo", "--no-serve"], env=env, capture_output=True,
                                text=True, timeout=300, cwd=ROOT)
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
        assert "demo platform registered:" in result.stdout and "(tenant demo)" in result.stdout
    assert "courses: 0 new, 0 updated, 8 unchanged" in result.stdout


def test_serve_speaks_https_with_its_own_certificate(tmp_path):
    import socket
    import time

    import requests

    from tests.certificates import self_signed

    cert_file, key_file = self_signed(tmp_path)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {"PATH": "/usr/bin:/bin", "IBM_LMS_INSTANCE_PATH": str(tmp_path), "IBM_LMS_SECRET_KEY": "s" * 40,
           "IBM_LMS_BASE_URL": f"https://127.0.0.1:{port}"}
    subprocess.run([sys.executable, "-m", "ibm_lms", "db", "upgrade"], env=env, cwd=ROOT, check=True,
                   capture_output=True, timeout=120)
    (tmp_path / "other").mkdir()
    other_cert, _ = self_signed(tmp_path / "other", "127.0.0.2")
    mismatched = subprocess.run([sys.executable, "-m", "ibm_lms", "serve", "--port", str(port), "--certfile",
                                 str(other_cert), "--keyfile", str(key_file)], env=env, cwd=ROOT, capture_output=True,
                                text=True, timeout=60)
    assert mismatched.returncode != 0 and "cannot serve https" in mismatched.stderr
    assert "Traceback" not in mismatched.stderr
    server = subprocess.Popen([sys.executable, "-m", "ibm_lms", "serve", "--port", str(port), "--workers", "1",
                               "--certfile", str(cert_file), "--keyfile", str(key_file)], env=env, cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                answer = requests.get(f"https://127.0.0.1:{port}/healthz", verify=str(cert_file), timeout=2)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, "serve did not answer over https"
                time.sleep(0.2)
        assert answer.status_code == 200 and answer.headers["Strict-Transport-Security"].startswith("max-age=")
    finally:
        server.terminate()
        server.wait(15)


@pytest.mark.parametrize(("environ", "message"), [
    ({"IBM_LMS_RATE_LIMIT_LAUNCH": "garbage"}, "IBM_LMS_RATE_LIMIT_LAUNCH must be a rate such as '300 per minute'"),
    ({"IBM_LMS_RATE_LIMIT_PUBLIC": "60 per fortnight"}, "IBM_LMS_RATE_LIMIT_PUBLIC must be a rate"),
    ({"IBM_LMS_RATE_LIMIT_STORAGE": "nosuch://x"}, "must be memory:// or a shared store .* got nosuch://"),
    ({"IBM_LMS_RATE_LIMIT_STORAGE": "127.0.0.1:6379"}, "must be memory:// or a shared store .* got no URL"),
])
def test_a_rate_limit_setting_the_limiter_cannot_read_is_refused(tmp_path, environ, message):
    with pytest.raises(settings.ConfigurationError, match=message):
        settings.build({"SECRET_KEY": "x", "INSTANCE_PATH": str(tmp_path)}, environ=environ)


def test_rate_limits_the_limiter_reads_are_kept(tmp_path):
    built = settings.build({"SECRET_KEY": "x", "INSTANCE_PATH": str(tmp_path)},
                           environ={"IBM_LMS_RATE_LIMIT_LAUNCH": "2 per minute; 100 per hour",
                                    "IBM_LMS_RATE_LIMIT_STORAGE": "redis://:secret@127.0.0.1:6379/0"})
    assert built["RATE_LIMIT_LAUNCH"] == "2 per minute; 100 per hour"


def test_a_postgresql_url_without_its_driver_says_what_to_install(tmp_path, monkeypatch):
    real = settings.importlib.util.find_spec
    monkeypatch.setattr(settings.importlib.util, "find_spec", lambda name, *a: None if name == "psycopg" else
                        real(name, *a))
    with pytest.raises(settings.ConfigurationError, match=r"its driver is not installed: .*\[postgres\]"):
        settings.build({"SECRET_KEY": "x", "INSTANCE_PATH": str(tmp_path)},
                       environ={"IBM_LMS_DATABASE_URL": "postgresql://u@127.0.0.1/d"})


def test_serve_outside_a_demo_names_the_missing_public_address(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "IBM_LMS_INSTANCE_PATH": str(tmp_path), "IBM_LMS_SECRET_KEY": "k" * 40}
    ready = subprocess.run([sys.executable, "-m", "ibm_lms", "db", "upgrade"], env=env, capture_output=True,
                           text=True, timeout=120, cwd=ROOT)
    assert ready.returncode == 0, ready.stderr[-500:]
    with make_server("127.0.0.1", 0, lambda e, s: None) as probe:
        port = probe.server_port
    refused = subprocess.run([sys.executable, "-m", "ibm_lms", "serve", "--port", str(port)], env=env,
                             capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert refused.returncode == 1 and "IBM_LMS_BASE_URL is not set" in refused.stderr, refused.stderr[-500:]
    assert "Traceback" not in refused.stderr


def test_signed_and_served_addresses_need_the_base_url_outside_demos_and_tests(tmp_path):
    production = settings.build({"SECRET_KEY": "x", "INSTANCE_PATH": str(tmp_path)}, environ={})
    with pytest.raises(settings.ConfigurationError, match="issuer in signed certificates"):
        settings.require_public_address(production)
    settings.require_public_address(settings.build({"SECRET_KEY": "x", "INSTANCE_PATH": str(tmp_path)},
                                                   environ={"IBM_LMS_BASE_URL": "https://lms.academy.example"}))
    settings.require_public_address(settings.build({"INSTANCE_PATH": str(tmp_path)}, environ={"IBM_LMS_DEMO": "1"}))


@pytest.mark.parametrize(("reason", "advice"), [
    ("attempt to write a readonly database", "Give the service's account write access"),
    ("database is locked", "try again when it has finished"),
    ("connection refused", "Check IBM_LMS_DATABASE_URL"),
])
def test_a_database_that_cannot_be_used_is_named_with_advice_that_fits(reason, advice):
    import sqlite3

    from sqlalchemy.exc import OperationalError

    from ibm_lms.cli import _database_problem

    said = _database_problem(OperationalError("UPDATE x", {}, sqlite3.OperationalError(reason)))
    assert f"({reason})" in said and advice in said

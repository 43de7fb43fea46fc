"""How many SQL statements a login and a launch cost (a regression guard, not a timing); what a relaunch skips."""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from dataclasses import replace

from sqlalchemy import event, select

from ibm_lms.database import RecentWrites
from ibm_lms.extensions import db
from ibm_lms.tenancy.models import Context, Enrolment, User

CONTEXT = "https://purl.imsglobal.org/spec/lti/claim/context"
ROLES = "https://purl.imsglobal.org/spec/lti/claim/roles"
RESOURCE_LINK = "https://purl.imsglobal.org/spec/lti/claim/resource_link"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"

# Counted at the driver, below SQLAlchemy: hot statements go straight to the DBAPI cursor. A statement
# run in autocommit (a transaction of its own, one round trip) is reported as "<VERB> alone".
_SQL_VERBS = {"SELECT", "INSERT", "UPDATE", "DELETE", "WITH"}


def _tracing(dbapi_connection, record):
    """Reports every statement a DBAPI connection runs; returns the undo."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.set_trace_callback(lambda sql: record(sql, dbapi_connection.isolation_level is None))
        return lambda: dbapi_connection.set_trace_callback(None)
    import psycopg

    class CountingCursor(psycopg.Cursor):
        def execute(self, query, params=None, **kwargs):
            record(query if isinstance(query, str) else query.as_string(self), self.connection.autocommit)
            return super().execute(query, params, **kwargs)

    previous = dbapi_connection.cursor_factory
    dbapi_connection.cursor_factory = CountingCursor
    return lambda: setattr(dbapi_connection, "cursor_factory", previous)


@contextmanager
def counted_statements():
    statements: list[str] = []
    undo = []

    def record(sql: str, alone: bool) -> None:
        verb = sql.split(None, 1)[0].upper()
        if verb in _SQL_VERBS:
            statements.append(f"{verb} alone" if alone else verb)

    def on_checkout(dbapi_connection, connection_record, connection_proxy):
        undo.append(_tracing(dbapi_connection, record))

    engine = db.engine
    event.listen(engine, "checkout", on_checkout)
    try:
        yield statements
    finally:
        event.remove(engine, "checkout", on_checkout)
        for step in reversed(undo):
            step()


def _launch_statements(launcher, **claims) -> list[str]:
    auth, _ = launcher.login()
    token = launcher.sim.sign(launcher.claims(auth, **claims))
    with counted_statements() as statements:
        assert launcher.post(token, auth["state"]).status_code == 303
    return statements


def test_login_and_launch_stay_within_their_statement_budget(launcher, client, platform):
    client.set_cookie("ibm_lms_cookies", "1")
    assert launcher.launch().status_code == 303  # warms the platform directory and key cache
    platform.user = replace(platform.user, subject="another-trainee")
    # A classmate arriving by the same link: consume the state, then the user and the enrolment upserts, and the
    # launch's xAPI statement (what it names is cached per process: no read).
    assert _launch_statements(launcher) == ["DELETE alone", "INSERT", "INSERT", "INSERT"]
    with counted_statements() as login_statements:
        _, response = launcher.login()
    assert response.status_code == 302
    assert login_statements == ["INSERT alone"]
    # A relaunch with unchanged details consumes its state and queues its statement's event, which is then the
    # only write of its unit of work: a transaction of its own, one round trip with no BEGIN and COMMIT.
    assert _launch_statements(launcher) == ["DELETE alone", "INSERT alone"]


def test_a_relaunch_writes_what_changed(launcher, client, platform):
    client.set_cookie("ibm_lms_cookies", "1")
    assert launcher.launch().status_code == 303
    platform.user = replace(platform.user, email="new.address@border.example")
    assert _launch_statements(launcher) == ["DELETE alone", "INSERT", "INSERT"]
    changes = {CONTEXT: {**launcher.claims({"nonce": "-"})[CONTEXT], "title": "Renamed course"}}
    assert _launch_statements(launcher, **changes) == ["DELETE alone", "INSERT", "INSERT"]
    changes[ROLES] = [INSTRUCTOR]
    assert _launch_statements(launcher, **changes) == ["DELETE alone", "INSERT", "INSERT"]
    changes[RESOURCE_LINK] = {**launcher.claims({"nonce": "-"})[RESOURCE_LINK], "title": "Renamed activity"}
    assert _launch_statements(launcher, **changes) == ["DELETE alone", "INSERT", "INSERT"]
    assert _launch_statements(launcher, **changes) == ["DELETE alone", "INSERT alone"]
    email, title = db.session.execute(
        select(User.email, Context.title).join(Enrolment, Enrolment.user_id == User.id)
        .join(Context, Context.id == Enrolment.context_id)
    ).one()
    assert (email, title) == ("new.address@border.example", "Renamed course")


def test_unchanged_rows_are_rewritten_once_the_interval_has_passed(app, launcher, client, monkeypatch):
    client.set_cookie("ibm_lms_cookies", "1")
    assert launcher.launch().status_code == 303
    monkeypatch.setitem(app.config, "RECENT_WRITE_SECONDS", 0)
    # Consume the state, then user, context, enrolment and resource link, each one upsert; then the statement.
    assert _launch_statements(launcher) == ["DELETE alone", "INSERT", "INSERT", "INSERT", "INSERT", "INSERT"]


def test_a_rolled_back_write_is_not_remembered(app):
    recent = RecentWrites("test rows")
    recent.remember("key", "fingerprint", 41)
    db.session.rollback()
    assert recent.recall("key", "fingerprint") is None
    recent.remember("key", "fingerprint", 42)
    db.session.commit()
    assert recent.recall("key", "fingerprint") == 42
    assert recent.recall("key", "another fingerprint") is None

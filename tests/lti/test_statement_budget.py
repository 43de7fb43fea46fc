"""How many SQL statements a login and a launch cost once caches are warm (a regression guard, not a timing)."""

from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import event

from ibm_lms.extensions import db


@contextmanager
def counted_statements(app):
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement.split()[0].upper())

    engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_login_and_launch_stay_within_their_statement_budget(app, launcher, client):
    client.set_cookie("ibm_lms_cookies", "1")
    assert launcher.launch().status_code == 303  # warms the platform directory and key cache
    with counted_statements(app) as login_statements:
        auth, response = launcher.login()
    assert response.status_code == 302
    assert login_statements == ["INSERT"]
    token = launcher.sim.sign(launcher.claims(auth))
    with counted_statements(app) as launch_statements:
        assert launcher.post(token, auth["state"]).status_code == 303
    # Consume the state, then user, context, enrolment and resource link, each one upsert.
    assert launch_statements == ["DELETE", "INSERT", "INSERT", "INSERT", "INSERT"]

"""The README's PostgreSQL backup procedure, as an operator runs it: `pg_dump -Fc` while the tool runs, then
`pg_restore --clean --if-exists` into a fresh database (and over the live one), `ibm-lms db upgrade`, and a
launch."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from ibm_lms.extensions import db
from ibm_lms.tenancy.models import User
from tests.conftest import POSTGRES_URL, IsolatedClient, Launcher, count_rows, make_app

pytestmark = pytest.mark.skipif(not POSTGRES_URL or shutil.which("pg_dump") is None,
                                reason="the PostgreSQL procedure runs in the PostgreSQL pass, with pg_dump")


def _libpq(url: str) -> str:
    """The URL as pg_dump and pg_restore take it (without SQLAlchemy's driver name)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _recreate(url: str, name: str, *, create: bool = True) -> str:
    engine = create_engine(make_url(url).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        if create:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return make_url(url).set(database=name).render_as_string(hide_password=False)


@pytest.fixture
def fresh_database():
    name = make_url(POSTGRES_URL).database + "_restored"
    yield _recreate(POSTGRES_URL, name)
    _recreate(POSTGRES_URL, name, create=False)


def _run(*command: str) -> None:
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr


def test_a_pg_dump_restores_into_a_fresh_database_that_launches_and_over_the_live_one(
        app, launcher, cli, tmp_path, platform_server, fresh_database):
    assert launcher.launch().status_code == 303
    dump = tmp_path / "ibm-lms.dump"
    _run("pg_dump", "-Fc", "-f", str(dump), "-d", _libpq(POSTGRES_URL))  # while the tool runs

    restored_url = fresh_database
    _run("pg_restore", "--clean", "--if-exists", "--no-owner", "-d", _libpq(restored_url), str(dump))
    restored_app = make_app(restored_url, tmp_path / "restored")
    restored_app.test_client_class = IsolatedClient
    runner = restored_app.test_cli_runner()
    with restored_app.app_context():
        assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
        assert runner.invoke(args=["db", "upgrade"]).exit_code == 0  # safe to run again
        assert count_rows(User) == 1
        assert Launcher(restored_app.test_client(), platform_server).launch().status_code == 303
        assert count_rows(User) == 1  # the restored trainee came back as the same person
        db.engine.dispose()

    # Over the live database: what came after the dump is gone, what was in it is back.
    assert launcher.launch(sub="arrived-after-the-dump").status_code == 303
    with app.app_context():
        assert count_rows(User) == 2
        db.session.remove()
        db.engine.dispose()
    _run("pg_restore", "--clean", "--if-exists", "--no-owner", "-d", _libpq(POSTGRES_URL), str(dump))
    with app.app_context():
        assert count_rows(User) == 1
        assert cli.invoke(args=["db", "upgrade"]).exit_code == 0
    assert launcher.launch().status_code == 303

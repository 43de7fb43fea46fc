"""Backups of the embedded database: taken while the tool runs, restored into a fresh instance that launches, and
refused or cleaned up (never half-written) when something is wrong."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from ibm_lms.extensions import db
from ibm_lms.tenancy.models import User
from tests.conftest import POSTGRES_URL, IsolatedClient, Launcher, make_app

pytestmark = pytest.mark.skipif(bool(POSTGRES_URL), reason="PostgreSQL is backed up with pg_dump (README)")


def test_a_backup_restores_into_a_fresh_instance_that_launches(app, launcher, cli, tmp_path, platform_server):
    assert launcher.launch().status_code == 303
    backup = tmp_path / "nightly.sqlite3"
    made = cli.invoke(args=["backup", "create", "--out", str(backup)])
    head = db.session.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    assert made.exit_code == 0 and f"schema {head}" in made.output, made.output

    fresh_db = tmp_path / "restored" / "ibm_lms.sqlite3"
    restored_app = make_app("sqlite:///" + str(fresh_db), tmp_path / "restored")
    runner = restored_app.test_cli_runner()
    restored_app.test_client_class = IsolatedClient
    # The commands act on the app whose context is current: the fresh instance's.
    with restored_app.app_context():
        restored = runner.invoke(args=["backup", "restore", str(backup)])
        assert restored.exit_code == 0, restored.output
        assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
        assert runner.invoke(args=["db", "upgrade"]).exit_code == 0  # safe to run again
        again = Launcher(restored_app.test_client(), platform_server)
        assert again.launch().status_code == 303
        assert db.session.execute(select(func.count()).select_from(User)).scalar_one() == 1
        db.engine.dispose()


def test_a_restore_never_overwrites_by_surprise_nor_takes_a_stranger_file(app, cli, tmp_path):
    backup = tmp_path / "b.sqlite3"
    assert cli.invoke(args=["backup", "create", "--out", str(backup)]).exit_code == 0
    refused = cli.invoke(args=["backup", "restore", str(backup)])
    assert refused.exit_code != 0 and "add --replace" in refused.output
    stranger = tmp_path / "notes.sqlite3"
    with sqlite3.connect(stranger) as connection:
        connection.execute("CREATE TABLE notes (text TEXT)")
    assert "not a database of this tool" in cli.invoke(args=["backup", "restore", str(stranger)]).output
    garbage = tmp_path / "garbage.sqlite3"
    garbage.write_bytes(b"not sqlite at all" * 100)
    assert "not a database of this tool" in cli.invoke(args=["backup", "restore", str(garbage)]).output


@pytest.mark.parametrize("name", ["nightly#2.sqlite3", "b?x.sqlite3", "100%25.sqlite3"])
def test_a_backup_named_with_uri_characters_is_the_file_restored(app, cli, tmp_path, name):
    # SQLite reads 'file:' names as URIs: '#', '?' and '%' must stay part of the file's name.
    decoy = tmp_path / name.split("#")[0].split("?")[0]
    if decoy.name != name:
        with sqlite3.connect(decoy) as connection:
            connection.execute("CREATE TABLE notes (text TEXT)")
    backup = tmp_path / name
    made = cli.invoke(args=["backup", "create", "--out", str(backup)])
    assert made.exit_code == 0 and backup.is_file(), made.output
    from ibm_lms.tenancy import service as tenancy

    tenancy.ensure_tenant("made-after-the-backup")
    db.session.commit()
    db.session.remove()
    # The connections stay open, as a process that crashed leaves its write-ahead log behind: the restore must not
    # let the next connection replay it into the restored file.
    assert Path(f"{db.engine.url.database}-wal").exists()
    restored = cli.invoke(args=["backup", "restore", str(backup), "--replace"])
    assert restored.exit_code == 0, restored.output
    db.engine.dispose()
    assert "made-after-the-backup" not in [t.slug for t in tenancy.list_tenants()]
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_a_backup_that_cannot_be_written_leaves_nothing_behind(app, cli, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    failed = cli.invoke(args=["backup", "create", "--out", str(blocker / "backup.sqlite3")])
    assert failed.exit_code != 0 and "could not be written" in failed.output
    good = tmp_path / "good.sqlite3"
    assert cli.invoke(args=["backup", "create", "--out", str(good)]).exit_code == 0
    before = good.read_bytes()

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    from ibm_lms import backup as module

    original = module._schema_of
    module._schema_of = broken
    try:
        full = cli.invoke(args=["backup", "create", "--out", str(good)])
    finally:
        module._schema_of = original
    assert full.exit_code != 0 and "No space left on device" in full.output
    assert good.read_bytes() == before, "a failed backup never replaces a good one"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file", "good.sqlite3"]


def test_a_full_disk_in_sqlite_s_own_words_is_a_message_and_a_device_is_never_replaced(app, cli, tmp_path, monkeypatch):
    import os
    import stat

    from ibm_lms import backup as module

    def full(connection):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(module, "_single_file", full)
    answer = cli.invoke(args=["backup", "create", "--out", str(tmp_path / "b.sqlite3")])
    assert answer.exit_code == 1  # a message, not a trace
    assert "could not be written (database or disk is full); nothing was left behind" in answer.output
    assert list(tmp_path.iterdir()) == []
    monkeypatch.undo()
    pipe = tmp_path / "a-pipe"
    os.mkfifo(pipe)
    refused = cli.invoke(args=["backup", "create", "--out", str(pipe)])
    assert refused.exit_code != 0 and "not a regular file" in refused.output
    assert stat.S_ISFIFO(pipe.stat().st_mode)

"""`ibm-lms backup create|restore`: a consistent copy of the embedded SQLite database while the tool runs, and its
restoration into a stopped instance. PostgreSQL is backed up with its own tools (README, "Backups").

A backup is written next to its destination under a temporary name and renamed only once complete and checked,
so a full disk or an interruption leaves no half-written file behind, and never replaces a good backup with a
broken one."""

from __future__ import annotations

import os
import sqlite3
import tempfile
from contextlib import closing
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

backup_group = AppGroup("backup", help="Back up and restore the embedded SQLite database.")


def _sqlite_path() -> Path:
    url = current_app.config["SQLALCHEMY_DATABASE_URI"]
    if not url.startswith("sqlite:///"):
        raise click.ClickException(
            "this instance uses PostgreSQL: back it up with pg_dump -Fc and restore with pg_restore (README, 'Backups')")
    return Path(url.removeprefix("sqlite:///"))


def _read_only(path: Path) -> sqlite3.Connection:
    # A file URI, so that '#', '?' or '%' in a folder's or file's name stay part of the name; mode=ro never creates it.
    return sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)


def _schema_of(path: Path) -> str:
    """The schema revision a database file holds; ClickException when it is not one of ours."""
    try:
        with closing(_read_only(path)) as connection:
            (check,) = connection.execute("PRAGMA quick_check").fetchone()
            if check != "ok":
                raise click.ClickException(f"{path}: the database file is damaged ({check})")
            row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.DatabaseError as error:
        raise click.ClickException(f"{path}: not a database of this tool ({error})") from error
    if row is None:
        raise click.ClickException(f"{path}: not a database of this tool (no schema revision)")
    return row[0]


def _single_file(connection: sqlite3.Connection) -> None:
    # A copy of a database in WAL mode would be in WAL mode too, with side files; a backup is one file.
    connection.execute("PRAGMA journal_mode=DELETE")


def _write_atomically(destination: Path, fill, *, replacing_a_database: bool = False) -> None:
    destination.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{destination.name}.", dir=destination.parent)
    os.close(handle)
    try:
        fill(Path(temporary))
        if replacing_a_database:
            # A write-ahead log left by the database being replaced (a process still open, or one that crashed)
            # would be replayed into the restored file by the next connection: old rows in the restored data.
            for side in ("-wal", "-shm", "-journal"):
                Path(f"{destination}{side}").unlink(missing_ok=True)
        os.replace(temporary, destination)
    except BaseException:
        for leftover in ("", "-journal", "-wal", "-shm"):
            Path(temporary + leftover).unlink(missing_ok=True)
        raise


def _write_or_explain(destination: Path, fill, failure: str, *, replacing_a_database: bool = False) -> None:
    if destination.exists() and not destination.is_file():
        # A device or a socket would be replaced by the copy, not written to.
        raise click.ClickException(f"{destination}: not a regular file; name a file to write")
    try:
        _write_atomically(destination, fill, replacing_a_database=replacing_a_database)
    except OSError as error:
        raise click.ClickException(f"{destination}: " + failure.format(reason=error.strerror or error)) from error
    except sqlite3.OperationalError as error:  # SQLite's own words for a full disk or a read-only folder
        raise click.ClickException(f"{destination}: " + failure.format(reason=error)) from error


@backup_group.command("create")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The backup file to write (an existing one is replaced only by a complete new copy).")
def create_command(out: Path) -> None:
    """Copies the live database consistently (SQLite's online backup), then checks the copy."""
    source = _sqlite_path()
    if not source.is_file():
        raise click.ClickException(f"{source}: there is no database yet ('ibm-lms db upgrade' makes it)")

    def fill(temporary: Path) -> None:
        with closing(sqlite3.connect(source)) as live, closing(sqlite3.connect(temporary)) as copy:
            live.backup(copy)
            _single_file(copy)
        _schema_of(temporary)

    _write_or_explain(out, fill, "the backup could not be written ({reason}); nothing was left behind")
    click.echo(f"backed up {source} to {out} (schema {_schema_of(out)}, {out.stat().st_size} bytes)")


@backup_group.command("restore")
@click.argument("backup", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--replace", is_flag=True, help="Replace an existing database (stop the server and worker first).")
def restore_command(backup: Path, replace: bool) -> None:
    """Puts a backup in place of this instance's database; 'ibm-lms db upgrade' then brings an older one up to date."""
    schema = _schema_of(backup)
    target = _sqlite_path()
    if target.exists() and not replace:
        raise click.ClickException(f"{target} exists: stop the server and worker, then add --replace")

    def fill(temporary: Path) -> None:
        with closing(_read_only(backup)) as source, \
                closing(sqlite3.connect(temporary)) as copy:
            source.backup(copy)
            _single_file(copy)

    _write_or_explain(target, fill, "the restore could not be written ({reason}); the database was not changed",
                      replacing_a_database=True)
    click.echo(f"restored {backup} (schema {schema}) to {target}; run 'ibm-lms db upgrade' before starting")

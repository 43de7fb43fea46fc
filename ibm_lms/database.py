"""Database helpers every room may use: a dialect-aware upsert (no room knowledge here)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import lru_cache

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite

from ibm_lms.extensions import db

_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


@lru_cache(maxsize=64)
def _upsert_statement(dialect: str, table: Table, conflict_on: tuple[str, ...], update: tuple[str, ...],
                      returning: tuple[str, ...]):
    # Built once per shape and reused, so SQLAlchemy's compiled cache is hit on every call;
    # values arrive as execution parameters.
    insert = _INSERTS.get(dialect)
    if insert is None:
        raise RuntimeError(f"Unsupported database dialect for upsert: {dialect}")
    statement = insert(table)
    # With nothing to update, touching a conflict column still lets RETURNING hand back the row.
    changes = {name: statement.excluded[name] for name in (update or conflict_on[:1])}
    statement = statement.on_conflict_do_update(index_elements=list(conflict_on), set_=changes)
    return statement.returning(*(table.c[name] for name in returning))


def upsert(table: Table, values: Mapping, conflict_on: Iterable[str], update: Iterable[str],
           returning: Iterable[str] = ("id",)):
    """INSERT … ON CONFLICT DO UPDATE in one round trip on SQLite and PostgreSQL; returns the RETURNING row."""
    dialect = db.session.get_bind().dialect.name
    statement = _upsert_statement(dialect, table, tuple(conflict_on), tuple(update), tuple(returning))
    return execute(statement, values).one()


def execute(statement, params: Mapping | None = None):
    """Runs a Core statement on the session's connection and transaction, without the ORM's per-call work."""
    return db.session.connection().execute(statement, dict(params or {}))

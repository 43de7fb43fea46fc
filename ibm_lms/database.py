"""Database helpers every room may use: a dialect-aware upsert (no room knowledge here)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite

from ibm_lms.extensions import db


def upsert(table: Table, values: Mapping, conflict_on: Iterable[str], update: Iterable[str]):
    """INSERT … ON CONFLICT DO UPDATE in one round trip on SQLite and PostgreSQL; returns the row id."""
    dialect = db.session.get_bind().dialect.name
    insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}.get(dialect)
    if insert is None:
        raise RuntimeError(f"Unsupported database dialect for upsert: {dialect}")
    statement = insert(table).values(**values)
    changes = {name: statement.excluded[name] for name in update}
    if changes:
        statement = statement.on_conflict_do_update(index_elements=list(conflict_on), set_=changes)
    else:
        # A no-op update still lets RETURNING hand back the existing row's id.
        first = next(iter(conflict_on))
        statement = statement.on_conflict_do_update(
            index_elements=list(conflict_on), set_={first: statement.excluded[first]}
        )
    return db.session.execute(statement.returning(table.c.id)).scalar_one()

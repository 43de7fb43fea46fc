"""Database helpers every room may use (no room knowledge here).

`RecentWrites` lets a hot path skip rewriting rows it wrote moments ago with the same values.
`upsert` is a dialect-aware INSERT … ON CONFLICT DO UPDATE. `execute` (in the session's
transaction) and `execute_alone` (a transaction of its own) run the statements of hot paths (a
login, a launch) straight on a DBAPI cursor: each statement is compiled once per dialect and
parameter shape, and SQLAlchemy's own bind and result processors are applied, so values read
and written are exactly what Core would use, without Core's per-call execution machinery
(about two thirds of the CPU a statement costs).
"""

from __future__ import annotations

import threading
import time
from collections import namedtuple
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from flask import current_app
from sqlalchemy import ColumnElement, Table, bindparam, event, select
from sqlalchemy import update as sql_update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.sql import ClauseElement, Select

from ibm_lms.extensions import app_state, db

_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


@lru_cache(maxsize=64)
def _upsert_statement(dialect: str, table: Table, conflict_on: tuple[str, ...], update: tuple[str, ...],
                      returning: tuple[str, ...], newer_by: str | None = None, columns: tuple[str, ...] = (),
                      only_while: ColumnElement | None = None):
    insert = _INSERTS.get(dialect)
    if insert is None:
        raise RuntimeError(f"Unsupported database dialect for upsert: {dialect}")
    statement = insert(table)
    if only_while is not None:
        # INSERT … SELECT the values WHERE the condition: nothing is written once it no longer holds.
        statement = statement.from_select(list(columns), select(
            *(bindparam(name, type_=table.c[name].type) for name in columns)).where(only_while))
    # With nothing to update, touching a conflict column still lets RETURNING hand back the row.
    changes = {name: statement.excluded[name] for name in (update or conflict_on[:1])}
    only_if = table.c[newer_by] <= statement.excluded[newer_by] if newer_by else None
    statement = statement.on_conflict_do_update(index_elements=list(conflict_on), set_=changes, where=only_if)
    return statement.returning(*(table.c[name] for name in returning))


def upsert(table: Table, values: Mapping, conflict_on: Iterable[str], update: Iterable[str],
           returning: Iterable[str] = ("id",)):
    """INSERT … ON CONFLICT DO UPDATE in one round trip on SQLite and PostgreSQL; returns the RETURNING row."""
    dialect = db.session.get_bind().dialect.name
    statement = _upsert_statement(dialect, table, tuple(conflict_on), tuple(update), tuple(returning))
    return execute(statement, values).one()


def upsert_if_newer(table: Table, values: Mapping, conflict_on: Iterable[str], update: Iterable[str],
                    newer_by: str, returning: Iterable[str] = ("id",), only_while: ColumnElement | None = None):
    """An upsert that changes a stored row only if `newer_by` of the values is not below the stored one's, so a
    late retry never undoes a newer write; returns the RETURNING row, or None when the stored row was newer.

    `only_while` (a condition on other rows, with its own bound parameters among `values`; one constant clause
    per call site, so the statement is built once) is checked by the same statement: None when it no longer holds."""
    dialect = db.session.get_bind().dialect.name
    columns = tuple(name for name in values if name in table.c) if only_while is not None else ()
    statement = _upsert_statement(dialect, table, tuple(conflict_on), tuple(update), tuple(returning), newer_by,
                                  columns, only_while)
    return execute(statement, values).first()


@lru_cache(maxsize=64)
def _update_statement(table: Table, keys: tuple[str, ...], columns: tuple[str, ...], returning: tuple[str, ...],
                      newer_by: str, only_while: ColumnElement | None = None):
    # Parameters are prefixed: an UPDATE keeps the columns' own names for the values it sets.
    conditions = [table.c[name] == bindparam(f"k_{name}") for name in keys]
    conditions.append(table.c[newer_by] <= bindparam(f"v_{newer_by}"))
    if only_while is not None:
        conditions.append(only_while)
    return (sql_update(table).where(*conditions)
            .values({name: bindparam(f"v_{name}") for name in columns})
            .returning(*(table.c[name] for name in returning)))


def update_if_newer(table: Table, keys: Mapping, values: Mapping, newer_by: str, returning: Iterable[str] = ("id",),
                    only_while: ColumnElement | None = None, condition_values: Mapping | None = None):
    """Changes the row `keys` name only if `newer_by` of the values (one of them) is not below the stored one's
    (the rule upsert_if_newer keeps, for a row that must not be created); returns the RETURNING row, or None when
    there is no such row, the stored one was newer or `only_while` (bound by `condition_values`) no longer holds."""
    statement = _update_statement(table, tuple(keys), tuple(values), tuple(returning), newer_by, only_while)
    return execute(statement, {**{f"k_{name}": value for name, value in keys.items()},
                               **{f"v_{name}": value for name, value in values.items()},
                               **(condition_values or {})}).first()


@lru_cache(maxsize=64)
def _insert_new_statement(dialect: str, table: Table, conflict_on: tuple[str, ...]):
    insert = _INSERTS.get(dialect)
    if insert is None:
        raise RuntimeError(f"Unsupported database dialect for insert_new: {dialect}")
    return insert(table).on_conflict_do_nothing(index_elements=list(conflict_on))


def insert_new(table: Table, rows: list[Mapping], conflict_on: Iterable[str]) -> None:
    """INSERT … ON CONFLICT DO NOTHING for every row in one statement: rows already there (a retried event, a
    row another worker made a moment ago) are left as they are, without a read first or an error."""
    if not rows:
        return
    dialect = db.session.get_bind().dialect.name
    statement = _insert_new_statement(dialect, table, tuple(conflict_on))
    if len(rows) == 1:
        # The usual case on a hot path (one launch, one statement): the cursor path, not Core's machinery.
        execute(statement, rows[0])
    else:
        db.session.execute(statement, rows)


def insert_new_alone(table: Table, row: Mapping, conflict_on: Iterable[str]) -> None:
    """insert_new for one row as a transaction of its own (see execute_alone)."""
    execute_alone(_insert_new_statement(db.engine.dialect.name, table, tuple(conflict_on)), row)


class Rows(list):
    """The rows a statement returned, with the two questions callers ask of them."""

    def one(self):
        if len(self) != 1:
            raise LookupError(f"expected exactly one row, got {len(self)}")
        return self[0]

    def first(self):
        return self[0] if self else None


@dataclass(frozen=True)
class _Compiled:
    sql: str
    names: tuple[str, ...]
    positional: bool
    constants: dict
    bind_processors: tuple[tuple[str, Callable], ...]
    row_type: type | None
    result_processors: tuple[Callable | None, ...]


_compiled: dict[tuple, _Compiled] = {}


def _compile(statement: ClauseElement, dialect: Dialect, keys: tuple[str, ...]) -> _Compiled:
    compiled = statement.compile(dialect=dialect, column_keys=list(keys))
    # Rendered names: anonymous binds (JSON keys, literals) appear under the name the SQL uses.
    names = tuple(compiled.positiontup) if compiled.positional else tuple(dict.fromkeys(compiled.bind_names.values()))
    processors = {}
    for name in dict.fromkeys(names):
        process = compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            processors[name] = process
    # Binds the statement carries itself (JSON keys, literals) are processed once, here.
    constants = {}
    for name in set(names) - set(keys):
        bind = compiled.binds[name]
        if bind.callable is not None or bind.value is None:
            # Defaults or missing values would need Core's execution context: not a statement for this path.
            raise ValueError(f"statement needs a value for {name!r}; got {sorted(keys)}")
        value = bind.effective_value
        constants[name] = processors.pop(name)(value) if name in processors else value
    if isinstance(statement, Select):
        returning = list(statement.selected_columns)
    else:
        returning = list(getattr(compiled, "effective_returning", None) or ())
    row_type = namedtuple("Row", [column.key for column in returning]) if returning else None
    result_processors = tuple(
        column.type.dialect_impl(dialect).result_processor(dialect, None) for column in returning
    )
    return _Compiled(compiled.string, names, compiled.positional, constants, tuple(processors.items()), row_type,
                     result_processors)


def _run(dialect: Dialect, dbapi_connection, statement: ClauseElement, params: Mapping | None) -> Rows:
    values = dict(params or {})
    key = (statement, dialect.name, tuple(sorted(values)))
    plan = _compiled.get(key)
    if plan is None:
        plan = _compiled[key] = _compile(statement, dialect, key[2])
    for name, process in plan.bind_processors:
        values[name] = process(values[name])
    values.update(plan.constants)
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(plan.sql, tuple(values[name] for name in plan.names) if plan.positional else values)
        raw_rows = cursor.fetchall() if plan.row_type is not None else ()
    except dialect.loaded_dbapi.Error as error:
        # As Core would: a dead connection leaves the pool, and callers see SQLAlchemy's exceptions
        # (parameters hidden: they may hold personal data).
        if dialect.is_disconnect(error, dbapi_connection, cursor):
            dbapi_connection.invalidate(error)
        raise DBAPIError.instance(plan.sql, values, error, dialect.loaded_dbapi.Error, hide_parameters=True,
                                  dialect=dialect) from error
    finally:
        cursor.close()
    rows = Rows()
    for raw in raw_rows:
        processed = [value if process is None else process(value)
                     for value, process in zip(raw, plan.result_processors, strict=True)]
        rows.append(plan.row_type(*processed))
    return rows


def execute(statement: ClauseElement, params: Mapping | None = None) -> Rows:
    """Runs a Core INSERT/UPDATE/DELETE/SELECT with explicit values in the session's transaction."""
    connection = db.session.connection()
    return _run(connection.dialect, connection.connection, statement, params)


def execute_alone(statement: ClauseElement, params: Mapping | None = None) -> Rows:
    """Runs one statement as a transaction of its own, committed as it runs (autocommit).

    One round trip instead of three (BEGIN, the statement, COMMIT), for a hot path whose
    write stands on its own. Takes its own pooled connection: it never joins the session's
    transaction, and nothing the session has pending is committed with it.
    """
    engine = db.engine
    dialect = engine.dialect
    # Straight from the pool: a Core Connection would add its own bookkeeping to every call.
    pooled = engine.raw_connection()
    try:
        dialect.set_isolation_level(pooled.dbapi_connection, "AUTOCOMMIT")
        try:
            return _run(dialect, pooled, statement, params)
        finally:
            dialect.reset_isolation_level(pooled.dbapi_connection)
    finally:
        pooled.close()


def read(statement: Select, params: Mapping | None = None) -> Rows:
    """Runs a SELECT for a request that may hold no transaction: inside the session's transaction when one is
    open (so it sees what the request wrote), else alone in autocommit.

    A page that only reads (the catalogue a launch lands on) then costs one round trip instead of three
    (BEGIN, the SELECT, and the ROLLBACK when the request ends); one statement needs no transaction to see
    a consistent snapshot."""
    if session_in_transaction():
        return execute(statement, params)
    return execute_alone(statement, params)


def session_in_transaction() -> bool:
    """Whether this context's session has begun a transaction, asked without making a session for it:
    a request that never touches the session (a login, a page that only reads) then never builds one."""
    return db.session.registry.has() and db.session().in_transaction()


class RecentWrites:
    """Remembers, per process and app, the rows a committed transaction just wrote, so an identical write can be skipped.

    A trainee clicking through a course relaunches every few seconds, and each launch would rewrite
    the same user, context and enrolment rows. As Moodle does for its last-access time, such a
    write is repeated at most once per `RECENT_WRITE_SECONDS` when its values have not changed, so
    the timestamps it carries are accurate to that interval. An entry becomes visible only once
    its transaction has committed, so a rolled-back write is never trusted. Other processes keep
    their entries until the interval ends: a feature that deletes such rows must allow for that.
    """

    MAX_ENTRIES = 20_000

    def __init__(self, name: str):
        self.name = name
        self._entries: dict = {}
        self._lock = threading.Lock()

    def recall(self, key, fingerprint):
        """The value stored with an identical write made within the interval, else None."""
        found = self._entries.get(key)
        if found is None:
            return None
        stored_fingerprint, value, written_at = found
        if stored_fingerprint != fingerprint or time.monotonic() - written_at >= _interval():
            return None
        return value

    def remember(self, key, fingerprint, value) -> None:
        """Keeps the write once the session's transaction commits."""
        if _interval() > 0:
            db.session.info.setdefault(_PENDING, []).append((self, key, (fingerprint, value)))

    def upsert(self, table: Table, values: Mapping, *, conflict_on: tuple[str, ...], update: tuple[str, ...],
               returning: tuple[str, ...] = ("id",), volatile: tuple[str, ...] = (), reuse: bool = True) -> tuple:
        """`upsert`, skipped when this process wrote the same row with the same values (bar the
        `volatile` ones, such as timestamps) within the interval; returns the RETURNING values.

        A remembered RETURNING value may since have been changed elsewhere: a caller that needs
        a column's current value passes `reuse=False`."""
        key = tuple(values[name] for name in conflict_on)
        fingerprint = tuple((name, value) for name, value in values.items() if name not in volatile)
        found = self.recall(key, fingerprint) if reuse else None
        if found is None:
            found = tuple(upsert(table, values, conflict_on, update, returning))
            self.remember(key, fingerprint, found)
        return found

    def _store(self, key, fingerprint, value, now: float) -> None:
        with self._lock:
            self._entries.pop(key, None)
            self._entries[key] = (fingerprint, value, now)
            while len(self._entries) > self.MAX_ENTRIES:
                del self._entries[next(iter(self._entries))]


def recent_writes(name: str) -> RecentWrites:
    """The application's memory of recent writes to one kind of row."""
    return app_state("recent_writes." + name, lambda: RecentWrites(name))


_PENDING = "ibm_lms.recent_writes"
_AFTER_COMMIT = "ibm_lms.after_commit"


def after_commit(remember: Callable[[], None]) -> None:
    """Runs `remember` once the session's transaction has committed, never if it rolls back: for a cache that
    must not hold what a transaction wrote until that write is sure."""
    db.session.info.setdefault(_AFTER_COMMIT, []).append(remember)


def _interval() -> float:
    return current_app.config["RECENT_WRITE_SECONDS"]


@event.listens_for(Session, "after_commit")
def _keep_committed_writes(session) -> None:
    for remember in session.info.pop(_AFTER_COMMIT, ()):
        remember()
    pending = session.info.pop(_PENDING, None)
    if pending:
        now = time.monotonic()
        for recent, key, (fingerprint, value) in pending:
            recent._store(key, fingerprint, value, now)


@event.listens_for(Session, "after_rollback")
def _drop_rolled_back_writes(session) -> None:
    session.info.pop(_PENDING, None)
    session.info.pop(_AFTER_COMMIT, None)


@event.listens_for(Engine, "connect")
def _sqlite_for_a_server(dbapi_connection, connection_record) -> None:
    """The SQLite default serves a pilot from one file: write-ahead logging lets pages read while a launch
    writes, and syncing at checkpoints instead of every commit saves most of a small write's cost (a crash
    can lose the last commits, never corrupt the file)."""
    module = type(dbapi_connection).__module__
    if not module.startswith(("sqlite3", "pysqlite2")):
        return
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()

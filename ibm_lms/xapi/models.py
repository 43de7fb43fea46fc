"""Statements waiting for, or delivered to, an academy's LRS; and each academy's LRS settings."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ibm_lms import outboxes
from ibm_lms.extensions import db


class _Queued:
    """What a row waiting for the worker has, as `outboxes.claim_rows` and the backoff read it."""

    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    claimed_until: Mapped[datetime | None]
    created_at: Mapped[datetime]


class StatementOutbox(_Queued, db.Model):
    """One statement, written in the transaction of the event it records; never deleted.

    pending (due at next_attempt_at), delivered, or parked (the LRS refused it: an administrator
    reads its answer and resends). `statement_id` is the statement's own id: a resend is harmless."""

    __tablename__ = "xapi_statement_outbox"
    __table_args__ = (UniqueConstraint("statement_id"), Index("ix_xapi_outbox_due", "status", "next_attempt_at"),
                      outboxes.pending_index("ix_xapi_outbox_pending"))

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    statement_id: Mapped[str] = mapped_column(String(36))
    verb: Mapped[str] = mapped_column(String(32))
    statement: Mapped[dict] = mapped_column(JSON)
    delivered_at: Mapped[datetime | None]
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_answer: Mapped[str | None] = mapped_column(Text)


class QueuedEvent(_Queued, db.Model):
    """A learning event whose statements the worker writes, kept in the transaction of the change it reports.

    For events that make many statements (a submitted quiz: one per question): the request stores one row,
    the worker builds, checks and stores the statements, then deletes the row. A row the worker could not
    write keeps its problem and is tried again later."""

    __tablename__ = "xapi_event_queue"
    __table_args__ = (UniqueConstraint("event_id"), outboxes.pending_index("ix_xapi_event_queue_pending"))

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    event_id: Mapped[str] = mapped_column(String(36))
    kind: Mapped[str] = mapped_column(String(64))
    event: Mapped[dict] = mapped_column(JSON)
    last_problem: Mapped[str | None] = mapped_column(Text)


class LrsSettings(db.Model):
    """Where an academy's statements go, and how they name its people.

    With no row (and no default LRS in the configuration) statements wait in the outbox and can be
    exported. The password is sealed with the server's secret key. The circuit breaker's state is
    kept here so that every worker stops calling a failing LRS, not only the one that saw it fail."""

    __tablename__ = "xapi_lrs_settings"

    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    endpoint: Mapped[str | None] = mapped_column(String(500))
    auth: Mapped[str] = mapped_column(String(16), default="basic")  # basic or oauth (client credentials)
    username: Mapped[str | None] = mapped_column(String(255))
    secret_sealed: Mapped[str | None] = mapped_column(Text)
    token_url: Mapped[str | None] = mapped_column(String(500))  # OAuth 2.0 client credentials
    country: Mapped[str | None] = mapped_column(String(2))
    # Names and e-mail addresses go to the LRS only when the academy decides so; else a pseudonym.
    share_identity: Mapped[bool] = mapped_column(Boolean, default=False)
    pseudonym_key_sealed: Mapped[str] = mapped_column(Text)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    open_until: Mapped[datetime | None]

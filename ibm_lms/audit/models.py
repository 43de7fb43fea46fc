"""Audit entries: appended, never updated; each holds the hash of the one before it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ibm_lms.extensions import db


class AuditEntry(db.Model):
    """One decision or change. `position` counts from 1 without gaps; `previous_hash` is the `entry_hash` of the
    entry at position - 1 (64 zeros for the first). Both are unique: the chain cannot fork, even when two
    processes append at once (one of them fails instead)."""

    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    position: Mapped[int] = mapped_column(Integer, unique=True)
    recorded_at: Mapped[datetime]
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id"), index=True)
    actor: Mapped[str] = mapped_column(String(300))
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(300))
    details: Mapped[dict] = mapped_column(JSON)
    previous_hash: Mapped[str] = mapped_column(String(64), unique=True)
    entry_hash: Mapped[str] = mapped_column(String(64))

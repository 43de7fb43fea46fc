"""The time as the database stores it: UTC, without a zone (the same on SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def iso_utc(moment: datetime | None) -> str | None:
    """A stored time as machine-readable output gives it (ISO 8601 with Z), None as None."""
    return None if moment is None else moment.isoformat(timespec="seconds") + "Z"

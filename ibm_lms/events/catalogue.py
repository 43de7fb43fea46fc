"""The domain events rooms publish; each is a frozen record of something that has happened."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime


def _now() -> datetime:
    return datetime.now(UTC)


def _new_id() -> str:
    return str(uuid.uuid4())


@dataclass(frozen=True, kw_only=True)
class DomainEvent:
    tenant_id: int
    # Stable id: outboxes use it as the idempotency key (e.g. the xAPI statement id).
    event_id: str = field(default_factory=_new_id)
    occurred_at: datetime = field(default_factory=_now)


@dataclass(frozen=True, kw_only=True)
class LaunchCompleted(DomainEvent):
    """A user arrived through a validated LTI launch."""

    user_id: int
    issuer: str
    subject: str
    role: str
    locale: str
    message_type: str
    context_id: int | None
    resource_link_id: int | None
    target_link_uri: str

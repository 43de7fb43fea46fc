"""What the audit trail hands out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class AuditRecord:
    position: int
    recorded_at: datetime
    tenant_id: int | None
    actor: str
    action: str
    subject: str
    details: dict
    entry_hash: str

"""What the audit trail hands out: an entry as the chain holds it (chain.Entry), every field its hash covers."""

from __future__ import annotations

from .chain import Entry as AuditRecord

__all__ = ["AuditRecord"]

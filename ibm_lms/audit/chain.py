"""The hash chain itself (pure): what an entry's hash covers, and how a sequence of entries is checked."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

GENESIS = "0" * 64


@dataclass(frozen=True)
class Entry:
    position: int
    recorded_at: datetime
    tenant_id: int | None
    actor: str
    action: str
    subject: str
    details: dict
    previous_hash: str
    entry_hash: str = ""


def entry_hash(entry: Entry) -> str:
    """SHA-256 of every field but the hash itself, as canonical JSON (sorted keys, no spaces, UTF-8): the same
    entry gives the same hash on any machine, and any change to any field gives another."""
    content = {"position": entry.position, "recorded_at": entry.recorded_at.isoformat(timespec="microseconds"),
               "tenant_id": entry.tenant_id, "actor": entry.actor, "action": entry.action, "subject": entry.subject,
               "details": entry.details, "previous_hash": entry.previous_hash}
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Break:
    """Where the chain stops holding, and what that means."""

    position: int
    problem: str

    def __str__(self) -> str:
        return f"entry {self.position}: {self.problem}"


def verify(entries: Iterable[Entry], *, expect: tuple[int, str] | None = None) -> tuple[int, list[Break]]:
    """Checks entries in position order; returns how many were read and every break found (at most one per entry).

    `expect` is a (position, hash) pair recorded earlier, outside the database (`audit head`): the only way to
    notice that the newest entries were removed, which a chain alone cannot show."""
    breaks: list[Break] = []
    previous, expected_position, count = GENESIS, 1, 0
    seen_expected = False
    for entry in entries:
        count += 1
        if entry.position != expected_position:
            breaks.append(Break(entry.position, f"expected position {expected_position}: entries "
                                                f"{expected_position} to {entry.position - 1} are missing"
                                if entry.position > expected_position else
                                f"out of order after entry {expected_position - 1}"))
        elif entry.previous_hash != previous:
            breaks.append(Break(entry.position, "does not follow the entry before it (that entry was changed, "
                                                "removed or moved)"))
        elif entry_hash(entry) != entry.entry_hash:
            breaks.append(Break(entry.position, "its content no longer matches its hash (it was edited)"))
        if expect is not None and entry.position == expect[0]:
            seen_expected = True
            if entry.entry_hash != expect[1]:
                breaks.append(Break(entry.position, "differs from the head recorded earlier"))
        previous, expected_position = entry.entry_hash, max(expected_position, entry.position) + 1
    if expect is not None and not seen_expected:
        breaks.append(Break(expect[0], "the head recorded earlier is gone: the newest entries were removed"))
    return count, breaks

"""What the tests of statements share."""

from __future__ import annotations

from ibm_lms.extensions import db
from ibm_lms.xapi import queue


def write_queued() -> int:
    """The worker's first step, alone: the statements of the queued events (launches, submitted quizzes) written,
    none delivered. Returns how many events it wrote."""
    written = queue.write_queued(1000)
    db.session.expire_all()
    return written

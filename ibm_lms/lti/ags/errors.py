"""What a platform's service answered when it did not do what was asked."""

from __future__ import annotations

import datetime as dt
from email.utils import parsedate_to_datetime

from ibm_lms.text import whole_number_or_none

from ..outbound import RawResponse

MAX_KEPT_ANSWER = 2000


class ServiceRefused(Exception):
    """A service answered with a status that is not success; the answer is kept for administrators."""

    def __init__(self, answer: RawResponse, *, step: str):
        self.status = answer.status
        self.step = step
        self.answer = answer.content[:MAX_KEPT_ANSWER].decode("utf-8", "replace")
        self.retry_after = _retry_after(answer.headers.get("Retry-After"))
        super().__init__(f"{step}: HTTP {self.status}")


class NoLineItem(Exception):
    """The link has no gradebook column, and the platform does not let the tool make one."""


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    seconds = whole_number_or_none(value.strip())
    if seconds is not None:
        return float(seconds)
    try:
        return max(0.0, (parsedate_to_datetime(value) - dt.datetime.now(dt.UTC)).total_seconds())
    except (TypeError, ValueError):
        return None

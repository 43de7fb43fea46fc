"""Records the monitoring room hands out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .questionnaires import Questionnaire


@dataclass(frozen=True)
class QuestionnaireState:
    """One questionnaire of one course as a trainee finds it: open or not (and why), answered or not."""

    questionnaire: Questionnaire
    course_slug: str
    open: bool
    answered_at: datetime | None
    # Why it is not open yet (a msgid), and from when it will be, when known.
    closed_reason: str | None = None
    opens_on: datetime | None = None

"""The monitoring room's table: questionnaire answers, one per person, course and questionnaire."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ibm_lms.extensions import db


class QuestionnaireAnswer(db.Model):
    __tablename__ = "questionnaire_answers"
    __table_args__ = (UniqueConstraint("tenant_id", "user_id", "course_slug", "questionnaire"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    course_slug: Mapped[str] = mapped_column(String(64))
    questionnaire: Mapped[str] = mapped_column(String(32))
    # {statement key: 1..5, or null where it does not apply}
    ratings: Mapped[dict] = mapped_column(JSON)
    comment: Mapped[str] = mapped_column(Text, default="")
    answered_at: Mapped[datetime]

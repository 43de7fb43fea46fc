"""The course catalogue: shared content, loaded from courses/ (not tenant data)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ibm_lms.extensions import db


class Course(db.Model):
    __tablename__ = "courses"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    position: Mapped[int] = mapped_column(Integer)
    horizontal: Mapped[bool] = mapped_column(Boolean, default=False)
    title: Mapped[dict] = mapped_column(JSON)
    summary: Mapped[dict] = mapped_column(JSON)
    outcomes: Mapped[list] = mapped_column(JSON)
    loaded_at: Mapped[datetime]

"""Tenancy tables: tenants, users keyed by (issuer, sub), LTI contexts and enrolments."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ibm_lms.clock import utcnow
from ibm_lms.extensions import db


class Tenant(db.Model):
    __tablename__ = "tenants"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class User(db.Model):
    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("issuer", "subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    issuer: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(255))
    # Personal data only when the platform shares it.
    given_name: Mapped[str | None] = mapped_column(String(255))
    family_name: Mapped[str | None] = mapped_column(String(255))
    name: Mapped[str | None] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(320))
    preferred_locale: Mapped[str | None] = mapped_column(String(8))
    # Where the person serves (a regional directorate, a border detachment), when the platform sends it as the
    # custom parameter `region`; academies count their trainers by it.
    region: Mapped[str | None] = mapped_column(String(100))
    # The last launch came with an institution or system Administrator role: someone who runs the academy's
    # Moodle, not one course (certification decisions are theirs).
    academy_administrator: Mapped[bool] = mapped_column(server_default="0")
    # Named from the command line only (`ibm-lms operator add`): manages what every academy shares, such as the
    # tool's signing key. A launch never sets it.
    tool_operator: Mapped[bool] = mapped_column(server_default="0")
    # Named from the command line only (`ibm-lms coordinator add`): reads every academy's certification counts
    # (never a person), for the regional programme.
    regional_coordinator: Mapped[bool] = mapped_column(server_default="0")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)


class Context(db.Model):
    """An LTI context (a Moodle course) the tool has been launched from."""

    __tablename__ = "contexts"
    __table_args__ = (UniqueConstraint("issuer", "lti_context_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    issuer: Mapped[str] = mapped_column(String(255))
    lti_context_id: Mapped[str] = mapped_column(String(255))
    label: Mapped[str | None] = mapped_column(String(255))
    title: Mapped[str | None] = mapped_column(Text)
    types: Mapped[list | None] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Enrolment(db.Model):
    __tablename__ = "enrolments"
    __table_args__ = (UniqueConstraint("user_id", "context_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    context_id: Mapped[int] = mapped_column(ForeignKey("contexts.id"), index=True)
    role: Mapped[str] = mapped_column(String(32))
    lti_roles: Mapped[list] = mapped_column(JSON, default=list)
    last_launch_at: Mapped[datetime | None] = mapped_column(default=utcnow)
    # A member the platform's roster no longer lists (or lists as inactive): kept, with every result.
    active: Mapped[bool] = mapped_column(default=True, server_default="1")
    left_at: Mapped[datetime | None]

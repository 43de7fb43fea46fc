"""LTI tables: issuers, platform registrations and deployments, tool keys, login states, platform key sets, resource links,
deep-linking requests."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, ForeignKeyConstraint, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ibm_lms import outboxes
from ibm_lms.extensions import db


class Issuer(db.Model):
    """A platform's issuer and the one tenant it belongs to.

    Users and contexts are keyed by issuer, so every registration of an issuer must belong to the
    same tenant: registrations point at this row by (issuer, tenant), and the issuer is its key.
    """

    __tablename__ = "lti_issuers"
    __table_args__ = (UniqueConstraint("issuer", "tenant_id"),)

    issuer: Mapped[str] = mapped_column(String(255), primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)


class Platform(db.Model):
    """One client registration of a platform (issuer + client_id) owned by a tenant."""

    __tablename__ = "lti_platforms"
    __table_args__ = (
        UniqueConstraint("issuer", "client_id"),
        ForeignKeyConstraint(["issuer", "tenant_id"], ["lti_issuers.issuer", "lti_issuers.tenant_id"],
                             name="fk_lti_platforms_issuer_tenant_lti_issuers"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    name: Mapped[str | None] = mapped_column(String(255))
    issuer: Mapped[str] = mapped_column(String(255), index=True)
    client_id: Mapped[str] = mapped_column(String(255))
    auth_login_url: Mapped[str] = mapped_column(Text)
    auth_token_url: Mapped[str] = mapped_column(Text)
    keyset_url: Mapped[str] = mapped_column(Text)
    auth_audience: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    # Set by an administrator: logins and launches from this registration are refused until it is enabled again.
    disabled_at: Mapped[datetime | None]

    deployments: Mapped[list[Deployment]] = relationship(
        back_populates="platform", cascade="all, delete-orphan", order_by="Deployment.id"
    )


class Deployment(db.Model):
    __tablename__ = "lti_deployments"
    __table_args__ = (UniqueConstraint("platform_id", "deployment_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("lti_platforms.id", ondelete="CASCADE"))
    deployment_id: Mapped[str] = mapped_column(String(255))

    platform: Mapped[Platform] = relationship(back_populates="deployments")


class ToolKey(db.Model):
    """The tool's RSA signing keys; the newest unretired one signs, retired ones stay published for a grace period."""

    __tablename__ = "lti_tool_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    kid: Mapped[str] = mapped_column(String(64), unique=True)
    # Fernet-encrypted PKCS#8 PEM; the key is derived from IBM_LMS_SECRET_KEY.
    private_key: Mapped[str] = mapped_column(Text)
    public_jwk: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime]
    retired_at: Mapped[datetime | None]


class LoginState(db.Model):
    """An OIDC login waiting for its launch: the state, the nonce bound to it, and the login's parameters."""

    __tablename__ = "lti_login_states"

    state: Mapped[str] = mapped_column(String(128), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(128))
    platform_id: Mapped[int] = mapped_column(ForeignKey("lti_platforms.id", ondelete="CASCADE"))
    params: Mapped[dict] = mapped_column(JSON)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class PlatformKeySet(db.Model):
    """A platform's JWKS as last fetched, shared by every worker so a launch never waits on the platform."""

    __tablename__ = "lti_platform_key_sets"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2048), unique=True)
    jwks: Mapped[dict] = mapped_column(JSON)
    fetched_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class RegistrationInvite(db.Model):
    """An administrator's one-time permission for a platform to register itself into a tenant."""

    __tablename__ = "lti_registration_invites"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Only a hash is kept: the invitation URL itself is the secret.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    used_by_issuer: Mapped[str | None] = mapped_column(String(255))
    revoked_at: Mapped[datetime | None]


class ResourceLink(db.Model):
    __tablename__ = "lti_resource_links"
    __table_args__ = (UniqueConstraint("platform_id", "lti_resource_link_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("lti_platforms.id", ondelete="CASCADE"))
    context_id: Mapped[int | None] = mapped_column(ForeignKey("contexts.id"))
    lti_resource_link_id: Mapped[str] = mapped_column(String(255))
    title: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    target_link_uri: Mapped[str] = mapped_column(Text)
    custom: Mapped[dict | None] = mapped_column(JSON)
    updated_at: Mapped[datetime]
    # Assignment and Grade Services as the last launch offered them, and the line item found or made.
    ags_scopes: Mapped[list | None] = mapped_column(JSON)
    ags_lineitems: Mapped[str | None] = mapped_column(Text)
    ags_lineitem: Mapped[str | None] = mapped_column(Text)
    # Names and Role Provisioning: where the link's context lists its members, where the changes since the
    # last read are (when the platform offers them), and when they were read.
    nrps_memberships: Mapped[str | None] = mapped_column(Text)
    nrps_differences: Mapped[str | None] = mapped_column(Text)
    roster_synced_at: Mapped[datetime | None]


class DeepLinkRequest(db.Model):
    """A deep-linking launch waiting for its instructor's selection: answered once, then deleted."""

    __tablename__ = "lti_deep_link_requests"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    settings: Mapped[dict] = mapped_column(JSON)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class GradeOutbox(db.Model):
    """A score to publish to a platform's gradebook, written in the transaction of the result it reports.

    A worker delivers it (`ibm-lms worker`); it is never deleted: delivered, parked (the platform
    refused it, for an administrator to look at and retry) or superseded (a newer score for the same
    user and link went out instead)."""

    __tablename__ = "lti_grade_outbox"
    # The superseded check looks up a user's newer scores on a link; rows are kept for ever, so it
    # needs its own index to stay constant as the outbox grows.
    __table_args__ = (UniqueConstraint("event_id"),
                      Index("ix_lti_grade_outbox_link_user_scored", "resource_link_id", "user_id", "scored_at"),
                      outboxes.pending_index("ix_lti_grade_outbox_pending"))

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("lti_platforms.id", ondelete="CASCADE"))
    resource_link_id: Mapped[int] = mapped_column(ForeignKey("lti_resource_links.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    subject: Mapped[str] = mapped_column(String(255))
    event_id: Mapped[str] = mapped_column(String(64))
    resource_id: Mapped[str] = mapped_column(String(255))
    label: Mapped[str] = mapped_column(String(255))
    score_given: Mapped[float]
    score_maximum: Mapped[float]
    activity_progress: Mapped[str] = mapped_column(String(32))
    grading_progress: Mapped[str] = mapped_column(String(32))
    comment: Mapped[str | None] = mapped_column(Text)
    scored_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), index=True, default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(index=True)
    claimed_until: Mapped[datetime | None]
    last_status: Mapped[int | None]
    last_answer: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None]

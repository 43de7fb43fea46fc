"""Platform registrations: the administrator's changes to them, and the directory launches read them from.

Every login and launch needs the registration and its deployments; the directory keeps what it
read for half a minute per application, so a flow does not read them several times. A
deployment not in the kept entry causes one reload, so a newly added deployment works at once;
a removed registration stops working in other processes within the cache lifetime.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import selectinload

from ibm_lms.audit import service as audit
from ibm_lms.clock import utcnow
from ibm_lms.errors import N_, Phrase
from ibm_lms.extensions import app_state, db
from ibm_lms.tenancy import service as tenancy
from ibm_lms.text import is_bounded_text
from ibm_lms.unit_of_work import unit_of_work

from .data import PlatformRecord
from .errors import InvalidPlatformSettings, LtiError, PlatformInUse, PlatformNotFound, UnknownPlatform
from .models import Deployment, GradeOutbox, Issuer, Platform, ResourceLink
from .urls import is_platform_url, origin_of, platform_schemes

# Platform URLs are stored and used as keys up to this length (the key-set cache's column).
MAX_URL_LENGTH = 2048
# Identifiers and names of a registration (their columns' length).
MAX_NAME_LENGTH = 255


# What the checks below call each value (msgids: an administrator reads them in the form's language).
ISSUER, CLIENT_ID, NAME = N_("issuer"), N_("client id"), N_("name")
LOGIN_URL, TOKEN_URL, KEYSET_URL = N_("auth login URL"), N_("auth token URL"), N_("keyset URL")
AUDIENCE, DEPLOYMENT_ID = N_("auth audience"), N_("deployment id")


def check_text(label: str, value, limit: int, *, error: type[LtiError] = InvalidPlatformSettings) -> str:
    """Registration values are printable text of a bounded length, in any script."""
    if not is_bounded_text(value, limit):
        raise error(reason=Phrase(N_("%(name)s must be 1 to %(limit)s printable characters"), name=Phrase(label),
                                  limit=limit))
    return value


def check_platform_url(name: str, value, *, error: type[LtiError] = InvalidPlatformSettings) -> str:
    """A platform's URL must be absolute https (or http while the tool itself runs on plain http:
    the loopback demo and tests); anything else is refused with `error`."""
    if isinstance(value, str) and value:
        check_text(name, value, MAX_URL_LENGTH, error=error)
    base_url = current_app.config["BASE_URL"]
    if not is_platform_url(value, base_url):
        raise error(reason=Phrase(N_("%(name)s must be an absolute %(schemes)s URL"),
                                  name=Phrase(name), schemes=" / ".join(platform_schemes(base_url))))
    return value


def another_tenants_issuer() -> InvalidPlatformSettings:
    """The refusal when an issuer is registered, or being registered, for another tenant."""
    return InvalidPlatformSettings(reason=Phrase(N_("this issuer already belongs to another tenant")))


_CLAIM_ISSUER = {
    "postgresql": postgresql.insert(Issuer).on_conflict_do_nothing(index_elements=["issuer"]),
    "sqlite": sqlite.insert(Issuer).on_conflict_do_nothing(index_elements=["issuer"]),
}


def add_platform(
    *,
    tenant_slug: str,
    issuer: str,
    client_id: str,
    auth_login_url: str,
    auth_token_url: str,
    keyset_url: str,
    deployment_ids: list[str],
    name: str | None = None,
    auth_audience: str | None = None,
    actor: str = "set-up",
) -> PlatformRecord:
    """Registers a platform client, or adds deployments to an existing one (same issuer and client id)."""
    check_text(ISSUER, issuer, MAX_NAME_LENGTH)
    check_platform_url(ISSUER, issuer)
    for label, url in ((LOGIN_URL, auth_login_url), (TOKEN_URL, auth_token_url), (KEYSET_URL, keyset_url)):
        check_platform_url(label, url)
    check_text(CLIENT_ID, client_id, MAX_NAME_LENGTH)
    for deployment_id in deployment_ids:
        check_text(DEPLOYMENT_ID, deployment_id, MAX_NAME_LENGTH)
    if name is not None:
        check_text(NAME, name, MAX_NAME_LENGTH)
    if auth_audience is not None:
        check_text(AUDIENCE, auth_audience, MAX_URL_LENGTH)
    try:
        with unit_of_work():
            record = save(tenant_slug=tenant_slug, issuer=issuer, client_id=client_id, auth_login_url=auth_login_url,
                          auth_token_url=auth_token_url, keyset_url=keyset_url, deployment_ids=deployment_ids,
                          name=name, auth_audience=auth_audience, actor=actor)
    except IntegrityError as error:
        # Two registrations of one issuer for two tenants at the same moment: the schema lets one win.
        raise another_tenants_issuer() from error
    directory().forget()
    return record


def save(*, tenant_slug: str, issuer: str, client_id: str, auth_login_url: str, auth_token_url: str,
         keyset_url: str, deployment_ids: list[str], name: str | None, auth_audience: str | None,
         actor: str) -> PlatformRecord:
    """Stores checked registration values in the caller's unit of work (which may raise IntegrityError
    at commit when another tenant registered the issuer at the same moment), with an audit entry when a
    registration is added or changed."""
    tenant = tenancy.ensure_tenant(tenant_slug)
    # Users and contexts are keyed by issuer, so one issuer serves one tenant only: the issuer row
    # (unique) names its tenant, and every registration of that issuer must name the same one.
    db.session.execute(_CLAIM_ISSUER[db.session.get_bind().dialect.name].values(issuer=issuer, tenant_id=tenant.id))
    owner = db.session.execute(select(Issuer.tenant_id).where(Issuer.issuer == issuer)).scalar_one()
    if owner != tenant.id:
        raise another_tenants_issuer()
    platform = db.session.execute(
        select(Platform).where(Platform.issuer == issuer, Platform.client_id == client_id)
    ).scalar_one_or_none()
    before = None if platform is None else _audited_values(platform)
    if platform is None:
        platform = Platform(tenant_id=tenant.id, issuer=issuer, client_id=client_id, created_at=utcnow())
        db.session.add(platform)
    platform.name = name or platform.name
    platform.auth_login_url = auth_login_url
    platform.auth_token_url = auth_token_url
    platform.keyset_url = keyset_url
    platform.auth_audience = auth_audience
    known = {d.deployment_id for d in platform.deployments}
    for deployment_id in deployment_ids:
        if deployment_id not in known:
            platform.deployments.append(Deployment(deployment_id=deployment_id))
            known.add(deployment_id)
    db.session.flush()
    after = _audited_values(platform)
    if before != after:
        changed = sorted(key for key in after if before is None or before[key] != after[key])
        audit.record(actor=actor, action="platform.added" if before is None else "platform.changed",
                     subject=f"platform {issuer} {client_id}"[:300], tenant_id=tenant.id,
                     details={"changed": changed})
    return _record(platform)


def _audited_values(platform: Platform) -> dict:
    return {"name": platform.name, "auth_login_url": platform.auth_login_url,
            "auth_token_url": platform.auth_token_url, "keyset_url": platform.keyset_url,
            "auth_audience": platform.auth_audience,
            "deployment_ids": sorted(d.deployment_id for d in platform.deployments)}


def _record(platform: Platform, deployment_ids=None) -> PlatformRecord:
    return PlatformRecord(
        id=platform.id,
        tenant_id=platform.tenant_id,
        issuer=platform.issuer,
        client_id=platform.client_id,
        auth_login_url=platform.auth_login_url,
        auth_token_url=platform.auth_token_url,
        keyset_url=platform.keyset_url,
        deployment_ids=frozenset(d.deployment_id for d in platform.deployments)
        if deployment_ids is None else frozenset(deployment_ids),
        name=platform.name,
        auth_audience=platform.auth_audience,
        disabled=platform.disabled_at is not None,
    )


def _registration(issuer: str, client_id: str) -> Platform:
    platform = db.session.execute(select(Platform).where(Platform.issuer == issuer, Platform.client_id == client_id)
                                  ).scalar_one_or_none() if is_bounded_text(issuer, MAX_NAME_LENGTH) and \
        is_bounded_text(client_id, MAX_NAME_LENGTH) else None
    if platform is None:
        raise UnknownPlatform(issuer=str(issuer)[:200], client_id=str(client_id)[:200])
    return platform


def set_disabled(issuer: str, client_id: str, disabled: bool, *, actor: str) -> bool:
    """Switches a registration's launches off or on; False when it already was. Other workers follow within
    LTI_PLATFORM_CACHE_SECONDS."""
    with unit_of_work():
        platform = _registration(issuer, client_id)
        if (platform.disabled_at is not None) == disabled:
            return False
        platform.disabled_at = utcnow() if disabled else None
        audit.record(actor=actor, action="platform.disabled" if disabled else "platform.enabled",
                     subject=f"platform {issuer} {client_id}"[:300], tenant_id=platform.tenant_id, details={})
    directory().forget()
    return True


def tenant_platforms(tenant_id: int) -> list[PlatformRecord]:
    return [p for p in list_platforms() if p.tenant_id == tenant_id]


def switch_for_tenant(tenant_id: int, platform_id: int, disabled: bool, *, actor: str) -> bool:
    """An academy administrator's switch, on one of the academy's own registrations only."""
    platform = db.session.get(Platform, platform_id)
    if platform is None or platform.tenant_id != tenant_id:
        raise PlatformNotFound(platform=platform_id)
    return set_disabled(platform.issuer, platform.client_id, disabled, actor=actor)


def remove(issuer: str, client_id: str, *, actor: str) -> None:
    """Deletes a registration nothing depends on: no link launched from it, no score for it, and, for the last
    registration of its issuer, no user of that issuer (their results stay; such a registration is disabled)."""
    with unit_of_work():
        platform = _registration(issuer, client_id)
        if db.session.execute(select(ResourceLink.id).where(ResourceLink.platform_id == platform.id).limit(1)).first():
            raise PlatformInUse(reason=Phrase(N_("activities were launched from it")))
        if db.session.execute(select(GradeOutbox.id).where(GradeOutbox.platform_id == platform.id).limit(1)).first():
            raise PlatformInUse(reason=Phrase(N_("scores were sent to it")))
        others = db.session.execute(select(Platform.id).where(Platform.issuer == issuer, Platform.id != platform.id)
                                    .limit(1)).first()
        if others is None and tenancy.user_id_of_issuer(platform.tenant_id, issuer):
            raise PlatformInUse(reason=Phrase(N_("people arrived through it")))
        tenant_id = platform.tenant_id
        db.session.delete(platform)
        db.session.flush()
        if others is None:
            db.session.execute(delete(Issuer).where(Issuer.issuer == issuer))
        audit.record(actor=actor, action="platform.removed", subject=f"platform {issuer} {client_id}"[:300],
                     tenant_id=tenant_id, details={})
    directory().forget()


def list_platforms() -> list[PlatformRecord]:
    rows = db.session.execute(
        select(Platform).options(selectinload(Platform.deployments)).order_by(Platform.issuer, Platform.client_id)
    ).scalars()
    return [_record(p) for p in rows]


def find(issuer: str, client_id: str) -> PlatformRecord | None:
    """The registration of this issuer and client id; None too for values no registration could hold (a NUL, which
    PostgreSQL refuses even in a query, or an overlong value): registering them is refused with its reason."""
    if not (is_bounded_text(issuer, MAX_NAME_LENGTH) and is_bounded_text(client_id, MAX_URL_LENGTH)):
        return None
    platform = db.session.execute(select(Platform).options(selectinload(Platform.deployments)).where(
        Platform.issuer == issuer, Platform.client_id == client_id)).scalar_one_or_none()
    return _record(platform) if platform else None


def by_id(platform_id: int) -> PlatformRecord:
    platform = db.session.execute(select(Platform).options(selectinload(Platform.deployments))
                                  .where(Platform.id == platform_id)).scalar_one()
    return _record(platform)


def issuer_is_registered(issuer: str) -> bool:
    return db.session.execute(select(Issuer.issuer).where(Issuer.issuer == issuer)).first() is not None


@dataclass
class PlatformDirectory:
    """The registrations as one application last read them (see the module's note)."""

    _entries: dict[tuple[str, str], tuple[float, PlatformRecord]] = field(default_factory=dict)
    _origins: tuple[float, frozenset[str]] = (0.0, frozenset())
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def forget(self) -> None:
        with self._lock:
            self._entries.clear()
            self._origins = (0.0, frozenset())

    def find(self, issuer: str, client_id: str | None, *, fresh: bool = False) -> PlatformRecord | None:
        if not issuer:
            return None
        key = (issuer, client_id or "")
        now = time.monotonic()
        cached = self._entries.get(key)
        if cached is not None and cached[0] > now and not fresh:
            return cached[1]
        record = _load(issuer, client_id)
        with self._lock:
            if record is None:
                self._entries.pop(key, None)
            else:
                self._entries[key] = (now + current_app.config["LTI_PLATFORM_CACHE_SECONDS"], record)
        return record

    def has_deployment(self, record: PlatformRecord, deployment_id: str) -> bool:
        if deployment_id in record.deployment_ids:
            return True
        refreshed = self.find(record.issuer, record.client_id, fresh=True)
        return refreshed is not None and deployment_id in refreshed.deployment_ids

    def origins(self) -> frozenset[str]:
        """Origins of every registered platform (issuer and login endpoint), for the frame-ancestors policy."""
        now = time.monotonic()
        if self._origins[0] > now:
            return self._origins[1]
        found = set()
        try:
            rows = db.session.execute(select(Platform.issuer, Platform.auth_login_url)).all()
        except SQLAlchemyError:
            # Without the database (see /healthz) no platform may frame us; the response itself still goes out.
            db.session.rollback()
            return frozenset()
        for issuer, login_url in rows:
            found.update(origin for origin in (origin_of(issuer), origin_of(login_url)) if origin)
        self._origins = (now + current_app.config["LTI_PLATFORM_CACHE_SECONDS"], frozenset(found))
        return self._origins[1]


def _load(issuer: str, client_id: str | None) -> PlatformRecord | None:
    query = select(Platform).where(Platform.issuer == issuer)
    if client_id:
        query = query.where(Platform.client_id == client_id)
    found = db.session.execute(query.limit(2)).scalars().all()
    # Without a client_id the issuer must be unambiguous.
    if len(found) != 1:
        return None
    platform = found[0]
    deployments = db.session.execute(
        select(Deployment.deployment_id).where(Deployment.platform_id == platform.id)
    ).scalars()
    return _record(platform, deployments)


def directory() -> PlatformDirectory:
    return app_state("lti.platform_directory", PlatformDirectory)


def platform_origins() -> frozenset[str]:
    return directory().origins()

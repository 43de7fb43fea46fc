"""An academy administrator's changes to the academy's own Moodle registrations, from the browser.

An edit is shown as the list of what it changes before it applies; the confirmation carries a fingerprint of
the registration as it was reviewed, so a change made meanwhile (by a colleague, or `ibm-lms platform add
--replace`) is not overwritten unseen. Every query is scoped to the administrator's tenant: another academy's
registration is unknown here, whatever its id."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ibm_lms.audit import service as audit
from ibm_lms.errors import N_, Phrase
from ibm_lms.extensions import db
from ibm_lms.unit_of_work import unit_of_work

from . import platforms
from .data import PlatformRecord
from .errors import InvalidPlatformSettings, PlatformNotFound, RegistrationChangedMeanwhile
from .models import Deployment, Platform

MAX_DEPLOYMENTS = 50


@dataclass(frozen=True)
class RegistrationEdit:
    """The values an administrator may change; the issuer and client id name the registration and stay."""

    name: str | None
    auth_login_url: str
    auth_token_url: str
    keyset_url: str
    auth_audience: str | None
    deployment_ids: tuple[str, ...]


@dataclass(frozen=True)
class FieldChange:
    field: str
    before: str
    after: str


def _own(tenant_id: int, platform_id: int) -> Platform:
    platform = db.session.execute(select(Platform).options(selectinload(Platform.deployments))
                                  .where(Platform.id == platform_id, Platform.tenant_id == tenant_id)
                                  ).scalar_one_or_none()
    if platform is None:
        raise PlatformNotFound(platform=platform_id)
    return platform


def registration(tenant_id: int, platform_id: int) -> PlatformRecord:
    """One of the academy's registrations; another academy's is unknown here."""
    return platforms.by_id(_own(tenant_id, platform_id).id)


def current_values(tenant_id: int, platform_id: int) -> RegistrationEdit:
    return _values_of(_own(tenant_id, platform_id))


def _values_of(platform: Platform) -> RegistrationEdit:
    return RegistrationEdit(name=platform.name, auth_login_url=platform.auth_login_url,
                            auth_token_url=platform.auth_token_url, keyset_url=platform.keyset_url,
                            auth_audience=platform.auth_audience,
                            deployment_ids=tuple(sorted(d.deployment_id for d in platform.deployments)))


def fingerprint(values: RegistrationEdit) -> str:
    return hashlib.sha256(json.dumps(values.__dict__, sort_keys=True, default=list).encode()).hexdigest()[:32]


def checked(edit: RegistrationEdit) -> RegistrationEdit:
    """The edit with its values checked as a registration's are; blank optional values become None."""
    for label, url in ((platforms.LOGIN_URL, edit.auth_login_url), (platforms.TOKEN_URL, edit.auth_token_url),
                       (platforms.KEYSET_URL, edit.keyset_url)):
        platforms.check_platform_url(label, url)
    name = (edit.name or "").strip() or None
    audience = (edit.auth_audience or "").strip() or None
    if name is not None:
        platforms.check_text(platforms.NAME, name, platforms.MAX_NAME_LENGTH)
    if audience is not None:
        platforms.check_text(platforms.AUDIENCE, audience, platforms.MAX_URL_LENGTH)
    deployments = tuple(sorted({d.strip() for d in edit.deployment_ids if d.strip()}))
    if not deployments:
        raise InvalidPlatformSettings(reason=Phrase(N_("at least one deployment id is needed")))
    if len(deployments) > MAX_DEPLOYMENTS:
        raise InvalidPlatformSettings(reason=Phrase(N_("at most %(limit)s deployment ids"), limit=MAX_DEPLOYMENTS))
    for deployment_id in deployments:
        platforms.check_text(platforms.DEPLOYMENT_ID, deployment_id, platforms.MAX_NAME_LENGTH)
    return RegistrationEdit(name=name, auth_login_url=edit.auth_login_url, auth_token_url=edit.auth_token_url,
                            keyset_url=edit.keyset_url, auth_audience=audience, deployment_ids=deployments)


def changes(before: RegistrationEdit, after: RegistrationEdit) -> list[FieldChange]:
    found = [FieldChange(field, getattr(before, field) or "", getattr(after, field) or "")
             for field in ("name", "auth_login_url", "auth_token_url", "keyset_url", "auth_audience")
             if (getattr(before, field) or "") != (getattr(after, field) or "")]
    added = sorted(set(after.deployment_ids) - set(before.deployment_ids))
    removed = sorted(set(before.deployment_ids) - set(after.deployment_ids))
    if added or removed:
        found.append(FieldChange("deployment_ids", ", ".join(before.deployment_ids), ", ".join(after.deployment_ids)))
    return found


def review(tenant_id: int, platform_id: int, edit: RegistrationEdit) -> tuple[list[FieldChange], str]:
    """What the edit would change, and the fingerprint of the registration it was compared with."""
    before = current_values(tenant_id, platform_id)
    return changes(before, checked(edit)), fingerprint(before)


def apply(tenant_id: int, platform_id: int, edit: RegistrationEdit, reviewed: str, *, actor: str) -> list[FieldChange]:
    """Applies a reviewed edit (audited with each change); refused when the registration changed since review."""
    after = checked(edit)
    with unit_of_work():
        platform = _own(tenant_id, platform_id)
        before = _values_of(platform)
        if fingerprint(before) != reviewed:
            raise RegistrationChangedMeanwhile()
        found = changes(before, after)
        if not found:
            return []
        platform.name = after.name
        platform.auth_login_url = after.auth_login_url
        platform.auth_token_url = after.auth_token_url
        platform.keyset_url = after.keyset_url
        platform.auth_audience = after.auth_audience
        kept = set(after.deployment_ids)
        for deployment in list(platform.deployments):
            if deployment.deployment_id not in kept:
                platform.deployments.remove(deployment)
        present = {d.deployment_id for d in platform.deployments}
        for deployment_id in after.deployment_ids:
            if deployment_id not in present:
                platform.deployments.append(Deployment(deployment_id=deployment_id))
        audit.record(actor=actor, action="platform.edited",
                     subject=f"platform {platform.issuer} {platform.client_id}"[:300], tenant_id=tenant_id,
                     details={change.field: {"before": change.before, "after": change.after} for change in found})
    platforms.directory().forget()
    return found


def remove(tenant_id: int, platform_id: int, *, actor: str) -> None:
    """Removes one of the academy's registrations through which nothing came (else PlatformInUse: disable it)."""
    platform = _own(tenant_id, platform_id)
    platforms.remove(platform.issuer, platform.client_id, actor=actor)

"""Names and Role Provisioning: a context's members read from the platform, paged, and handed to tenancy.

A full read follows every `Link: rel="next"` page and marks members the platform no longer lists
as inactive; when the platform offered a `rel="differences"` link, the next read asks only for the
changes since. Members are never deleted: their results stay.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlencode

from flask import current_app
from sqlalchemy import select

from ibm_lms.clock import utcnow
from ibm_lms.extensions import db
from ibm_lms.tenancy import service as tenancy
from ibm_lms.tenancy.data import RosterMember
from ibm_lms.text import is_bounded_text, person_name
from ibm_lms.unit_of_work import unit_of_work

from . import platforms
from .ags import tokens
from .ags.errors import ServiceRefused
from .ags.media import MEMBERSHIP_CONTAINER
from .data import SCOPE_MEMBERSHIPS
from .models import ResourceLink
from .outbound import request
from .urls import is_platform_url

MAX_PAGES = 200
MAX_PAGE_BYTES = 2 * 1024 * 1024
_LINK = re.compile(r'<([^>]+)>\s*;\s*rel="?([a-z]+)"?')
STATUSES = {"Active": True, "Inactive": False, "Deleted": False}


@dataclass(frozen=True)
class RosterReport:
    context_id: int
    members: int
    active: int
    left: int
    differences_only: bool


def _links(header: str | None) -> dict[str, str]:
    return {rel: url for url, rel in _LINK.findall(header or "")}


def _member(raw) -> RosterMember | None:
    if not isinstance(raw, dict) or not is_bounded_text(raw.get("user_id"), 255):
        return None
    roles = tuple(r for r in raw.get("roles") or () if isinstance(r, str) and len(r) <= 512)

    def text(name: str, limit: int = 255) -> str | None:
        value = raw.get(name)
        return value if is_bounded_text(value, limit) else None

    return RosterMember(subject=raw["user_id"], lti_roles=roles, active=STATUSES.get(raw.get("status"), True),
                        name=person_name(text("name")), given_name=person_name(text("given_name")),
                        family_name=person_name(text("family_name")),
                        email=text("email", 320))


def sync_link(link_id: int, *, link_members_only: bool = False) -> RosterReport:
    """Reads the members of the link's context and records them; one unit of work once all pages are read.

    `link_members_only` asks only for the members who can open this link (NRPS `rlid`)."""
    link = db.session.get(ResourceLink, link_id)
    if link is None or not link.nrps_memberships or link.context_id is None:
        raise LookupError("this link's platform offers no roster")
    platform = platforms.by_id(link.platform_id)
    base_url = current_app.config["BASE_URL"]
    differences = None if link_members_only else link.nrps_differences
    url = differences or link.nrps_memberships
    if link_members_only:
        url += ("&" if "?" in url else "?") + urlencode({"rlid": link.lti_resource_link_id})
    context_id, tenant_id, issuer = link.context_id, link.tenant_id, platform.issuer
    db.session.commit()  # nothing pending: the pages are read with no transaction open
    members, next_differences = [], None
    for _ in range(MAX_PAGES):
        answer = request("GET", url, timeout=current_app.config["LTI_SERVICE_TIMEOUT_SECONDS"],
                         max_bytes=MAX_PAGE_BYTES, headers={
                             "Accept": MEMBERSHIP_CONTAINER,
                             "Authorization": f"Bearer {tokens.access_token(platform, (SCOPE_MEMBERSHIPS,))}"})
        if answer.status == 401:
            tokens.forget(platform, (SCOPE_MEMBERSHIPS,))
        body = answer.json()
        if answer.status != 200 or not isinstance(body, dict) or not isinstance(body.get("members"), list):
            raise ServiceRefused(answer, step="roster")
        members += [m for m in map(_member, body["members"]) if m is not None]
        found = _links(answer.headers.get("Link"))
        next_differences = found.get("differences") or next_differences
        following = found.get("next")
        if not following or not is_platform_url(following, base_url):
            break
        url = following
    with unit_of_work():
        # Only a full list of the context's members says who left; a list for one link does not.
        recorded = tenancy.record_roster(tenant_id, issuer, context_id, members,
                                         full=differences is None and not link_members_only)
        if not link_members_only:
            db.session.get(ResourceLink, link_id).nrps_differences = (
                next_differences if next_differences and is_platform_url(next_differences, base_url) else None)
        db.session.get(ResourceLink, link_id).roster_synced_at = utcnow()
    return RosterReport(context_id=context_id, members=len(members), active=recorded.active, left=recorded.left,
                        differences_only=differences is not None)


def links_with_rosters(tenant_id: int | None = None) -> list[int]:
    """One link per context whose platform offers a roster (the most recently launched)."""
    query = select(ResourceLink.id, ResourceLink.context_id).where(ResourceLink.nrps_memberships.is_not(None),
                                                                   ResourceLink.context_id.is_not(None))
    if tenant_id is not None:
        query = query.where(ResourceLink.tenant_id == tenant_id)
    chosen: dict[int, int] = {}
    for link_id, context_id in db.session.execute(query.order_by(ResourceLink.updated_at)):
        chosen[context_id] = link_id
    return list(chosen.values())

"""What an instructor sees of the link's LTI Advantage services: the gradebook mode and scores, the roster."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from ibm_lms.extensions import db
from ibm_lms.tenancy.data import Identity

from .ags.delivery import PARKED, retry_parked
from .data import SCOPE_LINEITEM, SCOPE_SCORE
from .models import GradeOutbox, ResourceLink

# How the platform shares grades with this link (Moodle's two AGS modes, and none).
NO_GRADES, SYNC_ONLY, COLUMNS = "none", "sync_only", "column_management"


@dataclass(frozen=True)
class GradebookView:
    mode: str
    has_column: bool
    counts: dict[str, int]
    parked: list[dict]
    roster_offered: bool
    roster_synced_at: object


def _link(identity: Identity) -> ResourceLink | None:
    if identity.resource_link_id is None:
        return None
    return db.session.execute(select(ResourceLink).where(
        ResourceLink.id == identity.resource_link_id, ResourceLink.tenant_id == identity.tenant_id)).scalar_one_or_none()


def mode_of(link: ResourceLink | None) -> str:
    scopes = set((link.ags_scopes or ()) if link else ())
    if SCOPE_SCORE not in scopes:
        return NO_GRADES
    return COLUMNS if SCOPE_LINEITEM in scopes and link.ags_lineitems else SYNC_ONLY


def gradebook(identity: Identity) -> GradebookView:
    link = _link(identity)
    counts = {"pending": 0, "delivered": 0, "parked": 0, "superseded": 0}
    parked = []
    if link is not None:
        for status, number in db.session.execute(
                select(GradeOutbox.status, func.count(GradeOutbox.id))
                .where(GradeOutbox.resource_link_id == link.id, GradeOutbox.tenant_id == identity.tenant_id)
                .group_by(GradeOutbox.status)):
            counts[status] = number
        parked = [{"id": row.id, "subject": row.subject, "score": row.score_given, "status": row.last_status,
                   "answer": row.last_answer, "at": row.created_at} for row in db.session.execute(
            select(GradeOutbox).where(GradeOutbox.resource_link_id == link.id, GradeOutbox.status == PARKED,
                                      GradeOutbox.tenant_id == identity.tenant_id)
            .order_by(GradeOutbox.id.desc()).limit(50)).scalars()]
    return GradebookView(mode=mode_of(link), has_column=bool(link and link.ags_lineitem), counts=counts,
                         parked=parked, roster_offered=bool(link and link.nrps_memberships),
                         roster_synced_at=link.roster_synced_at if link else None)


def retry_link_parked(identity: Identity) -> int:
    link = _link(identity)
    if link is None:
        return 0
    ids = list(db.session.execute(select(GradeOutbox.id).where(
        GradeOutbox.resource_link_id == link.id, GradeOutbox.status == PARKED,
        GradeOutbox.tenant_id == identity.tenant_id)).scalars())
    return sum(retry_parked(identity.tenant_id, row_id) for row_id in ids)


def link_id(identity: Identity) -> int | None:
    link = _link(identity)
    return link.id if link is not None else None

"""Delivering the grade outbox: claim what is due, find or make the line item, post the score, record why.

5xx answers, timeouts and 429 (after its Retry-After) are retried with exponential backoff and
jitter; a 401 refreshes the token once; a 409 to a score (the platform holds one at least as new)
supersedes it; any other 4xx parks the score with the platform's answer for an administrator. A
newer score for the same user and link supersedes an older one still waiting, and every score
carries its timestamp, which the platform uses to keep the newest.
Claims are leases: on PostgreSQL several workers share the outbox (FOR UPDATE SKIP LOCKED); a
worker that dies leaves its rows to be claimed again when the lease ends.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlencode

from flask import current_app
from sqlalchemy import and_, func, select, update

from ibm_lms import outboxes
from ibm_lms.clock import utcnow
from ibm_lms.extensions import db
from ibm_lms.unit_of_work import unit_of_work

from .. import platforms
from ..data import SCOPE_LINEITEM, SCOPE_SCORE, GradebookLinkHealth, PlatformRecord
from ..models import GradeOutbox, ResourceLink
from ..outbound import OutboundError, request
from . import tokens
from .errors import NoLineItem, ServiceRefused
from .media import LINEITEM, LINEITEM_CONTAINER, SCORE, service_url

PENDING, DELIVERED, PARKED, SUPERSEDED = outboxes.PENDING, "delivered", "parked", "superseded"
LEASE_SECONDS = 120
BACKOFF_FIRST_SECONDS = 30
BACKOFF_MAX_SECONDS = 6 * 3600
MAX_ANSWER_BYTES = 256 * 1024


@dataclass
class Report:
    delivered: int = 0
    retried: int = 0
    parked: int = 0
    superseded: int = 0
    # Rows whose lease ran out before their turn came (a slow platform): another worker has them.
    released: int = 0
    ids: list[int] = field(default_factory=list)


def backoff(attempts: int, retry_after: float | None = None) -> float:
    """Seconds until the next try: doubling from 30 s up to 6 h, with jitter; Retry-After wins if later."""
    return outboxes.backoff(attempts, first=BACKOFF_FIRST_SECONDS, maximum=BACKOFF_MAX_SECONDS,
                            retry_after=retry_after)


def claim(limit: int) -> list[int]:
    """Takes up to `limit` due rows for this worker, for LEASE_SECONDS."""
    return _claim(limit)[0]


def _claim(limit: int) -> tuple[list[int], datetime]:
    return outboxes.claim(GradeOutbox, limit, LEASE_SECONDS)


def deliver_due(limit: int = 50) -> Report:
    report = Report()
    ids, lease = _claim(limit)
    for row_id in ids:
        outcome = deliver(row_id, lease=lease)
        setattr(report, outcome, getattr(report, outcome) + 1)
        report.ids.append(row_id)
    return report


def _superseded(row: GradeOutbox) -> bool:
    newer = db.session.execute(select(func.count(GradeOutbox.id)).where(
        GradeOutbox.resource_link_id == row.resource_link_id, GradeOutbox.user_id == row.user_id,
        GradeOutbox.status.in_((PENDING, DELIVERED)),
        (GradeOutbox.scored_at > row.scored_at) | and_(GradeOutbox.scored_at == row.scored_at,
                                                      GradeOutbox.id > row.id))).scalar_one()
    return newer > 0


def _renew(row_id: int, lease: datetime) -> bool:
    return outboxes.renew(GradeOutbox, [row_id], lease, LEASE_SECONDS) == [row_id]


def deliver(row_id: int, *, lease: datetime | None = None) -> str:
    """Delivers one claimed row; returns what became of it: delivered, retried, parked, superseded or
    released (the lease `claim` gave ran out and the row is another worker's now)."""
    with unit_of_work():
        if lease is not None and not _renew(row_id, lease):
            return "released"
        row = db.session.get(GradeOutbox, row_id)
        if row is None or row.status != PENDING:
            return "superseded"
        if _superseded(row):
            row.status, row.claimed_until = SUPERSEDED, None
            return "superseded"
        link = db.session.get(ResourceLink, row.resource_link_id)
        platform = platforms.by_id(row.platform_id)
        job = _Job(row.id, row.subject, row.score_given, row.score_maximum, row.activity_progress,
                   row.grading_progress, row.comment, row.scored_at, row.resource_id, row.label, row.attempts,
                   link.lti_resource_link_id, tuple(link.ags_scopes or ()), link.ags_lineitems, link.ags_lineitem)
    # The network is reached with no transaction open.
    try:
        lineitem = job.lineitem or _find_or_make_line_item(platform, job)
        _post_score(platform, job, lineitem)
    except NoLineItem as problem:
        return _finish(job, PARKED, answer=str(problem))
    except ServiceRefused as refusal:
        if refusal.step == "score" and refusal.status == 409:
            # The platform holds a score at least as new: this one, whose answer was lost to a timeout, or one
            # given in the platform itself. Nothing is left to deliver and nobody needs to act.
            return _finish(job, SUPERSEDED, http_status=409, answer=refusal.answer)
        # The platform's side or its load (5xx, 408, 429), or a success whose body is unusable (a proxy's
        # page, a truncated answer): worth another try. Any other refusal needs a person.
        if refusal.status in (408, 429) or refusal.status >= 500 or 200 <= refusal.status < 300:
            return _finish(job, PENDING, http_status=refusal.status, answer=refusal.answer,
                           retry_after=refusal.retry_after)
        return _finish(job, PARKED, http_status=refusal.status, answer=f"{refusal.step}: {refusal.answer}")
    except OutboundError as error:
        return _finish(job, PENDING, answer=str(error.reason))
    return _finish(job, DELIVERED, http_status=200, lineitem=lineitem if not job.lineitem else None)


@dataclass(frozen=True)
class _Job:
    id: int
    subject: str
    score_given: float
    score_maximum: float
    activity_progress: str
    grading_progress: str
    comment: str | None
    scored_at: object
    resource_id: str
    label: str
    attempts: int
    lti_resource_link_id: str
    scopes: tuple[str, ...]
    lineitems: str | None
    lineitem: str | None


def _finish(job: _Job, status: str, *, answer: str | None = None, retry_after: float | None = None,
            lineitem: str | None = None, http_status: int | None = None) -> str:
    now = utcnow()
    with unit_of_work():
        row = db.session.get(GradeOutbox, job.id)
        row.attempts += 1
        row.claimed_until = None
        row.last_status = http_status
        row.last_answer = (answer or "")[:2000] or None
        if status == DELIVERED:
            row.status, row.delivered_at = DELIVERED, now
            if lineitem:
                db.session.execute(update(ResourceLink).where(ResourceLink.id == row.resource_link_id)
                                   .values(ags_lineitem=lineitem))
            return "delivered"
        row.status = status
        if status == SUPERSEDED:
            return "superseded"
        if status == PENDING:
            row.next_attempt_at = now + timedelta(seconds=backoff(row.attempts, retry_after))
            return "retried"
    return "parked"


def _call(platform: PlatformRecord, scopes: tuple[str, ...], method: str, url: str, *, step: str,
          accept: str | None = None, content_type: str | None = None, body: dict | None = None):
    """One service call with a bearer token; a 401 fetches a new token once and tries again."""
    for attempt in (1, 2):
        headers = {"Authorization": f"Bearer {tokens.access_token(platform, scopes)}"}
        if accept:
            headers["Accept"] = accept
        if content_type:
            headers["Content-Type"] = content_type
        answer = request(method, url, timeout=current_app.config["LTI_SERVICE_TIMEOUT_SECONDS"],
                         max_bytes=MAX_ANSWER_BYTES, headers=headers,
                         data=None if body is None else _json(body))
        if answer.status == 401 and attempt == 1:
            tokens.forget(platform, scopes)
            continue
        if not 200 <= answer.status < 300:
            raise ServiceRefused(answer, step=step)
        return answer
    raise AssertionError("unreachable")


def _json(body: dict) -> bytes:
    return json.dumps(body).encode()


def _find_or_make_line_item(platform: PlatformRecord, job: _Job) -> str:
    if SCOPE_LINEITEM not in job.scopes or not job.lineitems:
        raise NoLineItem("the platform gave this link no gradebook column and does not let the tool make one "
                         "(in Moodle: give the activity a grade, or use 'grade sync and column management')")
    scopes = (SCOPE_LINEITEM, SCOPE_SCORE)
    query = service_url(job.lineitems, "")
    separator = "&" if "?" in query else "?"
    listed = _call(platform, scopes, "GET", query + separator + urlencode(
        {"resource_link_id": job.lti_resource_link_id, "resource_id": job.resource_id}), step="line items",
        accept=LINEITEM_CONTAINER).json()
    for item in listed if isinstance(listed, list) else ():
        if isinstance(item, dict) and item.get("resourceId") == job.resource_id and isinstance(item.get("id"), str):
            return item["id"]
    made = _call(platform, scopes, "POST", job.lineitems, step="new line item", accept=LINEITEM,
                 content_type=LINEITEM, body={"scoreMaximum": job.score_maximum, "label": job.label,
                                              "resourceId": job.resource_id,
                                              "resourceLinkId": job.lti_resource_link_id, "tag": "ibm-lms"}).json()
    if not isinstance(made, dict) or not isinstance(made.get("id"), str):
        raise NoLineItem("the platform made a line item but did not say where it is")
    return made["id"]


def _post_score(platform: PlatformRecord, job: _Job, lineitem: str) -> None:
    scopes = (SCOPE_SCORE,) if SCOPE_LINEITEM not in job.scopes else (SCOPE_LINEITEM, SCOPE_SCORE)
    timestamp = job.scored_at.isoformat(timespec="milliseconds") + "+00:00"
    body = {"userId": job.subject, "scoreGiven": job.score_given, "scoreMaximum": job.score_maximum,
            "activityProgress": job.activity_progress, "gradingProgress": job.grading_progress,
            "timestamp": timestamp}
    if job.comment:
        body["comment"] = job.comment
    _call(platform, scopes, "POST", service_url(lineitem, "/scores"), step="score", content_type=SCORE, body=body)


STATES = (PENDING, DELIVERED, PARKED, SUPERSEDED)


def status_counts() -> dict[int, dict[str, int]]:
    """Per tenant, how many scores are pending, delivered, parked and superseded."""
    counts: dict[int, dict[str, int]] = {}
    for tenant_id, status, number in db.session.execute(
            select(GradeOutbox.tenant_id, GradeOutbox.status, func.count(GradeOutbox.id))
            .group_by(GradeOutbox.tenant_id, GradeOutbox.status)):
        counts.setdefault(tenant_id, dict.fromkeys(STATES, 0))[status] = number
    return counts


def link_health(tenant_id: int) -> dict[int, GradebookLinkHealth]:
    """Per registration of the academy: scores waiting and refused, when one last reached the gradebook, and the
    platform's last answer to a score that has not (two grouped reads, whatever the outbox's size)."""
    health: dict[int, dict] = {}
    for platform_id, status, number, last_delivered in db.session.execute(
            select(GradeOutbox.platform_id, GradeOutbox.status, func.count(GradeOutbox.id),
                   func.max(GradeOutbox.delivered_at))
            .where(GradeOutbox.tenant_id == tenant_id).group_by(GradeOutbox.platform_id, GradeOutbox.status)):
        entry = health.setdefault(platform_id, {"pending": 0, "parked": 0, "delivered": 0, "last_delivered_at": None,
                                                "last_failure_status": None})
        if status in (PENDING, PARKED, DELIVERED):
            entry[status] = number
        if last_delivered is not None and (entry["last_delivered_at"] is None
                                           or last_delivered > entry["last_delivered_at"]):
            entry["last_delivered_at"] = last_delivered
    newest_failure = (select(GradeOutbox.platform_id, func.max(GradeOutbox.id).label("row_id"))
                      .where(GradeOutbox.tenant_id == tenant_id, GradeOutbox.status.in_((PENDING, PARKED)),
                             GradeOutbox.attempts > 0)
                      .group_by(GradeOutbox.platform_id).subquery())
    for platform_id, last_status in db.session.execute(
            select(newest_failure.c.platform_id, GradeOutbox.last_status)
            .join(GradeOutbox, GradeOutbox.id == newest_failure.c.row_id)):
        if platform_id in health:
            health[platform_id]["last_failure_status"] = last_status
    return {platform_id: GradebookLinkHealth(**values) for platform_id, values in health.items()}


def retry_parked(tenant_id: int | None = None, row_id: int | None = None) -> int:
    """Puts parked scores back in line (an administrator fixed the cause); returns how many."""
    with unit_of_work():
        query = update(GradeOutbox).where(GradeOutbox.status == PARKED)
        if tenant_id is not None:
            query = query.where(GradeOutbox.tenant_id == tenant_id)
        if row_id is not None:
            query = query.where(GradeOutbox.id == row_id)
        return db.session.execute(query.values(status=PENDING, next_attempt_at=utcnow(), claimed_until=None)).rowcount

"""What an academy watches: the pipeline per area, certified trainers, certifications ending soon, coverage gaps;
the candidate list behind them with filters and exports; and, for the regional programme, counts per academy
with no person in them."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select

from ibm_lms.clock import utcnow
from ibm_lms.extensions import db
from ibm_lms.tenancy import service as tenancy
from ibm_lms.text import spreadsheet_cell

from . import facts, programmes
from .data import CandidateRecord
from .models import Candidate, Certification
from .rules import EXPIRY_WARNINGS, Stage

PAGE = 100
# A count this small could name a person when an academy has few trainers in an area: the regional view shows
# it as "fewer than 5".
SUPPRESS_BELOW = 5


@dataclass(frozen=True)
class Filters:
    area: str | None = None
    programme: str | None = None
    stage: str | None = None
    expiring: int | None = None  # only certifications ending within this many days
    page: int = 1


def _today() -> date:
    return utcnow().date()


def pipeline(tenant_id: int) -> dict[str, dict[str, int]]:
    """Per programme: how many candidates stand at each stage."""
    found: dict[str, dict[str, int]] = {}
    for key, stage, count in db.session.execute(
            select(Candidate.programme_key, Candidate.stage, func.count()).where(Candidate.tenant_id == tenant_id)
            .group_by(Candidate.programme_key, Candidate.stage)):
        found.setdefault(key, {})[stage] = count
    return found


def certified_counts(tenant_id: int, today: date | None = None) -> dict[str, int]:
    """Per programme: the people holding it today."""
    today = today or _today()
    return dict(db.session.execute(
        select(Certification.programme_key, func.count(func.distinct(Certification.holder_id))).where(
            Certification.tenant_id == tenant_id, Certification.state == facts.ISSUED,
            Certification.valid_from <= today, Certification.valid_until >= today)
        .group_by(Certification.programme_key)).all())


def certified_by_region(tenant_id: int, today: date | None = None) -> dict:
    """The people holding a certification today, per region (as their platform sends it; None: not sent) and
    thematic area: {"areas": [...], "rows": [(region, {area: count})]}, regions in alphabetical order, then None."""
    today = today or _today()
    holding = (Certification.tenant_id == tenant_id, Certification.state == facts.ISSUED,
               Certification.valid_from <= today, Certification.valid_until >= today)
    counts = tenancy.count_by_region(
        tenant_id, select(Certification.area, Certification.holder_id).distinct().where(*holding))
    table: dict[str | None, dict[str, int]] = {}
    for (region, area), count in counts.items():
        table.setdefault(region, {})[area] = count
    ordered = sorted(table, key=lambda region: (region is None, (region or "").casefold()))
    return {"areas": sorted({area for _, area in counts}), "rows": [(region, table[region]) for region in ordered]}


def expiring(tenant_id: int, within: int = EXPIRY_WARNINGS[0], today: date | None = None,
             limit: int = 50) -> tuple[list[dict], int]:
    """The certifications ending soonest (at most `limit`), and how many end within `within` days in all."""
    today = today or _today()
    ending = (Certification.tenant_id == tenant_id, Certification.state == facts.ISSUED,
              Certification.valid_until >= today, Certification.valid_until <= today + timedelta(days=within))
    total = db.session.execute(select(func.count()).where(*ending)).scalar_one()
    rows = db.session.execute(select(Certification).where(*ending).order_by(Certification.valid_until)
                              .limit(limit)).scalars().all()
    return [{"id": r.id, "holder_id": r.holder_id, "holder_name": r.holder_name, "programme_key": r.programme_key,
             "valid_until": r.valid_until, "days_left": (r.valid_until - today).days} for r in rows], total


def coverage_gaps(tenant_id: int, certified: dict[str, int]) -> list[dict]:
    """Programmes with fewer certified trainers than the academy aims to keep."""
    gaps = []
    for record in programmes.current(tenant_id):
        have = certified.get(record.key, 0)
        if have < record.programme.target_pool:
            gaps.append({"programme_key": record.key, "area": record.programme.area, "have": have,
                         "want": record.programme.target_pool})
    return gaps


def candidates(tenant_id: int, filters: Filters) -> tuple[list[CandidateRecord], int]:
    """One page of the academy's candidates matching the filters, and how many match in all."""
    query = _filtered(tenant_id, filters)
    total = db.session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = db.session.execute(query.order_by(Candidate.programme_key, Candidate.stage, Candidate.user_id)
                              .limit(PAGE).offset((max(filters.page, 1) - 1) * PAGE)).scalars().all()
    return records(tenant_id, rows), total


def _filtered(tenant_id: int, filters: Filters):
    query = select(Candidate).where(Candidate.tenant_id == tenant_id)
    if filters.area:
        query = query.where(Candidate.area == filters.area)
    if filters.programme:
        query = query.where(Candidate.programme_key == filters.programme)
    if filters.stage:
        query = query.where(Candidate.stage == filters.stage)
    if filters.expiring:
        query = query.where(Candidate.valid_until.is_not(None),
                            Candidate.valid_until <= _today() + timedelta(days=filters.expiring),
                            Candidate.valid_until >= _today())
    return query


def records(tenant_id: int, rows) -> list[CandidateRecord]:
    known = tenancy.people(tenant_id, [row.user_id for row in rows])
    today = _today()
    records = []
    for row in rows:
        person = known.get(row.user_id)
        days = (row.valid_until - today).days if row.valid_until else None
        warning = next((d for d in reversed(EXPIRY_WARNINGS) if days is not None and 0 <= days <= d), None)
        records.append(CandidateRecord(
            user_id=row.user_id, name=(person.display_name if person else None) or "",
            who=f"{person.issuer}:{person.subject}" if person else "", region=person.region if person else None,
            programme_key=row.programme_key,
            area=row.area, stage=Stage(row.stage), met=row.met, of=row.of, missing=tuple(row.missing or ()),
            valid_until=row.valid_until, warning_days=warning))
    return records


def all_candidates(tenant_id: int, filters: Filters) -> list[CandidateRecord]:
    """Every match, for exports and the printable roster (streamed in pages of a thousand)."""
    found, offset = [], 0
    query = _filtered(tenant_id, filters).order_by(Candidate.programme_key, Candidate.stage, Candidate.user_id)
    while True:
        rows = db.session.execute(query.limit(1000).offset(offset)).scalars().all()
        if not rows:
            return found
        found.extend(records(tenant_id, rows))
        offset += len(rows)


EXPORT_COLUMNS = ("name", "platform_id", "region", "programme", "area", "stage", "requirements_met", "requirements",
                  "valid_until")


def export_rows(records: list[CandidateRecord]) -> list[tuple]:
    return [(r.name, r.who, r.region or "", r.programme_key, r.area, r.stage.value, r.met, r.of,
             r.valid_until.isoformat() if r.valid_until else "") for r in records]


def to_csv(records: list[CandidateRecord]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(EXPORT_COLUMNS)
    for row in export_rows(records):
        writer.writerow([spreadsheet_cell(v) for v in row])
    return out.getvalue()


def to_xlsx(records: list[CandidateRecord]) -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("candidates")
    sheet.append(list(EXPORT_COLUMNS))
    for row in export_rows(records):
        sheet.append([spreadsheet_cell(v) for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def regional_overview(today: date | None = None) -> list[dict]:
    """Per academy and area: candidates, certified trainers and certifications ending within 90 days, as counts
    only, small ones suppressed."""
    today = today or _today()
    names = {t.id: t.slug for t in tenancy.list_tenants()}
    table: dict[tuple[int, str], dict] = {}
    for tenant_id, area, count in db.session.execute(
            select(Candidate.tenant_id, Candidate.area, func.count(func.distinct(Candidate.user_id)))
            .group_by(Candidate.tenant_id, Candidate.area)):
        table.setdefault((tenant_id, area), {})["candidates"] = count
    valid = (Certification.state == facts.ISSUED, Certification.valid_from <= today,
             Certification.valid_until >= today)
    for tenant_id, area, count in db.session.execute(
            select(Certification.tenant_id, Certification.area, func.count(func.distinct(Certification.holder_id)))
            .where(*valid).group_by(Certification.tenant_id, Certification.area)):
        table.setdefault((tenant_id, area), {})["certified"] = count
    for tenant_id, area, count in db.session.execute(
            select(Certification.tenant_id, Certification.area, func.count()).where(
                *valid, Certification.valid_until <= today + timedelta(days=EXPIRY_WARNINGS[0]))
            .group_by(Certification.tenant_id, Certification.area)):
        table.setdefault((tenant_id, area), {})["expiring_90_days"] = count
    return [{"academy": names.get(tenant_id, str(tenant_id)), "area": area,
             **{k: _suppressed(v.get(k, 0)) for k in ("candidates", "certified", "expiring_90_days")}}
            for (tenant_id, area), v in sorted(table.items(), key=lambda item: (names.get(item[0][0], ""), item[0][1]))]


def _suppressed(count: int) -> int | str:
    return count if count == 0 or count >= SUPPRESS_BELOW else f"<{SUPPRESS_BELOW}"

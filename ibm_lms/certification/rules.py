"""Certification programmes and the status engine (pure): what a programme asks, and where a candidate stands.

A programme is data (the regional default file, or an academy's own copy): a level in a thematic area, the
requirements of the initial path, a validity period, and a renewal path open in the last months of validity
(and for a grace period after expiry; later, the initial path applies again). A candidate's standing is
computed from facts alone (results, approved evidence, certifications held), never typed by hand, and says
exactly what is missing.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from ibm_lms.markers import N_

KEY = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
RUBRIC_SCALE = (1, 4)
# The regional observation rubric: a trainer's delivery rated 1 (not yet) to 4 (exemplary) on each criterion.
RUBRIC = {
    "preparation": N_("Preparation and learning outcomes"),
    "accuracy": N_("Accuracy of the subject matter (law, procedures, document features)"),
    "adult_learning": N_("Adult-learning methods and participant engagement"),
    "practice": N_("Practical work with specimens, cases and border-crossing-point situations"),
    "assessment": N_("Checking learning and giving feedback"),
}
EXPIRY_WARNINGS = (90, 30)


class Level(StrEnum):
    CERTIFIED_TRAINER = "certified-trainer"
    MASTER_TRAINER = "master-trainer"

    @property
    def title(self) -> str:
        return {Level.CERTIFIED_TRAINER: N_("Certified Trainer"), Level.MASTER_TRAINER: N_("Master Trainer")}[self]


class Kind(StrEnum):
    COURSE = "course_completed"
    QUIZ = "quiz_passed"
    OBSERVED = "observed_deliveries"
    MICRO_TEACHING = "micro_teaching"
    HOURS = "hours_delivered"
    HELD = "certification_held"


class EvidenceKind(StrEnum):
    """What a person records: an observation (by a Master Trainer) or a delivered session (by the candidate)."""

    CO_DELIVERY = "co_delivery"
    MICRO_TEACHING = "micro_teaching"
    SESSION = "delivered_session"

    @property
    def is_observation(self) -> bool:
        return self is not EvidenceKind.SESSION


class Stage(StrEnum):
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    READY = "ready"  # every requirement met: waits for two approvers' decision
    CERTIFIED = "certified"
    RENEWAL_OPEN = "renewal_open"  # certified, inside the renewal window
    RENEWAL_READY = "renewal_ready"
    LAPSED = "lapsed"  # expired, inside the grace period: the renewal path still applies
    EXPIRED = "expired"  # past grace: the initial path again

    @property
    def label(self) -> str:
        return _STAGE_LABELS[self]


_STAGE_LABELS = {
    Stage.NOT_STARTED: N_("Not started"), Stage.IN_PROGRESS: N_("In progress"),
    Stage.READY: N_("Ready for decision"), Stage.CERTIFIED: N_("Certified"),
    Stage.RENEWAL_OPEN: N_("Renewal due"), Stage.RENEWAL_READY: N_("Ready for renewal decision"),
    Stage.LAPSED: N_("Expired: renewal still possible"), Stage.EXPIRED: N_("Expired"),
}
DECISION_STAGES = (Stage.READY, Stage.RENEWAL_READY)


@dataclass(frozen=True)
class Requirement:
    kind: Kind
    course: str | None = None
    quiz: str | None = None
    min_score: float | None = None
    count: int = 1
    min_average: float | None = None
    hours: float | None = None
    programme: str | None = None


@dataclass(frozen=True)
class Renewal:
    window_months: int
    grace_months: int
    requirements: tuple[Requirement, ...]


@dataclass(frozen=True)
class Programme:
    key: str
    area: str
    level: Level
    validity_months: int
    requirements: tuple[Requirement, ...]
    renewal: Renewal | None = None
    sqf_level: int | None = None
    target_pool: int = 0  # trainers an academy wants in this area: fewer is a coverage gap

    def requirement_courses(self) -> set[str]:
        paths = self.requirements + (self.renewal.requirements if self.renewal else ())
        return {r.course for r in paths if r.course}


class ProgrammeProblem(ValueError):
    def __init__(self, key: str | None, message: str, **params):
        super().__init__(message % params if params else message)
        self.key, self.message, self.params = key, message, params


# --- reading a programme definition -------------------------------------------------------------------------

_FIELDS = {
    Kind.COURSE: {"course"},
    Kind.QUIZ: {"course", "quiz", "min_score"},
    Kind.OBSERVED: {"count", "min_average"},
    Kind.MICRO_TEACHING: {"count", "min_average"},
    Kind.HOURS: {"hours"},
    Kind.HELD: {"programme"},
}


def _number(value, low: float, high: float) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and low <= value <= high


def _requirement(key: str, raw: object, where: str) -> Requirement:
    if not isinstance(raw, Mapping):
        raise ProgrammeProblem(key, N_("%(where)s must be a table"), where=where)
    try:
        kind = Kind(raw.get("kind"))
    except ValueError:
        raise ProgrammeProblem(key, N_("%(where)s: kind must be one of %(kinds)s"), where=where,
                               kinds=", ".join(k.value for k in Kind)) from None
    unknown = set(raw) - _FIELDS[kind] - {"kind"}
    if unknown:
        raise ProgrammeProblem(key, N_("%(where)s: %(kind)s takes no %(fields)s"), where=where, kind=kind.value,
                               fields=", ".join(sorted(unknown)))
    for name in ("course", "quiz", "programme"):
        if name in _FIELDS[kind] and not (isinstance(raw.get(name), str) and KEY.match(raw[name])):
            raise ProgrammeProblem(key, N_("%(where)s: %(field)s must be a key such as document-security"),
                                   where=where, field=name)
    if kind is Kind.QUIZ and not _number(raw.get("min_score"), 0, 1):
        raise ProgrammeProblem(key, N_("%(where)s: min_score must be a number from 0 to 1"), where=where)
    if "count" in _FIELDS[kind] and not (isinstance(raw.get("count", 1), int) and 1 <= raw.get("count", 1) <= 50):
        raise ProgrammeProblem(key, N_("%(where)s: count must be a whole number from 1 to 50"), where=where)
    if "min_average" in raw and not _number(raw["min_average"], *RUBRIC_SCALE):
        raise ProgrammeProblem(key, N_("%(where)s: min_average must be a number from %(low)d to %(high)d"),
                               where=where, low=RUBRIC_SCALE[0], high=RUBRIC_SCALE[1])
    if kind is Kind.HOURS and not _number(raw.get("hours"), 1, 10_000):
        raise ProgrammeProblem(key, N_("%(where)s: hours must be a number from 1 to 10000"), where=where)
    return Requirement(kind=kind, course=raw.get("course"), quiz=raw.get("quiz"), min_score=raw.get("min_score"),
                       count=raw.get("count", 1), min_average=raw.get("min_average"), hours=raw.get("hours"),
                       programme=raw.get("programme"))


def _requirements(key: str, raw: object, where: str) -> tuple[Requirement, ...]:
    if not isinstance(raw, list) or not raw or len(raw) > 30:
        raise ProgrammeProblem(key, N_("%(where)s must list 1 to 30 requirements"), where=where)
    return tuple(_requirement(key, item, f"{where}[{index + 1}]") for index, item in enumerate(raw))


def _whole(key: str, raw: Mapping, name: str, low: int, high: int, default: int | None = None) -> int:
    value = raw.get(name, default)
    if not (isinstance(value, int) and not isinstance(value, bool) and low <= value <= high):
        raise ProgrammeProblem(key, N_("%(field)s must be a whole number from %(low)d to %(high)d"), field=name,
                               low=low, high=high)
    return value


_PROGRAMME_FIELDS = {"key", "area", "level", "validity_months", "requirements", "renewal", "sqf_level", "target_pool"}


def programme_from(raw: object) -> Programme:
    """One programme from its table; ProgrammeProblem names the field and what it must be."""
    if not isinstance(raw, Mapping):
        raise ProgrammeProblem(None, N_("a programme must be a table"))
    key = raw.get("key")
    if not (isinstance(key, str) and KEY.match(key)):
        raise ProgrammeProblem(None, N_("key must be lower-case letters, digits and hyphens"))
    unknown = set(raw) - _PROGRAMME_FIELDS
    if unknown:
        raise ProgrammeProblem(key, N_("unknown fields: %(fields)s"), fields=", ".join(sorted(unknown)))
    if not (isinstance(raw.get("area"), str) and KEY.match(raw["area"])):
        raise ProgrammeProblem(key, N_("area must be a course key such as document-security"))
    try:
        level = Level(raw.get("level"))
    except ValueError:
        raise ProgrammeProblem(key, N_("level must be one of %(levels)s"),
                               levels=", ".join(v.value for v in Level)) from None
    renewal = None
    if "renewal" in raw:
        table = raw["renewal"]
        if not isinstance(table, Mapping) or set(table) - {"window_months", "grace_months", "requirements"}:
            raise ProgrammeProblem(key, N_("renewal takes window_months, grace_months and requirements"))
        renewal = Renewal(window_months=_whole(key, table, "window_months", 1, 24),
                          grace_months=_whole(key, table, "grace_months", 0, 24, 0),
                          requirements=_requirements(key, table.get("requirements"), "renewal.requirements"))
    sqf = raw.get("sqf_level")
    if sqf is not None:
        sqf = _whole(key, raw, "sqf_level", 1, 8)
    programme = Programme(key=key, area=raw["area"], level=level,
                          validity_months=_whole(key, raw, "validity_months", 1, 120),
                          requirements=_requirements(key, raw.get("requirements"), "requirements"),
                          renewal=renewal, sqf_level=sqf, target_pool=_whole(key, raw, "target_pool", 0, 1000, 0))
    if any(r.kind is Kind.HELD and r.programme == key for r in programme.requirements):
        raise ProgrammeProblem(key, N_("a programme cannot require itself"))
    return programme


def programmes_from(raw: object) -> list[Programme]:
    """Every programme of a file's `programmes` array; keys unique, prerequisites known and not circular."""
    if not isinstance(raw, Mapping) or not isinstance(raw.get("programmes"), list) or not raw["programmes"]:
        raise ProgrammeProblem(None, N_("the file must hold a [[programmes]] array"))
    found = [programme_from(item) for item in raw["programmes"]]
    keys = [p.key for p in found]
    for key in keys:
        if keys.count(key) > 1:
            raise ProgrammeProblem(key, N_("this key is used by more than one programme"))
    # A certificate and every page name a programme by its level and area: two alike could not be told apart.
    places = [(p.area, p.level) for p in found]
    for programme in found:
        if places.count((programme.area, programme.level)) > 1:
            raise ProgrammeProblem(programme.key, N_("another programme of this file has the same level and area"))
    by_key = {p.key: p for p in found}
    for programme in found:
        for requirement in programme.requirements:
            if requirement.kind is Kind.HELD and requirement.programme not in by_key:
                raise ProgrammeProblem(programme.key, N_("requires %(other)s, which is not a programme of this file"),
                                       other=requirement.programme)
    for programme in found:
        _refuse_cycle(programme, by_key)
    return found


def _refuse_cycle(start: Programme, by_key: Mapping[str, Programme]) -> None:
    seen, todo = set(), [start.key]
    while todo:
        current = by_key[todo.pop()]
        for requirement in current.requirements:
            if requirement.kind is Kind.HELD:
                if requirement.programme == start.key:
                    raise ProgrammeProblem(start.key, N_("its prerequisites lead back to it"))
                if requirement.programme not in seen:
                    seen.add(requirement.programme)
                    todo.append(requirement.programme)


def programme_to_table(programme: Programme) -> dict:
    """The inverse of programme_from: what an academy exports, edits and imports again."""
    def requirement(r: Requirement) -> dict:
        values = {"kind": r.kind.value, "course": r.course, "quiz": r.quiz, "min_score": r.min_score,
                  "count": r.count, "min_average": r.min_average, "hours": r.hours, "programme": r.programme}
        return {k: v for k, v in values.items() if k == "kind" or (k in _FIELDS[r.kind] and v is not None)}

    table = {"key": programme.key, "area": programme.area, "level": programme.level.value,
             "validity_months": programme.validity_months, "target_pool": programme.target_pool,
             "requirements": [requirement(r) for r in programme.requirements]}
    if programme.sqf_level is not None:
        table["sqf_level"] = programme.sqf_level
    if programme.renewal:
        table["renewal"] = {"window_months": programme.renewal.window_months,
                            "grace_months": programme.renewal.grace_months,
                            "requirements": [requirement(r) for r in programme.renewal.requirements]}
    return table


# --- facts and standing ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Result:
    """A course completed (quiz None) or a quiz attempt's grade, on a day."""

    course: str
    quiz: str | None
    score: float
    on: date


@dataclass(frozen=True)
class Evidence:
    """Approved evidence only: what is pending or rejected counts for nothing."""

    kind: EvidenceKind
    on: date
    area: str
    average: float | None = None  # observations: the rubric mean
    hours: float | None = None  # delivered sessions


@dataclass(frozen=True)
class Held:
    """A certification issued and not revoked."""

    programme: str
    valid_from: date
    valid_until: date


@dataclass(frozen=True)
class Facts:
    results: tuple[Result, ...] = ()
    evidence: tuple[Evidence, ...] = ()
    held: tuple[Held, ...] = ()


@dataclass(frozen=True)
class Shortfall:
    """One unmet requirement: what it asks, and how far the candidate is."""

    requirement: Requirement
    have: float
    need: float


@dataclass(frozen=True)
class Standing:
    stage: Stage
    missing: tuple[Shortfall, ...] = ()
    met: int = 0
    of: int = 0
    valid_from: date | None = None
    valid_until: date | None = None
    warning_days: int | None = None  # 90 or 30 when the certification ends within that many days


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _progress(requirement: Requirement, programme: Programme, facts: Facts, today: date,
              since: date | None) -> float:
    """How much of the requirement the facts give: a count, hours, or a best score (0 for nothing)."""
    def counts(day: date) -> bool:
        return (since is None or day >= since) and day <= today

    if requirement.kind is Kind.COURSE:
        return float(any(r.quiz is None and r.course == requirement.course and counts(r.on) for r in facts.results))
    if requirement.kind is Kind.QUIZ:
        scores = [r.score for r in facts.results
                  if r.quiz == requirement.quiz and r.course == requirement.course and counts(r.on)]
        return max(scores, default=0.0)
    if requirement.kind in (Kind.OBSERVED, Kind.MICRO_TEACHING):
        wanted = EvidenceKind.CO_DELIVERY if requirement.kind is Kind.OBSERVED else EvidenceKind.MICRO_TEACHING
        floor = requirement.min_average or 0.0
        return float(sum(1 for e in facts.evidence if e.kind is wanted and e.area == programme.area and counts(e.on)
                         and (e.average or 0.0) >= floor))
    if requirement.kind is Kind.HOURS:
        return float(sum(e.hours or 0.0 for e in facts.evidence
                         if e.kind is EvidenceKind.SESSION and e.area == programme.area and counts(e.on)))
    return float(any(h.programme == requirement.programme and h.valid_from <= today <= h.valid_until
                     for h in facts.held))


def _need(requirement: Requirement) -> float:
    if requirement.kind is Kind.QUIZ:
        return float(requirement.min_score)
    if requirement.kind is Kind.HOURS:
        return float(requirement.hours)
    if requirement.kind in (Kind.OBSERVED, Kind.MICRO_TEACHING):
        return float(requirement.count)
    return 1.0


def shortfalls(requirements: Iterable[Requirement], programme: Programme, facts: Facts, today: date,
               since: date | None = None) -> tuple[tuple[Shortfall, ...], int]:
    missing, met = [], 0
    for requirement in requirements:
        have, need = _progress(requirement, programme, facts, today, since), _need(requirement)
        if have + 1e-9 >= need:
            met += 1
        else:
            missing.append(Shortfall(requirement, have, need))
    return tuple(missing), met


def _has_any_fact(programme: Programme, facts: Facts) -> bool:
    courses = programme.requirement_courses()
    return (any(r.course in courses for r in facts.results)
            or any(e.area == programme.area for e in facts.evidence))


def evaluate(programme: Programme, facts: Facts, today: date) -> Standing:
    """The candidate's stage in the programme on `today`, and exactly what is missing for the next step."""
    current = max((h for h in facts.held if h.programme == programme.key), key=lambda h: h.valid_until,
                  default=None)
    renewal = programme.renewal
    if current is not None and current.valid_from <= today:
        window_opens = add_months(current.valid_until, -renewal.window_months) if renewal else None
        grace_ends = add_months(current.valid_until, renewal.grace_months) if renewal else current.valid_until
        days_left = (current.valid_until - today).days
        warning = next((d for d in reversed(EXPIRY_WARNINGS) if 0 <= days_left <= d), None)
        dates = {"valid_from": current.valid_from, "valid_until": current.valid_until, "warning_days": warning}
        if today <= current.valid_until:
            if renewal is None or today < window_opens:
                return Standing(Stage.CERTIFIED, **dates)
            missing, met = shortfalls(renewal.requirements, programme, facts, today, since=current.valid_from)
            stage = Stage.RENEWAL_READY if not missing else Stage.RENEWAL_OPEN
            return Standing(stage, missing, met, len(renewal.requirements), **dates)
        if renewal is not None and today <= grace_ends:
            missing, met = shortfalls(renewal.requirements, programme, facts, today, since=current.valid_from)
            stage = Stage.RENEWAL_READY if not missing else Stage.LAPSED
            return Standing(stage, missing, met, len(renewal.requirements), **dates)
        # Past grace: the initial path again, counting only what was done after the last certification began.
        missing, met = shortfalls(programme.requirements, programme, facts, today, since=current.valid_from)
        stage = Stage.READY if not missing else Stage.EXPIRED
        return Standing(stage, missing, met, len(programme.requirements), **dates)
    missing, met = shortfalls(programme.requirements, programme, facts, today)
    if not missing:
        return Standing(Stage.READY, (), met, len(programme.requirements))
    stage = Stage.IN_PROGRESS if met or _has_any_fact(programme, facts) else Stage.NOT_STARTED
    return Standing(stage, missing, met, len(programme.requirements))


def is_renewal(standing: Standing) -> bool:
    return standing.stage is Stage.RENEWAL_READY


def next_validity(programme: Programme, standing: Standing, decided_on: date) -> tuple[date, date]:
    """A renewal made before expiry continues the current period without a gap; otherwise it starts on the day."""
    start = decided_on
    if standing.stage is Stage.RENEWAL_READY and standing.valid_until and standing.valid_until >= decided_on:
        start = standing.valid_until
    return start, add_months(start, programme.validity_months)


def rubric_average(scores: Mapping[str, object]) -> float:
    """The mean of a complete rubric; ValueError names a missing, unknown or out-of-scale criterion."""
    if set(scores) != set(RUBRIC):
        raise ValueError(N_("Rate every criterion of the rubric, and only those."))
    values = []
    for value in scores.values():
        if not (isinstance(value, int) and not isinstance(value, bool) and RUBRIC_SCALE[0] <= value <= RUBRIC_SCALE[1]):
            raise ValueError(N_("Each criterion is rated with a whole number from 1 to 4."))
        values.append(value)
    return round(sum(values) / len(values), 2)

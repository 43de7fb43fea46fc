"""Requirements and shortfalls in words, in the reader's language (pages, certificates, the command line)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from flask_babel import format_decimal, gettext, ngettext

from .rules import Kind


def _percent(value: float) -> str:
    return f"{round(value * 100)}%"


def _number(value: float) -> str:
    # 2,5 where the reader's language writes a decimal comma (most of the academies' languages).
    return format_decimal(value, format="#,##0.##")


def requirement(item: Mapping, title: Callable[..., str]) -> str:
    """What one requirement asks (item: a requirement's table, as programmes and standings store it); `title(key)`
    names a course or programme, `title(course, quiz)` a course's quiz."""
    kind = Kind(item["kind"])
    if kind is Kind.COURSE:
        return gettext("Complete the course “%(course)s”.", course=title(item["course"]))
    if kind is Kind.QUIZ:
        return gettext("Score at least %(score)s in “%(quiz)s” of the course “%(course)s”.",
                       score=_percent(item["min_score"]), quiz=title(item["course"], item["quiz"]),
                       course=title(item["course"]))
    if kind is Kind.MICRO_TEACHING:
        return ngettext("%(num)d assessed micro-teaching session rated %(average)s or better by a Master Trainer.",
                        "%(num)d assessed micro-teaching sessions rated %(average)s or better by a Master Trainer.",
                        item.get("count", 1), average=_number(item.get("min_average") or 1))
    if kind is Kind.OBSERVED:
        return ngettext("%(num)d co-delivery observed and rated %(average)s or better by a Master Trainer.",
                        "%(num)d co-deliveries observed and rated %(average)s or better by a Master Trainer.",
                        item.get("count", 1), average=_number(item.get("min_average") or 1))
    if kind is Kind.HOURS:
        return gettext("%(hours)s hours of training delivered, from approved session logs.",
                       hours=_number(item["hours"]))
    return gettext("Hold the certification “%(programme)s”.", programme=title(item["programme"]))


def progress(item: Mapping) -> str:
    """How far a candidate is on one unmet requirement (item: a stored shortfall)."""
    kind = Kind(item["kind"])
    if kind is Kind.QUIZ:
        return gettext("best so far: %(score)s", score=_percent(item["have"])) if item["have"] else \
            gettext("not yet taken or not yet passed")
    if kind is Kind.HOURS:
        return gettext("%(have)s of %(need)s hours", have=_number(item["have"]), need=_number(item["need"]))
    if kind in (Kind.OBSERVED, Kind.MICRO_TEACHING):
        return gettext("%(have)s of %(need)s", have=_number(item["have"]), need=_number(item["need"]))
    return gettext("not yet")

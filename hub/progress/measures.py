"""How far a pledge has come: the latest value and percent reached of each target, and
whether its member is keeping up with reporting. Pure functions over plain values."""

from __future__ import annotations

import calendar
import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Protocol

from hub.pledges.models import Direction, Measure
from hub.progress.models import ReportStatus


class ReportingStatus(enum.StrEnum):
    """Whether a pledge reports on time, after the SDG Actions Platform's yearly practice."""

    REPORTED = "REPORTED"
    DUE = "DUE"
    OVERDUE = "OVERDUE"


@dataclass(frozen=True, slots=True)
class Reached:
    """A target's latest value and percent reached, or ``None`` with the reason."""

    latest: Decimal | None
    percent: Decimal | None
    reason: str | None


@dataclass(frozen=True, slots=True)
class TargetFacts:
    """What ``reached`` needs to know about a target."""

    measure: Measure
    cumulative: bool
    baseline: Decimal | None
    target: Decimal | None
    direction: Direction = Direction.ASCENDING


def reached(target: TargetFacts, values: Sequence[Decimal]) -> Reached:
    """Latest value and percent reached from reported values in period order.

    Cumulative targets report the level reached, so the last value counts; per-period
    targets report each period's gain, so the level is the baseline plus their sum. The
    percent is (level - baseline) / (target - baseline), which mirrors itself for a
    descending target. An ascending target without a baseline starts from 0; a descending
    one needs its baseline, and a target on the wrong side of its baseline means nothing.
    """
    if target.measure is Measure.QUALITATIVE:
        return Reached(None, None, "a qualitative target has no percentage")
    if not values:
        return Reached(None, None, "no value has been reported yet")
    if target.baseline is None and target.direction is Direction.DESCENDING:
        latest = values[-1] if target.cumulative else None
        return Reached(latest, None, "a descending target needs a baseline")
    baseline = target.baseline if target.baseline is not None else Decimal(0)
    latest = values[-1] if target.cumulative else baseline + sum(values, Decimal(0))
    if target.target is None or target.target == baseline:
        return Reached(latest, None, "the target equals the baseline")
    ascending = target.direction is Direction.ASCENDING
    if (target.target > baseline) != ascending:
        return Reached(latest, None, "the target lies on the wrong side of the baseline")
    percent = (latest - baseline) / (target.target - baseline) * 100
    return Reached(latest, percent.quantize(Decimal("0.1"), rounding=ROUND_HALF_EVEN), None)


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, on the month's last day when it is shorter."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


class Submitted(Protocol):
    @property
    def submitted_at(self) -> datetime: ...
    @property
    def status(self) -> ReportStatus: ...


def last_counted_report(reports: Iterable[Submitted], today: date) -> datetime | None:
    """When the last report that counts (not rejected) was submitted, up to ``today``."""
    return max(
        (
            r.submitted_at
            for r in reports
            if r.submitted_at.date() <= today and r.status is not ReportStatus.REJECTED
        ),
        default=None,
    )


def reporting_status(
    published_at: datetime | None, last_report_at: datetime | None, today: date
) -> ReportingStatus | None:
    """REPORTED within 12 months of the last report (or of publication), DUE after 12,
    OVERDUE after 24; ``None`` for a pledge not published by ``today``. The caller passes the
    last report submitted by ``today``."""
    if published_at is None or published_at.date() > today:
        return None
    since = last_report_at or published_at
    if today <= add_months(since.date(), 12):
        return ReportingStatus.REPORTED
    if today <= add_months(since.date(), 24):
        return ReportingStatus.DUE
    return ReportingStatus.OVERDUE

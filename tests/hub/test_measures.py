"""Percent reached and reporting status, from plain values."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from hub.pledges.models import Direction, Measure
from hub.progress.measures import (
    Reached,
    ReportingStatus,
    TargetFacts,
    add_months,
    reached,
    reporting_status,
)

D = Decimal
DOWN = Direction.DESCENDING


@pytest.mark.parametrize(
    ("facts", "values", "expected"),
    [
        (TargetFacts(Measure.QUANTITATIVE, True, D(0), D(1000)), [D(100), D(250)],
         Reached(D(250), D("25.0"), None)),
        (TargetFacts(Measure.QUANTITATIVE, False, D(0), D(1000)), [D(100), D(250)],
         Reached(D(350), D("35.0"), None)),
        (TargetFacts(Measure.QUANTITATIVE, False, D(100), D(200)), [D(30), D(20)],
         Reached(D(150), D("50.0"), None)),
        (TargetFacts(Measure.QUANTITATIVE, True, D(5), D(2), DOWN), [D("4.1")],
         Reached(D("4.1"), D("30.0"), None)),
        (TargetFacts(Measure.QUANTITATIVE, True, None, D(10), DOWN), [D(50)],
         Reached(D(50), None, "a descending target needs a baseline")),
        (TargetFacts(Measure.QUANTITATIVE, True, D(5), D(2)), [D(4)],
         Reached(D(4), None, "the target lies on the wrong side of the baseline")),
        (TargetFacts(Measure.QUANTITATIVE, True, None, D(3)), [D(1)],
         Reached(D(1), D("33.3"), None)),
        (TargetFacts(Measure.QUANTITATIVE, True, D(10), D(20)), [D(25)],
         Reached(D(25), D("150.0"), None)),
        (TargetFacts(Measure.QUANTITATIVE, True, D(10), D(10)), [D(12)],
         Reached(D(12), None, "the target equals the baseline")),
        (TargetFacts(Measure.QUALITATIVE, True, None, None), [],
         Reached(None, None, "a qualitative target has no percentage")),
        (TargetFacts(Measure.QUANTITATIVE, True, D(0), D(9)), [],
         Reached(None, None, "no value has been reported yet")),
    ],
)  # fmt: skip
def test_percent_reached(facts: TargetFacts, values: list[Decimal], expected: Reached) -> None:
    assert reached(facts, values) == expected


def test_months_end_on_the_shorter_months_last_day() -> None:
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2023, 11, 30), 14) == date(2025, 1, 30)
    assert add_months(date(2024, 2, 29), 12) == date(2025, 2, 28)


def at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("published", "last", "today", "status"),
    [
        (at("2024-01-10"), None, date(2025, 1, 10), ReportingStatus.REPORTED),
        (at("2024-01-10"), None, date(2025, 1, 11), ReportingStatus.DUE),
        (at("2024-01-10"), at("2025-03-01"), date(2025, 6, 1), ReportingStatus.REPORTED),
        (at("2022-01-10"), at("2023-03-01"), date(2025, 3, 1), ReportingStatus.DUE),
        (at("2022-01-10"), at("2023-03-01"), date(2025, 3, 2), ReportingStatus.OVERDUE),
        (None, None, date(2025, 3, 2), None),
        (at("2024-01-10"), None, date(2024, 1, 9), None),
    ],
)
def test_reporting_status(
    published: datetime | None, last: datetime | None, today: date, status: ReportingStatus | None
) -> None:
    assert reporting_status(published, last, today) == status

"""What a progress report states, checked before anything is stored."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from hub.errors import InvalidInput
from hub.money.amounts import parse_amount
from hub.pledges.rules import check_length, check_value


@dataclass(frozen=True, slots=True)
class ReportedValue:
    """What a report says of one target: a value in its unit, a note in words, or both."""

    target_id: int
    value: Decimal | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class ReportDraft:
    """A member's report on a pledge for a period; ``values`` in the caller's order, each
    target at most once."""

    period_start: date
    period_end: date
    values: Sequence[ReportedValue] = ()
    narrative: str = ""
    evidence: Sequence[str] = ()
    disbursed_amount: Decimal | str | None = None
    disbursed_currency: str | None = None


MAX_NARRATIVE = 20_000
MAX_NOTE = 5_000
MAX_URL = 2_000
MAX_EVIDENCE = 20


def check_report(draft: ReportDraft) -> None:
    """Refuse a report that can never be stored, naming the first field that is wrong."""
    if draft.period_end < draft.period_start:
        raise InvalidInput("the period ends before it starts", field=("periodEnd",))
    check_length(draft.narrative, MAX_NARRATIVE, ("narrative",))
    seen: set[int] = set()
    for index, reported in enumerate(draft.values):
        at = ("values", str(index))
        if reported.target_id in seen:
            raise InvalidInput("a target is given twice", code="DUPLICATE_VALUE", field=at)
        seen.add(reported.target_id)
        if reported.value is None and reported.note is None:
            raise InvalidInput("give a value or a note", code="REQUIRED", field=at)
        check_value(reported.value, (*at, "value"))
        check_length(reported.note, MAX_NOTE, (*at, "note"))
    if len(draft.evidence) > MAX_EVIDENCE:
        raise InvalidInput(
            f"at most {MAX_EVIDENCE} evidence links", code="TOO_LONG", field=("evidence",)
        )
    for index, url in enumerate(draft.evidence):
        if not url.startswith(("https://", "http://")) or any(c.isspace() for c in url):
            raise InvalidInput(
                f"{url[:100]!r} is not an http(s) link", field=("evidence", str(index))
            )
        check_length(url, MAX_URL, ("evidence", str(index)))
    if (draft.disbursed_amount is None) != (draft.disbursed_currency is None):
        raise InvalidInput(
            "an amount needs a currency and a currency an amount", field=("disbursed",)
        )
    disbursed = ("disbursed", "amount")
    if (
        draft.disbursed_amount is not None
        and parse_amount(draft.disbursed_amount, field=disbursed) <= 0
    ):
        raise InvalidInput(
            "a disbursed amount is more than zero", code="INVALID_AMOUNT", field=disbursed
        )

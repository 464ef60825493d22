"""What a progress report states, checked before anything is stored."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from hub.errors import InvalidInput


@dataclass(frozen=True, slots=True)
class ReportDraft:
    """A member's report on a pledge for a period."""

    period_start: date
    period_end: date
    values: Mapping[int, Decimal] = field(default_factory=dict)
    notes: Mapping[int, str] = field(default_factory=dict)
    narrative: str = ""
    evidence: Sequence[str] = ()
    disbursed_amount: Decimal | str | None = None
    disbursed_currency: str | None = None


def check_report(draft: ReportDraft) -> None:
    """Refuse a report that can never be stored, naming the first field that is wrong."""
    if draft.period_end < draft.period_start:
        raise InvalidInput("the period ends before it starts", field=("periodEnd",))
    for url in draft.evidence:
        if not url.startswith(("https://", "http://")):
            raise InvalidInput(f"{url!r} is not an http(s) link", field=("evidence",))
    if (draft.disbursed_amount is None) != (draft.disbursed_currency is None):
        raise InvalidInput(
            "an amount needs a currency and a currency an amount", field=("disbursed",)
        )

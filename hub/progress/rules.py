"""What a progress report states, checked before anything is stored."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from hub.errors import InvalidInput
from hub.pledges.rules import check_length, check_value


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


MAX_NARRATIVE = 20_000
MAX_NOTE = 5_000
MAX_URL = 2_000
MAX_EVIDENCE = 20


def check_report(draft: ReportDraft) -> None:
    """Refuse a report that can never be stored, naming the first field that is wrong."""
    if draft.period_end < draft.period_start:
        raise InvalidInput("the period ends before it starts", field=("periodEnd",))
    check_length(draft.narrative, MAX_NARRATIVE, ("narrative",))
    for target, value in draft.values.items():
        check_value(value, ("values", str(target), "value"))
    for target, note in draft.notes.items():
        check_length(note, MAX_NOTE, ("values", str(target), "note"))
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

"""Pure rules about pledges: what a draft must satisfy, and what the public may see."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from hub.countries.models import CountryGroup
from hub.errors import InvalidInput
from hub.pledges.models import (
    BeneficiaryGroup,
    FocusArea,
    ImplementationStatus,
    PledgeType,
    PublicationStatus,
)

PUBLIC_STATUSES = frozenset({PublicationStatus.PUBLISHED, PublicationStatus.FULFILLED})
"""Publication statuses anyone may read, signed in or not."""


@dataclass(frozen=True, slots=True)
class PledgeDraft:
    """What a member states when it records a pledge."""

    title: str
    pledge_type: PledgeType
    description: str = ""
    focus_areas: Sequence[FocusArea] = ()
    target_countries: Sequence[str] = ()
    target_groups: Sequence[CountryGroup] = ()
    beneficiary_groups: Sequence[BeneficiaryGroup] = ()
    sdgs: Sequence[int] = ()
    start_date: date | None = None
    end_date: date | None = None
    amount: Decimal | str | None = None
    currency: str | None = None
    implementation_status: ImplementationStatus = ImplementationStatus.PIPELINE


def _no_repeats(values: Sequence[object], name: str) -> None:
    seen: set[object] = set()
    for value in values:
        if value in seen:
            raise InvalidInput(f"{value} is listed twice", code="DUPLICATE_VALUE", field=(name,))
        seen.add(value)


def check_draft(draft: PledgeDraft) -> None:
    """Refuse a draft that can never be stored, naming the first field that is wrong."""
    if not draft.title.strip():
        raise InvalidInput("a pledge needs a title", code="REQUIRED", field=("title",))
    if len(draft.title) > 500:
        raise InvalidInput("a title has at most 500 characters", code="TOO_LONG", field=("title",))
    _no_repeats(draft.focus_areas, "focusAreas")
    _no_repeats(draft.target_countries, "targetCountries")
    _no_repeats(draft.target_groups, "targetGroups")
    _no_repeats(draft.beneficiary_groups, "beneficiaryGroups")
    _no_repeats(draft.sdgs, "sdgs")
    for sdg in draft.sdgs:
        if not 1 <= sdg <= 17:
            raise InvalidInput(f"SDG {sdg} does not exist (1 to 17)", field=("sdgs",))
    if draft.start_date and draft.end_date and draft.end_date < draft.start_date:
        raise InvalidInput("the end date is before the start date", field=("endDate",))
    if (draft.amount is None) != (draft.currency is None):
        raise InvalidInput(
            "an amount needs a currency and a currency an amount", field=("pledgedAmount",)
        )


def submission_problems(focus_areas: Sequence[FocusArea], has_lead: bool) -> list[InvalidInput]:
    """Why a pledge may not be submitted or published yet; empty when it may."""
    problems = []
    if not focus_areas:
        problems.append(
            InvalidInput(
                "a pledge needs at least one focus area before it is submitted",
                code="FOCUS_AREA_REQUIRED",
                field=("focusAreas",),
            )
        )
    if not has_lead:
        problems.append(
            InvalidInput(
                "a pledge needs an accepted LEAD endorsement by its lead member",
                code="LEAD_REQUIRED",
                field=("endorsements",),
            )
        )
    return problems

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
    Direction,
    FocusArea,
    ImplementationStatus,
    Indicator,
    Measure,
    PledgeType,
)


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
    announced_on: date | None = None
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


@dataclass(frozen=True, slots=True)
class TargetDraft:
    """A measurable aim of a pledge."""

    indicator: Indicator
    unit: str
    measure: Measure = Measure.QUANTITATIVE
    direction: Direction = Direction.ASCENDING
    cumulative: bool = True
    label: str | None = None
    description: str | None = None
    baseline_value: Decimal | None = None
    baseline_date: date | None = None
    target_value: Decimal | None = None
    deadline: date | None = None


def check_target(draft: TargetDraft) -> None:
    """Refuse a target that cannot be measured as stated."""
    if not draft.unit.strip():
        raise InvalidInput("a target needs a unit", code="REQUIRED", field=("unit",))
    if draft.indicator is Indicator.OTHER and not draft.label:
        raise InvalidInput("an OTHER indicator needs a label", code="REQUIRED", field=("label",))
    if draft.measure is Measure.QUANTITATIVE and draft.target_value is None:
        raise InvalidInput(
            "a quantitative target needs a target value", code="REQUIRED", field=("targetValue",)
        )
    if draft.measure is Measure.QUALITATIVE and (
        draft.target_value is not None or draft.baseline_value is not None or not draft.description
    ):
        raise InvalidInput(
            "a qualitative target has a description and no values", field=("description",)
        )

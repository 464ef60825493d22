"""Pure rules about pledges: what a draft must satisfy, when it is ready to submit, and which
edits are material."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from hub.countries.models import CountryGroup
from hub.errors import InvalidInput
from hub.money.amounts import parse_amount
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


MAX_TITLE = 500
MAX_DESCRIPTION = 20_000
MAX_VALUE = Decimal(10) ** 22
"""Target and progress values are stored with 28 digits, 6 of them decimals."""
AMOUNT_FIELD = ("pledgedAmount", "amount")


def check_value(value: Decimal | None, field: Sequence[str]) -> None:
    """Refuse a measured value that is not finite or does not fit its column."""
    if value is None:
        return
    if not value.is_finite() or abs(value) >= MAX_VALUE:
        raise InvalidInput(
            f"{value} is not a finite number below 10^22", code="VALUE_OUT_OF_RANGE", field=field
        )
    if value != value.quantize(Decimal("0.000001")):
        raise InvalidInput(
            f"{value} has more than 6 decimal places", code="TOO_MANY_DECIMALS", field=field
        )


def check_length(text: str | None, limit: int, field: Sequence[str]) -> None:
    """Refuse text longer than ``limit`` characters."""
    if text is not None and len(text) > limit:
        raise InvalidInput(
            f"at most {limit} characters, not {len(text)}", code="TOO_LONG", field=field
        )


def check_draft(draft: PledgeDraft) -> None:
    """Refuse a draft that can never be stored, naming the first field that is wrong."""
    if not draft.title.strip():
        raise InvalidInput("a pledge needs a title", code="REQUIRED", field=("title",))
    check_length(draft.title, MAX_TITLE, ("title",))
    check_length(draft.description, MAX_DESCRIPTION, ("description",))
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
    if draft.amount is not None and parse_amount(draft.amount, field=AMOUNT_FIELD) <= 0:
        raise InvalidInput(
            "a pledged amount is more than zero", code="INVALID_AMOUNT", field=AMOUNT_FIELD
        )


@dataclass(frozen=True, slots=True)
class Readiness:
    """What a pledge holds, as far as being ready to submit or publish goes."""

    pledge_type: PledgeType
    focus_areas: int
    places: int
    quantified_targets_with_deadline: int
    has_amount: bool
    has_lead: bool


def _problem(code: str, field: str, what: str) -> InvalidInput:
    return InvalidInput(
        f"the pledge needs {what} before it is submitted", code=code, field=(field,)
    )


def publication_problems(facts: Readiness) -> list[InvalidInput]:
    """What every pledge needs before it goes public, whoever records it: a focus area and
    its lead's accepted LEAD endorsement (records the hub imports keep their source's terms)."""
    problems = []
    if not facts.focus_areas:
        problems.append(_problem("FOCUS_AREA_REQUIRED", "focusAreas", "at least one focus area"))
    if not facts.has_lead:
        problems.append(
            _problem("LEAD_REQUIRED", "endorsements", "its lead's accepted LEAD endorsement")
        )
    return problems


def smart_problems(facts: Readiness) -> list[InvalidInput]:
    """Every reason a partner's pledge is not SMART-complete yet; empty when it may be
    submitted: ``publication_problems``, and it names countries or country groups, has a
    quantitative target with a value and a deadline, and states its money if FINANCIAL."""
    problems = publication_problems(facts)
    if not facts.places:
        problems.append(
            _problem("PLACE_REQUIRED", "targetCountries", "the countries or groups it targets")
        )
    if not facts.quantified_targets_with_deadline:
        problems.append(
            _problem(
                "TARGET_REQUIRED",
                "targets",
                "a quantitative target with a target value and a deadline",
            )
        )
    if facts.pledge_type is PledgeType.FINANCIAL and not facts.has_amount:
        problems.append(
            _problem("AMOUNT_REQUIRED", "pledgedAmount", "the amount pledged (it is FINANCIAL)")
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


MAX_UNIT = 50
MAX_LABEL = 300
MAX_TARGET_DESCRIPTION = 5_000


def check_target(draft: TargetDraft, at: Sequence[str] = ()) -> None:
    """Refuse a target that cannot be measured as stated; ``at`` prefixes the field path."""
    path = tuple(at)
    if not draft.unit.strip():
        raise InvalidInput("a target needs a unit", code="REQUIRED", field=(*path, "unit"))
    check_length(draft.unit, MAX_UNIT, (*path, "unit"))
    check_length(draft.label, MAX_LABEL, (*path, "label"))
    check_length(draft.description, MAX_TARGET_DESCRIPTION, (*path, "description"))
    if draft.indicator is Indicator.OTHER and not draft.label:
        raise InvalidInput(
            "an OTHER indicator needs a label", code="REQUIRED", field=(*path, "label")
        )
    if draft.measure is Measure.QUANTITATIVE and draft.target_value is None:
        raise InvalidInput(
            "a quantitative target needs a target value",
            code="REQUIRED",
            field=(*path, "targetValue"),
        )
    if draft.measure is Measure.QUALITATIVE and (
        draft.target_value is not None or draft.baseline_value is not None or not draft.description
    ):
        raise InvalidInput(
            "a qualitative target has a description and no values", field=(*path, "description")
        )
    check_value(draft.target_value, (*path, "targetValue"))
    check_value(draft.baseline_value, (*path, "baseline"))
    if draft.baseline_date and draft.deadline and draft.deadline < draft.baseline_date:
        raise InvalidInput("the deadline is before the baseline date", field=(*path, "deadline"))


@dataclass(frozen=True, slots=True)
class Terms:
    """What co-endorsers stand behind: a change to any of it is a material edit."""

    amount_minor: int | None
    currency: str | None
    start_date: date | None
    end_date: date | None
    countries: frozenset[str]
    groups: frozenset[CountryGroup]
    targets: frozenset[tuple[object, ...]]


def target_terms(draft: TargetDraft) -> tuple[object, ...]:
    """The parts of a target that are terms (its wording aside; an OTHER target's label says
    what it measures, and is a term)."""
    return (
        draft.indicator,
        draft.label if draft.indicator is Indicator.OTHER else None,  # it names what is measured
        draft.measure,
        draft.direction,
        draft.cumulative,
        draft.unit.strip(),
        draft.baseline_value,
        draft.baseline_date,
        draft.target_value,
        draft.deadline,
    )


TERM_FIELDS = {
    "amount_minor": "pledgedAmount",
    "currency": "pledgedAmount",
    "start_date": "startDate",
    "end_date": "endDate",
    "countries": "targetCountries",
    "groups": "targetGroups",
    "targets": "targets",
}


def material_changes(before: Terms, after: Terms) -> list[str]:
    """The terms that differ, by their GraphQL field names; empty for an edit of wording."""
    changed = (
        name for key, name in TERM_FIELDS.items() if getattr(before, key) != getattr(after, key)
    )
    return list(dict.fromkeys(changed))

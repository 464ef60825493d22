"""What one IATI activity becomes for the hub: a plan to write, or why there is none.

Plain frozen values in the hub's vocabulary (its enums, ``Decimal`` money), so that the
framework can write a plan through the hub's services, or report an outcome, without looking
at IATI again. The rules that make them are in :mod:`connectors.iati.mapping`.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from connectors.iati.records import Narrative, Place, Problem, TransactionOrg
from hub.countries.models import CountryGroup
from hub.endorsements.models import EndorsementStatus, Role
from hub.imports.records import NO_LINKS, Linking
from hub.money.models import TransactionKind
from hub.organisations.models import OrganisationType
from hub.pledges.models import (
    Direction,
    FocusArea,
    ImplementationStatus,
    Indicator,
    Measure,
    PledgeType,
)


@dataclass(frozen=True, slots=True)
class Selection:
    """Which activities are P2C commitments: one match of any kind selects; empty selects none."""

    activity_ids: frozenset[str] = frozenset()
    reporting_orgs: frozenset[str] = frozenset()
    sectors: frozenset[str] = frozenset()  # DAC 5-digit codes
    tags: frozenset[tuple[str, str]] = frozenset()  # (vocabulary, code); no vocabulary is "1"


@dataclass(frozen=True, slots=True)
class Options:
    """What the connector knows beyond the file: whose it is, what to take, the hub's countries.

    ``member`` holds the member's IATI organisation identifiers; ``countries`` maps ISO 3166-1
    alpha-2 codes to the hub's alpha-3 codes.
    """

    member: frozenset[str]
    selection: Selection
    countries: Mapping[str, str]
    source: str = "iati"


@dataclass(frozen=True, slots=True)
class Amount:
    """A signed amount of money in an ISO 4217 currency."""

    value: Decimal
    currency: str


@dataclass(frozen=True, slots=True)
class Flow:
    """A transaction as a money flow; ``position`` is its 1-based place among the activity's."""

    position: int
    ref: str | None
    kind: TransactionKind
    amount: Amount
    value_date: date
    counts: bool
    reason: str
    description: tuple[Narrative, ...]
    provider: TransactionOrg | None
    receiver: TransactionOrg | None


@dataclass(frozen=True, slots=True)
class RejectedFlow:
    """A transaction that is not a flow, and why; the rest of the activity is imported."""

    position: int
    reason: str


@dataclass(frozen=True, slots=True)
class Endorsement:
    """An organisation behind the pledge, by IATI organisation identifier, with all its roles."""

    ref: str
    names: tuple[Narrative, ...]
    organisation_type: OrganisationType | None
    roles: tuple[Role, ...]
    status: EndorsementStatus
    activity_ids: tuple[str, ...]


class ReviewSubject(enum.StrEnum):
    """What a person has to look at before the hub can use it."""

    ORGANISATION = "ORGANISATION"
    ORGANISATION_TYPE = "ORGANISATION_TYPE"
    COUNTRY = "COUNTRY"
    REGION = "REGION"
    INDICATOR = "INDICATOR"


@dataclass(frozen=True, slots=True)
class ReviewItem:
    """Something the mapping would not guess, such as an organisation without an identifier."""

    subject: ReviewSubject
    code: str | None
    names: tuple[Narrative, ...]
    reason: str


@dataclass(frozen=True, slots=True)
class Target:
    """An indicator as a target; ``key`` is how reports name it (``result 1 indicator 2``)."""

    key: str
    indicator: Indicator
    label: str
    description: tuple[Narrative, ...]
    unit: str
    measure: Measure
    direction: Direction
    cumulative: bool
    baseline_value: Decimal | None
    baseline_date: date | None
    target_value: Decimal | None
    deadline: date | None


@dataclass(frozen=True, slots=True)
class ReportedValue:
    """What a period's actual says of one target: a value, or a note when it is words."""

    target: str
    value: Decimal | None
    note: str | None


@dataclass(frozen=True, slots=True)
class Report:
    """Progress over one period: money disbursed in a year, or the results' actual values."""

    period_start: date
    period_end: date
    disbursed: Amount | None
    values: tuple[ReportedValue, ...]


class Gap(enum.StrEnum):
    """What keeps a plan from being SMART-complete, named as the hub's submit check names it."""

    FOCUS_AREA = "FOCUS_AREA_REQUIRED"
    PLACE = "PLACE_REQUIRED"
    TARGET = "TARGET_REQUIRED"
    AMOUNT = "AMOUNT_REQUIRED"


@dataclass(frozen=True, slots=True)
class Plan:
    """What the hub would record for one claimed, selected activity.

    ``amount`` is the pledged money (the counted flows' sum, when it is one positive amount in
    one currency); ``counted`` gives the counted sum in each currency. ``endorsements`` starts
    with the lead's. ``content_hash`` covers everything but ``place``, so that a record read
    again unchanged writes nothing.
    """

    source: str
    external_id: str
    place: Place
    lead: str
    pledge_type: PledgeType
    title: tuple[Narrative, ...]
    description: tuple[Narrative, ...]
    implementation_status: ImplementationStatus | None
    announced_on: date | None
    start_date: date | None
    end_date: date | None
    focus_areas: tuple[FocusArea, ...]
    sdgs: tuple[int, ...]
    target_countries: tuple[str, ...]
    target_groups: tuple[CountryGroup, ...]
    amount: Amount | None
    counted: tuple[Amount, ...]
    pledge_only: bool
    flows: tuple[Flow, ...]
    rejected_flows: tuple[RejectedFlow, ...]
    endorsements: tuple[Endorsement, ...]
    review: tuple[ReviewItem, ...]
    targets: tuple[Target, ...]
    reports: tuple[Report, ...]
    problems: tuple[Problem, ...]
    notes: tuple[str, ...]
    gaps: tuple[Gap, ...]
    content_hash: str
    linking: Linking = NO_LINKS

    @property
    def needs_classification(self) -> bool:
        """No sector or SDG of the activity maps to a focus area: a person has to choose."""
        return not self.focus_areas

    @property
    def smart_complete(self) -> bool:
        """Whether the framework may land the pledge SUBMITTED rather than DRAFT."""
        return not self.gaps


@dataclass(frozen=True, slots=True)
class Unclaimed:
    """A selected activity that is not the member's own: kept for linking, never a pledge."""

    source: str
    external_id: str
    place: Place
    reporting_org: str | None
    reporting_org_names: tuple[Narrative, ...]
    reason: str
    linking: Linking = NO_LINKS


@dataclass(frozen=True, slots=True)
class Skipped:
    """An activity the selection does not name as a P2C commitment: counted, not an error."""

    source: str
    external_id: str
    place: Place


@dataclass(frozen=True, slots=True)
class Rejected:
    """An activity that cannot be imported at all, and why."""

    source: str
    place: Place
    reason: str


Outcome = Plan | Unclaimed | Skipped | Rejected

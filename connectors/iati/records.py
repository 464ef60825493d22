"""What one IATI activity says, typed but not yet interpreted for the hub.

The records speak IATI, not hub: codes whose meaning the standard fixes (transaction types,
organisation roles, date types, statuses, related-activity types) are normalised to enums whose
values are the version 2 codes, whatever spelling the file used (``C``, ``Funding``,
``start-planned``); everything else stays as the file wrote it. Nothing here raises on bad
data: what could not be read is kept raw, with a :class:`Problem` saying where, so that the
mapping layer decides what to import, report or dead-letter.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date
from decimal import Decimal


class TransactionType(enum.StrEnum):
    """IATI TransactionType; version 1 letters (C, D, E, IF, ...) map onto these codes."""

    INCOMING_FUNDS = "1"
    OUTGOING_COMMITMENT = "2"
    DISBURSEMENT = "3"
    EXPENDITURE = "4"
    INTEREST_PAYMENT = "5"
    LOAN_REPAYMENT = "6"
    REIMBURSEMENT = "7"
    PURCHASE_OF_EQUITY = "8"
    SALE_OF_EQUITY = "9"
    CREDIT_GUARANTEE = "10"
    INCOMING_COMMITMENT = "11"
    OUTGOING_PLEDGE = "12"
    INCOMING_PLEDGE = "13"


class OrganisationRole(enum.StrEnum):
    """IATI OrganisationRole; version 1 writes the words (Funding, Accountable, ...)."""

    FUNDING = "1"
    ACCOUNTABLE = "2"
    EXTENDING = "3"
    IMPLEMENTING = "4"


class ActivityDateType(enum.StrEnum):
    """IATI ActivityDateType; version 1 writes start-planned, start-actual, ..."""

    PLANNED_START = "1"
    ACTUAL_START = "2"
    PLANNED_END = "3"
    ACTUAL_END = "4"


class ActivityStatus(enum.StrEnum):
    """IATI ActivityStatus (the same codes in versions 1 and 2)."""

    PIPELINE = "1"
    IMPLEMENTATION = "2"
    FINALISATION = "3"
    CLOSED = "4"
    CANCELLED = "5"
    SUSPENDED = "6"


class RelatedActivityType(enum.StrEnum):
    """IATI RelatedActivityType: how another activity relates to this one."""

    PARENT = "1"
    CHILD = "2"
    SIBLING = "3"
    CO_FUNDED = "4"
    THIRD_PARTY = "5"


class SdgLevel(enum.StrEnum):
    """How deep in the SDG framework a code points: goal ``9``, target ``9.c``, indicator."""

    GOAL = "GOAL"
    TARGET = "TARGET"
    INDICATOR = "INDICATOR"


# SectorVocabulary 7/8/9, TagVocabulary 2/3 and IndicatorVocabulary 9 are the SDG lists
SECTOR_SDG_VOCABULARIES = {"7": SdgLevel.GOAL, "8": SdgLevel.TARGET, "9": SdgLevel.INDICATOR}
TAG_SDG_VOCABULARIES = {"2": SdgLevel.GOAL, "3": SdgLevel.TARGET}
INDICATOR_SDG_VOCABULARY = "9"


@dataclass(frozen=True, slots=True)
class Problem:
    """Something the parser could not read, and where: enough for a dead-letter report."""

    line: int | None
    where: str
    message: str


@dataclass(frozen=True, slots=True)
class Place:
    """Where an activity sits in its file: its start tag's line and its 1-based position."""

    line: int | None
    position: int


@dataclass(frozen=True, slots=True)
class Narrative:
    """Human-readable text in a language: its own ``xml:lang``, else the activity's default."""

    text: str
    lang: str | None


@dataclass(frozen=True, slots=True)
class ReportingOrg:
    """The organisation that published the activity (the pledge's member, for the hub)."""

    ref: str | None
    type: str | None
    narratives: tuple[Narrative, ...]
    secondary_reporter: bool | None


@dataclass(frozen=True, slots=True)
class OtherIdentifier:
    """Another identifier of the activity: the key when ``iati-identifier`` is missing."""

    ref: str
    type: str | None
    owner_ref: str | None
    owner_name: str | None


@dataclass(frozen=True, slots=True)
class ParticipatingOrg:
    """An organisation taking part; ``role`` is None when ``role_raw`` is not an IATI role."""

    ref: str | None
    type: str | None
    role: OrganisationRole | None
    role_raw: str | None
    activity_id: str | None
    narratives: tuple[Narrative, ...]
    problems: tuple[Problem, ...]


@dataclass(frozen=True, slots=True)
class Description:
    """A description of the activity, with its IATI DescriptionType code as written."""

    type: str | None
    narratives: tuple[Narrative, ...]


@dataclass(frozen=True, slots=True)
class TransactionOrg:
    """The provider or receiver of a transaction, and the activity it is booked under."""

    ref: str | None
    type: str | None
    activity_id: str | None
    narratives: tuple[Narrative, ...]


@dataclass(frozen=True, slots=True)
class Transaction:
    """A money movement, signed as written (corrections are negative).

    ``currency`` is the value's own; when None the activity's ``default_currency`` applies.
    """

    ref: str | None
    type: TransactionType | None
    type_raw: str | None
    value: Decimal | None
    value_raw: str | None
    currency: str | None
    value_date: date | None
    transaction_date: date | None
    provider: TransactionOrg | None
    receiver: TransactionOrg | None
    description: tuple[Narrative, ...]
    problems: tuple[Problem, ...]


@dataclass(frozen=True, slots=True)
class Sector:
    """A sector in a vocabulary (``1``/``DAC``: DAC 5-digit; ``7``-``9``: SDGs) as written."""

    vocabulary: str | None
    code: str | None
    percentage: Decimal | None
    narratives: tuple[Narrative, ...]
    problems: tuple[Problem, ...]


@dataclass(frozen=True, slots=True)
class RecipientCountry:
    """A country the activity benefits, by ISO 3166-1 alpha-2 code."""

    code: str | None
    percentage: Decimal | None
    narratives: tuple[Narrative, ...]
    problems: tuple[Problem, ...]


@dataclass(frozen=True, slots=True)
class RecipientRegion:
    """A region the activity benefits, in a RegionVocabulary (None means the default, 1)."""

    vocabulary: str | None
    code: str | None
    percentage: Decimal | None
    narratives: tuple[Narrative, ...]
    problems: tuple[Problem, ...]


@dataclass(frozen=True, slots=True)
class Tag:
    """A tag in a TagVocabulary (``2``/``3``: SDG goals and targets)."""

    vocabulary: str | None
    code: str | None
    narratives: tuple[Narrative, ...]


@dataclass(frozen=True, slots=True)
class ActivityDate:
    """A planned or actual start or end of the activity."""

    type: ActivityDateType | None
    type_raw: str | None
    iso_date: date | None
    problems: tuple[Problem, ...]


@dataclass(frozen=True, slots=True)
class RelatedActivity:
    """A link to another activity by its identifier (parent, child, sibling, ...)."""

    type: RelatedActivityType | None
    type_raw: str | None
    ref: str | None
    problems: tuple[Problem, ...]


@dataclass(frozen=True, slots=True)
class Dimension:
    """A disaggregation of a measured value (``sex: female``)."""

    name: str | None
    value: str | None


@dataclass(frozen=True, slots=True)
class Measurement:
    """A target or actual value; ``value`` is None when ``raw`` is not a decimal number."""

    value: Decimal | None
    raw: str | None
    dimensions: tuple[Dimension, ...]
    locations: tuple[str, ...]
    problems: tuple[Problem, ...]


@dataclass(frozen=True, slots=True)
class Baseline:
    """Where an indicator started, in a year or on a date (placeholders such as 1900 kept)."""

    year: int | None
    iso_date: date | None
    measurement: Measurement
    problems: tuple[Problem, ...]


@dataclass(frozen=True, slots=True)
class Period:
    """One reporting period of an indicator, with its targets and actuals."""

    start: date | None
    end: date | None
    targets: tuple[Measurement, ...]
    actuals: tuple[Measurement, ...]
    problems: tuple[Problem, ...]


@dataclass(frozen=True, slots=True)
class IndicatorReference:
    """An indicator's code in an IndicatorVocabulary (``9``: SDG indicators)."""

    vocabulary: str | None
    code: str | None


@dataclass(frozen=True, slots=True)
class Indicator:
    """What a result measures; ``measure`` is the IndicatorMeasure code or version 1 word."""

    title: tuple[Narrative, ...]
    description: tuple[Narrative, ...]
    measure: str | None
    ascending: bool | None
    references: tuple[IndicatorReference, ...]
    baselines: tuple[Baseline, ...]
    periods: tuple[Period, ...]
    problems: tuple[Problem, ...]


@dataclass(frozen=True, slots=True)
class Result:
    """A result the activity aims at; ``type`` is the ResultType code or version 1 word."""

    type: str | None
    title: tuple[Narrative, ...]
    description: tuple[Narrative, ...]
    indicators: tuple[Indicator, ...]


@dataclass(frozen=True, slots=True)
class SdgCode:
    """An SDG goal, target or indicator the activity names, whichever element it came from."""

    level: SdgLevel
    code: str


@dataclass(frozen=True, slots=True)
class Activity:
    """One ``iati-activity``.

    ``problems`` lists every problem in the activity, its children's included, by line; a child
    record that can hold an unreadable value also carries its own, so that one bad transaction
    can be set aside without losing the activity.
    """

    identifier: str | None
    other_identifiers: tuple[OtherIdentifier, ...]
    version: str | None
    default_currency: str | None
    default_language: str | None
    hierarchy: int | None
    reporting_org: ReportingOrg | None
    titles: tuple[Narrative, ...]
    descriptions: tuple[Description, ...]
    status: ActivityStatus | None
    status_raw: str | None
    dates: tuple[ActivityDate, ...]
    participating_orgs: tuple[ParticipatingOrg, ...]
    transactions: tuple[Transaction, ...]
    sectors: tuple[Sector, ...]
    recipient_countries: tuple[RecipientCountry, ...]
    recipient_regions: tuple[RecipientRegion, ...]
    tags: tuple[Tag, ...]
    related_activities: tuple[RelatedActivity, ...]
    results: tuple[Result, ...]
    problems: tuple[Problem, ...]

    @property
    def key(self) -> str | None:
        """The identifier to key the activity by: ``iati-identifier``, else the first other."""
        if self.identifier is not None:
            return self.identifier
        return self.other_identifiers[0].ref if self.other_identifiers else None

    @property
    def sdgs(self) -> tuple[SdgCode, ...]:
        """The SDGs named by SDG-vocabulary sectors, tags and result indicators."""
        found: list[SdgCode] = []
        for sector in self.sectors:
            level = SECTOR_SDG_VOCABULARIES.get(sector.vocabulary or "")
            if level is not None and sector.code:
                found.append(SdgCode(level, sector.code))
        for tag in self.tags:
            level = TAG_SDG_VOCABULARIES.get(tag.vocabulary or "")
            if level is not None and tag.code:
                found.append(SdgCode(level, tag.code))
        for result in self.results:
            for indicator in result.indicators:
                for reference in indicator.references:
                    if reference.vocabulary == INDICATOR_SDG_VOCABULARY and reference.code:
                        found.append(SdgCode(SdgLevel.INDICATOR, reference.code))
        return tuple(dict.fromkeys(found))


@dataclass(frozen=True, slots=True)
class ParsedActivity:
    """An activity read from a file, with where it was and its XML as a document of its own
    (inside an ``iati-activities`` root carrying the file's version and language), which
    reads back into the same activity."""

    place: Place
    activity: Activity
    xml: bytes


@dataclass(frozen=True, slots=True)
class Unreadable:
    """The file could not be read on from here: not XML, not IATI, or unsafe to parse.

    Activities before it were read; nothing after it is.
    """

    line: int | None
    message: str

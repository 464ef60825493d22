"""An imported pledge in the hub's vocabulary: what any connector hands to
``hub.imports.apply.apply_pledge``, whatever its source's format."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from hub.endorsements.models import Role
from hub.imports.models import LinkRelation
from hub.money.models import TransactionKind
from hub.organisations.models import OrganisationType
from hub.pledges.rules import PledgeDraft, TargetDraft


@dataclass(frozen=True, slots=True)
class Translation:
    """A text in one language, as the source wrote it."""

    language: str
    text: str


@dataclass(frozen=True, slots=True)
class FlowRecord:
    """A money flow; ``key`` is stable across re-imports of the same source record."""

    key: str
    kind: TransactionKind
    amount: Decimal
    currency: str
    value_date: date
    counts: bool
    reason: str
    description: str | None


@dataclass(frozen=True, slots=True)
class EndorserRecord:
    """An organisation behind the pledge besides its lead, by its IATI identifier.

    ``organisation_type`` None: no constituency fits, so an unknown organisation is not
    created; the endorsement waits for a person (a review item says so).
    """

    identifier: str
    name: str
    organisation_type: OrganisationType | None
    roles: tuple[Role, ...]


@dataclass(frozen=True, slots=True)
class TargetRecord:
    """A target; ``key`` is how the source names it, and how its reports name it."""

    key: str
    draft: TargetDraft


@dataclass(frozen=True, slots=True)
class ValueRecord:
    """What a report says of one target: a value, or a note when it is words."""

    target_key: str
    value: Decimal | None
    note: str | None


@dataclass(frozen=True, slots=True)
class ReportRecord:
    """Progress over one period: money disbursed, targets' values, or both."""

    key: str
    period_start: date
    period_end: date
    narrative: str
    disbursed_amount: Decimal | None = None
    disbursed_currency: str | None = None
    values: tuple[ValueRecord, ...] = ()


@dataclass(frozen=True, slots=True)
class ReviewRecord:
    """Something the mapping would not guess, for a person to look at; ``candidates``: the
    organisations (by id) an uncertain match might mean (``ORGANISATION_MATCH``)."""

    subject: str
    code: str
    names: str
    reason: str
    candidates: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class LinkRecord:
    """Another activity the record names, and how."""

    relation: LinkRelation
    activity_id: str


@dataclass(frozen=True, slots=True)
class Linking:
    """What ties a record to other records: the activity it stands for, the activities it
    names, and what it commits as it reports it (amount, currency), for every record kept,
    claimed or not."""

    activity_id: str | None = None
    links: tuple[LinkRecord, ...] = ()
    reported: tuple[Decimal, str] | None = None


NO_LINKS = Linking()
"""A record that ties itself to nothing (a JSON API's)."""


@dataclass(frozen=True, slots=True)
class PledgeRecord:
    """A pledge as a source states it, mapped to the hub's terms.

    ``content_hash`` covers everything the record says (not where it was read), so that a
    record read again unchanged writes nothing; ``lead_roles`` are roles the lead holds
    beyond LEAD; ``gaps`` name what keeps it from being SMART-complete (none: it is
    submitted); ``pledge_only``: its money is pledged, not committed.
    """

    source: str
    external_id: str
    content_hash: str
    place: str
    draft: PledgeDraft
    titles: tuple[Translation, ...]
    descriptions: tuple[Translation, ...]
    lead_roles: tuple[Role, ...]
    endorsers: tuple[EndorserRecord, ...]
    targets: tuple[TargetRecord, ...]
    flows: tuple[FlowRecord, ...]
    reports: tuple[ReportRecord, ...]
    review: tuple[ReviewRecord, ...]
    notes: tuple[str, ...]
    gaps: tuple[str, ...]
    reporting_org: str
    pledge_only: bool = False
    linking: Linking = NO_LINKS

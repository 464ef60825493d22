"""Pledges: the GraphQL type, its relations, filters, orderings and the root list."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

import strawberry
from strawberry import relay

from hub.countries.models import CountryGroup
from hub.imports.models import SourceRecord as SourceModel
from hub.imports.models import SourceState
from hub.imports.queries import languages_of, sees_source, strings, text_in
from hub.money.amounts import to_minor_units
from hub.money.currencies import get_currency
from hub.money.models import MoneyFlow as FlowModel
from hub.money.queries import flow_totals
from hub.pagination import Slice, window
from hub.pledges.models import Pledge as PledgeModel
from hub.pledges.models import TextField
from hub.pledges.queries import GroupAsOf, PledgeFilter, PledgeOrder, pledge_page
from hub.progress.measures import last_counted_report, reporting_status
from schema.common import Entity, Money, Provenance, dollars
from schema.context import Info
from schema.countries import Country
from schema.enums import (
    BeneficiaryGroup,
    FocusArea,
    ImplementationStatus,
    LinkRole,
    OrganisationType,
    PledgeOrderField,
    PledgeType,
    PublicationStatus,
    ReportingStatus,
    Role,
    SortDirection,
    TransactionKind,
)
from schema.organisations import Endorsement, Organisation
from schema.pagination import (
    After,
    Before,
    First,
    Last,
    build_connection,
    fingerprint,
    key_of,
    node_key,
    slice_of,
)
from schema.progress import ProgressReport, Target


@strawberry.type(description="Money a source reports against a pledge.")
class MoneyFlow:
    kind: TransactionKind = strawberry.field(description="What the flow is.")
    amount: Money = strawberry.field(
        description="The signed amount; negative amounts correct earlier flows."
    )
    value_date: date = strawberry.field(description="When the money moved or was committed.")
    description: str | None = strawberry.field(description="What the source says of it.")
    counts_toward_total: bool = strawberry.field(
        description="Whether it is added into the pledge's totals (money counted once)."
    )
    count_reason: str = strawberry.field(description="Why it counts, or why not.")
    provenance: Provenance | None = strawberry.field(description="The source record.")

    @classmethod
    def from_model(cls, flow: FlowModel) -> MoneyFlow:
        """The GraphQL view of a flow."""
        amount = Money.of(flow)
        assert amount is not None
        return cls(
            kind=flow.kind,
            amount=amount,
            value_date=flow.value_date,
            description=flow.description,
            counts_toward_total=flow.counts_toward_total,
            count_reason=flow.count_reason,
            provenance=Provenance.of(flow),
        )


@strawberry.type(description="The counted flows of one kind, added up in US dollars.")
class FlowTotal:
    kind: TransactionKind = strawberry.field(description="The kind of flow.")
    total_usd: Decimal = strawberry.field(
        description="Their US dollar sum; corrections lower it, never below zero."
    )
    flow_count: int = strawberry.field(description="How many flows of this kind count.")
    flows_without_usd: int = strawberry.field(
        description="How many of them have no US dollar value and are not in the sum."
    )


Language = Annotated[
    str | None,
    strawberry.argument(
        description="A BCP 47 language tag, any case, such as fr or fr-CA: the text in that "
        "language, else in another of the same primary language (fr for fr-CA, fr-CA for fr)."
    ),
]


@strawberry.type(description="Where an imported pledge came from, and what its import left to do.")
class PledgeSource:
    source: str = strawberry.field(description="The source, such as iati.")
    external_id: str = strawberry.field(
        description="The record's id in the source (an IATI activity identifier)."
    )
    place: str | None = strawberry.field(
        description="Where the record was read: its file or URL and its position there."
    )
    notes: list[str] = strawberry.field(
        description="What the import noted in mapping it (texts cut short, values left out)."
    )
    gaps: list[str] = strawberry.field(
        description="What keeps the pledge from being SMART-complete, so that it stayed a "
        "draft; empty when it was submitted."
    )
    pledge_only: bool = strawberry.field(
        description="Its money is pledged, not committed: only outgoing pledges count."
    )
    needs_review: bool = strawberry.field(
        description="A part of it waits for a person (an organisation to create): the next "
        "run applies it again."
    )

    @classmethod
    def from_model(cls, record: SourceModel) -> PledgeSource:
        """The GraphQL view of a pledge's source record."""
        return cls(
            source=record.source,
            external_id=record.external_id,
            place=record.place,
            notes=strings(record.notes),
            gaps=strings(record.gaps),
            pledge_only=record.pledge_only,
            needs_review=record.pending,
        )


@strawberry.type(
    description="A source record linked to a pledge: one organisation's report of it, as the "
    "linking rules tie reports of one activity together (see the README)."
)
class LinkedRecord:
    source: str = strawberry.field(description="The source, such as iati or worldbank.")
    external_id: str = strawberry.field(
        description="The record's id in its source (an IATI activity identifier, a World Bank "
        "project id)."
    )
    activity_id: str | None = strawberry.field(
        description="The IATI activity it stands for (a World Bank project P… is 44000-P…)."
    )
    publisher: str | None = strawberry.field(
        description="The IATI organisation identifier of the organisation that reported it."
    )
    claimed: bool = strawberry.field(
        description="A member reported it through its own connector; false: another "
        "organisation did, and it informs the link without making anyone a pledger."
    )
    role: LinkRole | None = strawberry.field(description="What it is to the pledge.")
    reported: Money | None = strawberry.field(
        description="What it commits, as it reports it (not converted to US dollars)."
    )
    counted: bool = strawberry.field(
        description="Whether what it reports is counted in the hub's totals."
    )
    count_reason: str | None = strawberry.field(description="Why it is counted, or why not.")

    @classmethod
    def of(cls, record: SourceModel, counted_elsewhere: bool) -> LinkedRecord:
        """A linked record; the lead's amount counts unless an ancestor pledge holds it."""
        reported = None
        if record.reported_minor is not None and record.reported_currency is not None:
            reported = Money.reported(record.reported_minor, record.reported_currency)
        return cls(
            source=record.source,
            external_id=record.external_id,
            activity_id=record.activity_id,
            publisher=record.reporting_org,
            claimed=record.state is SourceState.PLEDGE,
            role=record.link_role,
            reported=reported,
            counted=record.link_role is LinkRole.LEAD and not counted_elsewhere,
            count_reason=record.count_reason,
        )


async def _in_language(
    info: Info, pledge_id: int, field: TextField, language: str, own: str
) -> str:
    texts = await info.context.loaders.pledge_texts.load(pledge_id)
    return text_in(texts, field, language) or own


def _text(
    info: Info, pledge_id: int, field: TextField, language: str | None, own: str
) -> str | Awaitable[str]:
    """A pledge's text in ``language`` when its source wrote one, else its own. Without a
    language it is a plain value, not a coroutine: a list of pledges asks for titles by the
    hundred, and an execution cancelled midway (a subscriber gone) leaves no coroutine
    unawaited."""
    if language is None:
        return own
    return _in_language(info, pledge_id, field, language, own)


def _title(root: Pledge, info: Info, language: Language = None) -> str | Awaitable[str]:
    return _text(info, root.pledge_id, TextField.TITLE, language, root.own_title)


def _description(root: Pledge, info: Info, language: Language = None) -> str | Awaitable[str]:
    return _text(info, root.pledge_id, TextField.DESCRIPTION, language, root.own_description)


@strawberry.federation.type(
    keys=["id"], description="A member's commitment to connect the hardest-to-connect countries."
)
class Pledge(Entity, relay.Node):
    pledge_id: relay.NodeID[int]
    title: str | Awaitable[str] = strawberry.field(
        resolver=_title,
        graphql_type=str,
        description="Short title; with language, as the pledge's source wrote it in that "
        "language, when it did (see languages), else this one.",
    )
    description: str | Awaitable[str] = strawberry.field(
        resolver=_description,
        graphql_type=str,
        description="What the pledge commits to; with language, as the pledge's source wrote "
        "it in that language, when it did (see languages), else this one.",
    )
    pledge_type: PledgeType = strawberry.field(description="Kind of pledge.")
    publication_status: PublicationStatus = strawberry.field(
        description="Where it is in its public life."
    )
    implementation_status: ImplementationStatus = strawberry.field(
        description="How the pledged work is going."
    )
    announced_on: date = strawberry.field(description="When the pledge was made.")
    start_date: date | None = strawberry.field(description="When the work starts.")
    end_date: date | None = strawberry.field(description="When the work ends.")
    published_at: datetime | None = strawberry.field(description="When it was published.")
    withdrawn_at: datetime | None = strawberry.field(description="When it was withdrawn.")
    returned_at: datetime | None = strawberry.field(
        description="When the secretariat last returned it to its lead for changes."
    )
    return_note: str | None = strawberry.field(
        description="What the secretariat asked to change, when it returned the pledge."
    )
    pledged_amount: Money | None = strawberry.field(
        description="The money pledged, in its currency, with its US dollar equivalent."
    )
    provenance: Provenance | None = strawberry.field(
        description="The source record, when a partner system supplied the pledge."
    )
    version: int = strawberry.field(description="Rises on every change.")
    created_at: datetime = strawberry.field(description="When the hub recorded it.")
    updated_at: datetime = strawberry.field(description="When it last changed.")
    lead_id: strawberry.Private[int]
    own_title: strawberry.Private[str]
    own_description: strawberry.Private[str]

    @classmethod
    def from_model(cls, pledge: PledgeModel) -> Pledge:
        """The GraphQL view of a pledge."""
        return cls(
            pledge_id=pledge.id,
            own_title=pledge.title,
            own_description=pledge.description,
            pledge_type=pledge.pledge_type,
            publication_status=pledge.publication_status,
            implementation_status=pledge.implementation_status,
            announced_on=pledge.announced_on,
            start_date=pledge.start_date,
            end_date=pledge.end_date,
            published_at=pledge.published_at,
            withdrawn_at=pledge.withdrawn_at,
            returned_at=pledge.returned_at,
            return_note=pledge.return_note,
            pledged_amount=Money.of(pledge),
            provenance=Provenance.of(pledge),
            version=pledge.version,
            created_at=pledge.created_at,
            updated_at=pledge.updated_at,
            lead_id=pledge.lead_member_id,
        )

    @classmethod
    async def load(cls, info: Info, pledge_id: int) -> Pledge | None:
        """The pledge a record refers to, if the caller may see it: a member keeps seeing its
        own endorsement or report on a draft it no longer takes part in, not the draft."""
        pledge = await info.context.loaders.pledge.load(pledge_id)
        return cls.from_model(pledge) if pledge is not None else None

    @classmethod
    async def load_nodes(cls, info: Info, node_ids: Iterable[str]) -> list[Pledge | None]:
        keys = [key if (key := node_key(i)) is not None else -1 for i in node_ids]
        found = await info.context.loaders.pledge.load_many(keys)
        return [cls.from_model(p) if p is not None else None for p in found]

    @classmethod
    async def connection_of(
        cls,
        info: Info,
        connection_type: Callable[..., PledgeConnection],
        ids: Sequence[int],
        request: Slice,
        kind: str,
    ) -> PledgeConnection:
        """A connection over ordered ids of visible pledges, loaded for the page only."""
        span = window(request, len(ids))
        pledges = await info.context.loaders.pledge.load_many(list(ids[span.start : span.end]))
        return build_connection(
            connection_type,
            [p for p in pledges if p is not None],
            span,
            kind=kind,
            to_node=cls.from_model,
        )

    @strawberry.field(
        description="The languages (BCP 47 tags, lower case) its source wrote its title or "
        "description in, which title(language:) and description(language:) give; empty for a "
        "pledge written in the hub."
    )
    async def languages(self, info: Info) -> list[str]:
        return languages_of(await info.context.loaders.pledge_texts.load(self.pledge_id))

    @strawberry.field(
        description="The source record it was imported from and what the import left to do; "
        "null when it was written in the hub, and for callers other than its lead member, "
        "the secretariat and connector administrators (scope connectors:admin)."
    )
    async def imported_from(self, info: Info) -> PledgeSource | None:
        if not sees_source(info.context.principal, self.lead_id):
            return None
        record = await info.context.loaders.pledge_source.load(self.pledge_id)
        return PledgeSource.from_model(record) if record is not None else None

    @strawberry.field(
        description="Every source record linked to it, its lead record first: each "
        "organisation's report of the same pledge, with what it reports and whether that is "
        "counted."
    )
    async def linked_records(self, info: Info) -> list[LinkedRecord]:
        records = await info.context.loaders.linked_records.load(self.pledge_id)
        elsewhere = await info.context.loaders.counted_elsewhere.load(self.pledge_id)
        return [LinkedRecord.of(record, elsewhere is not None) for record in records]

    @strawberry.field(
        description="Whether totals (pledgeStats, country and organisation totals) count its "
        "amount: false when an ancestor pledge's commitment holds it (countedIn)."
    )
    async def amount_counted(self, info: Info) -> bool:
        return await info.context.loaders.counted_elsewhere.load(self.pledge_id) is None

    @strawberry.field(
        description="The ancestor pledge whose commitment holds this one's amount, if its "
        "amount is not counted; null as well when that pledge is not visible to the caller."
    )
    async def counted_in(self, info: Info) -> Pledge | None:
        elsewhere = await info.context.loaders.counted_elsewhere.load(self.pledge_id)
        return await Pledge.load(info, elsewhere.counted_in_id) if elsewhere else None

    @strawberry.field(description="Why its amount is counted elsewhere; null when it counts.")
    async def count_reason(self, info: Info) -> str | None:
        elsewhere = await info.context.loaders.counted_elsewhere.load(self.pledge_id)
        return elsewhere.reason if elsewhere else None

    @strawberry.field(
        description="The pledge its source names as its parent (IATI related-activity 1 and "
        "2), if the caller may see it."
    )
    async def parent(self, info: Info) -> Pledge | None:
        ids = await info.context.loaders.parent_ids.load(self.pledge_id)
        found = [p for p in await info.context.loaders.pledge.load_many(ids) if p is not None]
        return Pledge.from_model(found[0]) if found else None

    @strawberry.field(
        description="The pledges its source names as its children, those the caller may see."
    )
    async def children(self, info: Info) -> list[Pledge]:
        ids = await info.context.loaders.child_ids.load(self.pledge_id)
        found = await info.context.loaders.pledge.load_many(ids)
        return [Pledge.from_model(p) for p in found if p is not None]

    @strawberry.field(description="The member that leads the pledge.")
    async def lead(self, info: Info) -> Organisation:
        return await Organisation.load(info, self.lead_id)

    @strawberry.field(description="The focus areas it serves, in name order.")
    async def focus_areas(self, info: Info) -> list[FocusArea]:
        return await info.context.loaders.focus_areas.load(self.pledge_id)

    @strawberry.field(description="The countries it targets.")
    async def target_countries(self, info: Info) -> list[Country]:
        codes = await info.context.loaders.target_countries.load(self.pledge_id)
        countries = await info.context.loaders.country.load_many(codes)
        return [Country.from_model(c) for c in countries if c is not None]

    @strawberry.field(description="Whole country groups it targets.")
    async def target_groups(self, info: Info) -> list[CountryGroup]:
        return await info.context.loaders.target_groups.load(self.pledge_id)

    @strawberry.field(description="The people it means to reach first.")
    async def beneficiary_groups(self, info: Info) -> list[BeneficiaryGroup]:
        return await info.context.loaders.beneficiaries.load(self.pledge_id)

    @strawberry.field(description="The Sustainable Development Goals it serves (1 to 17).")
    async def sdgs(self, info: Info) -> list[int]:
        return await info.context.loaders.sdgs.load(self.pledge_id)

    @strawberry.field(
        description="Accepted endorsements, the lead's included; the lead's own token also sees "
        "the invitations and answers, and an invited member's its own."
    )
    async def endorsements(self, info: Info) -> list[Endorsement]:
        views = await info.context.loaders.endorsements_by_pledge.load(self.pledge_id)
        return [Endorsement.from_view(view) for view in views]

    @strawberry.field(description="Money sources report against it, by value date.")
    async def money_flows(self, info: Info) -> list[MoneyFlow]:
        flows = await info.context.loaders.flows.load(self.pledge_id)
        return [MoneyFlow.from_model(flow) for flow in flows]

    @strawberry.field(description="The counted money flows added up per kind.")
    async def flow_totals(self, info: Info) -> list[FlowTotal]:
        flows = await info.context.loaders.flows.load(self.pledge_id)
        return [
            FlowTotal(
                kind=total.kind,
                total_usd=dollars(total.usd_minor),
                flow_count=total.flows,
                flows_without_usd=total.unconverted,
            )
            for total in flow_totals(flows)
        ]

    @strawberry.field(description="Its measurable targets, with how far each has come.")
    async def targets(self, info: Info) -> list[Target]:
        targets = await info.context.loaders.targets.load(self.pledge_id)
        return [Target.from_model(target) for target in targets]

    @strawberry.field(
        description="Progress reports that were not rejected, oldest period first; the lead's "
        "and the reporter's own tokens also see rejected ones (which measure nothing)."
    )
    async def progress_reports(self, info: Info) -> list[ProgressReport]:
        reports = await info.context.loaders.reports.load(self.pledge_id)
        return [ProgressReport.from_model(report) for report in reports]

    @strawberry.field(
        description="REPORTED within 12 months of the last report (or of publication), DUE "
        "after 12, OVERDUE after 24; null for a pledge that was never published."
    )
    async def reporting_status(
        self,
        info: Info,
        as_of: Annotated[
            date | None, strawberry.argument(description="The day to judge on; today if not given.")
        ] = None,
    ) -> ReportingStatus | None:
        day = as_of or info.context.today
        reports = await info.context.loaders.reports.load(self.pledge_id)
        return reporting_status(self.published_at, last_counted_report(reports, day), day)


@strawberry.type(description="A page of pledges.")
class PledgeConnection(relay.Connection[Pledge]):
    total_count: int = strawberry.field(description="How many pledges match, on all pages.")


@strawberry.input(description="A country group as of a date.")
class CountryGroupAsOfInput:
    group: CountryGroup = strawberry.field(description="The group.")
    as_of: date | None = strawberry.field(
        default=None, description="The day membership is taken on; today when not given."
    )


@strawberry.input(description="A range of US dollar amounts; either end may be left open.")
class UsdRangeInput:
    min: Decimal | None = strawberry.field(default=None, description="At least this many dollars.")
    max: Decimal | None = strawberry.field(default=None, description="At most this many dollars.")


@strawberry.input(description="A range of dates; either end may be left open.")
class DateRangeInput:
    start: date | None = strawberry.field(default=None, description="On or after this day.")
    end: date | None = strawberry.field(default=None, description="On or before this day.")


@strawberry.input(description="Which pledges; every condition is optional, lists match any value.")
class PledgeFilterInput:
    focus_areas: list[FocusArea] | None = strawberry.field(default=None, description="Serves any.")
    pledge_types: list[PledgeType] | None = strawberry.field(default=None, description="Of a type.")
    publication_statuses: list[PublicationStatus] | None = strawberry.field(
        default=None, description="In any of these publication statuses."
    )
    implementation_statuses: list[ImplementationStatus] | None = strawberry.field(
        default=None, description="In any of these implementation statuses."
    )
    target_countries: list[str] | None = strawberry.field(
        default=None, description="Targets any of these ISO 3166-1 alpha-3 countries."
    )
    country_group: CountryGroupAsOfInput | None = strawberry.field(
        default=None,
        description="Targets the group itself, or a country that was in it on the date.",
    )
    members: list[relay.GlobalID] | None = strawberry.field(
        default=None, description="Endorsed (led included) by any of these organisations."
    )
    member_types: list[OrganisationType] | None = strawberry.field(
        default=None, description="Endorsed by an organisation of any of these constituencies."
    )
    roles: list[Role] | None = strawberry.field(
        default=None,
        description="Endorsed in any of these roles (by one of `members`, when given).",
    )
    text: str | None = strawberry.field(
        default=None, description="Words in the title or description, any case."
    )
    usd_amount: UsdRangeInput | None = strawberry.field(
        default=None, description="Pledged US dollars within the range."
    )
    announced: DateRangeInput | None = strawberry.field(
        default=None, description="Announced within the range."
    )


@strawberry.input(description="How to order pledges; ties go by id.")
class PledgeOrderInput:
    field: PledgeOrderField = strawberry.field(description="What to order by.")
    direction: SortDirection = strawberry.field(default=SortDirection.ASC, description="Which way.")


def _cents(amount: Decimal | None, field: str) -> int | None:
    if amount is None:
        return None
    return to_minor_units(amount, get_currency("USD"), field=("filter", "usdAmount", field))


def pledge_filter(given: PledgeFilterInput | None, today: date) -> PledgeFilter:
    """The hub filter for a GraphQL pledge filter."""
    given = given or PledgeFilterInput()
    group = given.country_group
    usd = given.usd_amount or UsdRangeInput()
    announced = given.announced or DateRangeInput()
    return PledgeFilter(
        focus_areas=given.focus_areas or (),
        pledge_types=given.pledge_types or (),
        publication_statuses=given.publication_statuses or (),
        implementation_statuses=given.implementation_statuses or (),
        target_countries=given.target_countries or (),
        country_group=GroupAsOf(group.group, group.as_of or today) if group else None,
        member_ids=[key_of(m, "Organisation", ("filter", "members")) for m in given.members or ()],
        member_types=given.member_types or (),
        roles=given.roles or (),
        text=given.text,
        usd_min_minor=_cents(usd.min, "min"),
        usd_max_minor=_cents(usd.max, "max"),
        announced_from=announced.start,
        announced_to=announced.end,
    )


@strawberry.type
class PledgeQueries:
    @strawberry.field(
        description="Pledges the caller sees (public ones without a token), filtered and "
        "ordered; announcement order by default."
    )
    async def pledges(
        self,
        info: Info,
        filter: Annotated[
            PledgeFilterInput | None, strawberry.argument(description="Which pledges.")
        ] = None,
        order_by: Annotated[
            PledgeOrderInput | None,
            strawberry.argument(description="Order; by announcement date when not given."),
        ] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> PledgeConnection:
        kind = f"pledges/{fingerprint(filter, order_by)}"
        request = slice_of(kind, first, after, last, before)
        criteria = pledge_filter(filter, info.context.today)
        order = PledgeOrder()
        if order_by is not None:
            order = PledgeOrder(order_by.field, order_by.direction is SortDirection.DESC)
        async with info.context.session_factory() as session:
            found, span = await pledge_page(session, info.context.viewer, criteria, order, request)
        for pledge in found:
            info.context.loaders.pledge.prime(pledge.id, pledge)
        return build_connection(PledgeConnection, found, span, kind=kind, to_node=Pledge.from_model)

"""Targets, progress reports and the values they give."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry import relay

from hub.pledges.models import Target as TargetModel
from hub.progress.measures import TargetFacts, reached
from hub.progress.models import ProgressReport as ReportModel
from schema.common import Money, Provenance, plain
from schema.context import Info
from schema.enums import Direction, Indicator, Measure, ReportStatus
from schema.pagination import node_key

if TYPE_CHECKING:
    from schema.organisations import Organisation
    from schema.pledges import Pledge


@strawberry.type(description="A measurable aim of a pledge, and how far it has come.")
class Target(relay.Node):
    target_id: relay.NodeID[int]
    indicator: Indicator = strawberry.field(description="What the target measures.")
    label: str | None = strawberry.field(description="The indicator's name, for OTHER.")
    description: str | None = strawberry.field(description="The aim in words.")
    unit: str = strawberry.field(description="The unit of the values.")
    measure: Measure = strawberry.field(description="A number, or an outcome in words.")
    direction: Direction = strawberry.field(description="Whether higher or lower is better.")
    cumulative: bool = strawberry.field(
        description="True when reports give the level reached; false when each gives its "
        "period's gain, which are then summed."
    )
    baseline: Decimal | None = strawberry.field(description="The value at the start.")
    baseline_date: date | None = strawberry.field(description="When the baseline held.")
    target_value: Decimal | None = strawberry.field(description="The value to reach.")
    deadline: date | None = strawberry.field(description="When it is to be reached.")
    facts: strawberry.Private[TargetFacts]

    @classmethod
    def from_model(cls, target: TargetModel) -> Target:
        """The GraphQL view of a target."""
        return cls(
            target_id=target.id,
            indicator=target.indicator,
            label=target.label,
            description=target.description,
            unit=target.unit,
            measure=target.measure,
            direction=target.direction,
            cumulative=target.cumulative,
            baseline=plain(target.baseline_value),
            baseline_date=target.baseline_date,
            target_value=plain(target.target_value),
            deadline=target.deadline,
            facts=TargetFacts(
                target.measure,
                target.cumulative,
                target.baseline_value,
                target.target_value,
                target.direction,
            ),
        )

    @classmethod
    async def load_nodes(cls, info: Info, node_ids: Iterable[str]) -> list[Target | None]:
        keys = [key if (key := node_key(i)) is not None else -1 for i in node_ids]
        found = await info.context.loaders.target.load_many(keys)
        return [cls.from_model(target) if target is not None else None for target in found]

    @strawberry.field(
        description="The level reached: the last value reported for a cumulative target, the "
        "baseline plus the reported gains otherwise; from reports that were not rejected."
    )
    async def latest_value(self, info: Info) -> Decimal | None:
        values = await info.context.loaders.target_values.load(self.target_id)
        return plain(reached(self.facts, values).latest)

    @strawberry.field(
        description="(latest - baseline) / (target - baseline) * 100, one decimal; null with "
        "percentReason where a percentage means nothing."
    )
    async def percent_reached(self, info: Info) -> Decimal | None:
        values = await info.context.loaders.target_values.load(self.target_id)
        return reached(self.facts, values).percent

    @strawberry.field(description="Why percentReached is null, when it is.")
    async def percent_reason(self, info: Info) -> str | None:
        values = await info.context.loaders.target_values.load(self.target_id)
        return reached(self.facts, values).reason


@strawberry.type(description="The value a report gives for one target.")
class ProgressValue:
    target_id: strawberry.Private[int]
    value: Decimal | None = strawberry.field(description="The value, in the target's unit.")
    note: str | None = strawberry.field(description="A note, for qualitative targets.")

    @strawberry.field(description="The target the value is for.")
    async def target(self, info: Info) -> Target:
        target = await info.context.loaders.target.load(self.target_id)
        if target is None:
            raise LookupError(f"target {self.target_id} of a visible report is not visible")
        return Target.from_model(target)


@strawberry.type(description="A public web page or document backing a report.")
class EvidenceLink:
    url: str = strawberry.field(description="The link.")
    title: str | None = strawberry.field(description="What it is.")


@strawberry.type(description="A member's report on a pledge for a period.")
class ProgressReport(relay.Node):
    report_id: relay.NodeID[int]
    pledge_id: strawberry.Private[int]
    member_id: strawberry.Private[int]
    period_start: date = strawberry.field(description="First day of the period reported on.")
    period_end: date = strawberry.field(description="Last day of the period.")
    submitted_at: datetime = strawberry.field(description="When the report was submitted.")
    status: ReportStatus = strawberry.field(description="The secretariat's verdict so far.")
    reviewed_at: datetime | None = strawberry.field(
        description="When the secretariat verified or rejected it."
    )
    review_note: str | None = strawberry.field(
        description="What the secretariat found, when it said so."
    )
    narrative: str = strawberry.field(description="What happened, in words.")
    disbursed: Money | None = strawberry.field(description="Money disbursed in the period.")
    provenance: Provenance | None = strawberry.field(description="Where the report came from.")

    @classmethod
    def from_model(cls, report: ReportModel) -> ProgressReport:
        """The GraphQL view of a report."""
        return cls(
            report_id=report.id,
            pledge_id=report.pledge_id,
            member_id=report.reporting_member_id,
            period_start=report.period_start,
            period_end=report.period_end,
            submitted_at=report.submitted_at,
            status=report.status,
            reviewed_at=report.reviewed_at,
            review_note=report.review_note,
            narrative=report.narrative,
            disbursed=Money.of(report),
            provenance=Provenance.of(report),
        )

    @classmethod
    async def load_nodes(cls, info: Info, node_ids: Iterable[str]) -> list[ProgressReport | None]:
        keys = [key if (key := node_key(i)) is not None else -1 for i in node_ids]
        found = await info.context.loaders.report.load_many(keys)
        return [cls.from_model(report) if report is not None else None for report in found]

    @strawberry.field(
        description="The pledge reported on; null when the caller may not see it (a draft its "
        "member no longer takes part in)."
    )
    async def pledge(
        self, info: Info
    ) -> Annotated[Pledge, strawberry.lazy("schema.pledges")] | None:
        from schema.pledges import Pledge

        return await Pledge.load(info, self.pledge_id)

    @strawberry.field(description="The member that reported.")
    async def reporting_member(
        self, info: Info
    ) -> Annotated[Organisation, strawberry.lazy("schema.organisations")]:
        from schema.organisations import Organisation

        return await Organisation.load(info, self.member_id)

    @strawberry.field(description="The value given for each target, by target id order.")
    async def values(self, info: Info) -> list[ProgressValue]:
        values = await info.context.loaders.report_values.load(self.report_id)
        return [
            ProgressValue(target_id=v.target_id, value=plain(v.value), note=v.note) for v in values
        ]

    @strawberry.field(description="Links backing the report.")
    async def evidence(self, info: Info) -> list[EvidenceLink]:
        links = await info.context.loaders.evidence.load(self.report_id)
        return [EvidenceLink(url=link.url, title=link.title) for link in links]

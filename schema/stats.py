"""Pledge statistics: counts and US dollar totals of the pledges the caller sees, grouped."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

import strawberry

from hub.money.amounts import Money as MoneyValue
from hub.stats import StatsRow, pledge_stats
from schema.context import Info
from schema.enums import StatsGroupBy
from schema.pledges import PledgeFilterInput, pledge_filter


@strawberry.type(description="An amount in its own currency, without a US dollar value.")
class CurrencyAmount:
    amount: Decimal = strawberry.field(description="The amount in major units.")
    currency: str = strawberry.field(description="ISO 4217 code.")


@strawberry.type(description="Totals over the pledges the caller sees.")
class PledgeStatsGroup:
    key: str = strawberry.field(
        description="The group: an enum value, an alpha-3 country code, a year; ALL for the total."
    )
    pledge_count: int = strawberry.field(description="Pledges in the group.")
    member_count: int = strawberry.field(
        description="Distinct organisations with an accepted endorsement (the lead included); "
        "grouped by MEMBER_TYPE, only those of the group's type."
    )
    total_usd: Decimal = strawberry.field(description="Pledged US dollars, where known.")
    pledges_without_usd: int = strawberry.field(
        description="Pledges with money that has no US dollar value; not in totalUsd."
    )
    amounts_without_usd: list[CurrencyAmount] = strawberry.field(
        description="That money, added up per currency."
    )

    @classmethod
    def of(cls, row: StatsRow) -> PledgeStatsGroup:
        """The GraphQL view of a stats row."""
        return cls(
            key=row.key,
            pledge_count=row.pledges,
            member_count=row.members,
            total_usd=MoneyValue(row.usd_minor, "USD").amount,
            pledges_without_usd=row.without_usd,
            amounts_without_usd=[
                CurrencyAmount(amount=MoneyValue(minor, code).amount, currency=code)
                for code, minor in row.without_usd_by_currency.items()
            ],
        )


@strawberry.type(description="Pledge statistics: per group, and overall with no pledge twice.")
class PledgeStats:
    groups: list[PledgeStatsGroup] = strawberry.field(description="One entry per group, by key.")
    total: PledgeStatsGroup = strawberry.field(
        description="All matching pledges, each counted once even when it is in several groups."
    )
    groups_overlap: bool = strawberry.field(
        description="True when some pledge is in several groups, so the groups add up to more "
        "than the total."
    )


@strawberry.type
class StatsQueries:
    @strawberry.field(description="Counts and totals of public pledges, grouped.")
    async def pledge_stats(
        self,
        info: Info,
        group_by: Annotated[StatsGroupBy, strawberry.argument(description="How to group.")],
        filter: Annotated[
            PledgeFilterInput | None, strawberry.argument(description="Which pledges.")
        ] = None,
    ) -> PledgeStats:
        criteria = pledge_filter(filter, info.context.today)
        async with info.context.session_factory() as session:
            stats = await pledge_stats(session, info.context.viewer, criteria, group_by)
        return PledgeStats(
            groups=[PledgeStatsGroup.of(row) for row in stats.groups],
            total=PledgeStatsGroup.of(stats.total),
            groups_overlap=stats.groups_overlap,
        )

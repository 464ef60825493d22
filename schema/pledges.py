"""Pledges: GraphQL types and queries."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

import strawberry
from strawberry import relay

from hub.money.amounts import Money as MoneyValue
from hub.pledges.models import Pledge as PledgeModel
from hub.pledges.service import list_public_pledges
from schema.context import Info
from schema.enums import (
    FocusArea,
    ImplementationStatus,
    PledgeType,
    PublicationStatus,
)
from schema.organisations import Member
from schema.pagination import build_connection, page_request


@strawberry.type(description="An exact amount of money in an ISO 4217 currency.")
class Money:
    amount: Decimal = strawberry.field(
        description="The amount in major units, with the currency's number of decimals."
    )
    currency: str = strawberry.field(description="ISO 4217 alphabetic currency code.")

    @classmethod
    def of(cls, amount_minor: int | None, currency: str | None) -> Money | None:
        """The GraphQL money for stored minor units, or None when there is none."""
        if amount_minor is None or currency is None:
            return None
        return cls(amount=MoneyValue(amount_minor, currency).amount, currency=currency)


@strawberry.type(description="A member's commitment to connect the hardest-to-connect countries.")
class Pledge(relay.Node):
    id: relay.NodeID[int]
    title: str = strawberry.field(description="Short title of the pledge.")
    description: str = strawberry.field(description="What the pledge commits to.")
    pledge_type: PledgeType = strawberry.field(description="Kind of pledge.")
    publication_status: PublicationStatus = strawberry.field(
        description="Where the pledge is in its public life."
    )
    implementation_status: ImplementationStatus = strawberry.field(
        description="How the pledged work is going."
    )
    start_date: date | None = strawberry.field(description="When the pledged work starts.")
    end_date: date | None = strawberry.field(description="When the pledged work ends.")
    pledged_amount: Money | None = strawberry.field(
        description="The money pledged, in the currency it was pledged in."
    )
    pledged_amount_usd: Money | None = strawberry.field(
        description="The pledged money in US dollars, where a fit exchange rate is known."
    )
    usd_missing_reason: str | None = strawberry.field(
        description="Why the US dollar value is missing, when it is."
    )
    version: int = strawberry.field(description="Rises on every change; send it back to edit.")
    created_at: datetime = strawberry.field(description="When the pledge was recorded.")
    updated_at: datetime = strawberry.field(description="When the pledge last changed.")
    lead_member_id: strawberry.Private[int]

    @strawberry.field(description="The member that leads the pledge.")
    async def lead_member(self, info: Info) -> Member:
        organisation = await info.context.loaders.organisation_by_id.load(self.lead_member_id)
        if organisation is None:
            raise LookupError(f"lead member {self.lead_member_id} of pledge {self.id} is missing")
        return Member.from_model(organisation)

    @strawberry.field(description="The focus areas the pledge serves, in alphabetical order.")
    async def focus_areas(self, info: Info) -> list[FocusArea]:
        return await info.context.loaders.focus_areas_by_pledge.load(self.id)

    @classmethod
    def from_model(cls, pledge: PledgeModel) -> Pledge:
        """The GraphQL view of a pledge."""
        return cls(
            id=pledge.id,
            title=pledge.title,
            description=pledge.description,
            pledge_type=pledge.pledge_type,
            publication_status=pledge.publication_status,
            implementation_status=pledge.implementation_status,
            start_date=pledge.start_date,
            end_date=pledge.end_date,
            pledged_amount=Money.of(pledge.amount_minor, pledge.currency),
            pledged_amount_usd=Money.of(pledge.usd_amount_minor, "USD"),
            usd_missing_reason=pledge.usd_missing_reason,
            version=pledge.version,
            created_at=pledge.created_at,
            updated_at=pledge.updated_at,
            lead_member_id=pledge.lead_member_id,
        )


@strawberry.type(description="A page of pledges.")
class PledgeConnection(relay.Connection[Pledge]):
    total_count: int = strawberry.field(description="How many pledges match, on all pages.")


@strawberry.type
class PledgeQueries:
    @strawberry.field(
        description="Published and fulfilled pledges, in the order they were recorded."
    )
    async def pledges(
        self,
        info: Info,
        first: Annotated[
            int, strawberry.argument(description="How many pledges to return, 1 to 100.")
        ],
        after: Annotated[
            str | None,
            strawberry.argument(description="Return pledges after this cursor."),
        ] = None,
    ) -> PledgeConnection:
        request = page_request(first, after, "pledge")
        async with info.context.session_factory() as session:
            page = await list_public_pledges(session, request)
        return build_connection(
            PledgeConnection,
            page,
            kind="pledge",
            to_node=Pledge.from_model,
            key=lambda pledge: pledge.id,
            after=after,
        )

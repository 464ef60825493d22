"""Members: GraphQL types and queries."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry import relay

from hub.organisations.models import Organisation
from hub.organisations.service import list_members
from schema.context import Info
from schema.enums import MembershipStatus, OrganisationType
from schema.pagination import build_connection, page_request


@strawberry.type(description="An organisation of the coalition or named by partner data.")
class Member(relay.Node):
    id: relay.NodeID[int]
    name: str = strawberry.field(description="The organisation's name.")
    organisation_type: OrganisationType = strawberry.field(
        description="The P2C constituency the organisation belongs to."
    )
    headquarters_country: str | None = strawberry.field(
        description="ISO 3166-1 alpha-3 code of the country of its headquarters."
    )
    iati_identifier: str | None = strawberry.field(
        description="The organisation's IATI organisation identifier, if it has one."
    )
    website: str | None = strawberry.field(description="The organisation's website.")
    membership_status: MembershipStatus = strawberry.field(
        description="Coalition membership status."
    )
    member_since: datetime | None = strawberry.field(
        description="When the organisation became a member."
    )

    @classmethod
    def from_model(cls, organisation: Organisation) -> Member:
        """The GraphQL view of an organisation."""
        return cls(
            id=organisation.id,
            name=organisation.name,
            organisation_type=organisation.organisation_type,
            headquarters_country=organisation.headquarters_country,
            iati_identifier=organisation.iati_identifier,
            website=organisation.website,
            membership_status=organisation.membership_status,
            member_since=organisation.member_since,
        )


@strawberry.type(description="A page of members.")
class MemberConnection(relay.Connection[Member]):
    total_count: int = strawberry.field(description="How many members match, on all pages.")


@strawberry.type
class MemberQueries:
    @strawberry.field(description="Coalition members, in the order they were recorded.")
    async def members(
        self,
        info: Info,
        first: Annotated[
            int, strawberry.argument(description="How many members to return, 1 to 100.")
        ],
        after: Annotated[
            str | None,
            strawberry.argument(description="Return members after this cursor."),
        ] = None,
    ) -> MemberConnection:
        request = page_request(first, after, "member")
        async with info.context.session_factory() as session:
            page = await list_members(session, request)
        return build_connection(
            MemberConnection,
            page,
            kind="member",
            to_node=Member.from_model,
            key=lambda organisation: organisation.id,
            after=after,
        )

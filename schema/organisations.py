"""Organisations and members: who they are, what they lead and endorse, what it adds up to."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry import relay

from hub.endorsements.queries import EndorsementView
from hub.organisations.models import Organisation as OrganisationModel
from hub.organisations.queries import (
    OrganisationFilter,
    OrganisationOrder,
    organisation_page,
)
from schema.common import Entity, Provenance, dollars
from schema.context import Info
from schema.enums import (
    EndorsementStatus,
    MembershipStatus,
    OrganisationOrderField,
    OrganisationType,
    Role,
    SortDirection,
)
from schema.pagination import (
    After,
    Before,
    First,
    Last,
    build_connection,
    fingerprint,
    node_key,
    slice_of,
)

if TYPE_CHECKING:
    from schema.countries import Country
    from schema.pledges import Pledge, PledgeConnection


@strawberry.type(
    description="What an organisation stands behind, counting the pledges the caller sees."
)
class OrganisationTotals:
    pledges_led: int = strawberry.field(description="Pledges it leads.")
    pledges_endorsed: int = strawberry.field(
        description="Pledges it endorses in any role, the ones it leads included."
    )
    led_total_usd: Decimal = strawberry.field(
        description="US dollars pledged in the pledges it leads."
    )
    led_pledges_without_usd: int = strawberry.field(
        description="Pledges it leads whose money has no US dollar value."
    )


@strawberry.type(description="An organisation's standing behind a pledge.")
class Endorsement(relay.Node):
    endorsement_id: relay.NodeID[int]
    pledge_id: strawberry.Private[int]
    organisation_id: strawberry.Private[int]
    status: EndorsementStatus = strawberry.field(description="Where the endorsement stands.")
    roles: list[Role] = strawberry.field(description="The roles held, in name order.")
    invited_at: datetime | None = strawberry.field(
        description="When it was (last) invited; for the lead's own, null."
    )
    accepted_at: datetime | None = strawberry.field(description="When it was accepted.")
    declined_at: datetime | None = strawberry.field(description="When it was declined.")
    revoked_at: datetime | None = strawberry.field(description="When it was revoked.")
    updated_at: datetime = strawberry.field(
        description="When it last changed (a subscriber catching up passes it as since)."
    )

    @classmethod
    def from_view(cls, view: EndorsementView) -> Endorsement:
        """The GraphQL view of an endorsement and its roles."""
        endorsement = view.endorsement
        return cls(
            endorsement_id=endorsement.id,
            pledge_id=endorsement.pledge_id,
            organisation_id=endorsement.organisation_id,
            status=endorsement.status,
            roles=view.roles,
            invited_at=endorsement.invited_at,
            accepted_at=endorsement.accepted_at,
            declined_at=endorsement.declined_at,
            revoked_at=endorsement.revoked_at,
            updated_at=endorsement.updated_at,
        )

    @classmethod
    async def load_nodes(cls, info: Info, node_ids: Iterable[str]) -> list[Endorsement | None]:
        keys = [key if (key := node_key(i)) is not None else -1 for i in node_ids]
        found = await info.context.loaders.endorsement.load_many(keys)
        return [cls.from_view(view) if view is not None else None for view in found]

    @strawberry.field(description="The endorsing organisation.")
    async def organisation(self, info: Info) -> Organisation:
        return await Organisation.load(info, self.organisation_id)

    @strawberry.field(
        description="The pledge endorsed; null when the caller may not see it (a draft the "
        "caller's member declined or was revoked from)."
    )
    async def pledge(
        self, info: Info
    ) -> Annotated[Pledge, strawberry.lazy("schema.pledges")] | None:
        from schema.pledges import Pledge

        return await Pledge.load(info, self.pledge_id)


@strawberry.federation.type(
    keys=["id"], description="An organisation: a coalition member, or one partner data names."
)
class Organisation(Entity, relay.Node):
    organisation_id: relay.NodeID[int]
    name: str = strawberry.field(description="The organisation's name.")
    organisation_type: OrganisationType = strawberry.field(description="Its P2C constituency.")
    headquarters: strawberry.Private[str | None]
    iati_identifier: str | None = strawberry.field(
        description="Its IATI organisation identifier, if it has one."
    )
    website: str | None = strawberry.field(description="Its website.")
    membership_status: MembershipStatus = strawberry.field(description="Membership status.")
    applied_at: datetime | None = strawberry.field(description="When it applied to join.")
    member_since: datetime | None = strawberry.field(description="When it became a member.")
    suspended_at: datetime | None = strawberry.field(description="When it was suspended.")
    provenance: Provenance | None = strawberry.field(
        description="The source record, when partner data named it."
    )

    @classmethod
    def from_model(cls, organisation: OrganisationModel) -> Organisation:
        """The GraphQL view of an organisation."""
        return cls(
            organisation_id=organisation.id,
            name=organisation.name,
            organisation_type=organisation.organisation_type,
            headquarters=organisation.headquarters_country,
            iati_identifier=organisation.iati_identifier,
            website=organisation.website,
            membership_status=organisation.membership_status,
            applied_at=organisation.applied_at,
            member_since=organisation.member_since,
            suspended_at=organisation.suspended_at,
            provenance=Provenance.of(organisation),
        )

    @classmethod
    async def load(cls, info: Info, organisation_id: int) -> Organisation:
        """An organisation another visible record refers to (it always exists)."""
        organisation = await info.context.loaders.organisation.load(organisation_id)
        if organisation is None:
            raise LookupError(f"organisation {organisation_id} is referred to but missing")
        return cls.from_model(organisation)

    @classmethod
    async def load_nodes(cls, info: Info, node_ids: Iterable[str]) -> list[Organisation | None]:
        keys = [key if (key := node_key(i)) is not None else -1 for i in node_ids]
        found = await info.context.loaders.organisation.load_many(keys)
        return [cls.from_model(o) if o is not None else None for o in found]

    @strawberry.field(description="The country of its headquarters.")
    async def headquarters_country(
        self, info: Info
    ) -> Annotated[Country, strawberry.lazy("schema.countries")] | None:
        from schema.countries import Country

        if self.headquarters is None:
            return None
        country = await info.context.loaders.country.load(self.headquarters)
        return Country.from_model(country) if country is not None else None

    @strawberry.field(
        description="Pledges it endorses that the caller sees (in any of the roles, if given)."
    )
    async def pledges(
        self,
        info: Info,
        roles: Annotated[
            list[Role] | None, strawberry.argument(description="Only pledges with these roles.")
        ] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Annotated[PledgeConnection, strawberry.lazy("schema.pledges")]:
        from schema.pledges import Pledge, PledgeConnection

        key = (self.organisation_id, tuple(sorted(set(roles or []))))
        kind = f"organisation-pledges/{fingerprint(*key)}"
        request = slice_of(kind, first, after, last, before)
        ids = await info.context.loaders.organisation_pledge_ids.load(key)
        return await Pledge.connection_of(info, PledgeConnection, ids, request, kind)

    @strawberry.field(
        description="Its endorsements the caller sees, the LEAD ones included: accepted ones; "
        "for its own member's token, its invitations and answers too."
    )
    async def endorsements(self, info: Info) -> list[Endorsement]:
        views = await info.context.loaders.endorsements_by_organisation.load(self.organisation_id)
        return [Endorsement.from_view(view) for view in views]

    @strawberry.field(description="What it stands behind, counting the pledges the caller sees.")
    async def totals(self, info: Info) -> OrganisationTotals:
        totals = await info.context.loaders.organisation_totals.load(self.organisation_id)
        return OrganisationTotals(
            pledges_led=totals.pledges_led,
            pledges_endorsed=totals.pledges_endorsed,
            led_total_usd=dollars(totals.led_usd_minor),
            led_pledges_without_usd=totals.led_without_usd,
        )


@strawberry.type(description="A page of organisations.")
class OrganisationConnection(relay.Connection[Organisation]):
    total_count: int = strawberry.field(description="How many match, on all pages.")


@strawberry.input(description="Which organisations to list; every condition is optional.")
class OrganisationFilterInput:
    organisation_types: list[OrganisationType] | None = strawberry.field(
        default=None, description="Any of these constituencies."
    )
    membership_statuses: list[MembershipStatus] | None = strawberry.field(
        default=None, description="Any of these statuses (organisations only)."
    )
    headquarters_countries: list[str] | None = strawberry.field(
        default=None, description="Headquartered in any of these alpha-3 countries."
    )
    text: str | None = strawberry.field(default=None, description="Part of the name.")


@strawberry.input(description="How to order organisations; ties go by id.")
class OrganisationOrderInput:
    field: OrganisationOrderField = strawberry.field(description="What to order by.")
    direction: SortDirection = strawberry.field(default=SortDirection.ASC, description="Which way.")


async def _organisations(
    info: Info,
    kind: str,
    given: OrganisationFilterInput | None,
    order_by: OrganisationOrderInput | None,
    slice_args: tuple[int | None, str | None, int | None, str | None],
    members_only: bool,
) -> OrganisationConnection:
    kind = f"{kind}/{fingerprint(given, order_by)}"
    request = slice_of(kind, *slice_args)
    given = given or OrganisationFilterInput()
    criteria = OrganisationFilter(
        organisation_types=given.organisation_types or (),
        membership_statuses=(given.membership_statuses or ()) if not members_only else (),
        headquarters_countries=given.headquarters_countries or (),
        text=given.text,
    )
    order = OrganisationOrder()
    if order_by is not None:
        order = OrganisationOrder(order_by.field, order_by.direction is SortDirection.DESC)
    async with info.context.session_factory() as session:
        found, span = await organisation_page(
            session, criteria, order, request, members_only=members_only
        )
    for organisation in found:
        info.context.loaders.organisation.prime(organisation.id, organisation)
    return build_connection(
        OrganisationConnection, found, span, kind=kind, to_node=Organisation.from_model
    )


@strawberry.type
class OrganisationQueries:
    @strawberry.field(description="Coalition members: organisations whose status is MEMBER.")
    async def members(
        self,
        info: Info,
        filter: Annotated[
            OrganisationFilterInput | None, strawberry.argument(description="Which members.")
        ] = None,
        order_by: Annotated[
            OrganisationOrderInput | None, strawberry.argument(description="Order; by name.")
        ] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> OrganisationConnection:
        return await _organisations(
            info, "members", filter, order_by, (first, after, last, before), members_only=True
        )

    @strawberry.field(description="Every organisation: members and those partner data names.")
    async def organisations(
        self,
        info: Info,
        filter: Annotated[
            OrganisationFilterInput | None,
            strawberry.argument(description="Which organisations."),
        ] = None,
        order_by: Annotated[
            OrganisationOrderInput | None, strawberry.argument(description="Order; by name.")
        ] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> OrganisationConnection:
        return await _organisations(
            info, "organisations", filter, order_by, (first, after, last, before), False
        )

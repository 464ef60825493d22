"""Organisation mutations, for the secretariat: record, correct, admit as a member."""

from __future__ import annotations

from typing import Annotated

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import relay

from hub.auth.principal import Principal
from hub.errors import HubError
from hub.lifecycle import Action, Entity
from hub.organisations import commands
from hub.organisations.models import Organisation as OrganisationModel
from hub.organisations.service import OrganisationDraft
from schema.context import Info
from schema.enums import OrganisationType
from schema.mutations.errors import OrganisationUserError, user_errors
from schema.organisations import Organisation
from schema.pagination import key_of
from schema.writes import perform


@strawberry.input(description="What is recorded about an organisation.")
class OrganisationInput:
    name: str = strawberry.field(description="Its name, at most 300 characters.")
    organisation_type: OrganisationType = strawberry.field(description="Its constituency.")
    headquarters_country: str | None = strawberry.field(
        default=None, description="ISO 3166-1 alpha-3 code of its headquarters."
    )
    iati_identifier: str | None = strawberry.field(
        default=None, description="Its IATI organisation identifier, unique in the hub."
    )
    website: str | None = strawberry.field(default=None, description="Its http(s) website.")


def _draft(given: OrganisationInput) -> OrganisationDraft:
    return OrganisationDraft(
        name=given.name,
        organisation_type=given.organisation_type,
        headquarters_country=given.headquarters_country,
        iati_identifier=given.iati_identifier,
        website=given.website,
    )


@strawberry.type(description="The organisation a mutation changed, or why it changed nothing.")
class OrganisationPayload:
    organisation: Organisation | None = strawberry.field(
        description="The organisation as it is now; null on error."
    )
    user_errors: list[OrganisationUserError] = strawberry.field(
        description="Why nothing was written; empty on success."
    )


def _payload(done: OrganisationModel | HubError, arguments: tuple[str, ...]) -> OrganisationPayload:
    if isinstance(done, HubError):
        errors = user_errors(done, OrganisationUserError, arguments)
        return OrganisationPayload(organisation=None, user_errors=errors)
    return OrganisationPayload(organisation=Organisation.from_model(done), user_errors=[])


ORGANISATION = Entity.ORGANISATION
ID = Annotated[relay.GlobalID, strawberry.argument(description="The organisation's id.")]
Input = Annotated[OrganisationInput, strawberry.argument(description="The organisation.")]


@strawberry.type
class OrganisationMutations:
    @strawberry.mutation(
        description="Record an organisation, not yet a member (the secretariat; scope "
        "members:admin)."
    )
    async def create_organisation(self, info: Info, input: Input) -> OrganisationPayload | None:
        async def work(session: AsyncSession, principal: Principal) -> OrganisationModel:
            return await commands.add(session, principal, _draft(input))

        return _payload(await perform(info, ORGANISATION, Action.CREATE, work), ("input",))

    @strawberry.mutation(
        description="Replace what is recorded about an organisation; its membership stays "
        "(the secretariat; scope members:admin)."
    )
    async def update_organisation(
        self, info: Info, id: ID, input: Input
    ) -> OrganisationPayload | None:
        async def work(session: AsyncSession, principal: Principal) -> OrganisationModel:
            key = key_of(id, "Organisation", ("id",))
            return await commands.correct(session, principal, key, _draft(input))

        return _payload(await perform(info, ORGANISATION, Action.EDIT, work), ("id", "input"))

    @strawberry.mutation(
        description="Admit an organisation as a coalition member (the secretariat; scope "
        "members:admin)."
    )
    async def approve_membership(self, info: Info, id: ID) -> OrganisationPayload | None:
        async def work(session: AsyncSession, principal: Principal) -> OrganisationModel:
            return await commands.approve(session, principal, key_of(id, "Organisation", ("id",)))

        return _payload(await perform(info, ORGANISATION, Action.APPROVE, work), ("id",))

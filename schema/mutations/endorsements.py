"""Endorsement mutations: the lead invites and revokes; the invited organisation answers."""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable
from typing import Annotated

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import relay

from hub.auth.principal import Principal
from hub.endorsements import commands
from hub.endorsements.models import Endorsement as EndorsementModel
from hub.endorsements.queries import EndorsementView
from hub.endorsements.service import roles_of
from hub.errors import HubError
from hub.lifecycle import Action, Entity
from schema.context import Info
from schema.enums import Role
from schema.mutations.errors import EndorsementUserError, user_errors
from schema.organisations import Endorsement
from schema.pagination import key_of
from schema.writes import perform


@strawberry.enum(description="An invited organisation's answer.")
class EndorsementAnswer(enum.Enum):
    ACCEPT = strawberry.enum_value("ACCEPT", description="Stand behind the pledge as invited.")
    DECLINE = strawberry.enum_value("DECLINE", description="Do not.")


@strawberry.type(description="The endorsement a mutation changed, or why it changed nothing.")
class EndorsementPayload:
    endorsement: Endorsement | None = strawberry.field(
        description="The endorsement as it is now; null on error."
    )
    user_errors: list[EndorsementUserError] = strawberry.field(
        description="Why nothing was written; empty on success."
    )


EndorsementWork = Callable[[AsyncSession, Principal], Awaitable[EndorsementModel]]
ID = Annotated[relay.GlobalID, strawberry.argument(description="The endorsement's id.")]


async def _payload(
    info: Info, action: Action, work: EndorsementWork, arguments: tuple[str, ...]
) -> EndorsementPayload:
    async def with_roles(session: AsyncSession, principal: Principal) -> EndorsementView:
        endorsement = await work(session, principal)
        roles = await roles_of(session, endorsement.pledge_id, endorsement.organisation_id)
        return EndorsementView(endorsement, roles)

    done = await perform(info, Entity.ENDORSEMENT, action, with_roles)
    if isinstance(done, HubError):
        errors = user_errors(done, EndorsementUserError, arguments)
        return EndorsementPayload(endorsement=None, user_errors=errors)
    return EndorsementPayload(endorsement=Endorsement.from_view(done), user_errors=[])


@strawberry.type
class EndorsementMutations:
    @strawberry.mutation(
        description="Invite an organisation to co-endorse a pledge the caller's member leads, "
        "in the roles named (not LEAD; scope endorsements:write). One that declined or was "
        "revoked may be invited again."
    )
    async def invite_endorser(
        self,
        info: Info,
        pledge_id: Annotated[relay.GlobalID, strawberry.argument(description="The pledge.")],
        organisation_id: Annotated[
            relay.GlobalID, strawberry.argument(description="The organisation to invite.")
        ],
        roles: Annotated[list[Role], strawberry.argument(description="The roles offered.")],
    ) -> EndorsementPayload | None:
        async def work(session: AsyncSession, principal: Principal) -> EndorsementModel:
            pledge = key_of(pledge_id, "Pledge", ("pledgeId",))
            organisation = key_of(organisation_id, "Organisation", ("organisationId",))
            return await commands.invite_endorser(session, principal, pledge, organisation, roles)

        return await _payload(info, Action.INVITE, work, ("pledgeId", "organisationId", "roles"))

    @strawberry.mutation(
        description="Accept or decline an invitation addressed to the caller's member (scope "
        "endorsements:write). Only an accepted endorsement counts."
    )
    async def respond_to_endorsement(
        self,
        info: Info,
        id: ID,
        answer: Annotated[EndorsementAnswer, strawberry.argument(description="The answer.")],
    ) -> EndorsementPayload | None:
        accept = answer is EndorsementAnswer.ACCEPT

        async def work(session: AsyncSession, principal: Principal) -> EndorsementModel:
            key = key_of(id, "Endorsement", ("id",))
            return await commands.answer(session, principal, key, accept=accept)

        action = Action.ACCEPT if accept else Action.DECLINE
        return await _payload(info, action, work, ("id", "answer"))

    @strawberry.mutation(
        description="Withdraw an invitation (the lead) or end an accepted endorsement (the lead "
        "or the endorsing member); scope endorsements:write. The lead's own cannot be revoked."
    )
    async def revoke_endorsement(self, info: Info, id: ID) -> EndorsementPayload | None:
        async def work(session: AsyncSession, principal: Principal) -> EndorsementModel:
            key = key_of(id, "Endorsement", ("id",))
            return await commands.withdraw_endorsement(session, principal, key)

        return await _payload(info, Action.REVOKE, work, ("id",))

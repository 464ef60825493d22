"""What a caller may do to endorsements: the lead invites and revokes, the invited answers."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.audit.ledger import changes_between, record, snapshot
from hub.auth.principal import Principal
from hub.authorization import actors, authorize, require_scope
from hub.endorsements.models import Endorsement, Role
from hub.endorsements.service import endorsement_of, invite, respond, revoke, roles_of
from hub.errors import Conflict, NotFound
from hub.lifecycle import PLEDGE_OPEN_FOR, Action, Entity
from hub.organisations.service import get_organisation
from hub.pledges.commands import locked_pledge, pledge_for
from hub.pledges.models import Pledge
from hub.visibility import endorsement_visible


def _require_open(pledge: Pledge, action: Action) -> None:
    if pledge.publication_status not in PLEDGE_OPEN_FOR[action]:
        raise Conflict(
            f"the pledge is {pledge.publication_status}: its endorsements are final",
            code="PLEDGE_CLOSED",
            field=("pledgeId",),
        )


async def invite_endorser(
    session: AsyncSession,
    principal: Principal,
    pledge_id: int,
    organisation_id: int,
    roles: Sequence[Role],
) -> Endorsement:
    """The lead invites an organisation to co-endorse its pledge in the roles named."""
    require_scope(principal, Entity.ENDORSEMENT, Action.INVITE)
    pledge = await pledge_for(session, principal, pledge_id, field="pledgeId")
    await get_organisation(session, organisation_id)
    existing = await endorsement_of(session, pledge_id, organisation_id)
    held = actors(principal, lead_member_id=pledge.lead_member_id)
    source = existing.status if existing is not None else None
    authorize(principal, Entity.ENDORSEMENT, Action.INVITE, source, held)
    _require_open(pledge, Action.INVITE)
    before = snapshot(existing) if existing is not None else None
    held_roles = await roles_of(session, pledge_id, organisation_id) if existing else None
    endorsement = await invite(
        session, pledge_id, organisation_id, roles, invited_by_id=pledge.lead_member_id
    )
    parts = changes_between(
        None if held_roles is None else {"roles": held_roles}, {"roles": sorted(roles)}
    )
    await record(session, principal, "endorsement.invite", endorsement, before, parts)
    return endorsement


async def _endorsement_for(
    session: AsyncSession, principal: Principal, endorsement_id: int
) -> tuple[Endorsement, Pledge]:
    """The endorsement, read again once its pledge is locked: every change to an endorsement
    holds its pledge's lock, so two answers to one invitation are taken one after the other."""
    pledge_id = await session.scalar(
        select(Endorsement.pledge_id).where(
            Endorsement.id == endorsement_id, endorsement_visible(principal.viewer)
        )
    )
    if pledge_id is None:
        raise NotFound("no endorsement with this id is visible to this client", field=("id",))
    # the caller may see the endorsement, not always its pledge (a draft it declined): the
    # pledge is read for the rules only, which refuse such an endorsement by its status
    pledge = await locked_pledge(session, pledge_id)
    assert pledge is not None  # an endorsement's pledge is never deleted
    endorsement = await session.scalar(
        select(Endorsement)
        .where(Endorsement.id == endorsement_id)
        .execution_options(populate_existing=True)
    )
    assert endorsement is not None  # its pledge is locked: it cannot have gone
    return endorsement, pledge


async def answer(
    session: AsyncSession, principal: Principal, endorsement_id: int, *, accept: bool
) -> Endorsement:
    """The invited organisation accepts or declines."""
    action = Action.ACCEPT if accept else Action.DECLINE
    require_scope(principal, Entity.ENDORSEMENT, action)
    endorsement, pledge = await _endorsement_for(session, principal, endorsement_id)
    held = actors(
        principal, lead_member_id=pledge.lead_member_id, invitee_id=endorsement.organisation_id
    )
    authorize(principal, Entity.ENDORSEMENT, action, endorsement.status, held)
    if accept:
        _require_open(pledge, Action.ACCEPT)
    before = snapshot(endorsement)
    answered = await respond(session, endorsement.id, accept=accept)
    await record(session, principal, f"endorsement.{action.value.lower()}", answered, before)
    return answered


async def withdraw_endorsement(
    session: AsyncSession, principal: Principal, endorsement_id: int
) -> Endorsement:
    """The lead withdraws an invitation or ends an endorsement; the endorser ends its own."""
    require_scope(principal, Entity.ENDORSEMENT, Action.REVOKE)
    endorsement, pledge = await _endorsement_for(session, principal, endorsement_id)
    held = actors(
        principal, lead_member_id=pledge.lead_member_id, invitee_id=endorsement.organisation_id
    )
    authorize(principal, Entity.ENDORSEMENT, Action.REVOKE, endorsement.status, held)
    _require_open(pledge, Action.REVOKE)
    before = snapshot(endorsement)
    revoked = await revoke(session, endorsement.id)
    await record(session, principal, "endorsement.revoke", revoked, before)
    return revoked

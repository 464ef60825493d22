"""Endorsements: inviting organisations to stand behind a pledge, and their answers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.audit.ledger import snapshot
from hub.authorization import step
from hub.endorsements.models import Endorsement, EndorsementRole, EndorsementStatus, Role
from hub.errors import Conflict, InvalidInput, NotFound
from hub.integrity import flush
from hub.lifecycle import Action, Entity
from hub.live.announcements import Topic, announce
from hub.organisations.service import get_organisation, require_member
from hub.types import utcnow


def lead_endorsement(organisation_id: int, at: datetime) -> Endorsement:
    """The accepted LEAD endorsement a pledge's lead member holds from creation on."""
    return Endorsement(
        organisation_id=organisation_id,
        status=EndorsementStatus.ACCEPTED,
        accepted_at=at,
        roles=[
            EndorsementRole(
                organisation_id=organisation_id, role=Role.LEAD, lead_member_id=organisation_id
            )
        ],
    )


async def has_lead(session: AsyncSession, pledge_id: int) -> bool:
    """Whether a pledge has its LEAD role, accepted by the lead member."""
    query = select(
        exists()
        .where(EndorsementRole.pledge_id == pledge_id, EndorsementRole.role == Role.LEAD)
        .where(
            Endorsement.pledge_id == EndorsementRole.pledge_id,
            Endorsement.organisation_id == EndorsementRole.organisation_id,
            Endorsement.status == EndorsementStatus.ACCEPTED,
        )
    )
    return bool(await session.scalar(query))


async def invite(
    session: AsyncSession,
    pledge_id: int,
    organisation_id: int,
    roles: Sequence[Role],
    *,
    invited_by_id: int,
    at: datetime | None = None,
) -> Endorsement:
    """Invite an organisation to co-endorse a pledge in one or more roles (not LEAD); one
    that declined, or whose endorsement was revoked, is invited afresh in the same record."""
    if not roles:
        raise InvalidInput("an invitation names at least one role", field=("roles",))
    if Role.LEAD in roles:
        raise InvalidInput(
            "the LEAD role belongs to the pledge's lead member",
            code="LEAD_NOT_INVITED",
            field=("roles",),
        )
    if len(set(roles)) != len(roles):
        raise InvalidInput("a role is listed twice", code="DUPLICATE_VALUE", field=("roles",))
    await get_organisation(session, organisation_id)
    endorsement = await endorsement_of(session, pledge_id, organisation_id)
    step(Entity.ENDORSEMENT, Action.INVITE, endorsement.status if endorsement else None)
    if endorsement is None:
        endorsement = Endorsement(pledge_id=pledge_id, organisation_id=organisation_id)
        session.add(endorsement)
    else:
        await session.execute(
            delete(EndorsementRole).where(
                EndorsementRole.pledge_id == pledge_id,
                EndorsementRole.organisation_id == organisation_id,
            )
        )
    endorsement.status = EndorsementStatus.INVITED
    endorsement.invited_by_id, endorsement.invited_at = invited_by_id, at or utcnow()
    endorsement.accepted_at = endorsement.declined_at = endorsement.revoked_at = None
    await flush(session)
    session.add_all(
        EndorsementRole(pledge_id=pledge_id, organisation_id=organisation_id, role=role)
        for role in roles
    )
    await flush(session)
    await announce(session, Topic.ENDORSEMENT_CHANGED, endorsement.id)
    return endorsement


async def endorsement_of(
    session: AsyncSession, pledge_id: int, organisation_id: int
) -> Endorsement | None:
    """The organisation's endorsement record on the pledge, if it has one."""
    return await session.scalar(
        select(Endorsement).where(
            Endorsement.pledge_id == pledge_id, Endorsement.organisation_id == organisation_id
        )
    )


async def roles_of(session: AsyncSession, pledge_id: int, organisation_id: int) -> list[Role]:
    """The roles an organisation's endorsement of a pledge holds, in name order."""
    rows = await session.scalars(
        select(EndorsementRole.role)
        .where(
            EndorsementRole.pledge_id == pledge_id,
            EndorsementRole.organisation_id == organisation_id,
        )
        .order_by(EndorsementRole.role)
    )
    return list(rows)


async def add_roles(
    session: AsyncSession, pledge_id: int, organisation_id: int, roles: Sequence[Role]
) -> list[Role]:
    """Add roles to an organisation's endorsement (the lead's own extra roles, as a source
    states them); returns those it did not hold."""
    held = set(await roles_of(session, pledge_id, organisation_id))
    added = sorted(set(roles) - held - {Role.LEAD})
    session.add_all(
        EndorsementRole(pledge_id=pledge_id, organisation_id=organisation_id, role=role)
        for role in added
    )
    await flush(session)
    return added


async def get_endorsement(session: AsyncSession, endorsement_id: int) -> Endorsement:
    """The endorsement with this id, or ``NotFound``."""
    endorsement = await session.get(Endorsement, endorsement_id)
    if endorsement is None:
        raise NotFound(f"endorsement {endorsement_id} does not exist", field=("endorsementId",))
    return endorsement


async def respond(
    session: AsyncSession, endorsement_id: int, *, accept: bool, at: datetime | None = None
) -> Endorsement:
    """The invited organisation's answer; only a member may accept."""
    endorsement = await get_endorsement(session, endorsement_id)
    step(Entity.ENDORSEMENT, Action.ACCEPT if accept else Action.DECLINE, endorsement.status)
    when = at or utcnow()
    if accept:
        await require_member(session, endorsement.organisation_id, field=None)
        endorsement.status, endorsement.accepted_at = EndorsementStatus.ACCEPTED, when
    else:
        endorsement.status, endorsement.declined_at = EndorsementStatus.DECLINED, when
    await flush(session)
    await announce(session, Topic.ENDORSEMENT_CHANGED, endorsement.id)
    return endorsement


async def revoke(
    session: AsyncSession, endorsement_id: int, *, at: datetime | None = None
) -> Endorsement:
    """Withdraw an invitation or an accepted endorsement; a LEAD cannot be revoked."""
    endorsement = await get_endorsement(session, endorsement_id)
    step(Entity.ENDORSEMENT, Action.REVOKE, endorsement.status)
    if Role.LEAD in await roles_of(session, endorsement.pledge_id, endorsement.organisation_id):
        raise Conflict(
            "the lead's endorsement cannot be revoked; withdraw the pledge instead",
            code="LEAD_REQUIRED",
            field=("id",),
        )
    endorsement.status, endorsement.revoked_at = EndorsementStatus.REVOKED, at or utcnow()
    await flush(session)
    await announce(session, Topic.ENDORSEMENT_CHANGED, endorsement.id)
    return endorsement


async def reset_co_endorsements(
    session: AsyncSession, pledge_id: int, *, at: datetime | None = None
) -> list[tuple[Endorsement, dict[str, Any]]]:
    """After a material edit: every ACCEPTED co-endorsement (not the lead's) is INVITED again,
    so that no organisation stands behind terms it has not seen. Each comes with its fields
    as they were, for the audit ledger."""
    lead = select(EndorsementRole.organisation_id).where(
        EndorsementRole.pledge_id == pledge_id, EndorsementRole.role == Role.LEAD
    )
    accepted = await session.scalars(
        select(Endorsement).where(
            Endorsement.pledge_id == pledge_id,
            Endorsement.status == EndorsementStatus.ACCEPTED,
            Endorsement.organisation_id.not_in(lead),
        )
    )
    reset = [(endorsement, snapshot(endorsement)) for endorsement in accepted]
    when = at or utcnow()
    for endorsement, _ in reset:
        step(Entity.ENDORSEMENT, Action.RESET, endorsement.status)
        endorsement.status, endorsement.invited_at = EndorsementStatus.INVITED, when
        endorsement.accepted_at = None
    await flush(session)
    await announce(session, Topic.ENDORSEMENT_CHANGED, *(changed.id for changed, _ in reset))
    return reset

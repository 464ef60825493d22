"""Endorsements: inviting organisations to stand behind a pledge, and their answers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.endorsements.models import Endorsement, EndorsementRole, EndorsementStatus, Role
from hub.errors import Conflict, InvalidInput, NotFound
from hub.integrity import flush
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
    """Invite an organisation to co-endorse a pledge in one or more roles (not LEAD)."""
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
    endorsement = Endorsement(
        pledge_id=pledge_id,
        organisation_id=organisation_id,
        status=EndorsementStatus.INVITED,
        invited_by_id=invited_by_id,
        invited_at=at or utcnow(),
        roles=[EndorsementRole(organisation_id=organisation_id, role=role) for role in roles],
    )
    session.add(endorsement)
    await flush(session)
    return endorsement


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
    if endorsement.status is not EndorsementStatus.INVITED:
        raise Conflict(
            f"only an invitation can be answered; this endorsement is {endorsement.status}",
            code="INVALID_TRANSITION",
            field=("status",),
        )
    when = at or utcnow()
    if accept:
        await require_member(session, endorsement.organisation_id, field="organisationId")
        endorsement.status, endorsement.accepted_at = EndorsementStatus.ACCEPTED, when
    else:
        endorsement.status, endorsement.declined_at = EndorsementStatus.DECLINED, when
    await flush(session)
    return endorsement


async def revoke(
    session: AsyncSession, endorsement_id: int, *, at: datetime | None = None
) -> Endorsement:
    """Withdraw an invitation or an accepted endorsement; a LEAD cannot be revoked."""
    endorsement = await get_endorsement(session, endorsement_id)
    if endorsement.status not in (EndorsementStatus.INVITED, EndorsementStatus.ACCEPTED):
        raise Conflict(
            f"a {endorsement.status} endorsement cannot be revoked",
            code="INVALID_TRANSITION",
            field=("status",),
        )
    lead = await session.scalar(
        select(EndorsementRole).where(
            EndorsementRole.pledge_id == endorsement.pledge_id,
            EndorsementRole.organisation_id == endorsement.organisation_id,
            EndorsementRole.role == Role.LEAD,
        )
    )
    if lead is not None:
        raise Conflict("the lead's endorsement cannot be revoked", code="LEAD_REQUIRED")
    endorsement.status, endorsement.revoked_at = EndorsementStatus.REVOKED, at or utcnow()
    await flush(session)
    return endorsement

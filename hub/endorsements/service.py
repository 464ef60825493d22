"""Endorsements: who stands behind a pledge, in which roles."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.endorsements.models import Endorsement, EndorsementRole, EndorsementStatus, Role


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

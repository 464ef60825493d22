"""Reading endorsements and their roles as a viewer may see them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from hub.endorsements.models import Endorsement, EndorsementRole, Role
from hub.visibility import Viewer, endorsement_visible


@dataclass(frozen=True, slots=True)
class EndorsementView:
    """An endorsement with the roles it holds."""

    endorsement: Endorsement
    roles: list[Role]


async def _by(
    session: AsyncSession, viewer: Viewer, key: InstrumentedAttribute[int], ids: Iterable[int]
) -> dict[int, list[EndorsementView]]:
    wanted = set(ids)
    rows = await session.execute(
        select(Endorsement, EndorsementRole.role)
        .join(
            EndorsementRole,
            and_(
                EndorsementRole.pledge_id == Endorsement.pledge_id,
                EndorsementRole.organisation_id == Endorsement.organisation_id,
            ),
        )
        .where(key.in_(wanted), endorsement_visible(viewer))
        .order_by(Endorsement.id, EndorsementRole.role)
    )
    views: dict[int, EndorsementView] = {}
    for endorsement, role in rows:
        views.setdefault(endorsement.id, EndorsementView(endorsement, [])).roles.append(role)
    found: dict[int, list[EndorsementView]] = defaultdict(list)
    for view in views.values():
        found[getattr(view.endorsement, key.key)].append(view)
    return {owner: found[owner] for owner in wanted}


async def endorsements_by_pledge(
    session: AsyncSession, viewer: Viewer, pledge_ids: Iterable[int]
) -> dict[int, list[EndorsementView]]:
    """Visible endorsements of many pledges with their roles, in one statement."""
    return await _by(session, viewer, Endorsement.pledge_id, pledge_ids)


async def endorsements_by_organisation(
    session: AsyncSession, viewer: Viewer, organisation_ids: Iterable[int]
) -> dict[int, list[EndorsementView]]:
    """Visible endorsements many organisations hold, with their roles, in one statement."""
    return await _by(session, viewer, Endorsement.organisation_id, organisation_ids)


async def endorsements_by_id(
    session: AsyncSession, viewer: Viewer, endorsement_ids: Iterable[int]
) -> dict[int, EndorsementView]:
    """Visible endorsements by id with their roles, in one statement."""
    found = await _by(session, viewer, Endorsement.id, endorsement_ids)
    return {key: views[0] for key, views in found.items() if views}

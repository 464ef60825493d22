"""Organisations and membership: who is known to the hub, and who may pledge."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.columns import Provenance
from hub.countries.service import require_countries
from hub.errors import Conflict, NotFound
from hub.integrity import flush
from hub.organisations.models import (
    MembershipStatus,
    Organisation,
    OrganisationIdentifier,
    OrganisationType,
)
from hub.types import utcnow


async def create_organisation(
    session: AsyncSession,
    *,
    name: str,
    organisation_type: OrganisationType,
    headquarters_country: str | None = None,
    iati_identifier: str | None = None,
    website: str | None = None,
    identifiers: Mapping[str, str] | None = None,
    provenance: Provenance | None = None,
) -> Organisation:
    """Record an organisation; it is not a member until ``admit_member``."""
    if headquarters_country is not None:
        await require_countries(session, [headquarters_country], field="headquartersCountry")
    organisation = Organisation(
        name=name.strip(),
        organisation_type=organisation_type,
        headquarters_country=headquarters_country,
        iati_identifier=iati_identifier,
        website=website,
        membership_status=MembershipStatus.NONE,
        identifiers=[
            OrganisationIdentifier(scheme=scheme, value=value)
            for scheme, value in (identifiers or {}).items()
        ],
    )
    if provenance is not None:
        provenance.stamp(organisation)
    session.add(organisation)
    await flush(session)
    return organisation


async def get_organisation(session: AsyncSession, organisation_id: int) -> Organisation:
    """The organisation with this id, or ``NotFound``."""
    organisation = await session.get(Organisation, organisation_id)
    if organisation is None:
        raise NotFound(f"organisation {organisation_id} does not exist", field=("organisationId",))
    return organisation


async def admit_member(
    session: AsyncSession, organisation_id: int, *, at: datetime | None = None
) -> Organisation:
    """Make an organisation a coalition member (the secretariat's decision)."""
    organisation = await get_organisation(session, organisation_id)
    if organisation.membership_status is MembershipStatus.MEMBER:
        raise Conflict(f"{organisation.name} is already a member", code="ALREADY_MEMBER")
    organisation.membership_status = MembershipStatus.MEMBER
    organisation.member_since = organisation.member_since or at or utcnow()
    organisation.suspended_at = None
    await flush(session)
    return organisation


async def apply_for_membership(
    session: AsyncSession, organisation_id: int, *, at: datetime | None = None
) -> Organisation:
    """An organisation asks to join; the secretariat decides with ``admit_member``."""
    organisation = await get_organisation(session, organisation_id)
    if organisation.membership_status is not MembershipStatus.NONE:
        raise Conflict(
            f"{organisation.name} is already {organisation.membership_status}",
            code="INVALID_TRANSITION",
        )
    organisation.membership_status = MembershipStatus.APPLIED
    organisation.applied_at = at or utcnow()
    await flush(session)
    return organisation


async def suspend_member(
    session: AsyncSession, organisation_id: int, *, at: datetime | None = None
) -> Organisation:
    """Suspend a member: it keeps its record and pledges but may not pledge anew."""
    organisation = await get_organisation(session, organisation_id)
    if organisation.membership_status is not MembershipStatus.MEMBER:
        raise Conflict(f"{organisation.name} is not a member", code="NOT_A_MEMBER")
    organisation.membership_status = MembershipStatus.SUSPENDED
    organisation.suspended_at = at or utcnow()
    await flush(session)
    return organisation


async def require_member(
    session: AsyncSession, organisation_id: int, *, field: str
) -> Organisation:
    """The organisation, refused unless it is a member now (only members pledge)."""
    organisation = await get_organisation(session, organisation_id)
    if not organisation.is_member:
        raise Conflict(
            f"{organisation.name} is not a coalition member", code="NOT_A_MEMBER", field=(field,)
        )
    return organisation


async def organisations_by_id(session: AsyncSession, ids: Iterable[int]) -> dict[int, Organisation]:
    """Organisations for many ids in one statement (for dataloaders)."""
    wanted = set(ids)
    if not wanted:
        return {}
    rows = await session.scalars(select(Organisation).where(Organisation.id.in_(wanted)))
    return {organisation.id: organisation for organisation in rows}

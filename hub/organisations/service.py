"""Organisations and membership: who is known to the hub, and who may pledge."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.authorization import step
from hub.columns import Provenance
from hub.countries.service import require_countries
from hub.errors import Conflict, InvalidInput, NotFound
from hub.integrity import flush
from hub.lifecycle import Action, Entity
from hub.organisations.matching import normalise_name, organisation_by_iati
from hub.organisations.models import (
    MembershipStatus,
    Organisation,
    OrganisationIdentifier,
    OrganisationType,
)
from hub.pledges.rules import check_length
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
        name_key=normalise_name(name),
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


@dataclass(frozen=True, slots=True)
class OrganisationDraft:
    """What the secretariat states about an organisation."""

    name: str
    organisation_type: OrganisationType
    headquarters_country: str | None = None
    iati_identifier: str | None = None
    website: str | None = None


def check_organisation(draft: OrganisationDraft) -> None:
    """Refuse an organisation that can never be stored, naming the field that is wrong."""
    if not draft.name.strip():
        raise InvalidInput("an organisation needs a name", code="REQUIRED", field=("name",))
    check_length(draft.name, 300, ("name",))
    if draft.iati_identifier is not None:
        if not draft.iati_identifier.strip() or any(c.isspace() for c in draft.iati_identifier):
            raise InvalidInput(
                "an IATI organisation identifier has no spaces, such as XM-DAC-41114",
                field=("iatiIdentifier",),
            )
        check_length(draft.iati_identifier, 200, ("iatiIdentifier",))
    if draft.website is not None:
        if not draft.website.startswith(("https://", "http://")) or any(
            c.isspace() for c in draft.website
        ):
            raise InvalidInput(
                "a website is an http(s) address", code="INVALID_URL", field=("website",)
            )
        check_length(draft.website, 500, ("website",))


async def update_organisation(
    session: AsyncSession, organisation: Organisation, draft: OrganisationDraft
) -> Organisation:
    """Replace what is stated about an organisation; its membership is not touched."""
    check_organisation(draft)
    if draft.headquarters_country is not None:
        await require_countries(session, [draft.headquarters_country], field="headquartersCountry")
    organisation.name = draft.name.strip()
    organisation.name_key = normalise_name(draft.name)
    organisation.organisation_type = draft.organisation_type
    organisation.headquarters_country = draft.headquarters_country
    organisation.iati_identifier = draft.iati_identifier
    organisation.website = draft.website
    await flush(session)
    return organisation


async def get_organisation(
    session: AsyncSession,
    organisation_id: int,
    *,
    field: str = "organisationId",
    lock: bool = False,
) -> Organisation:
    """The organisation with this id, or ``NotFound`` naming ``field``; ``lock`` holds its row
    until the transaction ends, read afresh, so that changes to it are taken one at a time."""
    organisation = await session.get(
        Organisation, organisation_id, with_for_update=lock, populate_existing=lock
    )
    if organisation is None:
        raise NotFound(f"organisation {organisation_id} does not exist", field=(field,))
    return organisation


async def find_organisation(session: AsyncSession, reference: str, *, field: str) -> Organisation:
    """An organisation named by its hub id or its IATI organisation identifier (at the
    console and in settings, where people name organisations); a number that is no hub id
    may be an identifier (the World Bank's is 44000)."""
    if reference.isascii() and reference.isdigit() and len(reference) <= 9:
        by_id = await session.get(Organisation, int(reference))
        if by_id is not None:
            return by_id
    found = await organisation_by_iati(session, reference)
    if found is None:
        raise NotFound(f"no organisation has id or IATI identifier {reference!r}", field=(field,))
    return found


async def admit_member(
    session: AsyncSession, organisation_id: int, *, at: datetime | None = None
) -> Organisation:
    """Make an organisation a coalition member (the secretariat's decision)."""
    organisation = await get_organisation(session, organisation_id)
    step(Entity.ORGANISATION, Action.APPROVE, organisation.membership_status)
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
    session: AsyncSession, organisation_id: int, *, field: str | None
) -> Organisation:
    """The organisation, refused unless it is a member now (only members pledge); ``field``
    is the input that named it, None when it is the caller's own member."""
    organisation = await get_organisation(session, organisation_id)
    if not organisation.is_member:
        raise Conflict(
            f"{organisation.name} is not a coalition member now",
            code="NOT_A_MEMBER",
            field=(field,) if field else (),
        )
    return organisation


async def organisations_by_id(session: AsyncSession, ids: Iterable[int]) -> dict[int, Organisation]:
    """Organisations for many ids in one statement (for dataloaders)."""
    wanted = set(ids)
    if not wanted:
        return {}
    rows = await session.scalars(select(Organisation).where(Organisation.id.in_(wanted)))
    return {organisation.id: organisation for organisation in rows}

"""Organisations and membership."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from hub.errors import Conflict, NotFound
from hub.organisations.models import MembershipStatus, OrganisationType
from hub.organisations.queries import OrganisationFilter, OrganisationOrder, organisation_page
from hub.organisations.service import admit_member, create_organisation, organisations_by_id
from hub.pagination import Slice
from tests.fixtures.factories import JOINED


async def test_organisations_join_the_coalition_when_admitted(session: AsyncSession) -> None:
    itu = await create_organisation(
        session,
        name="International Telecommunication Union",
        organisation_type=OrganisationType.INTERNATIONAL_ORGANIZATION,
        headquarters_country="CHE",
        iati_identifier="XM-DAC-41130",
        identifiers={"LEI": "EXAMPLE-LEI-0001"},
    )
    implementer = await create_organisation(
        session, name="Local NGO", organisation_type=OrganisationType.CIVIL_SOCIETY
    )
    assert itu.membership_status is MembershipStatus.NONE

    member = await admit_member(session, itu.id, at=JOINED)
    assert member.membership_status is MembershipStatus.MEMBER
    assert member.member_since == JOINED
    with pytest.raises(Conflict):
        await admit_member(session, itu.id)

    members, span = await organisation_page(
        session, OrganisationFilter(), OrganisationOrder(), Slice(first=10), members_only=True
    )
    assert [m.name for m in members] == ["International Telecommunication Union"]
    assert span.total == 1
    found = await organisations_by_id(session, [itu.id, implementer.id, 404])
    assert set(found) == {itu.id, implementer.id}


async def test_iati_identifiers_are_unique(session: AsyncSession) -> None:
    await create_organisation(
        session,
        name="UNDP",
        organisation_type=OrganisationType.INTERNATIONAL_ORGANIZATION,
        iati_identifier="XM-DAC-41114",
    )
    with pytest.raises(Conflict) as refused:
        await create_organisation(
            session,
            name="UNDP again",
            organisation_type=OrganisationType.INTERNATIONAL_ORGANIZATION,
            iati_identifier="XM-DAC-41114",
        )
    assert refused.value.field == ("iati_identifier",)


async def test_admitting_an_unknown_organisation_is_not_found(session: AsyncSession) -> None:
    with pytest.raises(NotFound):
        await admit_member(session, 12345)

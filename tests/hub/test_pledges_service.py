"""Recording, submitting, publishing and listing pledges through the service."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.countries.models import CountryGroup
from hub.endorsements.models import Endorsement, EndorsementRole, EndorsementStatus, Role
from hub.errors import Conflict, InvalidInput, NotFound
from hub.models import Pledge, PledgeTargetCountry, PledgeTargetGroup, PublicationStatus
from hub.organisations.models import OrganisationType
from hub.organisations.service import create_organisation
from hub.pagination import Slice
from hub.pledges.models import BeneficiaryGroup, FocusArea, PledgeType
from hub.pledges.queries import PledgeFilter, PledgeOrder, focus_areas_by_pledge, pledge_page
from hub.pledges.rules import PledgeDraft
from hub.pledges.service import create_pledge, publish_pledge, submit_pledge
from hub.visibility import PUBLIC
from tests.fixtures.factories import add_member, add_pledge, add_published_pledge


async def test_a_pledge_is_recorded_with_its_lead_endorsement(session: AsyncSession) -> None:
    member = await add_member(session, "Nepal Telecom", OrganisationType.PRIVATE_SECTOR)
    pledge = await create_pledge(
        session,
        member.id,
        PledgeDraft(
            title="  Fibre to 500 rural schools ",
            pledge_type=PledgeType.FINANCIAL,
            focus_areas=(FocusArea.ACCESS, FocusArea.ADOPTION),
            target_countries=("NPL", "BTN"),
            target_groups=(CountryGroup.LLDC,),
            beneficiary_groups=(BeneficiaryGroup.YOUTH,),
            sdgs=(4, 9),
            start_date=date(2024, 1, 1),
            end_date=date(2026, 12, 31),
            amount="2500000.50",
            currency="USD",
        ),
    )
    await session.commit()

    assert pledge.title == "Fibre to 500 rural schools"
    assert pledge.publication_status is PublicationStatus.DRAFT
    assert (pledge.amount_minor, pledge.currency) == (250000050, "USD")
    assert (pledge.usd_amount_minor, pledge.usd_rate) == (250000050, Decimal(1))
    assert pledge.version == 1
    endorsement = await session.scalar(
        select(Endorsement).where(Endorsement.pledge_id == pledge.id)
    )
    assert endorsement is not None
    assert (endorsement.organisation_id, endorsement.status) == (
        member.id,
        EndorsementStatus.ACCEPTED,
    )
    roles = (await session.scalars(select(EndorsementRole.role))).all()
    assert roles == [Role.LEAD]
    countries = await session.scalars(
        select(PledgeTargetCountry.country).order_by(PledgeTargetCountry.country)
    )
    assert list(countries) == ["BTN", "NPL"]
    assert await session.scalar(select(PledgeTargetGroup.country_group)) is CountryGroup.LLDC
    assert (await focus_areas_by_pledge(session, [pledge.id]))[pledge.id] == [
        FocusArea.ACCESS,
        FocusArea.ADOPTION,
    ]


async def test_money_in_other_currencies_keeps_the_reason_usd_is_missing(
    session: AsyncSession,
) -> None:
    member = await add_member(session)
    pledge = await add_pledge(session, member, amount="1000", currency="JPY")
    assert (pledge.amount_minor, pledge.currency) == (1000, "JPY")
    assert pledge.usd_amount_minor is None
    assert pledge.usd_missing_reason == "no JPY to USD rate is loaded"


@pytest.mark.parametrize(
    ("fields", "field", "code"),
    [
        ({"title": "   "}, ("title",), "REQUIRED"),
        ({"focus_areas": (FocusArea.ACCESS, FocusArea.ACCESS)}, ("focusAreas",), "DUPLICATE_VALUE"),
        ({"sdgs": (18,)}, ("sdgs",), "INVALID_INPUT"),
        ({"amount": "1.005", "currency": "USD"}, ("pledgedAmount", "amount"), "TOO_MANY_DECIMALS"),
        ({"amount": "10", "currency": "ABC"}, ("pledgedAmount", "currency"), "UNKNOWN_CURRENCY"),
        ({"amount": "10"}, ("pledgedAmount",), "INVALID_INPUT"),
        ({"target_countries": ("XKX",)}, ("targetCountries",), "UNKNOWN_COUNTRY"),
        (
            {"start_date": date(2025, 1, 1), "end_date": date(2024, 1, 1)},
            ("endDate",),
            "INVALID_INPUT",
        ),
    ],
)
async def test_bad_drafts_are_refused_with_the_field_and_nothing_written(
    session_factory: async_sessionmaker[AsyncSession],
    fields: dict[str, object],
    field: tuple[str, ...],
    code: str,
) -> None:
    async with session_factory() as session:
        member = await add_member(session)
        await session.commit()
    async with session_factory() as session:
        with pytest.raises(InvalidInput) as refused:
            await add_pledge(session, member, **fields)
    assert (refused.value.field, refused.value.code) == (field, code)
    async with session_factory() as session:
        assert (await session.scalars(select(Pledge))).all() == []


async def test_only_members_pledge(session: AsyncSession) -> None:
    outsider = await create_organisation(
        session, name="Named in an IATI file", organisation_type=OrganisationType.CIVIL_SOCIETY
    )
    with pytest.raises(Conflict) as refused:
        await add_pledge(session, outsider)
    assert refused.value.code == "NOT_A_MEMBER"
    with pytest.raises(NotFound):
        await create_pledge(session, 999_999, PledgeDraft("x", PledgeType.POLICY))


async def test_submission_needs_a_focus_area(session: AsyncSession) -> None:
    member = await add_member(session)
    pledge = await add_pledge(session, member, focus_areas=())
    with pytest.raises(InvalidInput) as refused:
        await submit_pledge(session, pledge.id)
    assert refused.value.code == "FOCUS_AREA_REQUIRED"
    assert pledge.publication_status is PublicationStatus.DRAFT


async def test_submission_needs_the_lead_endorsement(session: AsyncSession) -> None:
    member = await add_member(session)
    pledge = await add_pledge(session, member)
    endorsement = await session.scalar(select(Endorsement))
    assert endorsement is not None
    await session.delete(endorsement)
    await session.flush()
    with pytest.raises(InvalidInput) as refused:
        await submit_pledge(session, pledge.id)
    assert refused.value.code == "LEAD_REQUIRED"


async def test_publication_follows_submission(session: AsyncSession) -> None:
    member = await add_member(session)
    pledge = await add_pledge(session, member)
    with pytest.raises(Conflict) as refused:
        await publish_pledge(session, pledge.id)
    assert refused.value.code == "INVALID_TRANSITION"
    await submit_pledge(session, pledge.id)
    published = await publish_pledge(session, pledge.id)
    assert published.publication_status is PublicationStatus.PUBLISHED
    assert published.version == 3


async def test_the_public_sees_published_pledges_page_by_page(session: AsyncSession) -> None:
    member = await add_member(session)
    await add_pledge(session, member, title="Still a draft")
    for i in range(5):
        await add_published_pledge(session, member, title=f"P{i}")
    await session.commit()

    first, span = await pledge_page(session, PUBLIC, PledgeFilter(), PledgeOrder(), Slice(2))
    assert [p.title for p in first] == ["P0", "P1"]
    assert (span.has_next_page, span.total) == (True, 5)
    last, span = await pledge_page(
        session, PUBLIC, PledgeFilter(), PledgeOrder(), Slice(first=2, after=3)
    )
    assert [p.title for p in last] == ["P4"]
    assert (span.has_next_page, span.total) == (False, 5)


@pytest.mark.parametrize("first", [0, -1, 101])
def test_page_size_is_bounded(first: int) -> None:
    with pytest.raises(InvalidInput) as refused:
        Slice(first=first)
    assert refused.value.field == ("first",)


def test_a_page_size_is_required() -> None:
    with pytest.raises(InvalidInput) as refused:
        Slice()
    assert refused.value.code == "PAGE_SIZE_REQUIRED"

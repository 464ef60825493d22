"""Rules the database itself enforces, on both backends, with nothing half-written.

Each test writes a valid row and then a refused one in the same transaction, bypassing
the services (which would refuse earlier), and checks the refusal is explained and that
the valid row did not survive either.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.endorsements.models import Endorsement, EndorsementRole, EndorsementStatus, Role
from hub.errors import Conflict, HubError, InvalidInput, NotFound
from hub.integrity import explain, flush
from hub.models import (
    Organisation,
    Pledge,
    PledgeFocusArea,
    PledgeTargetCountry,
    PledgeType,
    PublicationStatus,
)
from tests.fixtures.factories import add_member

NOW = datetime(2024, 6, 1, tzinfo=UTC)


async def seed(session_factory: async_sessionmaker[AsyncSession]) -> tuple[int, int]:
    """Two members and committed reference data; returns the members' ids."""
    async with session_factory() as session:
        lead = await add_member(session, "GSMA")
        other = await add_member(session, "UNICEF")
        await session.commit()
        return lead.id, other.id


def pledge_row(lead_id: int, **fields: object) -> dict[str, object]:
    return {
        "lead_member_id": lead_id,
        "title": "Connect schools in Nepal",
        "description": "",
        "pledge_type": PledgeType.PROGRAMMATIC,
        "publication_status": PublicationStatus.DRAFT,
        "implementation_status": "PIPELINE",
        "version": 1,
        "announced_on": NOW.date(),
        "created_at": NOW,
        "updated_at": NOW,
        **fields,
    }


async def refused(
    session_factory: async_sessionmaker[AsyncSession],
    write: Callable[[AsyncSession], Awaitable[object]],
) -> HubError:
    """Run ``write`` in one transaction, expect the database to refuse it, explain why."""
    with pytest.raises(IntegrityError) as error:
        await write_and_commit(session_factory, write)
    return explain(error.value)


async def count(session_factory: async_sessionmaker[AsyncSession], model: type) -> int:
    async with session_factory() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def new_pledge(session: AsyncSession, lead_id: int, **fields: object) -> int:
    result = await session.execute(
        insert(Pledge).returning(Pledge.id), [pledge_row(lead_id, **fields)]
    )
    return int(result.scalar_one())


async def test_unknown_currency_is_refused(
    session_factory: async_sessionmaker[AsyncSession], backend: str
) -> None:
    lead, _ = await seed(session_factory)

    async def write(session: AsyncSession) -> None:
        await new_pledge(session, lead, title="Valid first")
        await new_pledge(session, lead, amount_minor=100, currency="XXZ", usd_missing_reason="-")

    error = await refused(session_factory, write)
    assert isinstance(error, NotFound)
    assert error.code == "REFERENCE_NOT_FOUND"
    if backend == "postgresql":
        assert error.field == ("currency",)
        assert "currencies" in error.message
    assert await count(session_factory, Pledge) == 0


async def test_negative_pledged_amount_is_refused(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    lead, _ = await seed(session_factory)

    async def write(session: AsyncSession) -> None:
        await new_pledge(session, lead, title="Valid first")
        await new_pledge(session, lead, amount_minor=-1, currency="USD", usd_missing_reason="-")

    error = await refused(session_factory, write)
    assert isinstance(error, InvalidInput)
    assert "ck_pledges_amount_non_negative" in error.message
    assert await count(session_factory, Pledge) == 0


async def test_amount_without_currency_is_refused(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    lead, _ = await seed(session_factory)

    async def write(session: AsyncSession) -> None:
        await new_pledge(session, lead, amount_minor=100, usd_missing_reason="-")

    error = await refused(session_factory, write)
    assert "ck_pledges_amount_has_currency" in error.message


async def test_money_without_usd_value_or_reason_is_refused(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    lead, _ = await seed(session_factory)

    async def write(session: AsyncSession) -> None:
        await new_pledge(session, lead, amount_minor=100, currency="EUR")

    error = await refused(session_factory, write)
    assert "ck_pledges_usd_or_reason" in error.message


async def add_endorsement(
    session: AsyncSession, pledge_id: int, organisation_id: int, *roles: Role
) -> None:
    await session.execute(
        insert(Endorsement),
        [
            {
                "pledge_id": pledge_id,
                "organisation_id": organisation_id,
                "status": EndorsementStatus.ACCEPTED,
                "accepted_at": NOW,
                "created_at": NOW,
                "updated_at": NOW,
            }
        ],
    )
    if roles:
        await session.execute(
            insert(EndorsementRole),
            [
                {
                    "pledge_id": pledge_id,
                    "organisation_id": organisation_id,
                    "role": role,
                    "lead_member_id": organisation_id if role is Role.LEAD else None,
                }
                for role in roles
            ],
        )


async def test_a_second_lead_on_one_pledge_is_refused(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    lead, other = await seed(session_factory)

    async def write(session: AsyncSession) -> None:
        pledge_id = await new_pledge(session, lead)
        await add_endorsement(session, pledge_id, lead, Role.LEAD, Role.FUNDER)
        await add_endorsement(session, pledge_id, other, Role.LEAD)

    error = await refused(session_factory, write)
    assert isinstance(error, Conflict)
    assert error.code == "DUPLICATE"
    assert error.field == ("pledge_id",)
    assert "endorsement_roles" in error.message
    assert await count(session_factory, Pledge) == 0
    assert await count(session_factory, EndorsementRole) == 0


async def test_the_lead_role_belongs_to_the_pledge_lead_member(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    lead, other = await seed(session_factory)

    async def write(session: AsyncSession) -> None:
        pledge_id = await new_pledge(session, lead)
        await add_endorsement(session, pledge_id, other, Role.LEAD)

    error = await refused(session_factory, write)
    assert isinstance(error, NotFound)
    assert await count(session_factory, Endorsement) == 0


async def test_one_organisation_endorses_a_pledge_once(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    lead, other = await seed(session_factory)

    async def write(session: AsyncSession) -> None:
        pledge_id = await new_pledge(session, lead)
        await add_endorsement(session, pledge_id, other, Role.FUNDER)
        await add_endorsement(session, pledge_id, other, Role.IMPLEMENTER)

    error = await refused(session_factory, write)
    assert isinstance(error, Conflict)
    assert error.field == ("pledge_id", "organisation_id")
    assert await count(session_factory, Endorsement) == 0


async def test_one_organisation_may_hold_several_roles(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    lead, other = await seed(session_factory)
    async with session_factory() as session:
        pledge_id = await new_pledge(session, lead)
        await add_endorsement(session, pledge_id, lead, Role.LEAD)
        await add_endorsement(session, pledge_id, other, Role.FUNDER, Role.IMPLEMENTER)
        await session.commit()
    assert await count(session_factory, EndorsementRole) == 3


async def test_duplicate_source_record_is_refused(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    lead, _ = await seed(session_factory)
    provenance = {
        "source_system": "iati",
        "external_id": "44000-P123456",
        "fetched_at": NOW,
        "payload_hash": "ab" * 32,
    }

    async def write(session: AsyncSession) -> None:
        await new_pledge(session, lead, **provenance)
        await new_pledge(session, lead, title="Same record again", **provenance)

    error = await refused(session_factory, write)
    assert isinstance(error, Conflict)
    assert error.field == ("source_system", "external_id")
    assert await count(session_factory, Pledge) == 0


async def test_partial_provenance_is_refused(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    lead, _ = await seed(session_factory)

    async def write(session: AsyncSession) -> None:
        await new_pledge(session, lead, source_system="iati")

    error = await refused(session_factory, write)
    assert "ck_pledges_provenance_complete" in error.message


async def test_the_same_focus_area_twice_is_refused(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    lead, _ = await seed(session_factory)

    async def write(session: AsyncSession) -> None:
        pledge_id = await new_pledge(session, lead)
        await session.execute(
            insert(PledgeFocusArea),
            [{"pledge_id": pledge_id, "focus_area": "ACCESS"}] * 2,
        )

    error = await refused(session_factory, write)
    assert isinstance(error, Conflict)
    assert error.field == ("pledge_id", "focus_area")
    assert await count(session_factory, Pledge) == 0


async def test_an_unknown_focus_area_is_refused(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    lead, _ = await seed(session_factory)

    async def write(session: AsyncSession) -> None:
        pledge_id = await new_pledge(session, lead)
        await session.execute(
            insert(PledgeFocusArea), [{"pledge_id": pledge_id, "focus_area": "WISHFUL"}]
        )

    with pytest.raises((IntegrityError, LookupError)):
        await write_and_commit(session_factory, write)
    assert await count(session_factory, Pledge) == 0


async def write_and_commit(
    session_factory: async_sessionmaker[AsyncSession],
    write: Callable[[AsyncSession], Awaitable[object]],
) -> None:
    async with session_factory() as session:
        await write(session)
        await session.commit()


async def test_an_unknown_target_country_is_refused(
    session_factory: async_sessionmaker[AsyncSession], backend: str
) -> None:
    lead, _ = await seed(session_factory)

    async def write(session: AsyncSession) -> None:
        pledge_id = await new_pledge(session, lead)
        await session.execute(
            insert(PledgeTargetCountry),
            [
                {"pledge_id": pledge_id, "country": "NPL"},
                {"pledge_id": pledge_id, "country": "XKX"},
            ],
        )

    error = await refused(session_factory, write)
    assert isinstance(error, NotFound)
    if backend == "postgresql":
        assert error.field == ("country",)
    assert await count(session_factory, Pledge) == 0
    assert await count(session_factory, PledgeTargetCountry) == 0


async def test_an_unknown_headquarters_country_is_refused(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    await seed(session_factory)

    async def write(session: AsyncSession) -> None:
        await session.execute(
            insert(Organisation),
            [
                {
                    "name": "Atlantis Telecom",
                    "name_key": "atlantis telecom",
                    "organisation_type": "PRIVATE_SECTOR",
                    "headquarters_country": "ATL",
                    "membership_status": "NONE",
                    "created_at": NOW,
                    "updated_at": NOW,
                }
            ],
        )

    error = await refused(session_factory, write)
    assert isinstance(error, NotFound)
    assert await count(session_factory, Organisation) == 2


async def test_missing_required_values_are_named(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    lead, _ = await seed(session_factory)

    async def write(session: AsyncSession) -> None:
        await new_pledge(session, lead, announced_on=None)

    error = await refused(session_factory, write)
    assert (error.code, error.field) == ("REQUIRED", ("announced_on",))


async def test_a_member_needs_a_membership_date(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    async def write(session: AsyncSession) -> None:
        await session.execute(
            insert(Organisation),
            [
                {
                    "name": "Undated member",
                    "name_key": "undated member",
                    "organisation_type": "ACADEMIA",
                    "membership_status": "MEMBER",
                    "created_at": NOW,
                    "updated_at": NOW,
                }
            ],
        )

    error = await refused(session_factory, write)
    assert "ck_organisations_member_dated" in error.message


async def test_a_stale_pledge_version_is_refused(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    lead, _ = await seed(session_factory)
    async with session_factory() as session:
        pledge_id = await new_pledge(session, lead)
        await session.commit()
    async with session_factory() as first, session_factory() as second:
        mine = await first.get_one(Pledge, pledge_id)
        await first.commit()
        theirs = await second.get_one(Pledge, pledge_id)
        theirs.title = "Their edit"
        await second.commit()
        mine.title = "My edit"
        with pytest.raises(Conflict) as error:
            await flush(first)
        assert error.value.code == "STALE_VERSION"
        await first.rollback()
    async with session_factory() as session:
        stored = await session.get_one(Pledge, pledge_id)
        assert (stored.title, stored.version) == ("Their edit", 2)

"""Column types read back exactly what was written, on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy.exc import StatementError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.models import Organisation, Target
from hub.pledges.models import Indicator, Measure
from tests.fixtures.factories import add_member, add_pledge


async def test_timestamps_come_back_aware_and_in_utc(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    joined = datetime(2023, 3, 1, 12, 30, tzinfo=timezone(timedelta(hours=3)))
    async with session_factory() as session:
        member = await add_member(session)
        member.member_since = joined
        await session.commit()
    async with session_factory() as session:
        stored = await session.get_one(Organisation, member.id)
    assert stored.member_since == joined
    assert stored.member_since is not None
    assert stored.member_since.tzinfo == UTC
    assert stored.member_since.hour == 9


async def test_naive_timestamps_are_refused(session: AsyncSession) -> None:
    member = await add_member(session)
    member.member_since = datetime(2023, 3, 1)
    with pytest.raises(StatementError, match="naive datetimes are refused"):
        await session.flush()


async def test_decimals_are_exact(session_factory: async_sessionmaker[AsyncSession]) -> None:
    async with session_factory() as session:
        pledge = await add_pledge(session, await add_member(session))
        session.add(
            Target(
                pledge_id=pledge.id,
                indicator=Indicator.FIBRE_KM,
                unit="km",
                measure=Measure.QUANTITATIVE,
                baseline_value=Decimal("0.000001"),
                target_value=Decimal("1234567890.123456"),
            )
        )
        await session.commit()
    async with session_factory() as session:
        target = await session.get_one(Target, 1)
    assert target.target_value == Decimal("1234567890.123456")
    assert target.baseline_value == Decimal("0.000001")
    assert isinstance(target.target_value, Decimal)


async def test_floats_never_reach_a_decimal_column(session: AsyncSession) -> None:
    pledge = await add_pledge(session, await add_member(session))
    session.add(
        Target(
            pledge_id=pledge.id,
            indicator=Indicator.PEOPLE_TRAINED,
            unit="people",
            measure=Measure.QUANTITATIVE,
            target_value=0.1,
        )
    )
    with pytest.raises(StatementError, match="expected Decimal"):
        await session.flush()

"""Hourly cost budgets: in memory for SQLite, shared in PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.budget import CostBudgetWindow, MemoryBudget, PostgresBudget

NOON = datetime(2026, 3, 1, 12, 10, tzinfo=UTC)


async def test_memory_budget_grants_refuses_and_resets_on_the_hour() -> None:
    budget = MemoryBudget(limit=100)
    first = await budget.spend("a", 60, NOON)
    refused = await budget.spend("a", 60, NOON)
    other = await budget.spend("b", 60, NOON)
    later = await budget.spend("a", 60, NOON + timedelta(hours=1))
    assert (first.granted, first.remaining) == (True, 40)
    assert (refused.granted, refused.remaining) == (False, 40)
    assert refused.reset_at == datetime(2026, 3, 1, 13, tzinfo=UTC)
    assert other.granted
    assert (later.granted, later.remaining) == (True, 40)
    assert (await budget.spend("a", -500, NOON + timedelta(hours=1))).remaining == 40


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_postgres_budget_is_atomic_and_forgets_old_hours(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    budget = PostgresBudget(100, session_factory)
    assert (await budget.spend("a", 70, NOON)).remaining == 30
    refused = await budget.spend("a", 70, NOON)
    assert (refused.granted, refused.remaining) == (False, 30)
    assert not (await budget.spend("a", 101, NOON)).granted
    await budget.spend("b", 10, NOON)
    assert (await budget.spend("a", 70, NOON + timedelta(hours=2))).remaining == 30
    async with session_factory() as session:
        rows = (
            await session.execute(select(CostBudgetWindow.caller, CostBudgetWindow.spent))
        ).all()
    assert sorted(rows) == [("a", 70), ("b", 10)], "a's old hour is gone, b's stays till b returns"

"""Hourly cost budgets per caller, kept where every worker sees them.

PostgreSQL keeps them in a table, so all processes share one count; with SQLite (one
embedded process) they live in memory. A window is a clock hour; a refused operation spends
nothing.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from sqlalchemy import String, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Base, autocommit, engine_of, is_sqlite
from hub.sqlstats import not_counted
from hub.types import UTCDateTime


class CostBudgetWindow(Base):
    """What one caller spent in one clock hour."""

    __tablename__ = "cost_budget_windows"

    caller: Mapped[str] = mapped_column(String(100), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)
    spent: Mapped[int]


@dataclass(frozen=True, slots=True)
class BudgetState:
    """Where a caller's budget stands after an operation asked for ``cost``."""

    granted: bool
    limit: int
    remaining: int
    reset_at: datetime


def window_of(now: datetime) -> tuple[datetime, datetime]:
    """The clock hour ``now`` falls in: its start and its end."""
    start = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    return start, start + timedelta(hours=1)


class CostBudget(Protocol):
    """Where callers' hourly budgets are kept: in memory or in PostgreSQL (``budget_for``)."""

    async def spend(
        self, caller: str, cost: int, now: datetime, connection: AsyncConnection | None = None
    ) -> BudgetState:
        """Charge ``cost`` to ``caller``'s window of ``now``, if it fits; ``connection`` is an
        autocommit connection of the caller's to charge through (else one is taken)."""


class MemoryBudget:
    """Budgets in this process's memory: right for the single embedded SQLite process."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._spent: dict[tuple[str, datetime], int] = {}
        self._lock = asyncio.Lock()

    async def spend(
        self, caller: str, cost: int, now: datetime, connection: AsyncConnection | None = None
    ) -> BudgetState:
        cost = max(cost, 0)
        start, end = window_of(now)
        async with self._lock:
            self._spent = {key: v for key, v in self._spent.items() if key[1] == start}
            spent = self._spent.get((caller, start), 0)
            granted = spent + cost <= self.limit
            if granted:
                spent += cost
                self._spent[caller, start] = spent
        return BudgetState(granted, self.limit, max(0, self.limit - spent), end)


UPSERT = text(
    """
    INSERT INTO cost_budget_windows (caller, window_start, spent)
    VALUES (:caller, :start, :cost)
    ON CONFLICT (caller, window_start)
    DO UPDATE SET spent = cost_budget_windows.spent + EXCLUDED.spent
    WHERE cost_budget_windows.spent + EXCLUDED.spent <= :limit
    RETURNING spent
    """
)


class PostgresBudget:
    """Budgets in PostgreSQL: one atomic upsert per operation, shared by every process."""

    def __init__(self, limit: int, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self.limit = limit
        self._session_factory = session_factory

    async def spend(
        self, caller: str, cost: int, now: datetime, connection: AsyncConnection | None = None
    ) -> BudgetState:
        with not_counted():
            if connection is not None:
                return await self._spend(connection, caller, max(cost, 0), now)
            async with autocommit(engine_of(self._session_factory)) as own:
                return await self._spend(own, caller, max(cost, 0), now)

    async def _spend(
        self, connection: AsyncConnection, caller: str, cost: int, now: datetime
    ) -> BudgetState:
        """Outside a transaction: the upsert is atomic on its own, and the row every
        anonymous request from one address shares stays locked for that one statement only."""
        start, end = window_of(now)
        spent_now = None
        if cost <= self.limit:
            row = await connection.execute(
                UPSERT, {"caller": caller, "start": start, "cost": cost, "limit": self.limit}
            )
            spent_now = row.scalar()
        if spent_now == cost:
            # the caller's first spend in this hour: its older windows are done with
            await connection.execute(
                text("DELETE FROM cost_budget_windows WHERE caller = :c AND window_start < :s"),
                {"c": caller, "s": start},
            )
        spent = int(spent_now) if spent_now is not None else await _spent(connection, caller, start)
        remaining = max(0, self.limit - spent)
        return BudgetState(spent_now is not None, self.limit, remaining, end)


async def _spent(connection: AsyncConnection, caller: str, start: datetime) -> int:
    spent = await connection.scalar(
        select(CostBudgetWindow.spent).where(
            CostBudgetWindow.caller == caller, CostBudgetWindow.window_start == start
        )
    )
    return int(spent or 0)


def budget_for(
    database_url: str, limit: int, session_factory: async_sessionmaker[AsyncSession]
) -> CostBudget:
    """The budget store that every process serving ``database_url`` shares."""
    if is_sqlite(database_url):
        return MemoryBudget(limit)
    return PostgresBudget(limit, session_factory)

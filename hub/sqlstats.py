"""Counting the SQL statements and database time of one unit of work (a GraphQL operation).

Listeners on the engine add to whatever ``StatementStats`` the current context holds, so
work spread over tasks (dataloader batches) is still counted for the operation it serves.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine


@dataclass
class StatementStats:
    statements: int = 0
    seconds: float = 0.0


_current: ContextVar[StatementStats | None] = ContextVar("statement_stats", default=None)


def _counted(statement: str) -> bool:
    """Queries count; SQLite's explicit BEGIN does not (PostgreSQL's is not a statement here)."""
    return not statement.lstrip().upper().startswith("BEGIN")


def _before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
    if _current.get() is not None and _counted(statement):
        conn.info.setdefault("hub_started", []).append(time.perf_counter())


def _after(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
    stats = _current.get()
    if stats is not None and _counted(statement):
        started = conn.info["hub_started"].pop()
        stats.statements += 1
        stats.seconds += time.perf_counter() - started


def instrument(engine: AsyncEngine) -> None:
    """Make ``engine`` report its statements to the current ``StatementStats``."""
    event.listen(engine.sync_engine, "before_cursor_execute", _before)
    event.listen(engine.sync_engine, "after_cursor_execute", _after)


@contextmanager
def counting() -> Iterator[StatementStats]:
    """Count the statements run in this context until the block ends."""
    stats = StatementStats()
    token = _current.set(stats)
    try:
        yield stats
    finally:
        _current.reset(token)


@contextmanager
def not_counted() -> Iterator[None]:
    """Leave the statements of this block out of the current count (bookkeeping, not data)."""
    token = _current.set(None)
    try:
        yield
    finally:
        _current.reset(token)

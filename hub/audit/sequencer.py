"""Numbering committed events into the log, shortly after they commit.

Writers never wait on each other for a number: an event is written with its transaction and
numbered later, by one sequencer at a time (a PostgreSQL advisory lock; the write lock on
SQLite), which appends leaves, and the tree's nodes they complete (hub.audit.tree), and never
touches an event. On PostgreSQL it takes only events
whose transaction is older than every transaction still running
(``pg_snapshot_xmin(pg_current_snapshot())``): an event of a transaction still open is never
passed over, so the order of the leaves is one in which every event had committed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager, suppress
from dataclasses import dataclass

import structlog
from sqlalchemy import BigInteger, ColumnClause, func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.audit.canonical import GENESIS, canonical, chain_hash, leaf_hash
from hub.audit.ledger import document
from hub.audit.models import AuditEvent, AuditLeaf
from hub.audit.tree import frontier
from hub.types import utcnow

log = structlog.get_logger("hub.audit")

LOCK = 0x50324341  # "P2CA": one sequencer at a time on PostgreSQL
INTERVAL_SECONDS = 0.5
"""How often serving processes sequence; with a batch's work, an event is in the log within
``MAX_DELAY_SECONDS`` of its transaction's end (of the end of the oldest transaction then
open, on PostgreSQL)."""
MAX_DELAY_SECONDS = 1.0
BATCH = 1_000

OLDEST_RUNNING: ColumnClause[int] = literal_column(
    "pg_snapshot_xmin(pg_current_snapshot())::text::bigint", type_=BigInteger
)


@dataclass
class Floor:
    """Below it every event is in the log already, so a run reads only what lies above: a
    transaction id on PostgreSQL (the oldest running at the last complete run), an event id
    on SQLite (whose ids grow, and which the sequencer reads holding the write lock)."""

    value: int = 0


async def sequence(session: AsyncSession, floor: Floor | None = None) -> tuple[int, int]:
    """Append the committed events not yet in the log (at most ``BATCH``): how many, and the
    floor to keep once the caller has committed them (not before: a failed commit must leave
    the floor where it was)."""
    floor = floor if floor is not None else Floor()
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres and not await session.scalar(select(func.pg_try_advisory_xact_lock(LOCK))):
        return 0, floor.value  # another process is sequencing
    last = (
        await session.execute(
            select(AuditLeaf.leaf_number, AuditLeaf.chain_hash)
            .order_by(AuditLeaf.leaf_number.desc())
            .limit(1)
        )
    ).first()
    number, chain = (last[0] + 1, bytes.fromhex(last[1])) if last else (0, GENESIS)
    waiting = (
        select(AuditEvent)
        .outerjoin(AuditLeaf, AuditLeaf.event_id == AuditEvent.id)
        .where(AuditLeaf.event_id.is_(None))
    )
    oldest = 0
    if postgres:
        oldest = int(await session.scalar(select(OLDEST_RUNNING)) or 0)
        waiting = waiting.where(
            AuditEvent.transaction_id >= floor.value, AuditEvent.transaction_id < oldest
        )
    else:
        waiting = waiting.where(AuditEvent.id >= floor.value)
    events = (await session.scalars(waiting.order_by(AuditEvent.id).limit(BATCH))).all()
    now = utcnow()
    tree = await frontier(session, number)  # and the subtrees an older release left out
    for event in events:
        leaf = leaf_hash(canonical(document(event)))
        chain = chain_hash(chain, leaf)
        session.add_all(tree.append(leaf))
        session.add(
            AuditLeaf(
                leaf_number=number,
                event_id=event.id,
                leaf_hash=leaf.hex(),
                chain_hash=chain.hex(),
                sequenced_at=now,
            )
        )
        number += 1
    await session.flush()
    reached = floor.value
    if len(events) < BATCH:  # everything that could be taken was
        reached = oldest if postgres else max((e.id + 1 for e in events), default=floor.value)
    return len(events), reached


async def sequence_all(
    session_factory: Callable[[], AbstractAsyncContextManager[AsyncSession]],
    floor: Floor | None = None,
) -> int:
    """Sequence until nothing committed is waiting; how many events were appended."""
    floor = floor if floor is not None else Floor()
    total = 0
    while True:
        async with session_factory() as session:
            appended, reached = await sequence(session, floor)
            await session.commit()
        floor.value = reached
        total += appended
        if appended < BATCH:
            return total


async def run(
    session_factory: Callable[[], AbstractAsyncContextManager[AsyncSession]],
    stop: asyncio.Event,
) -> None:
    """Sequence every ``INTERVAL_SECONDS`` until ``stop`` is set (inside ``p2c-hub serve``);
    a run under way is finished, not cut off, so no connection is left mid-transaction."""
    floor = Floor()
    while not stop.is_set():
        try:
            await sequence_all(session_factory, floor)
        except Exception as error:  # the database is away: try again at the next turn
            log.warning("audit.sequencing_failed", error=str(error))
        with suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), INTERVAL_SECONDS)

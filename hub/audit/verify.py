"""Recomputing the log from the database: gapless numbering from 0, each event's hash equal
to that of its canonical form, each leaf's hash equal to its event's, and the chain unbroken.
The first place where something does not hold is named."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from hub.audit.canonical import GENESIS, canonical, chain_hash, event_hash, leaf_hash
from hub.audit.ledger import document
from hub.audit.models import AuditEvent, AuditLeaf
from hub.audit.sequencer import OLDEST_RUNNING
from hub.types import utcnow

OVERDUE = timedelta(minutes=1)
"""A committed event not in the log after this long was passed over (the sequencer runs every
half second)."""


@dataclass(frozen=True, slots=True)
class Verdict:
    """How many leaves were checked, and the first problem found (None: all holds)."""

    leaves: int
    waiting: int
    problem: str | None = None


async def verify(session: AsyncSession) -> Verdict:
    """Check the whole log, leaf by leaf, then the events not yet sequenced."""
    chain, expected = GENESIS, 0
    rows = await session.stream(
        select(AuditLeaf, AuditEvent)
        .outerjoin(AuditEvent, AuditEvent.id == AuditLeaf.event_id)
        .order_by(AuditLeaf.leaf_number)
        .execution_options(yield_per=1_000)
    )
    async for leaf, event in rows:
        where = f"leaf {leaf.leaf_number}"
        if leaf.leaf_number != expected:
            return Verdict(expected, 0, f"leaf {expected} is missing (the next is {where})")
        if event is None:
            return Verdict(expected, 0, f"{where} names event {leaf.event_id}, which is gone")
        form = canonical(document(event))
        if event_hash(form).hex() != event.event_hash:
            return Verdict(
                expected, 0, f"event {event.id} ({where}) was changed: it no longer has its hash"
            )
        if leaf_hash(form).hex() != leaf.leaf_hash:
            return Verdict(
                expected, 0, f"{where} does not match event {event.id}: one of them was changed"
            )
        chain = chain_hash(chain, bytes.fromhex(leaf.leaf_hash))
        if chain.hex() != leaf.chain_hash:
            return Verdict(expected, 0, f"{where} breaks the chain: a leaf before it was changed")
        expected += 1
    postgres = session.get_bind().dialect.name == "postgresql"
    oldest = int(await session.scalar(select(OLDEST_RUNNING)) or 0) if postgres else 0
    overdue = utcnow() - OVERDUE
    waiting = await session.scalars(
        select(AuditEvent)
        .outerjoin(AuditLeaf, AuditLeaf.event_id == AuditEvent.id)
        .where(AuditLeaf.event_id.is_(None))
        .order_by(AuditEvent.id)
    )
    count = 0
    for event in waiting:
        count += 1
        if event_hash(canonical(document(event))).hex() != event.event_hash:
            return Verdict(
                expected, count, f"event {event.id} (not sequenced yet) no longer has its hash"
            )
        committed_long_ago = not postgres or (event.transaction_id or 0) < oldest
        if committed_long_ago and event.occurred_at < overdue:
            return Verdict(
                expected, count, f"event {event.id} was committed long ago and is not in the log"
            )
    written, last = (
        await _events_ever_written(session),
        await session.scalar(select(func.max(AuditEvent.id))),
    )
    if written and not last:
        return Verdict(0, 0, f"the log is empty, yet {written} events were written: emptied")
    if not postgres and written > (last or 0):  # SQLite gives ids without gaps
        return Verdict(
            expected, count, f"events up to {written} were written, but the last is {last}"
        )
    return Verdict(expected, count)


async def _events_ever_written(session: AsyncSession) -> int:
    """The highest event id ever given (ids are never reused), or 0. On PostgreSQL a rolled-back
    write uses an id too; on SQLite the counter goes back with the rollback."""
    if session.get_bind().dialect.name == "postgresql":
        given = await session.scalar(
            text("SELECT pg_sequence_last_value('audit_events_id_seq'::regclass)")
        )
    else:
        given = await session.scalar(
            text("SELECT seq FROM sqlite_sequence WHERE name = 'audit_events'")
        )
    return int(given or 0)

"""Recomputing the log from the database: gapless numbering from 0, each event's hash equal
to that of its canonical form, each leaf's hash equal to its event's, and the chain unbroken.
The first place where something does not hold is named."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from hub.audit.canonical import GENESIS, canonical, chain_hash, event_hash, leaf_hash
from hub.audit.ledger import document
from hub.audit.models import AuditEvent, AuditLeaf


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
    if expected == 0 and count == 0:
        written = await _events_ever_written(session)
        if written:
            return Verdict(0, 0, f"the log is empty, yet {written} events were written: emptied")
    return Verdict(expected, count)


async def _events_ever_written(session: AsyncSession) -> int:
    """The highest event id ever given (ids are never reused), or 0."""
    if session.get_bind().dialect.name == "postgresql":
        row = (
            await session.execute(text("SELECT last_value, is_called FROM audit_events_id_seq"))
        ).one()
        return int(row.last_value) if row.is_called else 0
    given = await session.scalar(
        text("SELECT seq FROM sqlite_sequence WHERE name = 'audit_events'")
    )
    return int(given or 0)

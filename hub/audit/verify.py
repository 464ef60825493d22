"""Recomputing the log from the database: gapless numbering from 0, each event's hash equal
to that of its canonical form, each leaf's hash equal to its event's, the chain unbroken, every
stored subtree equal to its children's, and every signed tree head (those in the database and
those kept outside it) signed by the hub's audit key with the root of the log's first leaves.
The first place where something does not hold is named."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import and_, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from hub.audit.canonical import (
    GENESIS,
    canonical,
    chain_hash,
    event_hash,
    leaf_hash,
    parse,
)
from hub.audit.ledger import document
from hub.audit.merkle import node_hash
from hub.audit.models import AuditEvent, AuditLeaf, AuditNode, TreeHead
from hub.audit.notes import Checkpoint, NoteError, read, signed_by
from hub.audit.sequencer import OLDEST_RUNNING
from hub.audit.tree import Frontier
from hub.db import one_snapshot
from hub.keys.models import KeyPurpose
from hub.keys.service import audit_public_key, keys_for
from hub.types import utcnow

OVERDUE = timedelta(minutes=1)
"""A committed event not in the log after this long was passed over (the sequencer runs every
half second)."""


@dataclass(frozen=True, slots=True)
class Verdict:
    """How many leaves and heads were checked, and the first problem found (None: all holds)."""

    leaves: int
    waiting: int
    problem: str | None = None
    heads: int = 0
    kept: int = 0


@dataclass(frozen=True, slots=True)
class Head:
    """A head to check, and how to name it: one of the database's, or one kept elsewhere."""

    where: str
    note: str


@dataclass
class Kept:
    """What an auditor kept outside the database: heads (from an export target or an export)
    and the leaves of earlier exports, by number, each with where it was read (two exports
    may disagree: every one is compared)."""

    heads: list[Head] = field(default_factory=list)
    leaves: dict[int, list[tuple[bytes, str]]] = field(default_factory=dict)


def kept_heads(lines: Iterable[str], source: str, into: Kept | None = None) -> Kept:
    """The heads and leaves in a file of JSON lines (an export target's file, or an export),
    added to ``into``; a line that is none of the export's is named in a ``ValueError``.
    A kept leaf counts as what its event's canonical form hashes to."""
    kept = into if into is not None else Kept()
    for number, line, last in _numbered(lines):
        if not line.strip():
            continue
        where = f"line {number} of {source}"
        try:
            entry = parse(line)
        except (ValueError, RecursionError):
            if last and not line.endswith("\n"):
                continue  # an append that failed halfway: never a delivered head
            raise ValueError(f"{where} is not JSON without floats") from None
        kind = entry.get("type") if isinstance(entry, dict) else None
        leaf = entry.get("leaf") if kind == "event" else None
        if kind == "head" and isinstance(entry.get("note"), str):
            kept.heads.append(Head(f"kept head ({where})", entry["note"]))
        elif type(leaf) is int and leaf >= 0:
            try:
                form = canonical(entry["event"])
            except (KeyError, TypeError):
                raise ValueError(f"{where} is an event line without its event") from None
            found = kept.leaves.setdefault(leaf, [])
            if all(digest != leaf_hash(form) for digest, _ in found):
                found.append((leaf_hash(form), where))
        elif kind != "log":
            raise ValueError(f"{where} is not a line of an export or of a heads file")
    return kept


def _numbered(lines: Iterable[str]) -> Iterator[tuple[int, str, bool]]:
    """Each line with its number, and whether it is the last."""
    previous: tuple[int, str] | None = None
    for numbered in enumerate(lines, start=1):
        if previous is not None:
            yield (*previous, False)
        previous = numbered
    if previous is not None:
        yield (*previous, True)


async def verify(session: AsyncSession, kept: Kept | None = None) -> Verdict:
    """Check the whole log, leaf by leaf (and against the leaves of earlier exports), then its
    heads, the events not yet sequenced, and its subtrees; call it on a new session (it reads
    one snapshot)."""
    kept = kept if kept is not None else Kept()
    await one_snapshot(session)
    stored = [
        Head(f"head {head_id}", note)
        for head_id, note in await session.execute(
            select(TreeHead.id, TreeHead.note).order_by(TreeHead.id)
        )
    ]
    heads = [*stored, *kept.heads]
    checkpoints = []
    for head in heads:
        try:
            checkpoints.append(read(head.note)[0])
        except NoteError as error:
            return Verdict(0, 0, f"{head.where} is not a signed tree head: {error}")
    wanted = {checkpoint.tree_size for checkpoint in checkpoints}
    roots: dict[int, bytes] = {}
    tree = Frontier()
    chain, expected = GENESIS, 0
    if 0 in wanted:
        roots[0] = tree.root()
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
        for digest, source in kept.leaves.get(leaf.leaf_number, ()):
            if digest.hex() != leaf.leaf_hash:
                return Verdict(
                    expected, 0, f"{where} (event {event.id}) is not the leaf {source} holds"
                )
        expected += 1
        tree.add(bytes.fromhex(leaf.leaf_hash))
        if expected in wanted:
            roots[expected] = tree.root()
    beyond = [number for number in kept.leaves if number >= expected]
    if beyond:
        return Verdict(
            expected,
            0,
            f"the log holds {expected} leaves, but {kept.leaves[min(beyond)][0][1]} holds leaf "
            f"{min(beyond)}: it was truncated",
        )
    problem = await _heads(session, zip(heads, checkpoints, strict=True), roots, expected)
    if problem is not None:
        return Verdict(expected, 0, problem)
    waiting, problem = await _waiting(session)
    problem = problem or await _subtrees(session, expected)
    return Verdict(expected, waiting, problem, len(stored), len(kept.heads))


async def _subtrees(session: AsyncSession, size: int) -> str | None:
    """Whether every stored subtree is there, and is the hash of its two halves."""
    per_level = dict(
        (
            await session.execute(select(AuditNode.level, func.count()).group_by(AuditNode.level))
        ).all()
    )
    for level in range(1, max(size.bit_length(), max(per_level, default=0) + 1)):
        if per_level.get(level, 0) != size >> level:
            return (
                f"the tree has {per_level.get(level, 0)} subtrees of {1 << level} leaves, not "
                f"{size >> level}: subtrees were removed or added"
            )
    parent, left, right = AuditNode, aliased(AuditNode), aliased(AuditNode)
    lower = aliased(AuditLeaf), aliased(AuditLeaf)
    halves = [
        select(parent.level, parent.index, parent.hash, lower[0].leaf_hash, lower[1].leaf_hash)
        .outerjoin(lower[0], lower[0].leaf_number == 2 * parent.index)
        .outerjoin(lower[1], lower[1].leaf_number == 2 * parent.index + 1)
        .where(parent.level == 1),
        select(parent.level, parent.index, parent.hash, left.hash, right.hash)
        .outerjoin(left, and_(left.level == parent.level - 1, left.index == 2 * parent.index))
        .outerjoin(
            right, and_(right.level == parent.level - 1, right.index == 2 * parent.index + 1)
        )
        .where(parent.level > 1),
    ]
    for query in halves:
        rows = await session.stream(query.execution_options(yield_per=1_000))
        async for level, index, digest, first, second in rows:
            start = index << level
            place = f"the subtree of leaves {start} to {start + (1 << level) - 1}"
            if first is None or second is None:
                return f"{place} has lost a half"
            if node_hash(bytes.fromhex(first), bytes.fromhex(second)).hex() != digest:
                return f"{place} does not match its halves: one of them was changed"
    return None


async def _waiting(session: AsyncSession) -> tuple[int, str | None]:
    """The events not sequenced yet: each must keep its hash, and none may be overdue; and
    the newest events must not have been removed."""
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
            return count, f"event {event.id} (not sequenced yet) no longer has its hash"
        committed_long_ago = not postgres or (event.transaction_id or 0) < oldest
        if committed_long_ago and event.occurred_at < overdue:
            return count, f"event {event.id} was committed long ago and is not in the log"
    written, last = (
        await _events_ever_written(session),
        await session.scalar(select(func.max(AuditEvent.id))),
    )
    if written and not last:
        return 0, f"the log is empty, yet {written} events were written: emptied"
    if not postgres and written > (last or 0):  # SQLite gives ids without gaps
        return count, f"events up to {written} were written, but the last is {last}"
    return count, None


async def _heads(
    session: AsyncSession,
    heads: Iterable[tuple[Head, Checkpoint]],
    roots: dict[int, bytes],
    size: int,
) -> str | None:
    """Whether each head is signed by one of the hub's audit keys and has the root of the
    log's first leaves: a head kept elsewhere that does not shows history rewritten."""
    keys = [audit_public_key(key) for key in await keys_for(session, KeyPurpose.AUDIT_SIGNING)]
    for head, checkpoint in heads:
        stamp = checkpoint.time.strftime("%Y-%m-%dT%H:%M:%SZ")
        place = f"{head.where}, of size {checkpoint.tree_size} signed {stamp}"
        _, body, signatures = read(head.note)
        if not any(signed_by(body, signatures, name, public) for name, public in keys):
            return f"{place}: not signed by any of the hub's audit keys"
        if checkpoint.tree_size > size:
            return f"{place}: the log holds only {size} leaves: it was truncated"
        if roots[checkpoint.tree_size] != checkpoint.root_hash:
            return (
                f"{place}: the log's first {checkpoint.tree_size} leaves no longer have its "
                "root: history it covers was rewritten"
            )
    return None


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

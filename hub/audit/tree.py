"""The log's Merkle tree as the database keeps it: leaf hashes in ``audit_leaves`` and every
complete subtree above them in ``audit_nodes``, so that a root or a proof at any size reads
O(log² n) rows; and the proofs auditors ask for, checked against what the log holds."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import structlog
from sqlalchemy import func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from hub.audit.merkle import (
    EMPTY_ROOT,
    Span,
    complete_parts,
    consistency_spans,
    fold,
    inclusion_spans,
    node_hash,
    span_hashes,
)
from hub.audit.models import AuditEvent, AuditLeaf, AuditNode
from hub.errors import Conflict, HubError, InvalidInput, NotFound

log = structlog.get_logger("hub.audit")


def address(span: Span) -> tuple[int, int]:
    """(level, index) of a complete subtree."""
    level = span.size.bit_length() - 1
    return level, span.start >> level


@dataclass
class Frontier:
    """The complete subtrees the log is made of, largest first, with their hashes: what the
    sequencer needs to add the nodes each new leaf completes."""

    parts: list[tuple[Span, bytes]] = field(default_factory=list)

    @property
    def size(self) -> int:
        return self.parts[-1][0].end if self.parts else 0

    def add(self, leaf: bytes) -> list[tuple[Span, bytes]]:
        """Add a leaf; the subtrees it completes, with their hashes."""
        size = self.size
        self.parts.append((Span(size, size + 1), leaf))
        made: list[tuple[Span, bytes]] = []
        while len(self.parts) > 1 and self.parts[-1][0].size == self.parts[-2][0].size:
            (right, right_hash), (left, left_hash) = self.parts.pop(), self.parts.pop()
            made.append((Span(left.start, right.end), node_hash(left_hash, right_hash)))
            self.parts.append(made[-1])
        return made

    def append(self, leaf: bytes) -> list[AuditNode]:
        """Add a leaf; the rows of the subtrees it completes, for the store."""
        return [
            AuditNode(level=level, index=index, hash=digest.hex())
            for span, digest in self.add(leaf)
            for level, index in [address(span)]
        ]

    def root(self) -> bytes:
        """The root of the tree of every leaf appended."""
        return fold([digest for _, digest in self.parts]) if self.parts else EMPTY_ROOT


async def tree_size(session: AsyncSession) -> int:
    """How many leaves the log holds."""
    last = await session.scalar(select(func.max(AuditLeaf.leaf_number)))
    return 0 if last is None else int(last) + 1


async def frontier(session: AsyncSession, size: int) -> Frontier:
    """The frontier of the first ``size`` leaves, for the sequencer. Leaves appended without
    their subtrees (by a hub of the release before them, still serving while the database was
    migrated) get them now: from the last leaf the stored subtrees cover, to ``size``."""
    parts = complete_parts(Span(0, size))
    found = await _stored_hashes(session, parts)
    if len(found) == len(parts):
        return Frontier([(part, found[part]) for part in parts])
    ends = await session.execute(
        select(AuditNode.level, func.max(AuditNode.index)).group_by(AuditNode.level)
    )
    covered = max(((index + 1) << level for level, index in ends), default=0)
    start = complete_parts(Span(0, covered))
    stored = await _complete_hashes(session, start)
    tree = Frontier([(part, stored[part]) for part in start])
    leaves = await session.scalars(
        select(AuditLeaf.leaf_hash)
        .where(AuditLeaf.leaf_number >= covered, AuditLeaf.leaf_number < size)
        .order_by(AuditLeaf.leaf_number)
    )
    for leaf in leaves:
        session.add_all(tree.append(bytes.fromhex(leaf)))
    if tree.size != size:
        raise HubError(f"the log lacks leaves between {covered} and {size}", code="TREE_INCOMPLETE")
    log.warning("audit.subtrees_added", first_leaf=covered, last_leaf=size - 1)
    return tree


async def _complete_hashes(session: AsyncSession, parts: Iterable[Span]) -> dict[Span, bytes]:
    """The hashes of complete subtrees, every one of them or ``TREE_INCOMPLETE``."""
    wanted = set(parts)
    found = await _stored_hashes(session, wanted)
    if len(found) != len(wanted):
        missing = sorted(wanted - set(found))[0]
        raise HubError(
            f"the log's tree lacks leaves {missing.start} to {missing.end - 1}: run p2c-hub "
            "audit verify",
            code="TREE_INCOMPLETE",
        )
    return found


async def _stored_hashes(session: AsyncSession, parts: Iterable[Span]) -> dict[Span, bytes]:
    """The hashes of those complete subtrees the store holds."""
    wanted = set(parts)
    leaves = {part.start: part for part in wanted if part.size == 1}
    nodes = {address(part): part for part in wanted if part.size > 1}
    found: dict[Span, bytes] = {}
    if leaves:
        rows = await session.execute(
            select(AuditLeaf.leaf_number, AuditLeaf.leaf_hash).where(
                AuditLeaf.leaf_number.in_(list(leaves))
            )
        )
        found |= {leaves[number]: bytes.fromhex(digest) for number, digest in rows}
    if nodes:
        stored = await session.execute(
            select(AuditNode.level, AuditNode.index, AuditNode.hash).where(
                tuple_(AuditNode.level, AuditNode.index).in_(list(nodes))
            )
        )
        found |= {nodes[(level, index)]: bytes.fromhex(digest) for level, index, digest in stored}
    return found


async def _hashes(session: AsyncSession, spans: Sequence[Span]) -> list[bytes]:
    found = await _complete_hashes(session, (p for span in spans for p in complete_parts(span)))
    return span_hashes(spans, found.__getitem__)


async def root_at(session: AsyncSession, size: int) -> bytes:
    """The root of the tree of the first ``size`` leaves."""
    return (await _hashes(session, [Span(0, size)]))[0] if size else EMPTY_ROOT


async def _checked_size(session: AsyncSession, size: int, name: str) -> int:
    current = await tree_size(session)
    if not 0 <= size <= current:
        raise InvalidInput(
            f"the log holds {current} leaves: a tree of {size} is not one of its trees",
            code="NOT_A_TREE_SIZE",
            field=(name,),
        )
    return size


@dataclass(frozen=True, slots=True)
class InclusionProof:
    """That an event is leaf ``leaf_index`` of the tree of ``tree_size`` leaves."""

    event_id: int
    leaf_index: int
    tree_size: int
    leaf_hash: bytes
    path: list[bytes]


async def inclusion_proof(session: AsyncSession, event_id: int, size: int) -> InclusionProof:
    """The proof that event ``event_id`` is in the tree of ``size`` leaves."""
    leaf = await session.scalar(select(AuditLeaf).where(AuditLeaf.event_id == event_id))
    if leaf is None:
        if await session.get(AuditEvent, event_id) is None:
            raise NotFound(f"there is no audit event {event_id}", field=("eventId",))
        raise Conflict(
            f"event {event_id} is not in the log yet: events are sequenced about a second "
            "after their transaction ends",
            code="NOT_SEQUENCED",
            field=("eventId",),
        )
    size = await _checked_size(session, size, "treeSize")
    if leaf.leaf_number >= size:
        raise InvalidInput(
            f"event {event_id} is leaf {leaf.leaf_number}, which a tree of {size} leaves does "
            "not hold",
            code="NOT_IN_TREE",
            field=("treeSize",),
        )
    path = await _hashes(session, inclusion_spans(leaf.leaf_number, size))
    return InclusionProof(event_id, leaf.leaf_number, size, bytes.fromhex(leaf.leaf_hash), path)


async def consistency_proof(session: AsyncSession, old: int, new: int) -> list[bytes]:
    """The proof that the tree of ``new`` leaves extends the tree of ``old``."""
    await _checked_size(session, new, "toSize")
    if not 0 <= old <= new:
        raise InvalidInput(
            f"a tree of {new} leaves cannot extend one of {old}",
            code="NOT_A_TREE_SIZE",
            field=("fromSize",),
        )
    return await _hashes(session, consistency_spans(old, new))

"""The Merkle tree of RFC 9162 section 2.1 over the log's leaf hashes, as pure functions.

Proofs are described first as the subtrees whose hashes they list (``Span``: leaves
``start`` to ``end``), so that the hub reads only those from its store of complete subtrees;
``complete_parts`` splits any subtree of the tree into the complete ones it is made of.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

EMPTY_ROOT = hashlib.sha256(b"").digest()


@dataclass(frozen=True, slots=True, order=True)
class Span:
    """Leaves ``start`` (included) to ``end`` (excluded) of the log."""

    start: int
    end: int

    @property
    def size(self) -> int:
        return self.end - self.start


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 9162 section 2.1.1: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def split(size: int) -> int:
    """The largest power of two smaller than ``size`` (at least 2)."""
    return 1 << ((size - 1).bit_length() - 1)


def root(leaves: Sequence[bytes]) -> bytes:
    """MTH over leaf hashes (for tests, and to check a stored tree)."""
    if not leaves:
        return EMPTY_ROOT
    if len(leaves) == 1:
        return leaves[0]
    k = split(len(leaves))
    return node_hash(root(leaves[:k]), root(leaves[k:]))


def inclusion_spans(index: int, size: int) -> list[Span]:
    """The subtrees whose hashes prove leaf ``index`` in the tree of ``size`` leaves, in the
    order of RFC 9162 section 2.1.3.1 (PATH)."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of {size}")
    spans: list[Span] = []
    start, end = 0, size
    while end - start > 1:
        k = split(end - start)
        if index < start + k:
            spans.append(Span(start + k, end))
            end = start + k
        else:
            spans.append(Span(start, start + k))
            start += k
    return spans[::-1]


def consistency_spans(old: int, new: int) -> list[Span]:
    """The subtrees whose hashes prove that the tree of ``new`` leaves extends that of
    ``old``, in the order of RFC 9162 section 2.1.4.1 (PROOF); none when ``old`` is 0 or
    ``new``."""
    if not 0 <= old <= new:
        raise ValueError(f"a tree of {old} cannot be extended to one of {new}")
    if old in (0, new):
        return []
    spans: list[Span] = []
    start, end, whole = 0, new, True
    while end - start != old - start:
        k = split(end - start)
        if old - start <= k:
            spans.append(Span(start + k, end))
            end = start + k
        else:
            spans.append(Span(start, start + k))
            start, whole = start + k, False
    if not whole:
        spans.append(Span(start, end))
    return spans[::-1]


def complete_parts(span: Span) -> list[Span]:
    """The complete subtrees (a power of two leaves) that ``span``, a subtree of the tree, is
    made of, largest first; its hash folds them from the right (``fold``). A subtree of the
    tree starts at a multiple of a power of two at least its size, so each part is aligned
    (starts at a multiple of its own size) and is kept in the store."""
    parts: list[Span] = []
    start = span.start
    while start < span.end:
        size = 1 << ((span.end - start).bit_length() - 1)
        parts.append(Span(start, start + size))
        start += size
    return parts


def fold(hashes: Sequence[bytes]) -> bytes:
    """The hash of a subtree from those of its complete parts (``complete_parts``)."""
    result = hashes[-1]
    for part in reversed(hashes[:-1]):
        result = node_hash(part, result)
    return result


def span_hashes(spans: Sequence[Span], complete: Callable[[Span], bytes]) -> list[bytes]:
    """The hashes of ``spans``, given the hash of each complete subtree."""
    return [fold([complete(part) for part in complete_parts(span)]) for span in spans]


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root_hash: bytes
) -> bool:
    """RFC 9162 section 2.1.3.2."""
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root_hash


def verify_consistency(
    old: int, new: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 section 2.1.4.2, with the trivial cases: a tree extends itself when the roots
    are equal, and every tree extends the empty one (both with an empty proof)."""
    if not 0 <= old <= new:
        return False
    if old == new:
        return not proof and old_root == new_root
    if old == 0:
        return not proof and old_root == EMPTY_ROOT
    if not proof:
        return False
    path = list(proof)
    if old & (old - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return fr == old_root and sr == new_root and sn == 0

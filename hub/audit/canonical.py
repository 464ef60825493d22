"""The canonical form of an audit event: JSON that the Python standard library reproduces
byte for byte, and the hashes computed over it.

Keys sorted, no insignificant whitespace, UTF-8 (not escaped), and no floats: amounts are
integers in minor units, decimals are strings without trailing zeros or exponent (``"12.5"``),
times are RFC 3339 strings in UTC with microseconds (``"2026-12-06T16:50:05.123456Z"``), dates
``"2026-12-06"``, enumerations their value. Leaf hash as RFC 9162 section 2.1 (SHA-256 of
0x00 and the canonical bytes); each leaf's chain hash covers the previous one (SHA-256 of the
previous chain hash and the leaf hash; 32 zero bytes before the first).
"""

from __future__ import annotations

import enum
import hashlib
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

GENESIS = bytes(32)
"""The chain hash before the first leaf."""


def plain(value: Any) -> Any:
    """``value`` as JSON the canonical form allows; ``TypeError`` for anything else."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, enum.Enum):
        return plain(value.value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise TypeError("a time in an audit event must be aware")
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):  # the number, whatever its scale: "1.5", never "1.50"
        return format(value.normalize(), "f") if value else "0"
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    raise TypeError(f"{type(value).__name__} has no canonical form (floats never do)")


def canonical(document: dict[str, Any]) -> bytes:
    """The canonical bytes of ``document``."""
    text = json.dumps(
        plain(document), sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
    return text.encode("utf-8")


def parse(text: str) -> Any:
    """JSON as the canonical form allows it: ``ValueError`` for a float, a NaN or an infinity
    (and for what is not JSON), ``RecursionError`` for nesting deeper than Python goes."""

    def refuse(number: str) -> Any:
        raise ValueError(f"{number} has no canonical form")

    return json.loads(text, parse_float=refuse, parse_constant=refuse)


def event_hash(canonical_bytes: bytes) -> bytes:
    return hashlib.sha256(canonical_bytes).digest()


def leaf_hash(canonical_bytes: bytes) -> bytes:
    """RFC 9162 section 2.1.1: SHA-256(0x00 || entry)."""
    return hashlib.sha256(b"\x00" + canonical_bytes).digest()


def chain_hash(previous: bytes, leaf: bytes) -> bytes:
    return hashlib.sha256(previous + leaf).digest()

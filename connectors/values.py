"""What every mapping does to values on their way into the hub, whatever the source: texts
cut to the hub's limits (and the cut noted), records put in one canonical form for their
content hashes, and the review item of a pledge nothing classifies."""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
from datetime import date
from decimal import Decimal

CLASSIFICATION = "CLASSIFICATION"
"""The review subject of a pledge no sector, SDG or word of its source gives a focus area."""


def cut(text: str, limit: int, what: str, notes: list[str]) -> str:
    """``text`` within ``limit`` characters, an ellipsis marking the cut, noted."""
    if len(text) <= limit:
        return text
    notes.append(f"the {what} has {len(text)} characters: the first {limit - 1} are kept")
    return text[: limit - 1] + "…"


def canonical(value: object, leave_out: frozenset[str]) -> object:
    """JSON-ready and independent of how the value was spelt: decimals by value, enums by
    code, dataclasses as objects without the fields ``leave_out`` names (where a record was
    read, its hash), so that a record read again unchanged hashes the same."""
    if isinstance(value, enum.Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            field.name: canonical(getattr(value, field.name), leave_out)
            for field in dataclasses.fields(value)
            if field.name not in leave_out
        }
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [canonical(item, leave_out) for item in value]
    return value


def content_hash(value: object, leave_out: frozenset[str]) -> str:
    """The SHA-256 of ``value``'s canonical JSON: what a record says, not where it was read."""
    text = json.dumps(canonical(value, leave_out), sort_keys=True, ensure_ascii=False,
                      separators=(",", ":"))  # fmt: skip
    return hashlib.sha256(text.encode()).hexdigest()

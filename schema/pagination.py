"""Opaque cursors, connection arguments, and connection objects for every list field."""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Callable, Sequence
from typing import Annotated, Any, TypeVar

import strawberry
from strawberry import relay

from hub.errors import InvalidInput
from hub.pagination import Slice, Window

C = TypeVar("C")
M = TypeVar("M")

First = Annotated[
    int | None, strawberry.argument(description="Page size from the start, 1 to 100.")
]
After = Annotated[str | None, strawberry.argument(description="Start after this cursor.")]
Last = Annotated[int | None, strawberry.argument(description="Page size from the end, 1 to 100.")]
Before = Annotated[str | None, strawberry.argument(description="End before this cursor.")]

MAX_POSITION = 10**9
"""No list has this many items; a cursor naming a larger position was not made here."""


MAX_KEY = 2**31 - 1


def node_key(text: str) -> int | None:
    """The integer key in a global id, or None when it cannot name a row."""
    valid = text.isascii() and text.isdigit() and len(text) <= 10 and text == str(int(text))
    return int(text) if valid and int(text) <= MAX_KEY else None


def key_of(global_id: relay.GlobalID, type_name: str, field: tuple[str, ...]) -> int:
    """The row key in a global id of ``type_name``, or ``INVALID_ID`` naming the field."""
    key = node_key(global_id.node_id) if global_id.type_name == type_name else None
    if key is None:
        article = "an" if type_name[0] in "AEIOU" else "a"
        raise InvalidInput(
            f"{global_id} is not the id of {article} {type_name}", code="INVALID_ID", field=field
        )
    return key


def fingerprint(*parts: object) -> str:
    """A short digest of a list's arguments, so a cursor only works for the same list."""
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:12]


def encode_cursor(kind: str, position: int) -> str:
    """An opaque cursor for the item at ``position`` of a list of ``kind``."""
    return base64.urlsafe_b64encode(f"{kind}:{position}".encode()).decode()


def decode_cursor(cursor: str, kind: str, field: str) -> int:
    """The position in ``cursor``, refusing cursors of another list and malformed ones."""
    try:
        prefix, _, position = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        valid = prefix == kind and position.isascii() and position.isdigit()
        if valid and int(position) <= MAX_POSITION:
            return int(position)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise InvalidInput(
        f"{cursor!r} is not a cursor of this list", code="INVALID_CURSOR", field=(field,)
    )


def slice_of(
    kind: str,
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
) -> Slice:
    """The hub slice for Relay connection arguments, validated."""
    return Slice(
        first=first,
        after=decode_cursor(after, kind, "after") if after is not None else None,
        last=last,
        before=decode_cursor(before, kind, "before") if before is not None else None,
    )


def build_connection(
    connection_type: Callable[..., C],
    items: Sequence[M],
    span: Window,
    *,
    kind: str,
    to_node: Callable[[M], Any],
) -> C:
    """A connection for the items at ``span`` of a list, with cursors and page info."""
    edges = [
        relay.Edge(node=to_node(item), cursor=encode_cursor(kind, span.start + offset))
        for offset, item in enumerate(items)
    ]
    return connection_type(
        edges=edges,
        page_info=relay.PageInfo(
            has_next_page=span.has_next_page,
            has_previous_page=span.has_previous_page,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        total_count=span.total,
    )

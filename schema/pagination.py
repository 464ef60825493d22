"""Opaque cursors and the connection arguments every list field shares."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Any, TypeVar

from strawberry import relay

from hub.errors import InvalidInput
from hub.pagination import Page, PageRequest

C = TypeVar("C")
M = TypeVar("M")


MAX_KEY = 2**31 - 1
"""Row keys are 32-bit integers; a cursor naming a larger one was not made by the hub."""


def encode_cursor(kind: str, key: int) -> str:
    """An opaque cursor for the row ``key`` of a list of ``kind``."""
    return base64.urlsafe_b64encode(f"{kind}:{key}".encode()).decode()


def decode_cursor(cursor: str, kind: str) -> int:
    """The row key in ``cursor``, refusing cursors of another list or malformed ones."""
    try:
        prefix, _, key = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        if prefix == kind and key.isascii() and key.isdigit() and int(key) <= MAX_KEY:
            return int(key)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise InvalidInput(
        f"{cursor!r} is not a cursor of this list", code="INVALID_CURSOR", field=("after",)
    )


def page_request(first: int, after: str | None, kind: str) -> PageRequest:
    """The hub page request for connection arguments, validated."""
    return PageRequest(
        first=first, after_id=decode_cursor(after, kind) if after is not None else None
    )


def build_connection(
    connection_type: Callable[..., C],
    page: Page[M],
    *,
    kind: str,
    to_node: Callable[[M], Any],
    key: Callable[[M], int],
    after: str | None,
) -> C:
    """A connection object for a hub page, with opaque cursors and page info."""
    edges = [
        relay.Edge(node=to_node(item), cursor=encode_cursor(kind, key(item))) for item in page.items
    ]
    return connection_type(
        edges=edges,
        page_info=relay.PageInfo(
            has_next_page=page.has_next_page,
            has_previous_page=after is not None,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        total_count=page.total_count,
    )

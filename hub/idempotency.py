"""Idempotency keys: a retried write returns its first response instead of writing again.

A key belongs to one client. It is claimed by inserting its row in the same transaction as
the write it guards, and the response is stored in that transaction before it commits, so
a key is either unused or bound to a committed write and its response, never half of it.
A duplicate arriving while the first request runs waits on the first one's row (PostgreSQL
waits on the uncommitted key; SQLite on its one writer) for at most ``WAIT``, then gets
``IN_PROGRESS``. Keys are kept ``KEEP`` (24 hours); a client's older keys are dropped when it
claims a new one, and may then be used afresh.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import String, Text, delete, select, text
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Base
from hub.errors import Conflict, InvalidInput
from hub.types import UTCDateTime

MAX_KEY_LENGTH = 255
KEEP = timedelta(hours=24)
WAIT = timedelta(seconds=10)


class IdempotencyRecord(Base):
    """A client's idempotency key, the digest of the request it came with, and the response."""

    __tablename__ = "idempotency_keys"

    client: Mapped[str] = mapped_column(String(100), primary_key=True)
    key: Mapped[str] = mapped_column(String(MAX_KEY_LENGTH), primary_key=True)
    request_digest: Mapped[str] = mapped_column(String(64))
    response: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


def check_key(key: str) -> str:
    """The key as given, refused when empty, too long or not printable ASCII."""
    if not key or len(key) > MAX_KEY_LENGTH or not all(" " < c <= "~" for c in key):
        raise InvalidInput(
            f"an Idempotency-Key is 1 to {MAX_KEY_LENGTH} printable ASCII characters",
            code="INVALID_IDEMPOTENCY_KEY",
            field=("Idempotency-Key",),
        )
    return key


def request_digest(query: str, operation_name: str | None, variables: Mapping[str, Any]) -> str:
    """What makes two requests the same request: document, operation and variables."""
    body = json.dumps(
        {"query": query, "operationName": operation_name, "variables": variables},
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(body.encode()).hexdigest()


async def claim(
    session: AsyncSession, client: str, key: str, digest: str, now: datetime
) -> dict[str, Any] | None:
    """Claim ``key`` for this request in the session's transaction: None when claimed (go on
    and write), the first response when the same request already ran.

    The same key with another request is a ``Conflict``; a key still held by a running
    request after ``WAIT`` is ``IN_PROGRESS``.
    """
    postgres = session.get_bind().dialect.name == "postgresql"
    insert = postgresql_insert if postgres else sqlite_insert
    try:
        if postgres:
            await session.execute(text(f"SET LOCAL lock_timeout = '{int(WAIT.total_seconds())}s'"))
        await session.execute(
            delete(IdempotencyRecord).where(
                IdempotencyRecord.client == client, IdempotencyRecord.created_at < now - KEEP
            )
        )
        claimed = await session.scalar(
            insert(IdempotencyRecord)
            .values(client=client, key=key, request_digest=digest, created_at=now)
            .on_conflict_do_nothing(index_elements=["client", "key"])
            .returning(IdempotencyRecord.key)
        )
        if postgres:  # the wait bounds the key's claim only, not the write it guards
            await session.execute(text("SET LOCAL lock_timeout = DEFAULT"))
    except DBAPIError as error:
        if "lock" not in str(error.orig).lower():
            raise
        raise Conflict(
            "a request with this Idempotency-Key is still running; retry later",
            code="IN_PROGRESS",
            field=("Idempotency-Key",),
        ) from None
    if claimed is not None:
        return None
    first = await session.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.client == client, IdempotencyRecord.key == key
        )
    )
    assert first is not None
    assert first.response is not None
    if first.request_digest != digest:
        raise Conflict(
            "this Idempotency-Key was used for a different request; use a new key",
            code="IDEMPOTENCY_KEY_REUSED",
            field=("Idempotency-Key",),
        )
    stored: dict[str, Any] = json.loads(first.response)
    return stored


async def remember(
    session: AsyncSession, client: str, key: str, response: Mapping[str, Any]
) -> None:
    """Store the response of the request that claimed ``key``, in its transaction."""
    record = await session.get_one(IdempotencyRecord, (client, key))
    record.response = json.dumps(response, separators=(",", ":"))
    await session.flush()

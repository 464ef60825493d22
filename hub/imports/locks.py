"""One run per connector at a time, across processes and hosts.

On PostgreSQL a session-level advisory lock, held by a connection of its own for the whole
run: a process that dies loses its connection and so its lock, and nothing is left to clean
up. On SQLite, whose database is one file on one host, an exclusive ``flock`` on a lock file
beside it, which the kernel releases when the process dies.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.errors import Conflict

LOCK_SPACE = 0x5032_4348
"""The first key of the hub's advisory locks ("P2CH"), so that they meet no one else's."""


def _busy(name: str) -> Conflict:
    return Conflict(
        f"connector {name} is running already, in another process",
        code="RUN_IN_PROGRESS",
        field=("connector",),
    )


@asynccontextmanager
async def connector_lock(engine: AsyncEngine, connector_id: int, name: str) -> AsyncIterator[None]:
    """Hold the connector's lock while the block runs; ``RUN_IN_PROGRESS`` if another holds
    it (never a wait: the other run does the work)."""
    if engine.dialect.name == "postgresql":
        async with _advisory(engine, connector_id, name):
            yield
        return
    database = engine.url.database
    if not database or database == ":memory:":
        yield  # one process owns an in-memory database
        return
    path = f"{database}.connector-{connector_id}.lock"
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise _busy(name) from None
        yield
    finally:
        os.close(descriptor)  # closing releases the lock


@asynccontextmanager
async def _advisory(engine: AsyncEngine, connector_id: int, name: str) -> AsyncIterator[None]:
    async with engine.connect() as connection:
        locked = await connection.scalar(
            text("SELECT pg_try_advisory_lock(:space, :key)"),
            {"space": LOCK_SPACE, "key": connector_id},
        )
        await connection.commit()  # the lock is the session's: no transaction stays open
        if not locked:
            raise _busy(name)
        try:
            yield
        finally:
            await connection.execute(
                text("SELECT pg_advisory_unlock(:space, :key)"),
                {"space": LOCK_SPACE, "key": connector_id},
            )
            await connection.commit()

"""On SQLite a read-only session reads beside the one writer (a writing one would queue behind
it, and give up after the busy timeout)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.db import create_session_factory
from hub.organisations.models import Organisation
from tests.fixtures.factories import add_member


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_a_read_only_session_does_not_wait_for_the_writer(engine: AsyncEngine) -> None:
    writes = create_session_factory(engine)
    reads = create_session_factory(engine, read_only=True)
    async with writes() as writer:
        await add_member(writer, "Holding the write lock")
        async with reads() as reader:
            async with asyncio.timeout(2):
                assert await reader.scalar(select(func.count()).select_from(Organisation)) == 0
        await writer.commit()

"""A pooled connection the database ended is replaced before a request uses it, once it sat
idle past ``hub.db.PING_AFTER_IDLE``; under load connections are reused unchecked."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text
from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_connection
from sqlalchemy.engine import make_url

import hub.db
from hub.settings import Settings
from tests.fixtures.database import postgres_admin
from tests.schema.http import graphql

QUERY = "{ pledges(first: 1) { totalCount } organisations(first: 1) { totalCount } }"


async def _end_connections_to(database: str) -> int:
    admin = await postgres_admin()
    try:
        ended: int = await admin.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = $1 AND pid <> pg_backend_pid()",
            database,
        )
    finally:
        await admin.close()
    return ended


async def test_connections_ended_by_the_server_are_replaced_unseen(
    postgres_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hub.db, "PING_AFTER_IDLE", 0.3)
    settings = Settings(database_url=postgres_database_url)
    async with graphql(postgres_database_url, settings=settings) as client:
        assert (await client.data(QUERY))["pledges"]["totalCount"] == 0
        assert await _end_connections_to(make_url(postgres_database_url).database or "") >= 1
        await asyncio.sleep(0.5)
        for _ in range(3):
            assert (await client.data(QUERY))["pledges"]["totalCount"] == 0


async def test_only_a_connection_idle_past_the_window_is_pinged(
    postgres_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    pings: list[object] = []
    original = AsyncAdapt_asyncpg_connection.ping

    def counted(connection: AsyncAdapt_asyncpg_connection) -> None:
        pings.append(connection)
        original(connection)  # type: ignore[no-untyped-call]

    monkeypatch.setattr(AsyncAdapt_asyncpg_connection, "ping", counted)
    monkeypatch.setattr(hub.db, "PING_AFTER_IDLE", 0.3)
    engine = hub.db.create_engine(postgres_database_url)
    hub.db.ping_when_idle(engine)
    try:
        for _ in range(5):
            async with engine.connect() as connection:
                assert await connection.scalar(text("SELECT 1")) == 1
        assert pings == []
        await asyncio.sleep(0.5)
        async with engine.connect() as connection:
            assert await connection.scalar(text("SELECT 1")) == 1
        assert len(pings) == 1
    finally:
        await engine.dispose()

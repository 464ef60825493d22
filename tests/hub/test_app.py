"""The served hub: health, readiness, request ids and GraphQL over real HTTP."""

from __future__ import annotations

from pathlib import Path

import httpx

from hub.migrate import head_revision
from hub.settings import Settings
from tests.fixtures.server import running_hub


async def test_liveness_and_readiness_on_a_migrated_database(database_url: str) -> None:
    async with (
        running_hub(Settings(database_url=database_url)) as base,
        httpx.AsyncClient(base_url=base) as client,
    ):
        alive = await client.get("/healthz")
        ready = await client.get("/readyz")
    assert (alive.status_code, alive.json()) == (200, {"status": "ok"})
    assert ready.status_code == 200
    assert ready.json()["migrations"] == {"current": head_revision()}


async def test_not_ready_before_migrations(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
    async with running_hub(settings) as base, httpx.AsyncClient(base_url=base) as client:
        ready = await client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json() == {
        "status": "unavailable",
        "database": "ok",
        "migrations": {"current": None, "expected": head_revision()},
    }


async def test_not_ready_when_the_database_is_unreachable() -> None:
    settings = Settings(database_url="postgresql+asyncpg://postgres@127.0.0.1:9/nowhere")
    async with running_hub(settings) as base, httpx.AsyncClient(base_url=base) as client:
        ready = await client.get("/readyz")
        alive = await client.get("/healthz")
    assert ready.status_code == 503
    assert ready.json()["database"] == "unreachable"
    assert alive.status_code == 200


async def test_every_response_carries_a_request_id(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}")
    async with running_hub(settings) as base, httpx.AsyncClient(base_url=base) as client:
        given = await client.get("/healthz", headers={"X-Request-ID": "partner-trace-42"})
        unsafe = await client.get("/healthz", headers={"X-Request-ID": "bad id\twith spaces"})
        fresh = [await client.get("/healthz") for _ in range(2)]
        missing = await client.get("/no-such-page")
    assert given.headers["x-request-id"] == "partner-trace-42"
    assert unsafe.headers["x-request-id"] != "bad id\twith spaces"
    assert len({r.headers["x-request-id"] for r in fresh}) == 2
    assert missing.status_code == 404
    assert missing.headers["x-request-id"]


async def test_graphql_answers_over_http(database_url: str) -> None:
    async with (
        running_hub(Settings(database_url=database_url)) as base,
        httpx.AsyncClient(base_url=base) as client,
    ):
        response = await client.post(
            "/graphql", json={"query": "{ members(first: 5) { totalCount } }"}
        )
        bad = await client.post("/graphql", json={"query": "{ members(first: 5) { nope } }"})
    assert response.json() == {"data": {"members": {"totalCount": 0}}}
    assert bad.status_code == 200
    assert "nope" in bad.json()["errors"][0]["message"]

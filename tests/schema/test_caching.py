"""Browsers and caches: persisted queries over POST and GET, ETags and 304s."""

from __future__ import annotations

import hashlib
import json

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.settings import Settings
from schema.persisted import QueryStore
from tests.fixtures.factories import add_member, add_published_pledge
from tests.fixtures.server import running_hub

QUERY = "{ pledges(first: 5) { totalCount edges { node { title } } } }"
DIGEST = hashlib.sha256(QUERY.encode()).hexdigest()
PERSISTED = {"persistedQuery": {"version": 1, "sha256Hash": DIGEST}}


async def test_persisted_queries_register_hit_miss_and_mismatch(database_url: str) -> None:
    settings = Settings(database_url=database_url)
    get_params = {"extensions": json.dumps(PERSISTED)}
    async with running_hub(settings) as base, httpx.AsyncClient(base_url=base) as client:
        miss = await client.post("/graphql", json={"extensions": PERSISTED})
        get_miss = await client.get("/graphql", params=get_params)
        mismatch = await client.post(
            "/graphql", json={"query": QUERY + " ", "extensions": PERSISTED}
        )
        register = await client.post("/graphql", json={"query": QUERY, "extensions": PERSISTED})
        hit = await client.post("/graphql", json={"extensions": PERSISTED})
        get_hit = await client.get("/graphql", params=get_params)
    not_found = {"message": "PersistedQueryNotFound",
                 "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"}}  # fmt: skip
    assert miss.json() == {"data": None, "errors": [not_found]}
    assert get_miss.json() == {"data": None, "errors": [not_found]}
    assert mismatch.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_HASH_MISMATCH"
    expected = {"data": {"pledges": {"totalCount": 0, "edges": []}}}
    assert register.json() == hit.json() == get_hit.json() == expected


async def test_anonymous_gets_carry_an_etag_that_follows_the_data(
    database_url: str, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    settings = Settings(database_url=database_url, cache_max_age=60)
    params = {"query": QUERY}
    async with running_hub(settings) as base, httpx.AsyncClient(base_url=base) as client:
        first = await client.get("/graphql", params=params)
        etag = first.headers["etag"]
        unchanged = await client.get("/graphql", params=params, headers={"if-none-match": etag})
        async with session_factory() as session:
            await add_published_pledge(session, await add_member(session), title="New pledge")
            await session.commit()
        changed = await client.get("/graphql", params=params, headers={"if-none-match": etag})
        private = await client.get("/graphql", params=params, headers={"authorization": "Bearer x"})
        posted = await client.post("/graphql", json=params)
        failed = await client.get("/graphql", params={"query": "{ pledges { totalCount } }"})
    assert first.status_code == 200
    assert first.headers["cache-control"] == "public, max-age=60"
    assert first.headers["vary"].startswith("Accept, Authorization")  # CORS adds Origin
    assert etag.startswith('W/"')
    assert unchanged.status_code == 304
    assert unchanged.content == b""
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag
    assert changed.json()["data"]["pledges"]["totalCount"] == 1
    assert "etag" not in private.headers
    assert "etag" not in posted.headers
    assert failed.headers["cache-control"] == "no-store"
    assert "etag" not in failed.headers


def test_the_persisted_query_store_is_bounded_in_bytes() -> None:
    store = QueryStore(max_bytes=100)
    store.put("a", "x" * 60)
    store.put("b", "y" * 30)
    store.get("a")
    store.put("c", "z" * 30)
    assert store.get("b") is None, "the least recently used document goes first"
    assert store.get("a") == "x" * 60
    assert store.get("c") == "z" * 30

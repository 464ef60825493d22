"""Requests refused before GraphQL: cross-site simple POSTs, oversized bodies; CORS."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from hub.settings import Settings
from tests.fixtures.server import running_hub

QUERY = '{"query": "{ pledges(first: 1) { totalCount } }"}'
ORIGIN = "https://p2c.example.org"


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, cors_origins=[ORIGIN], max_body_bytes=2_000)


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "TEXT/PLAIN; charset=utf-8",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "text/plain, application/json",
    ],
)
async def test_simple_cross_site_posts_are_refused(settings: Settings, content_type: str) -> None:
    async with running_hub(settings) as base, httpx.AsyncClient(base_url=base) as client:
        refused = await client.post(
            "/graphql", content=QUERY, headers={"content-type": content_type}
        )
        allowed = await client.post(
            "/graphql",
            content=QUERY,
            headers={"content-type": content_type, "apollo-require-preflight": "true"},
        )
    assert refused.status_code == 400
    [error] = refused.json()["errors"]
    assert error["extensions"] == {"code": "CSRF_REFUSED"}
    assert content_type.split(";")[0].lower() in error["message"]
    assert allowed.status_code != 400 or "CSRF" not in allowed.text


async def test_mutations_never_run_over_get(settings: Settings) -> None:
    async with running_hub(settings) as base, httpx.AsyncClient(base_url=base) as client:
        response = await client.get("/graphql", params={"query": "mutation { x }"})
    assert response.status_code in (400, 405)


async def test_oversized_bodies_are_refused_with_the_limit(settings: Settings) -> None:
    padding = " " * 3_000
    body = QUERY[:-1] + padding + "}"
    async with running_hub(settings) as base, httpx.AsyncClient(base_url=base) as client:
        declared = await client.post(
            "/graphql", content=body, headers={"content-type": "application/json"}
        )

        async def chunks() -> AsyncIterator[bytes]:
            for start in range(0, len(body), 500):
                yield body[start : start + 500].encode()

        streamed = await client.post(
            "/graphql", content=chunks(), headers={"content-type": "application/json"}
        )
        fine = await client.post(
            "/graphql", content=QUERY, headers={"content-type": "application/json"}
        )
    for refused in (declared, streamed):
        assert refused.status_code == 413
        [error] = refused.json()["errors"]
        assert error["extensions"] == {"code": "BODY_TOO_LARGE"}
        assert "the limit is 2000" in error["message"]
    assert fine.json() == {"data": {"pledges": {"totalCount": 0}}}


async def test_cors_allows_listed_origins_only(settings: Settings) -> None:
    preflight_headers = {
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type",
    }
    async with running_hub(settings) as base, httpx.AsyncClient(base_url=base) as client:
        allowed = await client.options("/graphql", headers={"origin": ORIGIN, **preflight_headers})
        other = await client.options(
            "/graphql", headers={"origin": "https://evil.example", **preflight_headers}
        )
        simple = await client.post(
            "/graphql", content=QUERY,
            headers={"content-type": "application/json", "origin": ORIGIN},
        )  # fmt: skip
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == ORIGIN
    assert "POST" in allowed.headers["access-control-allow-methods"]
    assert other.status_code == 400
    assert "access-control-allow-origin" not in other.headers
    assert simple.headers["access-control-allow-origin"] == ORIGIN
    assert "x-request-id" in simple.headers["access-control-expose-headers"]


async def test_overlong_query_strings_are_refused(settings: Settings) -> None:
    query = "{ pledges(first: 1) { totalCount } }" + " " * 3_000
    async with running_hub(settings) as base, httpx.AsyncClient(base_url=base) as client:
        response = await client.get("/graphql", params={"query": query})
    assert response.status_code == 414
    assert response.json()["errors"][0]["extensions"] == {"code": "QUERY_STRING_TOO_LONG"}

"""The hub as a federation subgraph: entities through the visibility rule, the SDL for the
gateway only when introspection is off, GraphiQL that can be switched off."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.settings import Settings
from tests.fixtures.server import running_hub
from tests.schema.graph_data import Graph, build_graph
from tests.schema.http import gid, graphql

ENTITIES = """
query($representations: [_Any!]!) {
  _entities(representations: $representations) {
    ... on Pledge { title lead { name } }
    ... on Organisation { name }
    ... on Country { alpha3 }
  }
}
"""


@pytest.fixture
async def graph(session_factory: async_sessionmaker[AsyncSession]) -> Graph:
    return await build_graph(session_factory)


async def test_entities_resolve_through_the_visibility_rule(
    database_url: str, graph: Graph
) -> None:
    representations = [
        {"__typename": "Pledge", "id": gid("Pledge", graph.pledges["p1"])},
        {"__typename": "Pledge", "id": gid("Pledge", graph.pledges["draft"])},
        {"__typename": "Organisation", "id": gid("Organisation", graph.members["beta"])},
        {"__typename": "Country", "id": gid("Country", "NPL")},
        {"__typename": "Pledge", "id": gid("Organisation", graph.members["beta"])},
        {"__typename": "Pledge", "id": "not base64 at all"},
    ]
    async with graphql(database_url, debug=True) as client:
        body = await client.post(ENTITIES, representations=representations)
    assert body["data"]["_entities"] == [
        {"title": "Fibre for Bhutan schools", "lead": {"name": "Alpha Telecom"}},
        None,
        {"name": "Beta Fund"},
        {"alpha3": "NPL"},
        None,
        None,
    ]
    assert body["extensions"]["sql"]["statements"] <= 4, "one batch per type, then the leads"


async def test_the_sdl_is_for_the_gateway_only_when_introspection_is_off(
    database_url: str,
) -> None:
    settings = Settings(database_url=database_url, introspection=False, gateway_secret="s3cret")
    sdl = {"query": "{ _service { sdl } }"}
    async with running_hub(settings) as base, httpx.AsyncClient(base_url=base) as client:
        anyone = await client.post("/graphql", json=sdl)
        wrong = await client.post("/graphql", json=sdl, headers={"x-gateway-secret": "guess"})
        hidden = await client.post(
            "/graphql",
            json={"query": "query { ...F } fragment F on Query { s: _service { sdl } }"},
        )
        gateway = await client.post("/graphql", json=sdl, headers={"x-gateway-secret": "s3cret"})
        introspect = await client.post(
            "/graphql", json={"query": "{ __schema { types { name } } }"}
        )
        data = await client.post("/graphql", json={"query": "{ pledges(first: 1) { totalCount } }"})
    for refused in (anyone, wrong, hidden):
        assert refused.json()["errors"][0]["extensions"]["code"] == "INTROSPECTION_DISABLED"
    assert (
        'schema @link(url: "https://specs.apollo.dev/federation/v2.11"'
        in (gateway.json()["data"]["_service"]["sdl"])
    )
    assert "introspection" in introspect.json()["errors"][0]["message"].lower()
    assert data.json() == {"data": {"pledges": {"totalCount": 0}}}


async def test_graphiql_can_be_switched_off(database_url: str) -> None:
    settings = Settings(database_url=database_url, graphiql=False)
    async with running_hub(settings) as base, httpx.AsyncClient(base_url=base) as client:
        page = await client.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 404


@pytest.mark.parametrize("allowed", [True, False])
async def test_inline_traces_only_when_settings_allow(database_url: str, allowed: bool) -> None:
    settings = Settings(database_url=database_url, federation_tracing=allowed)
    query = {"query": "{ pledges(first: 1) { totalCount } }"}
    async with running_hub(settings) as base, httpx.AsyncClient(base_url=base) as client:
        traced = await client.post(
            "/graphql", json=query, headers={"apollo-federation-include-trace": "ftv1"}
        )
        plain = await client.post("/graphql", json=query)
    assert ("ftv1" in traced.json().get("extensions", {})) is allowed
    assert "extensions" not in plain.json()


async def test_entities_take_at_most_a_hundred_representations(database_url: str) -> None:
    representations = [{"__typename": "Country", "id": gid("Country", "NPL")}] * 101
    async with graphql(database_url) as client:
        body = await client.post(ENTITIES, representations=representations)
    [error] = body["errors"]
    assert error["message"] == "_entities has 101 items; the limit is 100"
    assert error["extensions"] == {"code": "TOO_MANY_IDS", "limit": 100}


async def test_malformed_representations_are_the_callers_mistake(database_url: str) -> None:
    async with graphql(database_url) as client:
        for bad in ({"__typename": "Nope", "id": "x"}, {"__typename": "Pledge"}, {"id": "3"}):
            body = await client.post(ENTITIES, representations=[bad])
            [error] = body["errors"]
            assert error["extensions"]["code"] == "INVALID_REPRESENTATION", error
            assert error["extensions"]["field"] == ["representations", "0"]


async def test_per_caller_answers_are_never_cached(database_url: str) -> None:
    settings = Settings(database_url=database_url, introspection=False, gateway_secret="s3cret")
    async with running_hub(settings) as base, httpx.AsyncClient(base_url=base) as client:
        sdl = await client.get(
            "/graphql",
            params={"query": "{ _service { sdl } }"},
            headers={"x-gateway-secret": "s3cret"},
        )
        budget = await client.get("/graphql", params={"query": "{ rateLimit { remaining } }"})
    for private in (sdl, budget):
        assert private.status_code == 200
        assert private.headers["cache-control"] == "no-store"
        assert "etag" not in private.headers

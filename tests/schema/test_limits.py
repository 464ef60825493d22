"""Hostile operations are refused before they run, each refusal naming its limit."""

from __future__ import annotations

import json

import pytest

from hub.settings import Settings
from tests.schema.http import graphql


def nest(depth: int) -> str:
    inner = "edges { node { title } }"
    for _ in range(depth):
        inner = f"edges {{ node {{ lead {{ pledges(first: 100) {{ {inner} }} }} }} }}"
    return f"{{ pledges(first: 100) {{ {inner} }} }}"


async def test_limits_refuse_hostile_operations(database_url: str) -> None:
    aliases = " ".join(f"a{i}: pledges(first: 1) {{ totalCount }}" for i in range(31))
    fragment_flood = (
        "fragment F on Query { " + " ".join(f"x{i}: rateLimit {{ cost }}" for i in range(8))
        + " } query { " + " ".join("...F" for _ in range(5)) + " }"
    )  # fmt: skip
    tokens = "{ " + " ".join("rateLimit { cost }" for _ in range(600)) + " }"
    roots = "{ " + " ".join(f"r{i}: rateLimit {{ cost }}" for i in range(11)) + " }"
    async with graphql(database_url) as client:
        depth = await client.post(nest(5))
        flood = await client.post("{" + aliases + "}")
        spread = await client.post(fragment_flood)
        long = await client.post(tokens)
        many = await client.post(roots)
        costly = await client.post(nest(2))
    assert "exceeds maximum operation depth of 12" in depth["errors"][0]["message"]
    assert depth["errors"][0]["extensions"] == {"code": "DEPTH_LIMIT"}
    assert flood["errors"][0]["message"] == "31 aliases found. Allowed: 30"
    assert flood["errors"][0]["extensions"] == {"code": "ALIAS_LIMIT"}
    assert spread["errors"][0]["message"] == "40 aliases found. Allowed: 30"
    assert "more than 2000 tokens" in long["errors"][0]["message"]
    assert long["errors"][0]["extensions"] == {"code": "TOKEN_LIMIT"}
    assert many["errors"][0]["message"] == "the operation has 11 root fields; the limit is 10"
    [error] = costly["errors"]
    assert error["message"] == "the operation costs 2040401; the limit is 50000"
    assert error["extensions"] == {
        "code": "COST_LIMIT_EXCEEDED", "cost": 2040401, "limit": 50000,
    }  # fmt: skip
    assert costly["data"] is None


async def test_the_rate_limit_field_and_the_hourly_budget(database_url: str) -> None:
    query = """{ pledges(first: 10) { edges { node { title } } }
                 rateLimit { cost limit remaining resetAt } }"""
    settings = Settings(database_url=database_url, anonymous_cost_per_hour=50)
    async with graphql(database_url, settings=settings) as client:
        first = await client.data(query)
        second = await client.data(query)
        refused = await client.post(query)
        other = await client.post(query, headers={"x-forwarded-for": "198.51.100.7"})
    assert first["rateLimit"]["cost"] == 22, "1 + 10 x (edges 1 + node 1) + rateLimit 1"
    assert (first["rateLimit"]["limit"], first["rateLimit"]["remaining"]) == (50, 28)
    assert second["rateLimit"]["remaining"] == 6
    [error] = refused["errors"]
    assert error["extensions"]["code"] == "BUDGET_EXCEEDED"
    assert error["extensions"]["remaining"] == 6
    assert error["extensions"]["resetAt"] == first["rateLimit"]["resetAt"]
    assert "resets at" in error["message"]
    assert "errors" in other, "X-Forwarded-For from an untrusted peer changes nothing"


async def test_a_trusted_proxy_forwards_the_callers_address(database_url: str) -> None:
    query = "{ rateLimit { remaining } pledges(first: 10) { edges { node { title } } } }"
    settings = Settings(
        database_url=database_url, anonymous_cost_per_hour=25, trusted_proxies=["127.0.0.1"]
    )
    async with graphql(database_url, settings=settings) as client:
        one = await client.post(query, headers={"x-forwarded-for": "198.51.100.7"})
        two = await client.post(query, headers={"x-forwarded-for": "198.51.100.8"})
        again = await client.post(query, headers={"x-forwarded-for": "198.51.100.7"})
    assert one["data"]["rateLimit"] == {"remaining": 3}
    assert two["data"]["rateLimit"] == {"remaining": 3}
    assert again["errors"][0]["extensions"]["code"] == "BUDGET_EXCEEDED"


async def test_no_field_suggestions_unless_asked(database_url: str) -> None:
    query = "{ pledgs(first: 1) { totalCount } }"
    async with graphql(database_url) as client:
        quiet = await client.post(query)
    settings = Settings(database_url=database_url, field_suggestions=True)
    async with graphql(database_url, settings=settings) as client:
        helpful = await client.post(query)
    assert "Did you mean" not in json.dumps(quiet)
    assert "Did you mean 'pledges'" in json.dumps(helpful)


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_budgets_are_shared_by_every_process_on_postgresql(database_url: str) -> None:
    query = "{ rateLimit { remaining } pledges(first: 10) { edges { node { title } } } }"
    settings = Settings(database_url=database_url, anonymous_cost_per_hour=50)
    async with graphql(database_url, settings=settings) as one:
        first = await one.data(query)
    async with graphql(database_url, settings=settings) as two:
        second = await two.data(query)
    assert (first["rateLimit"]["remaining"], second["rateLimit"]["remaining"]) == (28, 6)


async def test_negative_sizes_neither_lower_the_cost_nor_refill_the_budget(
    database_url: str,
) -> None:
    settings = Settings(database_url=database_url, anonymous_cost_per_hour=50)
    query = "{ rateLimit { remaining } pledges(last: -1000000) { edges { node { title } } } }"
    async with graphql(database_url, settings=settings) as client:
        refused = await client.post(query)
        after = await client.data("{ rateLimit { cost remaining } }")
    assert refused["errors"][0]["extensions"]["code"] == "PAGE_SIZE_OUT_OF_RANGE"
    assert after["rateLimit"]["remaining"] <= 50


async def test_suggestions_are_removed_from_every_kind_of_error(database_url: str) -> None:
    async with graphql(database_url) as client:
        argument = await client.post("{ pledges(frist: 1) { totalCount } }")
        type_name = await client.post("query($f: PledgeFilterInpt) { rateLimit { cost } }")
    for body in (argument, type_name):
        assert "Did you mean" not in json.dumps(body)
        assert body["errors"]

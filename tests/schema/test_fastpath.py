"""Every public query both ways: the compiled fast path (schema.fastpath) and the resolvers
must give the same answer, key order included, the visibility rule with them; what the fast
path does not cover must reach the resolvers; its statements do not grow with the page."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.routing import Route

from hub.app import HubGraphQL, create_app
from hub.db import create_engine, create_session_factory
from hub.organisations.models import Organisation
from hub.pledges.models import Direction, Indicator, Measure
from hub.pledges.rules import TargetDraft
from hub.pledges.service import add_target
from hub.progress.rules import ReportDraft, ReportedValue
from hub.progress.service import report_progress
from hub.settings import Settings
from schema import SchemaOptions, build_schema
from schema.cost import operation_cost
from schema.fastpath import FastPath
from tests.fixtures.database import StatementCounter
from tests.fixtures.factories import add_published_pledge
from tests.fixtures.server import running_app
from tests.schema.graph_data import Graph, build_graph
from tests.schema.http import gid

CARD = """__typename id title description pledgeType publicationStatus implementationStatus
  announcedOn startDate endDate returnNote version focusAreas targetGroups beneficiaryGroups sdgs
  pledgedAmount { __typename amount currency usdMissingReason
                  usd { __typename amount rate rateDate source } }
  lead { __typename id name organisationType iatiIdentifier website membershipStatus }
  endorsements { __typename id status roles organisation { id name } }
  targets { __typename id indicator label description unit measure direction cumulative
            baseline baselineDate targetValue deadline latestValue }
  progressReports { __typename id periodStart periodEnd status narrative }
  targetCountries { __typename id alpha3 alpha2 numeric name }"""

LIST = f"""query List($filter: PledgeFilterInput, $orderBy: PledgeOrderInput, $first: Int,
    $after: String) {{
  pledges(filter: $filter, orderBy: $orderBy, first: $first, after: $after) {{
    __typename totalCount
    pageInfo {{ __typename hasNextPage hasPreviousPage startCursor endCursor }}
    edges {{ __typename cursor node {{ {CARD} }} }}
  }}
}}"""

NODE = f"""query One($id: ID!) {{
  node(id: $id) {{ __typename id ... on Pledge {{ {CARD} }} ... on Organisation {{ name }} }}
}}"""

FRAGMENTS = """query Shaped($id: ID!) {
  __typename
  one: node(id: $id) { ...Card }
  again: node(id: $id) { id ... on Node { id } }
  firstTwo: pledges(first: 2) { edges { node { ...Card title } } pageInfo { endCursor } }
  lastOne: pledges(first: 1, orderBy: {field: ANNOUNCED_ON, direction: DESC}) { totalCount }
}
fragment Card on Pledge { id name: title lead { ... on Organisation { name } } }"""

FILTERS: list[dict[str, Any]] = [
    {},
    {"focusAreas": ["ACCESS"]},
    {"focusAreas": ["ACCESS", "VALUE_CREATION"]},
    {"pledgeTypes": ["FINANCIAL"]},
    {"publicationStatuses": ["WITHDRAWN", "FULFILLED"]},
    {"publicationStatuses": ["DRAFT"]},
    {"implementationStatuses": ["PIPELINE", "COMPLETED"]},
    {"targetCountries": ["BTN"]},
    {"countryGroup": {"group": "LDC", "asOf": "2022-01-01"}},
    {"countryGroup": {"group": "SIDS"}},
    {"memberTypes": ["ACADEMIA"]},
    {"roles": ["FUNDER"]},
    {"text": "nepal"},
    {"text": "100%_\\"},
    {"usdAmount": {"min": "300000", "max": "1000000"}},
    {"announced": {"start": "2023-01-01", "end": "2024-03-01"}},
    {"focusAreas": ["ACCESS"], "targetCountries": ["STP", "BTN"], "pledgeTypes": ["FINANCIAL"]},
]

ORDERS: list[dict[str, Any] | None] = [
    None,
    *(
        {"field": field, "direction": direction}
        for field in ("ANNOUNCED_ON", "USD_AMOUNT", "TITLE")
        for direction in ("ASC", "DESC")
    ),
]


@dataclass
class Both:
    """The same hub twice over one database: with the fast path, and with resolvers only."""

    fast: httpx.AsyncClient
    slow: httpx.AsyncClient
    path: FastPath
    statements: StatementCounter

    async def answers(self, query: str, **variables: Any) -> Any:
        """The answer, the same both ways; ``answered`` tells which way the fast hub took."""
        payload = {"query": query, "variables": variables}
        before = self.path.answered
        fast = await self.fast.post("/graphql", json=payload)
        slow = await self.slow.post("/graphql", json=payload)
        assert fast.status_code == slow.status_code == 200, (fast.text, slow.text)
        assert _ordered(fast.text) == _ordered(slow.text), (query, variables)
        self.last_fast = self.path.answered > before
        return json.loads(fast.text)

    last_fast: bool = False


def _ordered(text: str) -> Any:
    """JSON with its objects as lists of pairs, so that key order counts."""
    return json.loads(text, object_pairs_hook=list)


def _endpoint(app: Starlette) -> HubGraphQL:
    for route in app.routes:
        if isinstance(route, Route) and isinstance(route.endpoint, HubGraphQL):
            return route.endpoint
    raise AssertionError("no GraphQL route")


@asynccontextmanager
async def _served(settings: Settings) -> AsyncIterator[tuple[Starlette, httpx.AsyncClient]]:
    app = create_app(settings)
    async with running_app(app) as base, httpx.AsyncClient(base_url=base) as client:
        yield app, client


@pytest.fixture
async def both(postgres_database_url: str) -> AsyncIterator[Both]:
    fast_settings = Settings(database_url=postgres_database_url, fast_path=True)
    slow_settings = Settings(database_url=postgres_database_url, fast_path=False)
    async with _served(fast_settings) as (app, fast), _served(slow_settings) as (slow_app, slow):
        path = _endpoint(app).fast_path
        assert path is not None
        assert _endpoint(slow_app).fast_path is None
        counter = StatementCounter()
        engine = app.state.engine.sync_engine
        event.listen(engine, "before_cursor_execute", counter)
        try:
            yield Both(fast, slow, path, counter)
        finally:
            event.remove(engine, "before_cursor_execute", counter)


@pytest.fixture
async def graph(postgres_database_url: str) -> AsyncIterator[Graph]:
    engine = create_engine(postgres_database_url)
    try:
        sessions = create_session_factory(engine)
        graph = await build_graph(sessions)
        await _more_cases(sessions, graph)
        yield graph
    finally:
        await engine.dispose()


async def _more_cases(sessions: async_sessionmaker[AsyncSession], graph: Graph) -> None:
    """Targets whose latest value takes each of ``reached``'s branches, decimals that must be
    written without trailing zeros, and money without a US dollar value (two currencies)."""
    p1 = graph.pledges["p1"]
    async with sessions() as session:
        beta = await session.get(Organisation, graph.members["beta"])
        assert beta is not None
        for title, amount, currency in [
            ("Towers for Tuvalu", "1250.50", "GBP"),
            ("Cables for Kiribati", "7000", "JPY"),
            ("Hubs for Haiti", "99.99", "GBP"),
        ]:
            await add_published_pledge(
                session, beta, title=title, amount=amount, currency=currency,
                target_countries=("TUV",), announced_on=date(2025, 2, 1),
            )  # fmt: skip
        drafts = [
            TargetDraft(Indicator.OTHER, "km", label="Fibre laid", measure=Measure.QUALITATIVE,
                        description="Fibre to every district"),
            TargetDraft(
                Indicator.OTHER, "ms", label="Latency", direction=Direction.DESCENDING,
                cumulative=False, target_value=Decimal("20.500"),
            ),
            TargetDraft(
                Indicator.OTHER, "sites", label="Sites", cumulative=False,
                baseline_value=Decimal("2.250000"), target_value=Decimal("100"),
                baseline_date=date(2022, 1, 1), deadline=date(2027, 12, 31),
            ),
        ]  # fmt: skip
        targets = [await add_target(session, p1, draft) for draft in drafts]
        values = [ReportedValue(t.id, Decimal("1.500")) for t in targets[1:]]
        await report_progress(
            session,
            p1,
            graph.members["alpha"],
            ReportDraft(date(2023, 1, 1), date(2023, 6, 30), values=values),
        )
        await session.commit()


async def test_every_listing_is_answered_alike_both_ways(both: Both, graph: Graph) -> None:
    for given in FILTERS:
        for order in ORDERS:
            data = await both.answers(LIST, filter=given, orderBy=order, first=2)
            assert both.last_fast, (given, order)
            cursor = data["data"]["pledges"]["pageInfo"]["endCursor"]
            if cursor is not None:
                await both.answers(LIST, filter=given, orderBy=order, first=100, after=cursor)
                assert both.last_fast


async def test_pages_walk_alike_to_the_end_and_past_it(both: Both, graph: Graph) -> None:
    cursor = None
    seen = []
    while True:
        data = await both.answers(LIST, first=1, after=cursor)
        assert both.last_fast
        page = data["data"]["pledges"]
        seen += [edge["node"]["title"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        cursor = page["pageInfo"]["endCursor"]
    assert len(seen) == 7
    assert "Secret draft" not in seen
    past = await both.answers(LIST, first=3, after=page["pageInfo"]["endCursor"])
    assert past["data"]["pledges"]["edges"] == []


async def test_every_pledge_by_id_is_answered_alike_and_drafts_are_null(
    both: Both, graph: Graph
) -> None:
    for name, pledge_id in graph.pledges.items():
        data = await both.answers(NODE, id=gid("Pledge", pledge_id))
        assert both.last_fast
        public = name in ("p1", "p2", "p5", "p7")
        assert (data["data"]["node"] is not None) == public, name
    p1 = (await both.answers(NODE, id=gid("Pledge", graph.pledges["p1"])))["data"]["node"]
    latest = {t["label"]: t["latestValue"] for t in p1["targets"] if t["label"]}
    assert latest == {"Fibre laid": None, "Latency": None, "Sites": "3.75"}
    assert [e["status"] for e in p1["endorsements"]] == ["ACCEPTED", "ACCEPTED"]
    await both.answers(NODE, id=gid("Pledge", 2**31 + 5))
    await both.answers(NODE, id=gid("Pledge", "x"))


async def test_fragments_aliases_and_several_roots_are_answered_alike(
    both: Both, graph: Graph
) -> None:
    await both.answers(FRAGMENTS, id=gid("Pledge", graph.pledges["p7"]))
    assert both.last_fast
    await both.answers(FRAGMENTS, id=gid("Pledge", graph.pledges["draft"]))
    assert both.last_fast


STATS = """query Stats($groupBy: StatsGroupBy!, $filter: PledgeFilterInput) {
  pledgeStats(groupBy: $groupBy, filter: $filter) {
    __typename groupsOverlap
    groups { __typename key pledgeCount memberCount totalUsd pledgesWithoutUsd
             amountsWithoutUsd { __typename amount currency } }
    total { key pledgeCount memberCount totalUsd pledgesWithoutUsd
            amountsWithoutUsd { amount currency } }
  }
}"""

GROUPINGS = ("FOCUS_AREA", "PLEDGE_TYPE", "COUNTRY", "COUNTRY_GROUP", "MEMBER_TYPE", "YEAR")


async def test_statistics_are_answered_alike_both_ways(both: Both, graph: Graph) -> None:
    for group_by in GROUPINGS:
        for given in FILTERS:
            data = await both.answers(STATS, groupBy=group_by, filter=given)
            assert both.last_fast, (group_by, given)
            if not given:
                total = data["data"]["pledgeStats"]["total"]
                assert total["pledgeCount"] == 7
                assert total["amountsWithoutUsd"] == [
                    {"amount": "1350.49", "currency": "GBP"},
                    {"amount": "7000", "currency": "JPY"},
                ]


FALLBACKS = [
    ("{ pledges(last: 2) { edges { node { title } } } }", {}),
    ('{ pledges(first: 2) { edges { node { title(language: "fr") } } } }', {}),
    ("{ pledges(first: 2) { edges { node { publishedAt } } } }", {}),
    ("{ pledges(first: 2) { totalCount } rateLimit { cost } }", {}),
    ("{ pledges(first: 200) { totalCount } }", {}),
    ('{ pledges(first: 2, after: "bm90IGEgY3Vyc29y") { totalCount } }', {}),
    ("{ pledges(first: 2) { totalCount @include(if: true) } }", {}),
    ("query Q($f: Int) { pledges(first: $f) { totalCount } }", {"f": "two"}),
    ("{ pledges(first: 2) { nope } }", {}),
    ('{ pledges(first: 2, filter: {members: ["T3JnYW5pc2F0aW9uOng="]}) { totalCount } }', {}),
    ('{ node(id: "T3JnYW5pc2F0aW9uOjE=") { id } }', {}),
    ('{ node(id: "bm9wZQ==") { id } }', {}),
    ("{ pledgeStats(groupBy: FOCUS_AREA) { total { pledgeCount } } rateLimit { cost } }", {}),
    ("{ __schema { queryType { name } } }", {}),
    ("{ pledges(first: 2) { totalCount } } query Two { __typename }", {}),
    ("{ pledges(first: 1) { " + " ".join(f"a{i}: totalCount" for i in range(31)) + " } }", {}),
    ("{ " + " ".join(f"r{i}: __typename" for i in range(11)) + " }", {}),
    ("{ pledges(first: 1) { " + " totalCount" * 2001 + " } }", {}),
]
"""What the fast path leaves to the resolvers, errors included (the operation limits among
them: aliases, root fields, tokens): the answer is the same."""


async def test_what_the_fast_path_does_not_cover_is_answered_by_the_resolvers(
    both: Both, graph: Graph
) -> None:
    for query, variables in FALLBACKS:
        await both.answers(query, **variables)
        assert not both.last_fast, query


async def test_a_token_takes_the_ordinary_path(both: Both, graph: Graph) -> None:
    payload = {"query": "{ pledges(first: 1) { totalCount } }"}
    before = both.path.answered
    response = await both.fast.post(
        "/graphql", json=payload, headers={"Authorization": "Bearer not-a-token"}
    )
    assert response.status_code == 200
    assert response.json()["errors"]
    assert both.path.answered == before


def _counted(statements: StatementCounter) -> Iterator[str]:
    return (s for s in statements.statements if "cost_budget_windows" not in s)


async def test_one_statement_a_request_whatever_the_page_size(both: Both, graph: Graph) -> None:
    await both.answers(LIST, first=1)  # the hour's first spend also clears older windows
    for size in (1, 2, 100):
        both.statements.statements.clear()
        await both.answers(LIST, first=size)
        assert both.last_fast
        assert len(list(_counted(both.statements))) == 1, both.statements.statements
        assert sum("cost_budget_windows" in s for s in both.statements.statements) == 1


async def test_the_budget_holds_on_the_fast_path(postgres_database_url: str, graph: Graph) -> None:
    settings = Settings(database_url=postgres_database_url, anonymous_cost_per_hour=100)
    async with _served(settings) as (app, client):
        path = _endpoint(app).fast_path
        assert path is not None
        query = {"query": LIST, "variables": {"first": 2}}
        answers = [(await client.post("/graphql", json=query)).json() for _ in range(12)]
    granted = [a for a in answers if "errors" not in a]
    refused = [a for a in answers if "errors" in a]
    assert granted
    assert refused
    assert path.answered == len(granted)
    assert {e["extensions"]["code"] for a in refused for e in a["errors"]} == {"BUDGET_EXCEEDED"}


def test_a_plan_costs_each_page_size_as_the_ordinary_path_does() -> None:
    schema = build_schema()
    options = SchemaOptions()
    path = FastPath.of(schema, options, create_engine("postgresql+asyncpg://nowhere/none"))
    plan = path.plan(LIST, None)
    assert plan is not None
    assert plan.sizes == ("first",)
    for variables in ({"first": 2}, {"first": 100, "filter": {"text": "x"}}, {"first": 2}):
        expected = operation_cost(schema._schema, plan.document, None, variables)
        assert plan.cost(None, variables, schema._schema).total == expected.total
    assert (
        plan.cost(None, {"first": 2}, schema._schema).total
        < plan.cost(None, {"first": 100}, schema._schema).total
    )

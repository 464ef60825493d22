"""The visibility rule through every path, and totals checked against the raw rows."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.auth.clients import create_client
from hub.auth.scopes import ClientKind
from hub.endorsements.models import Endorsement
from hub.keys.service import ensure_token_key
from hub.pledges.models import Pledge, PledgeFocusArea
from hub.types import utcnow
from tests.fixtures.oauth import VAULT, get_token, oauth_settings
from tests.fixtures.server import running_hub
from tests.schema.graph_data import Graph, build_graph
from tests.schema.http import gid, graphql


@pytest.fixture
async def graph(session_factory: async_sessionmaker[AsyncSession]) -> Graph:
    return await build_graph(session_factory)


async def test_hidden_pledges_are_null_by_id(database_url: str, graph: Graph) -> None:
    ids = [gid("Pledge", graph.pledges[name]) for name in
           ("p1", "draft", "submitted", "never", "p5")]  # fmt: skip
    query = "query($ids: [ID!]!) { nodes(ids: $ids) { ... on Pledge { title } } }"
    async with graphql(database_url) as client:
        found = await client.data(query, ids=ids)
        one = await client.data(
            "query($id: ID!) { node(id: $id) { id } }", id=gid("Pledge", graph.pledges["draft"])
        )
        wrong = await client.post("query($id: ID!) { node(id: $id) { id } }", id=gid("Widget", 1))
        too_many = await client.post(query, ids=[ids[0]] * 101)
    assert found == {
        "nodes": [{"title": "Fibre for Bhutan schools"}, None, None, None,
                  {"title": "Satellite for São Tomé"}]
    }  # fmt: skip
    assert one == {"node": None}
    assert wrong["errors"][0]["extensions"] == {"code": "INVALID_ID", "field": ["id"]}
    assert too_many["errors"][0]["message"] == "nodes has 101 items; the limit is 100"


ORGANISATION = """
query($id: ID!) {
  node(id: $id) {
    ... on Organisation {
      name
      pledges(first: 10) { totalCount edges { node { title } } }
      led: pledges(first: 10, roles: [LEAD]) { totalCount }
      endorsements { status roles pledge { title } }
      totals { pledgesLed pledgesEndorsed ledTotalUsd ledPledgesWithoutUsd }
    }
  }
}
"""


async def test_organisations_show_only_public_pledges_and_accepted_endorsements(
    database_url: str, graph: Graph
) -> None:
    async with graphql(database_url) as client:
        found = {
            name: (await client.data(ORGANISATION, id=gid("Organisation", key)))["node"]
            for name, key in graph.members.items()
        }
    assert found["alpha"] == {
        "name": "Alpha Telecom",
        "pledges": {"totalCount": 2, "edges": [
            {"node": {"title": "Digital skills in Nepal"}},
            {"node": {"title": "Fibre for Bhutan schools"}},
        ]},
        "led": {"totalCount": 1},
        "endorsements": [
            {"status": "ACCEPTED", "roles": ["LEAD"],
             "pledge": {"title": "Fibre for Bhutan schools"}},
            {"status": "ACCEPTED", "roles": ["IMPLEMENTER"],
             "pledge": {"title": "Digital skills in Nepal"}},
        ],
        "totals": {"pledgesLed": 1, "pledgesEndorsed": 2, "ledTotalUsd": "1000000.00",
                   "ledPledgesWithoutUsd": 0},
    }  # fmt: skip
    assert found["beta"]["totals"] == {
        "pledgesLed": 2, "pledgesEndorsed": 3, "ledTotalUsd": "555555.56",
        "ledPledgesWithoutUsd": 0,
    }  # fmt: skip
    assert found["gamma"]["endorsements"] == [
        {"status": "ACCEPTED", "roles": ["LEAD"], "pledge": {"title": "Digital skills in Nepal"}}
    ]
    assert found["delta"] == {
        "name": "Delta NGO",
        "pledges": {"totalCount": 0, "edges": []},
        "led": {"totalCount": 0},
        "endorsements": [],
        "totals": {"pledgesLed": 0, "pledgesEndorsed": 0, "ledTotalUsd": "0.00",
                   "ledPledgesWithoutUsd": 0},
    }  # fmt: skip


async def test_members_organisations_and_countries(database_url: str, graph: Graph) -> None:
    query = """
    {
      members(first: 10, orderBy: {field: NAME, direction: DESC}) {
        totalCount edges { node { name membershipStatus } }
      }
      organisations(first: 10, filter: {organisationTypes: [CIVIL_SOCIETY, ACADEMIA]}) {
        totalCount edges { node { name } }
      }
      ldcs: countries(first: 1, filter: {group: LDC, groupAsOf: "2025-06-30"}) { totalCount }
      bhutan: countries(first: 1, filter: {codes: ["BTN"]}) {
        edges { node {
          id alpha3 alpha2 numeric name names { fr es zh } region { code name }
          in2022: groups(asOf: "2022-06-01") in2025: groups(asOf: "2025-06-01")
          pledges(first: 5) { totalCount edges { node { title } } }
          totals { pledgeCount totalUsd pledgesWithoutUsd }
        } }
      }
    }
    """
    async with graphql(database_url) as client:
        data = await client.data(query)
    assert data["members"] == {
        "totalCount": 3,
        "edges": [
            {"node": {"name": "Gamma University", "membershipStatus": "MEMBER"}},
            {"node": {"name": "Beta Fund", "membershipStatus": "MEMBER"}},
            {"node": {"name": "Alpha Telecom", "membershipStatus": "MEMBER"}},
        ],
    }
    assert data["organisations"] == {
        "totalCount": 2,
        "edges": [{"node": {"name": "Delta NGO"}}, {"node": {"name": "Gamma University"}}],
    }
    assert data["ldcs"] == {"totalCount": 44}
    assert data["bhutan"]["edges"][0]["node"] == {
        "id": gid("Country", "BTN"), "alpha3": "BTN", "alpha2": "BT", "numeric": "064",
        "name": "Bhutan", "names": {"fr": "Bhoutan", "es": "Bhután", "zh": "不丹"},
        "region": {"code": "142", "name": "Asia"},
        "in2022": ["LDC", "LLDC"], "in2025": ["LLDC"],
        "pledges": {"totalCount": 2, "edges": [
            {"node": {"title": "Digital skills in Nepal"}},
            {"node": {"title": "Fibre for Bhutan schools"}},
        ]},
        "totals": {"pledgeCount": 2, "totalUsd": "1250000.00", "pledgesWithoutUsd": 0},
    }  # fmt: skip


STATS = """
query($groupBy: StatsGroupBy!, $filter: PledgeFilterInput) {
  pledgeStats(groupBy: $groupBy, filter: $filter) {
    groupsOverlap
    total { key pledgeCount memberCount totalUsd pledgesWithoutUsd }
    groups { key pledgeCount memberCount totalUsd }
  }
}
"""


async def raw_focus_area_stats(session_factory: async_sessionmaker[AsyncSession]) -> Any:
    """The expected FOCUS_AREA stats, computed here from raw rows, apart from the hub's rule."""
    async with session_factory() as session:
        pledges = [
            p for p in (await session.scalars(select(Pledge))).all()
            if p.publication_status.value in ("PUBLISHED", "FULFILLED")
            or (p.publication_status.value == "WITHDRAWN" and p.published_at is not None)
        ]  # fmt: skip
        visible = {p.id: p for p in pledges}
        areas = (
            await session.execute(select(PledgeFocusArea.pledge_id, PledgeFocusArea.focus_area))
        ).all()
        endorsers = [
            (e.pledge_id, e.organisation_id)
            for e in (await session.scalars(select(Endorsement))).all()
            if e.status.value == "ACCEPTED" and e.pledge_id in visible
        ]
    by_area: dict[str, set[int]] = defaultdict(set)
    for pledge_id, area in areas:
        if pledge_id in visible:
            by_area[area.value].add(pledge_id)

    def row(key: str, ids: set[int]) -> dict[str, Any]:
        cents = sum(visible[i].usd_amount_minor or 0 for i in ids)
        return {
            "key": key,
            "pledgeCount": len(ids),
            "memberCount": len({o for p, o in endorsers if p in ids}),
            "totalUsd": str(Decimal(cents).scaleb(-2)),
        }

    total = row("ALL", set(visible))
    total["pledgesWithoutUsd"] = 0
    return {
        "groupsOverlap": any(sum(i in ids for ids in by_area.values()) > 1 for i in visible),
        "total": total,
        "groups": [row(key, by_area[key]) for key in sorted(by_area)],
    }


async def test_stats_count_public_pledges_once_and_match_the_raw_rows(
    session_factory: async_sessionmaker[AsyncSession], database_url: str, graph: Graph
) -> None:
    expected = await raw_focus_area_stats(session_factory)
    async with graphql(database_url) as client:
        by_area = await client.data(STATS, groupBy="FOCUS_AREA")
        by_group = await client.data(STATS, groupBy="COUNTRY_GROUP")
        by_year = await client.data(STATS, groupBy="YEAR", filter={"pledgeTypes": ["FINANCIAL"]})
        by_type = await client.data(STATS, groupBy="MEMBER_TYPE")
    assert by_area["pledgeStats"] == expected
    assert expected["total"]["pledgeCount"] == 4
    assert expected["total"]["totalUsd"] == "1805555.56"
    groups = {g["key"]: g["pledgeCount"] for g in by_group["pledgeStats"]["groups"]}
    assert groups == {"LDC": 3, "LLDC": 2, "SIDS": 2}, "Bhutan was an LDC when p1 was made"
    assert by_group["pledgeStats"]["groupsOverlap"] is True
    assert [(g["key"], g["totalUsd"]) for g in by_year["pledgeStats"]["groups"]] == [
        ("2022", "1000000.00"),
        ("2024", "555555.56"),
    ]
    assert by_year["pledgeStats"]["groupsOverlap"] is False
    members = {g["key"]: g["memberCount"] for g in by_type["pledgeStats"]["groups"]}
    assert members == {"ACADEMIA": 1, "INTERNATIONAL_ORGANIZATION": 1, "PRIVATE_SECTOR": 1}


SEEN = """
{
  pledges(first: 50) {
    edges {
      node {
        title
        endorsements { status organisation { name } }
        progressReports { status }
      }
    }
  }
}
"""


def _seen(body: dict[str, Any]) -> dict[str, tuple[set[str], list[str]]]:
    assert "errors" not in body, body
    return {
        edge["node"]["title"]: (
            {f"{e['organisation']['name']} {e['status']}" for e in edge["node"]["endorsements"]},
            sorted(report["status"] for report in edge["node"]["progressReports"]),
        )
        for edge in body["data"]["pledges"]["edges"]
    }


async def test_a_member_sees_its_drafts_invitations_and_reports_and_the_secretariat_all(
    database_url: str, graph: Graph, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with session_factory() as session:
        await ensure_token_key(session, VAULT, utcnow())
        made = {
            name: await create_client(
                session, name=name, kind=kind, scopes=scopes, member=member, now=utcnow()
            )
            for name, kind, scopes, member in [
                ("alpha", ClientKind.PARTNER, ["pledges:write"], str(graph.members["alpha"])),
                ("gamma", ClientKind.CONNECTOR, ["pledges:write"], str(graph.members["gamma"])),
                ("secretariat", ClientKind.SECRETARIAT, ["pledges:publish"], None),
            ]
        }
        await session.commit()
    settings = oauth_settings(database_url)
    async with running_hub(settings) as base, httpx.AsyncClient(base_url=base) as http:
        seen: dict[str, dict[str, tuple[set[str], list[str]]]] = {}
        for name, credentials in [("public", None), *made.items()]:
            headers = {}
            if credentials is not None:
                token = (await get_token(http, credentials))["access_token"]
                headers = {"Authorization": f"Bearer {token}"}
            response = await http.post("/graphql", json={"query": SEEN}, headers=headers)
            seen[name] = _seen(response.json())
    public = {
        "Fibre for Bhutan schools", "Spectrum policy for Fiji", "Satellite for São Tomé",
        "Digital skills in Nepal",
    }  # fmt: skip
    assert set(seen["public"]) == public
    assert set(seen["alpha"]) == public | {"Secret draft"}
    assert set(seen["gamma"]) == public | {"Submitted plan", "Withdrawn before publication"}
    assert len(seen["secretariat"]) == 7
    fibre = "Fibre for Bhutan schools"
    accepted = {"Alpha Telecom ACCEPTED", "Beta Fund ACCEPTED"}
    assert seen["public"][fibre][0] == accepted
    assert seen["alpha"][fibre][0] == accepted | {  # the lead sees every answer it got
        "Gamma University DECLINED", "Delta NGO INVITED",
    }  # fmt: skip
    assert seen["gamma"][fibre][0] == accepted | {"Gamma University DECLINED"}  # its own
    nepal = "Digital skills in Nepal"
    assert seen["public"][nepal][1] == ["SUBMITTED", "VERIFIED"]
    assert seen["gamma"][nepal][1] == ["REJECTED", "SUBMITTED", "VERIFIED"]  # its own report
    assert seen["alpha"][nepal][1] == ["SUBMITTED", "VERIFIED"]  # alpha only implements it
    assert "Beta Fund REVOKED" not in seen["alpha"][nepal][0]
    assert "Beta Fund REVOKED" in seen["gamma"][nepal][0]  # gamma leads it
    assert "Beta Fund REVOKED" in seen["secretariat"][nepal][0]

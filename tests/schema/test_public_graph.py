"""The public graph over real HTTP on both backends: lists, filters, orders, pages, nodes."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.schema.graph_data import Graph, build_graph
from tests.schema.http import gid, graphql

TITLES = """
query Titles($filter: PledgeFilterInput, $orderBy: PledgeOrderInput, $first: Int, $after: String,
             $last: Int, $before: String) {
  pledges(filter: $filter, orderBy: $orderBy, first: $first, after: $after, last: $last,
          before: $before) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { title } }
  }
}
"""


def titles(data: dict[str, Any]) -> list[str]:
    return [edge["node"]["title"] for edge in data["pledges"]["edges"]]


@pytest.fixture
async def graph(session_factory: async_sessionmaker[AsyncSession]) -> Graph:
    return await build_graph(session_factory)


async def test_a_pledge_in_full(database_url: str, graph: Graph) -> None:
    query = """
    query One($id: ID!) {
      node(id: $id) {
        __typename
        ... on Pledge {
          id title description pledgeType publicationStatus implementationStatus announcedOn
          publishedAt withdrawnAt
          pledgedAmount { amount currency usd { amount rate rateDate source } usdMissingReason }
          lead { name organisationType headquartersCountry { alpha3 name } }
          focusAreas targetGroups beneficiaryGroups sdgs
          targetCountries { alpha3 groups(asOf: "2022-03-01") }
          endorsements { status roles organisation { name } }
          targets { indicator unit cumulative baseline targetValue latestValue percentReached
                    percentReason }
          progressReports { periodEnd status values { value target { indicator } } }
          reportingStatus(asOf: "2026-06-30")
          provenance { sourceSystem }
        }
      }
    }
    """
    async with graphql(database_url) as client:
        p1 = await client.data(query, id=gid("Pledge", graph.pledges["p1"]))
        p5 = await client.data(query, id=gid("Pledge", graph.pledges["p5"]))
        p7 = await client.data(query, id=gid("Pledge", graph.pledges["p7"]))
    assert p1 == {
        "node": {
            "__typename": "Pledge",
            "id": gid("Pledge", graph.pledges["p1"]),
            "title": "Fibre for Bhutan schools",
            "description": "Connect 200 schools with fibre.",
            "pledgeType": "FINANCIAL",
            "publicationStatus": "PUBLISHED",
            "implementationStatus": "PIPELINE",
            "announcedOn": "2022-03-01",
            "publishedAt": "2022-03-02T00:00:00+00:00",
            "withdrawnAt": None,
            "pledgedAmount": {
                "amount": "1000000.00",
                "currency": "USD",
                "usd": {
                    "amount": "1000000.00", "rate": "1", "rateDate": "2022-03-01",
                    "source": "IDENTITY",
                },
                "usdMissingReason": None,
            },
            "lead": {
                "name": "Alpha Telecom",
                "organisationType": "PRIVATE_SECTOR",
                "headquartersCountry": {"alpha3": "KEN", "name": "Kenya"},
            },
            "focusAreas": ["ACCESS", "ADOPTION"],
            "targetGroups": [],
            "beneficiaryGroups": [],
            "sdgs": [],
            "targetCountries": [{"alpha3": "BTN", "groups": ["LDC", "LLDC"]}],
            "endorsements": [
                {"status": "ACCEPTED", "roles": ["LEAD"],
                 "organisation": {"name": "Alpha Telecom"}},
                {"status": "ACCEPTED", "roles": ["FUNDER"],
                 "organisation": {"name": "Beta Fund"}},
            ],
            "targets": [],
            "progressReports": [],
            "reportingStatus": "OVERDUE",
            "provenance": None,
        }
    }  # fmt: skip
    withdrawn = p5["node"]
    assert withdrawn["publicationStatus"] == "WITHDRAWN"
    assert withdrawn["withdrawnAt"] == "2025-01-05T00:00:00+00:00"
    assert withdrawn["pledgedAmount"] == {
        "amount": "500000.00",
        "currency": "EUR",
        "usd": {"amount": "555555.56", "rate": "0.9", "rateDate": "2024-01-31", "source": "TEST"},
        "usdMissingReason": None,
    }
    nepal = p7["node"]
    assert nepal["endorsements"] == [
        {"status": "ACCEPTED", "roles": ["LEAD"], "organisation": {"name": "Gamma University"}},
        {"status": "ACCEPTED", "roles": ["IMPLEMENTER"], "organisation": {"name": "Alpha Telecom"}},
    ]
    assert nepal["targets"] == [
        {"indicator": "PEOPLE_TRAINED", "unit": "people", "cumulative": True, "baseline": "0",
         "targetValue": "1000", "latestValue": "700", "percentReached": "70.0",
         "percentReason": None},
        {"indicator": "SCHOOLS_CONNECTED", "unit": "schools", "cumulative": False,
         "baseline": "0", "targetValue": "40", "latestValue": "22", "percentReached": "55.0",
         "percentReason": None},
    ]  # fmt: skip
    assert [r["status"] for r in nepal["progressReports"]] == ["VERIFIED", "SUBMITTED"]
    assert nepal["reportingStatus"] == "REPORTED"


async def test_the_default_list_is_public_pledges_by_announcement(
    database_url: str, graph: Graph
) -> None:
    async with graphql(database_url) as client:
        data = await client.data(TITLES, first=10)
    assert data["pledges"]["totalCount"] == 4
    assert titles(data) == [
        "Fibre for Bhutan schools",
        "Spectrum policy for Fiji",
        "Satellite for São Tomé",
        "Digital skills in Nepal",
    ]
    assert data["pledges"]["pageInfo"]["hasNextPage"] is False


FILTERS: list[tuple[dict[str, Any], list[str]]] = [
    ({"focusAreas": ["ACCESS"]}, ["Fibre for Bhutan schools", "Satellite for São Tomé"]),
    ({"pledgeTypes": ["POLICY", "PROGRAMMATIC"]},
     ["Spectrum policy for Fiji", "Digital skills in Nepal"]),
    ({"publicationStatuses": ["WITHDRAWN"]}, ["Satellite for São Tomé"]),
    ({"publicationStatuses": ["DRAFT", "SUBMITTED"]}, []),
    ({"implementationStatuses": ["PIPELINE"]},
     ["Fibre for Bhutan schools", "Spectrum policy for Fiji", "Satellite for São Tomé",
      "Digital skills in Nepal"]),
    ({"implementationStatuses": ["COMPLETED"]}, []),
    ({"targetCountries": ["BTN"]}, ["Fibre for Bhutan schools", "Digital skills in Nepal"]),
    ({"countryGroup": {"group": "LDC", "asOf": "2022-06-01"}},
     ["Fibre for Bhutan schools", "Satellite for São Tomé", "Digital skills in Nepal"]),
    ({"countryGroup": {"group": "LDC", "asOf": "2025-06-01"}}, ["Digital skills in Nepal"]),
    ({"countryGroup": {"group": "SIDS", "asOf": "2025-06-01"}},
     ["Spectrum policy for Fiji", "Satellite for São Tomé"]),
    ({"memberTypes": ["ACADEMIA"]}, ["Digital skills in Nepal"]),
    ({"memberTypes": ["CIVIL_SOCIETY"]}, []),
    ({"roles": ["FUNDER"]}, ["Fibre for Bhutan schools"]),
    ({"roles": ["IMPLEMENTER"]}, ["Digital skills in Nepal"]),
    ({"text": "NEPAL"}, ["Digital skills in Nepal"]),
    ({"text": "200 schools"}, ["Fibre for Bhutan schools"]),
    ({"text": "100%"}, []),
    ({"usdAmount": {"min": "300000"}}, ["Fibre for Bhutan schools", "Satellite for São Tomé"]),
    ({"usdAmount": {"min": "250000", "max": "555555.56"}},
     ["Satellite for São Tomé", "Digital skills in Nepal"]),
    ({"announced": {"start": "2023-01-01", "end": "2024-01-31"}},
     ["Spectrum policy for Fiji", "Satellite for São Tomé"]),
]  # fmt: skip


@pytest.mark.parametrize(("given", "expected"), FILTERS)
async def test_every_filter(
    database_url: str, graph: Graph, given: dict[str, Any], expected: list[str]
) -> None:
    async with graphql(database_url) as client:
        data = await client.data(TITLES, first=100, filter=given)
    assert titles(data) == expected
    assert data["pledges"]["totalCount"] == len(expected)


async def test_member_filters_take_organisation_ids(database_url: str, graph: Graph) -> None:
    beta = gid("Organisation", graph.members["beta"])
    delta = gid("Organisation", graph.members["delta"])
    async with graphql(database_url) as client:
        endorsed = await client.data(TITLES, first=10, filter={"members": [beta]})
        pending = await client.data(TITLES, first=10, filter={"members": [delta]})
        funding = await client.data(
            TITLES, first=10, filter={"members": [beta], "roles": ["FUNDER"]}
        )
        wrong = await client.post(TITLES, first=10, filter={"members": [gid("Pledge", 1)]})
    assert titles(endorsed) == [
        "Fibre for Bhutan schools",
        "Spectrum policy for Fiji",
        "Satellite for São Tomé",
    ]
    assert titles(pending) == [], "an invitation is not an endorsement"
    assert titles(funding) == ["Fibre for Bhutan schools"]
    assert wrong["errors"][0]["extensions"]["code"] == "INVALID_ID"


ORDERS: list[tuple[dict[str, str], list[str]]] = [
    ({"field": "USD_AMOUNT", "direction": "DESC"},
     ["Fibre for Bhutan schools", "Satellite for São Tomé", "Digital skills in Nepal",
      "Spectrum policy for Fiji"]),
    ({"field": "USD_AMOUNT", "direction": "ASC"},
     ["Digital skills in Nepal", "Satellite for São Tomé", "Fibre for Bhutan schools",
      "Spectrum policy for Fiji"]),
    ({"field": "TITLE", "direction": "ASC"},
     ["Digital skills in Nepal", "Fibre for Bhutan schools", "Satellite for São Tomé",
      "Spectrum policy for Fiji"]),
    ({"field": "ANNOUNCED_ON", "direction": "DESC"},
     ["Digital skills in Nepal", "Satellite for São Tomé", "Spectrum policy for Fiji",
      "Fibre for Bhutan schools"]),
]  # fmt: skip


@pytest.mark.parametrize(("order", "expected"), ORDERS)
async def test_every_ordering(
    database_url: str, graph: Graph, order: dict[str, str], expected: list[str]
) -> None:
    async with graphql(database_url) as client:
        data = await client.data(TITLES, first=10, orderBy=order)
    assert titles(data) == expected


async def test_pagination_edges(database_url: str, graph: Graph) -> None:
    async with graphql(database_url) as client:
        page = await client.data(TITLES, first=2)
        rest = await client.data(TITLES, first=2, after=page["pledges"]["pageInfo"]["endCursor"])
        exact = await client.data(TITLES, first=4)
        tail = await client.data(TITLES, last=1)
        before = await client.data(
            TITLES, last=2, before=tail["pledges"]["pageInfo"]["startCursor"]
        )
        empty = await client.data(TITLES, first=5, filter={"text": "no such words"})
        beyond = await client.data(TITLES, first=5, after=exact["pledges"]["pageInfo"]["endCursor"])
        members = await client.data("{ members(first: 1) { pageInfo { endCursor } } }")
        foreign = await client.post(
            TITLES, first=1, after=members["members"]["pageInfo"]["endCursor"]
        )
        garbage = await client.post(TITLES, first=1, before="bm90IGEgY3Vyc29y")
        missing = await client.post(TITLES)
        too_many = await client.post(TITLES, last=101)
    assert titles(page) == ["Fibre for Bhutan schools", "Spectrum policy for Fiji"]
    assert page["pledges"]["pageInfo"]["hasNextPage"] is True
    assert page["pledges"]["pageInfo"]["hasPreviousPage"] is False
    assert titles(rest) == ["Satellite for São Tomé", "Digital skills in Nepal"]
    assert rest["pledges"]["pageInfo"] | {"startCursor": None, "endCursor": None} == {
        "hasNextPage": False, "hasPreviousPage": True, "startCursor": None, "endCursor": None,
    }  # fmt: skip
    assert exact["pledges"]["pageInfo"]["hasNextPage"] is False
    assert titles(tail) == ["Digital skills in Nepal"]
    assert tail["pledges"]["pageInfo"]["hasPreviousPage"] is True
    assert titles(before) == ["Spectrum policy for Fiji", "Satellite for São Tomé"]
    assert empty["pledges"] == {
        "totalCount": 0,
        "pageInfo": {
            "hasNextPage": False, "hasPreviousPage": False, "startCursor": None,
            "endCursor": None,
        },
        "edges": [],
    }  # fmt: skip
    assert titles(beyond) == []
    for refused, field in ((foreign, "after"), (garbage, "before")):
        [error] = refused["errors"]
        assert error["extensions"] == {"code": "INVALID_CURSOR", "field": [field]}
    assert missing["errors"][0]["extensions"]["code"] == "PAGE_SIZE_REQUIRED"
    assert missing["errors"][0]["message"] == "give first or last, from 1 to 100"
    assert too_many["errors"][0]["message"] == "last must be between 1 and 100, got 101"


async def test_money_flows_and_their_totals(database_url: str, graph: Graph) -> None:
    query = """
    query($id: ID!) { node(id: $id) { ... on Pledge {
      moneyFlows { kind valueDate amount { amount currency } countsTowardTotal countReason }
      flowTotals { kind totalUsd flowCount flowsWithoutUsd }
    } } }
    """
    async with graphql(database_url) as client:
        data = await client.data(query, id=gid("Pledge", graph.pledges["p1"]))
    node = data["node"]
    assert [
        (f["kind"], f["amount"]["amount"], f["countsTowardTotal"]) for f in node["moneyFlows"]
    ] == [
        ("COMMITMENT", "1000000.00", True),
        ("DISBURSEMENT", "300000.00", True),
        ("INCOMING", "300000.00", False),
        ("DISBURSEMENT", "-50000.00", True),
    ]
    assert node["flowTotals"] == [
        {"kind": "COMMITMENT", "totalUsd": "1000000.00", "flowCount": 1, "flowsWithoutUsd": 0},
        {"kind": "DISBURSEMENT", "totalUsd": "250000.00", "flowCount": 2, "flowsWithoutUsd": 0},
    ]


async def test_bad_ids_are_not_found_never_internal(database_url: str, graph: Graph) -> None:
    node = "query($id: ID!) { node(id: $id) { id } }"
    nodes = "query($ids: [ID!]!) { nodes(ids: $ids) { id } }"
    good = gid("Pledge", graph.pledges["p1"])
    async with graphql(database_url) as client:
        huge = await client.data(node, id=gid("Pledge", "99999999999999999999999"))
        over = await client.data(node, id=gid("Organisation", 3_000_000_000))
        padded = await client.data(node, id=gid("Pledge", f"00{graph.pledges['p1']}"))
        mixed = await client.data(nodes, ids=[good, gid("Pledge", "²"), gid("Widget", 1)])
        member = await client.post(TITLES, first=1, filter={"members": [gid("Organisation", "²")]})
    assert huge == over == padded == {"node": None}
    assert mixed == {"nodes": [{"id": good}, None, None]}
    assert member["errors"][0]["extensions"]["code"] == "INVALID_ID"


async def test_reporting_status_judges_on_the_day_it_is_asked(
    database_url: str, graph: Graph
) -> None:
    query = """
    query($id: ID!) { node(id: $id) { ... on Pledge {
      before: reportingStatus(asOf: "2024-06-01")
      published: reportingStatus(asOf: "2025-06-20")
      late: reportingStatus(asOf: "2025-06-21")
      reported: reportingStatus(asOf: "2026-06-01")
      overdue: reportingStatus(asOf: "2028-01-01")
    } } }
    """
    async with graphql(database_url) as client:
        data = await client.data(query, id=gid("Pledge", graph.pledges["p7"]))
    assert data["node"] == {
        "before": None,
        "published": "REPORTED",
        "late": "REPORTED",
        "reported": "REPORTED",
        "overdue": "OVERDUE",
    }


async def test_text_search_folds_case_beyond_ascii(database_url: str, graph: Graph) -> None:
    async with graphql(database_url) as client:
        lower = await client.data(TITLES, first=5, filter={"text": "são"})
        upper = await client.data(TITLES, first=5, filter={"text": "SÃO TOMÉ"})
        countries = await client.data(
            '{ countries(first: 3, filter: {text: "ÅLAND"}) { edges { node { alpha3 } } } }'
        )
    assert titles(lower) == titles(upper) == ["Satellite for São Tomé"]
    assert countries["countries"]["edges"] == [{"node": {"alpha3": "ALA"}}]


async def test_a_cursor_works_only_for_the_list_it_came_from(
    database_url: str, graph: Graph
) -> None:
    by_title = {"field": "TITLE", "direction": "ASC"}
    async with graphql(database_url) as client:
        page = await client.data(TITLES, first=1, orderBy=by_title)
        cursor = page["pledges"]["pageInfo"]["endCursor"]
        same = await client.data(TITLES, first=1, after=cursor, orderBy=by_title)
        other = await client.post(TITLES, first=1, after=cursor)
    assert titles(same) == ["Fibre for Bhutan schools"]
    assert other["errors"][0]["extensions"]["code"] == "INVALID_CURSOR"


async def test_organisation_filters_and_orders(database_url: str, graph: Graph) -> None:
    query = """
    query($filter: OrganisationFilterInput, $orderBy: OrganisationOrderInput) {
      organisations(first: 10, filter: $filter, orderBy: $orderBy) { edges { node { name } } }
    }
    """

    async def names(client: Any, **variables: Any) -> list[str]:
        data = await client.data(query, **variables)
        return [e["node"]["name"] for e in data["organisations"]["edges"]]

    async with graphql(database_url) as client:
        kenya = await names(client, filter={"headquartersCountries": ["KEN"]})
        outsiders = await names(client, filter={"membershipStatuses": ["NONE"]})
        text = await names(client, filter={"text": "univ"})
        recorded = await names(client, orderBy={"field": "RECORDED", "direction": "DESC"})
        since = await names(client, orderBy={"field": "MEMBER_SINCE"})
    assert kenya == ["Alpha Telecom"]
    assert outsiders == ["Delta NGO"]
    assert text == ["Gamma University"]
    assert recorded == ["Delta NGO", "Gamma University", "Beta Fund", "Alpha Telecom"]
    assert since == ["Alpha Telecom", "Beta Fund", "Gamma University", "Delta NGO"]


async def test_stats_by_type_and_country(database_url: str, graph: Graph) -> None:
    query = """
    query($groupBy: StatsGroupBy!) {
      pledgeStats(groupBy: $groupBy) { groupsOverlap groups { key pledgeCount totalUsd } }
    }
    """
    async with graphql(database_url) as client:
        by_type = await client.data(query, groupBy="PLEDGE_TYPE")
        by_country = await client.data(query, groupBy="COUNTRY")
    assert by_type["pledgeStats"] == {
        "groupsOverlap": False,
        "groups": [
            {"key": "FINANCIAL", "pledgeCount": 2, "totalUsd": "1555555.56"},
            {"key": "POLICY", "pledgeCount": 1, "totalUsd": "0.00"},
            {"key": "PROGRAMMATIC", "pledgeCount": 1, "totalUsd": "250000.00"},
        ],
    }
    assert by_country["pledgeStats"] == {
        "groupsOverlap": True,
        "groups": [
            {"key": "BTN", "pledgeCount": 2, "totalUsd": "1250000.00"},
            {"key": "FJI", "pledgeCount": 1, "totalUsd": "0.00"},
            {"key": "NPL", "pledgeCount": 1, "totalUsd": "250000.00"},
            {"key": "STP", "pledgeCount": 1, "totalUsd": "555555.56"},
        ],
    }

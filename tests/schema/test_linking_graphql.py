"""Linked pledges in the public graph: each pledge's linked source records with what they
report and whether it counts, its parent and children, and pledgeStats counting every
commitment once; at a cost in SQL statements that does not grow with the pledges.

The pledges are imported from the linking fixtures (a parent whose children carry
commitments too, and a funder with its implementer) and then published through the pledge
services, so that the anonymous graph shows them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from hub.pledges.models import Pledge
from hub.pledges.service import publish_pledge, submit_pledge
from tests.fixtures.linking import SCENARIOS, Sessions, import_file, join
from tests.schema.http import graphql

QUERY = """
{
  pledges(first: 20, orderBy: {field: TITLE}) {
    edges { node {
      pledgedAmount { amount currency }
      amountCounted countReason countedIn { pledgedAmount { amount } }
      parent { pledgedAmount { amount } }
      children { pledgedAmount { amount } }
      linkedRecords {
        source externalId activityId publisher claimed role
        reported { amount currency } counted countReason
      }
      endorsements { status roles organisation { iatiIdentifier } }
    } }
  }
  pledgeStats(groupBy: FOCUS_AREA) {
    total { pledgeCount amountsWithoutUsd { amount currency } }
  }
}
"""
LEADS = """
{ pledges(first: 20) { edges { node {
  pledgedAmount { amount } lead { totals { pledgesLed ledPledgesWithoutUsd } }
} } } }
"""


async def _published(sessions: Sessions, scenarios: list[str], *, leave: str = "") -> None:
    """The scenarios imported and their pledges published, but the one titled ``leave``."""
    for scenario in scenarios:
        await join(sessions, SCENARIOS[scenario])
        for feed in SCENARIOS[scenario]:
            await import_file(sessions, feed)
    async with sessions() as session:
        drafts = select(Pledge).where(Pledge.published_at.is_(None), Pledge.title != leave)
        for pledge in await session.scalars(drafts):
            await submit_pledge(session, pledge.id)
            await publish_pledge(session, pledge.id)
        await session.commit()


def _by_amount(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["node"]["pledgedAmount"]["amount"]: e["node"] for e in body["pledges"]["edges"]}


async def test_a_hierarchy_and_a_flow_in_the_public_graph(
    session_factory: Sessions, database_url: str
) -> None:
    await _published(session_factory, ["hierarchy"])
    async with graphql(database_url, debug=True) as client:
        first = await client.post(QUERY)
    await _published(session_factory, ["flow"])
    async with graphql(database_url, debug=True) as client:
        body = await client.post(QUERY)
        leads = await client.post(LEADS)
    assert "errors" not in body, body
    assert body["extensions"]["sql"]["statements"] == first["extensions"]["sql"]["statements"]
    pledges = _by_amount(body["data"])

    parent, child = pledges["202405.00"], pledges["162393.00"]
    assert (parent["amountCounted"], parent["countReason"], parent["parent"]) == (True, None, None)
    assert sorted(c["pledgedAmount"]["amount"] for c in parent["children"]) == [
        "162393.00",
        "40012.00",
    ]
    # GB-GOV-1 leads the three, and its totals hold one amount: the parent's
    lead = _by_amount(leads["data"])["202405.00"]["lead"]
    assert lead["totals"] == {"pledgesLed": 3, "ledPledgesWithoutUsd": 1}
    assert child["amountCounted"] is False
    assert child["countedIn"] == {"pledgedAmount": {"amount": "202405.00"}}
    assert child["parent"] == {"pledgedAmount": {"amount": "202405.00"}}
    assert "counted there" in child["countReason"]
    assert [(r["externalId"], r["role"], r["counted"]) for r in child["linkedRecords"]] == [
        ("GB-1-109635-101", "LEAD", False)
    ]

    flow = pledges["427835.00"]
    assert flow["linkedRecords"] == [
        {
            "source": "iati", "externalId": "GB-1-202907", "activityId": "GB-1-202907",
            "publisher": "GB-1", "claimed": True, "role": "LEAD",
            "reported": {"amount": "427835.00", "currency": "GBP"}, "counted": True,
            "countReason": "it writes the pledge: its commitment is the pledge's amount",
        },
        {
            "source": "iati", "externalId": "GB-CHC-1068839-dfid_ag_11-13",
            "activityId": "GB-CHC-1068839-dfid_ag_11-13", "publisher": "GB-CHC-1068839",
            "claimed": True, "role": "RECEIVER", "reported": None, "counted": False,
            "countReason": "incoming money from iati GB-1-202907's commitment: counted there once",
        },
    ]  # fmt: skip
    standing = {
        (e["organisation"]["iatiIdentifier"], e["status"], tuple(e["roles"]))
        for e in flow["endorsements"]
    }
    assert ("GB-CHC-1068839", "ACCEPTED", ("IMPLEMENTER",)) in standing
    assert ("GB-1", "ACCEPTED", ("LEAD",)) in standing

    total = body["data"]["pledgeStats"]["total"]
    assert total["pledgeCount"] == 4
    # 202,405 (the parent, holding its children's 162,393 and 40,012) and 427,835 (DFID's
    # commitment, which Bond's incoming funds are): each commitment once
    assert total["amountsWithoutUsd"] == [{"amount": "630240.00", "currency": "GBP"}]


async def test_a_child_counts_its_own_amount_where_its_parent_is_not_seen(
    session_factory: Sessions, database_url: str
) -> None:
    """The parent stays a draft: the public neither sees it nor counts it, so its children's
    amounts count where they are, and no reason names a pledge it cannot see."""
    async with session_factory() as session:
        await join(session_factory, SCENARIOS["hierarchy"])
    for feed in SCENARIOS["hierarchy"]:
        await import_file(session_factory, feed)
    async with session_factory() as session:
        parent = await session.scalar(select(Pledge).where(Pledge.amount_minor == 20240500))
        assert parent is not None
        title = parent.title
    await _published(session_factory, [], leave=title)
    async with graphql(database_url) as client:
        body = await client.post(QUERY)
    pledges = _by_amount(body["data"])
    assert sorted(pledges) == ["162393.00", "40012.00"]
    for child in pledges.values():
        assert (child["amountCounted"], child["countedIn"], child["countReason"]) == (
            True,
            None,
            None,
        )
        assert child["parent"] is None
    total = body["data"]["pledgeStats"]["total"]
    assert total["amountsWithoutUsd"] == [{"amount": "202405.00", "currency": "GBP"}]

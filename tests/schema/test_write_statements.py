"""No N+1 on the write side: what awaits a member, and a mutation's payload, cost the same SQL
statements however many items they hold."""

from __future__ import annotations

from base64 import b64decode
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.endorsements.models import Role
from hub.endorsements.service import invite, respond
from hub.organisations.models import Organisation
from hub.pledges.service import publish_pledge, return_pledge, submit_pledge
from tests.fixtures.factories import add_member, add_pledge
from tests.fixtures.partners import CREATE, UPDATE, running_partners, smart_pledge

INBOX = """
{ viewer {
    pendingInvitations(first: 100) { totalCount edges { node {
      status roles pledge { title lead { name } focusAreas } organisation { name } } } }
    reportsDue(first: 100) { totalCount edges { node {
      title reportingStatus lead { name } endorsements { status organisation { name } } } } }
    returnedPledges(first: 100) { totalCount edges { node { title returnNote targets { unit } } } }
} }"""


async def seed(
    session_factory: async_sessionmaker[AsyncSession], members: dict[str, int], items: int
) -> None:
    """For alpha: ``items`` invitations, overdue published pledges and returned drafts."""
    async with session_factory() as session:
        alpha = await session.get_one(Organisation, members["alpha"])
        gamma = await session.get_one(Organisation, members["gamma"])
        for i in range(items):
            theirs = await add_pledge(session, gamma, title=f"Gamma {i}")
            await invite(session, theirs.id, alpha.id, [Role.FUNDER], invited_by_id=gamma.id)
            old = await add_pledge(session, alpha, title=f"Old {i}", announced_on=date(2020, 1, 1))
            await submit_pledge(session, old.id)
            await publish_pledge(session, old.id, at=datetime(2020, 2, 1, tzinfo=UTC))
            draft = await add_pledge(session, alpha, title=f"Draft {i}")
            await submit_pledge(session, draft.id)
            await return_pledge(session, draft.id, "Add targets.")
        await session.commit()


@pytest.mark.parametrize("items", [3, 30])
async def test_the_inbox_costs_the_same_statements_at_any_size(
    database_url: str, session_factory: async_sessionmaker[AsyncSession], items: int
) -> None:
    async with running_partners(database_url, session_factory, debug=True) as hub:
        await seed(session_factory, hub.members, items)
        body = await hub.gql("alpha", INBOX)
    assert "errors" not in body, body
    viewer = body["data"]["viewer"]
    for name in ("pendingInvitations", "reportsDue", "returnedPledges"):
        assert viewer[name]["totalCount"] == items, name
    assert viewer["reportsDue"]["edges"][0]["node"]["reportingStatus"] == "OVERDUE"
    assert body["extensions"]["sql"]["statements"] <= 13  # batches may merge, never grow


@pytest.mark.parametrize("size", [1, 20])
async def test_an_edit_and_its_payload_cost_the_same_statements_at_any_size(
    database_url: str, session_factory: async_sessionmaker[AsyncSession], size: int
) -> None:
    target: dict[str, Any] = smart_pledge()["targets"][0]
    targets = [{**target, "unit": f"schools {i}"} for i in range(size)]
    async with running_partners(database_url, session_factory, debug=True) as hub:
        made = (await hub.ok("alpha", CREATE, input=smart_pledge(targets=targets)))["createPledge"]
        async with session_factory() as session:
            pledge_id = int(b64decode(made["pledge"]["id"]).decode().split(":")[1])
            for i in range(size):
                other = await add_member(session, f"Co-endorser {i}")
                invited = await invite(
                    session, pledge_id, other.id, [Role.FUNDER], invited_by_id=hub.members["alpha"]
                )
                await respond(session, invited.id, accept=True)
            await session.commit()
        kept = [
            {**t, "id": made_t["id"]}
            for t, made_t in zip(targets, made["pledge"]["targets"], strict=True)
        ]
        body = await hub.gql(
            "alpha", UPDATE, id=made["pledge"]["id"], version=made["pledge"]["version"],
            input=smart_pledge(description="Clearer words.", targets=kept),
        )  # fmt: skip
    assert "errors" not in body, body
    payload = body["data"]["updatePledge"]
    assert payload["userErrors"] == []
    assert len(payload["pledge"]["targets"]) == size
    assert len(payload["pledge"]["endorsements"]) == size + 1
    assert body["extensions"]["sql"]["statements"] == 36  # 12 read what the audit event holds

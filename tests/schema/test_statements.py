"""No N+1: a nested page costs the same number of SQL statements for 10 and for 100 pledges."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.endorsements.models import Role
from hub.endorsements.service import invite, respond
from hub.pledges.models import Indicator
from hub.pledges.rules import TargetDraft
from hub.pledges.service import add_target
from hub.progress.rules import ReportDraft, ReportedValue
from hub.progress.service import report_progress
from tests.fixtures.factories import add_member, add_published_pledge
from tests.fixtures.oauth import get_token, make_clients, oauth_settings
from tests.schema.http import graphql

NESTED = """
query Nested($first: Int!) {
  pledges(first: $first) {
    totalCount
    edges { node {
      title focusAreas
      pledgedAmount { amount currency usd { amount } }
      lead { name totals { pledgesLed } }
      targetCountries { alpha3 }
      endorsements { roles organisation { name organisationType } }
      targets { indicator latestValue percentReached }
      progressReports { periodEnd values { value } }
      reportingStatus(asOf: "2026-01-01")
    } }
  }
}
"""

STATEMENTS = 13
"""count, page, then one batch each: focus areas, organisations (the leads; every endorsing
organisation here leads a pledge too, so it is in the loader's cache already), lead totals
(2), target countries, countries, endorsements, targets, target values, reports, report
values."""


async def seed(session_factory: async_sessionmaker[AsyncSession], pledges: int) -> None:
    async with session_factory() as session:
        members = [await add_member(session, f"Member {i:03d}") for i in range(pledges)]
        for i, lead in enumerate(members):
            pledge = await add_published_pledge(
                session, lead, title=f"Pledge {i:03d}", amount="1000", currency="USD",
                target_countries=("NPL",), announced_on=date(2024, 1, 1),
            )  # fmt: skip
            partner = members[(i + 1) % pledges]
            invitation = await invite(
                session, pledge.id, partner.id, [Role.FUNDER], invited_by_id=lead.id
            )
            await respond(session, invitation.id, accept=True)
            target = await add_target(
                session, pledge.id,
                TargetDraft(Indicator.PEOPLE_CONNECTED, "people", target_value=Decimal(100)),
            )  # fmt: skip
            await report_progress(
                session, pledge.id, lead.id,
                ReportDraft(
                    date(2024, 1, 1), date(2024, 12, 31),
                    values=[ReportedValue(target.id, Decimal(40))],
                ),
                at=datetime(2025, 1, 15, tzinfo=UTC),
            )  # fmt: skip
        await session.commit()


@pytest.mark.parametrize("pledges", [10, 100])
async def test_a_nested_page_costs_the_same_statements_at_any_size(
    session_factory: async_sessionmaker[AsyncSession], database_url: str, pledges: int
) -> None:
    await seed(session_factory, pledges)
    async with graphql(database_url, debug=True) as client:
        body = await client.post(NESTED, first=pledges)
    assert "errors" not in body, body
    edges = body["data"]["pledges"]["edges"]
    assert len(edges) == pledges
    assert edges[0]["node"]["targets"] == [
        {"indicator": "PEOPLE_CONNECTED", "latestValue": "40", "percentReached": "40.0"}
    ]
    assert body["extensions"]["sql"]["statements"] == STATEMENTS


async def test_without_debug_responses_carry_no_sql_figures(database_url: str) -> None:
    async with graphql(database_url) as client:
        body = await client.post("{ pledges(first: 1) { totalCount } }")
    assert body == {"data": {"pledges": {"totalCount": 0}}}


@pytest.mark.parametrize("pledges", [10, 100])
async def test_a_members_wider_view_costs_the_same_statements(
    session_factory: async_sessionmaker[AsyncSession], database_url: str, pledges: int
) -> None:
    await seed(session_factory, pledges)
    made = await make_clients(session_factory, member_id=1)
    async with graphql(database_url, settings=oauth_settings(database_url, debug=True)) as client:
        token = (await get_token(client.client, made.partner))["access_token"]
        body = await client.post(NESTED, {"Authorization": f"Bearer {token}"}, first=pledges)
    assert "errors" not in body, body
    assert len(body["data"]["pledges"]["edges"]) == pledges
    assert body["extensions"]["sql"]["statements"] == STATEMENTS

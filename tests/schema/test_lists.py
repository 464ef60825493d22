"""The paginated ``members`` and ``pledges`` lists, their errors, and their SQL budget."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.pledges.models import FocusArea
from schema import build_schema
from schema.context import Context
from tests.fixtures.database import StatementCounter
from tests.fixtures.factories import add_member, add_pledge, add_published_pledge

PLEDGES = """
query Pledges($first: Int!, $after: String) {
  pledges(first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges {
      cursor
      node {
        id title pledgeType publicationStatus implementationStatus version
        pledgedAmount { amount currency }
        pledgedAmountUsd { amount currency }
        usdMissingReason
        focusAreas
        leadMember { id name organisationType membershipStatus }
      }
    }
  }
}
"""

MEMBERS = """
query Members($first: Int!, $after: String) {
  members(first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { id name organisationType memberSince } }
  }
}
"""


async def execute(
    session_factory: async_sessionmaker[AsyncSession], query: str, **variables: Any
) -> dict[str, Any]:
    result = await build_schema().execute(
        query, variable_values=variables, context_value=Context(session_factory=session_factory)
    )
    if result.errors:
        return {"errors": [{"message": e.message, **(e.extensions or {})} for e in result.errors]}
    assert result.data is not None
    return result.data


async def seed_pledges(
    session_factory: async_sessionmaker[AsyncSession], count: int, members: int = 3
) -> None:
    async with session_factory() as session:
        leads = [await add_member(session, f"Member {i}") for i in range(members)]
        await add_pledge(session, leads[0], title="A draft nobody sees")
        for i in range(count):
            await add_published_pledge(
                session,
                leads[i % members],
                title=f"Pledge {i}",
                focus_areas=(FocusArea.VALUE_CREATION, FocusArea.ACCESS),
                amount="1000.5",
                currency="USD" if i % 2 else "KWD",
            )
        await session.commit()


async def test_pledges_are_paged_with_cursors(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    await seed_pledges(session_factory, 5)

    first = (await execute(session_factory, PLEDGES, first=2))["pledges"]
    assert first["totalCount"] == 5
    assert [e["node"]["title"] for e in first["edges"]] == ["Pledge 0", "Pledge 1"]
    assert first["pageInfo"]["hasNextPage"] is True
    assert first["pageInfo"]["hasPreviousPage"] is False
    rest = await execute(session_factory, PLEDGES, first=10, after=first["pageInfo"]["endCursor"])
    titles = [e["node"]["title"] for e in rest["pledges"]["edges"]]
    assert titles == ["Pledge 2", "Pledge 3", "Pledge 4"]
    assert rest["pledges"]["pageInfo"]["hasNextPage"] is False

    kwd, usd = first["edges"][0]["node"], first["edges"][1]["node"]
    assert kwd["pledgedAmount"] == {"amount": "1000.500", "currency": "KWD"}
    assert kwd["pledgedAmountUsd"] is None
    assert kwd["usdMissingReason"] == "no KWD to USD rate is loaded"
    assert usd["pledgedAmountUsd"] == {"amount": "1000.50", "currency": "USD"}
    assert kwd["focusAreas"] == ["ACCESS", "VALUE_CREATION"]
    assert kwd["publicationStatus"] == "PUBLISHED"
    assert kwd["leadMember"]["name"] == "Member 0"
    assert kwd["leadMember"]["membershipStatus"] == "MEMBER"


async def test_members_are_paged(session_factory: async_sessionmaker[AsyncSession]) -> None:
    await seed_pledges(session_factory, 0, members=4)
    page = (await execute(session_factory, MEMBERS, first=3))["members"]
    assert page["totalCount"] == 4
    assert [e["node"]["name"] for e in page["edges"]] == ["Member 0", "Member 1", "Member 2"]
    rest = await execute(session_factory, MEMBERS, first=3, after=page["pageInfo"]["endCursor"])
    assert [e["node"]["name"] for e in rest["members"]["edges"]] == ["Member 3"]


@pytest.mark.parametrize(
    ("variables", "code", "field"),
    [
        ({"first": 0}, "PAGE_SIZE_OUT_OF_RANGE", ["first"]),
        ({"first": 101}, "PAGE_SIZE_OUT_OF_RANGE", ["first"]),
        ({"first": 5, "after": "not-a-cursor"}, "INVALID_CURSOR", ["after"]),
    ],
)
async def test_bad_page_arguments_are_explained(
    session_factory: async_sessionmaker[AsyncSession],
    variables: dict[str, Any],
    code: str,
    field: list[str],
) -> None:
    result = await execute(session_factory, MEMBERS, **variables)
    [error] = result["errors"]
    assert (error["code"], error["field"]) == (code, field)


async def test_a_cursor_of_another_list_is_refused(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    await seed_pledges(session_factory, 2, members=2)
    members = (await execute(session_factory, MEMBERS, first=1))["members"]
    result = await execute(
        session_factory, PLEDGES, first=1, after=members["pageInfo"]["endCursor"]
    )
    assert result["errors"][0]["code"] == "INVALID_CURSOR"


@pytest.mark.parametrize("count", [2, 20])
async def test_statements_do_not_grow_with_the_page(
    session_factory: async_sessionmaker[AsyncSession],
    statements: StatementCounter,
    count: int,
) -> None:
    await seed_pledges(session_factory, count, members=count)
    statements.statements.clear()
    page = (await execute(session_factory, PLEDGES, first=count))["pledges"]
    assert len(page["edges"]) == count
    # total, page, lead members (one batch), focus areas (one batch)
    assert statements.count == 4, statements.statements

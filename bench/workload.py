"""The coalition website's requests, written for each server, and one normal form of their
answers so that the harness can require all servers to say the same thing.

(a) ``listing``: 20 public pledges, filtered by focus area and country group, with their
lead, accepted endorsements and roles, targets and the latest value reported on each; a
different filter and page on each request. (b) ``detail``: one pledge by id, with its
countries and progress reports; the ids vary and a tenth are drafts, which every server must
hide. (c) ``stats``: ``pledgeStats`` by focus area and by country.

The hub and the floor take the same bodies (the floor decodes the hub's ids and cursors);
PostGraphile takes its own, over ``bench/postgraphile/functions.sql``.
"""

from __future__ import annotations

import base64
import random
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from strawberry.relay import GlobalID

from schema.pagination import encode_cursor

PAGE = 20
AS_OF = "2026-11-01"
FOCUS_AREAS = ("ACCESS", "ADOPTION", "VALUE_CREATION", "ACCELERATE")
GROUPS = ("LDC", "LLDC", "SIDS")

_CARD = """id title pledgeType announcedOn pledgedAmount { amount currency }
      lead { id name }
      endorsements { roles organisation { id name } }
      targets { indicator unit targetValue latestValue }"""

HUB_LISTING = f"""query Listing($filter: PledgeFilterInput, $first: Int, $after: String) {{
  pledges(filter: $filter, first: $first, after: $after) {{
    totalCount
    edges {{ node {{ {_CARD} }} }}
  }}
}}"""

HUB_DETAIL = f"""query Detail($id: ID!) {{
  node(id: $id) {{
    ... on Pledge {{
      {_CARD}
      description publicationStatus focusAreas
      targetCountries {{ alpha3 name }}
      progressReports {{ periodStart periodEnd status narrative }}
    }}
  }}
}}"""

_STATS_ROW = "key pledgeCount memberCount totalUsd pledgesWithoutUsd"
HUB_STATS = f"""query Stats($groupBy: StatsGroupBy!) {{
  pledgeStats(groupBy: $groupBy) {{ groups {{ {_STATS_ROW} }} total {{ {_STATS_ROW} }} }}
}}"""

_PG_CARD = """rowId title pledgeType announcedOn amount currency
      organisationByLeadMemberId { rowId name }
      acceptedEndorsements { nodes {
        organisationByOrganisationId { rowId name }
        endorsementRolesByPledgeIdAndOrganisationId { nodes { role } }
      } }
      targetsByPledgeId(orderBy: ROW_ID_ASC) { nodes { indicator unit targetValue latestValue } }"""

PG_LISTING = f"""query Listing($focus: String!, $grp: String!, $asOf: Date!, $first: Int,
    $offset: Int) {{
  publicPledges(focus: $focus, grp: $grp, asOf: $asOf, first: $first, offset: $offset,
      orderBy: [ANNOUNCED_ON_ASC, ROW_ID_ASC]) {{
    totalCount
    nodes {{ {_PG_CARD} }}
  }}
}}"""

PG_DETAIL = f"""query Detail($id: Int!) {{
  publicPledge(pledgeId: $id) {{
    {_PG_CARD}
    description publicationStatus
    pledgeFocusAreasByPledgeId(orderBy: FOCUS_AREA_ASC) {{ nodes {{ focusArea }} }}
    pledgeTargetCountriesByPledgeId(orderBy: COUNTRY_ASC) {{
      nodes {{ countryByCountry {{ alpha3 name }} }}
    }}
    publicProgressReports {{ nodes {{ periodStart periodEnd status narrative }} }}
  }}
}}"""

PG_STATS = f"""query Stats($groupBy: String!) {{
  publicPledgeStats(groupBy: $groupBy) {{ nodes {{ {_STATS_ROW} }} }}
}}"""


@dataclass(frozen=True, slots=True)
class Request:
    """One request: its kind, and its body for the hub (and the floor) and for PostGraphile."""

    kind: str
    hub: dict[str, Any]
    postgraphile: dict[str, Any]


CursorKinds = dict[tuple[str, str], str]
"""The hub binds a cursor to its list's arguments: the prefix of its cursors, per filter."""


def cursor_probe(focus: str, group: str) -> dict[str, Any]:
    """A hub request whose one cursor shows the prefix of that filter's cursors."""
    return {
        "query": "query Probe($filter: PledgeFilterInput) "
        "{ pledges(filter: $filter, first: 1) { edges { cursor } } }",
        "variables": {"filter": _filter(focus, group)},
    }


def cursor_kind(answer: dict[str, Any]) -> str | None:
    """The prefix in a probe's answer; None when the list is empty."""
    edges = answer["data"]["pledges"]["edges"]
    if not edges:
        return None
    return base64.urlsafe_b64decode(edges[0]["cursor"]).decode().rpartition(":")[0]


def _filter(focus: str, group: str) -> dict[str, Any]:
    return {"focusAreas": [focus], "countryGroup": {"group": group, "asOf": AS_OF}}


def global_id(kind: str, number: int) -> str:
    """The hub's global id of ``kind`` number ``number`` (base64 of ``Kind:number``)."""
    return str(GlobalID(kind, str(number)))


def listing(focus: str, group: str, page: int, kinds: CursorKinds) -> Request:
    """Page ``page`` (from 0) of the public pledges serving ``focus`` in ``group``."""
    after = None
    if page and (focus, group) in kinds:
        after = encode_cursor(kinds[focus, group], page * PAGE - 1)
    variables: dict[str, Any] = {"filter": _filter(focus, group), "first": PAGE, "after": after}
    return Request(
        "listing",
        {"operationName": "Listing", "query": HUB_LISTING, "variables": variables},
        {
            "operationName": "Listing",
            "query": PG_LISTING,
            "variables": {
                "focus": focus,
                "grp": group,
                "asOf": AS_OF,
                "first": PAGE,
                "offset": page * PAGE if after else 0,
            },
        },
    )


def detail(pledge: int) -> Request:
    """Pledge ``pledge`` by id."""
    return Request(
        "detail",
        {
            "operationName": "Detail",
            "query": HUB_DETAIL,
            "variables": {"id": global_id("Pledge", pledge)},
        },
        {"operationName": "Detail", "query": PG_DETAIL, "variables": {"id": pledge}},
    )


def stats(group_by: str) -> Request:
    """``pledgeStats`` grouped by ``group_by`` (FOCUS_AREA or COUNTRY)."""
    return Request(
        "stats",
        {"operationName": "Stats", "query": HUB_STATS, "variables": {"groupBy": group_by}},
        {"operationName": "Stats", "query": PG_STATS, "variables": {"groupBy": group_by}},
    )


def requests(
    kind: str, count: int, pledges: int, kinds: CursorKinds, seed: int = 7
) -> list[Request]:
    """``count`` varied requests of ``kind`` over a coalition of ``pledges`` pledges."""
    rng = random.Random(seed)
    if kind == "listing":
        pages = max(1, pledges // 400)
        return [
            listing(rng.choice(FOCUS_AREAS), rng.choice(GROUPS), rng.randrange(pages), kinds)
            for _ in range(count)
        ]
    if kind == "detail":
        return [detail(rng.randint(1, pledges)) for _ in range(count)]
    if kind == "stats":
        return [stats(("FOCUS_AREA", "COUNTRY")[n % 2]) for n in range(count)]
    raise ValueError(f"unknown request kind {kind!r}")


def _number(global_id: str) -> int:
    return int(GlobalID.from_id(global_id).node_id)


def _decimal(value: Any) -> str | None:
    return None if value is None else format(Decimal(str(value)).normalize(), "f")


def _card(
    node: dict[str, Any],
    identity: Callable[[Any], int],
    amount: dict[str, Any] | None,
    lead: dict[str, Any],
    endorsements: list[tuple[int, str, list[str]]],
    targets: list[dict[str, Any]],
) -> dict[str, Any]:
    return {
        "id": identity(node),
        "title": node["title"],
        "pledgeType": node["pledgeType"],
        "announcedOn": node["announcedOn"],
        "amount": amount and (_decimal(amount["amount"]), amount["currency"]),
        "lead": (lead["id"], lead["name"]),
        "endorsements": sorted((o, n, sorted(r)) for o, n, r in endorsements),
        "targets": [
            (t["indicator"], t["unit"], _decimal(t["targetValue"]), _decimal(t["latestValue"]))
            for t in targets
        ],
    }


def _hub_card(node: dict[str, Any]) -> dict[str, Any]:
    return _card(
        node,
        lambda n: _number(n["id"]),
        node["pledgedAmount"],
        {"id": _number(node["lead"]["id"]), "name": node["lead"]["name"]},
        [
            (_number(e["organisation"]["id"]), e["organisation"]["name"], e["roles"])
            for e in node["endorsements"]
        ],
        node["targets"],
    )


def _pg_card(node: dict[str, Any]) -> dict[str, Any]:
    lead = node["organisationByLeadMemberId"]
    amount = (
        None if node["amount"] is None else {"amount": node["amount"], "currency": node["currency"]}
    )
    return _card(
        node,
        lambda n: int(n["rowId"]),
        amount,
        {"id": lead["rowId"], "name": lead["name"]},
        [
            (
                e["organisationByOrganisationId"]["rowId"],
                e["organisationByOrganisationId"]["name"],
                [r["role"] for r in e["endorsementRolesByPledgeIdAndOrganisationId"]["nodes"]],
            )
            for e in node["acceptedEndorsements"]["nodes"]
        ],
        node["targetsByPledgeId"]["nodes"],
    )


def _stats_row(row: dict[str, Any]) -> tuple[str, int, int, str | None, int]:
    return (
        row["key"],
        row["pledgeCount"],
        row["memberCount"],
        _decimal(row["totalUsd"]),
        row["pledgesWithoutUsd"],
    )


def normal_form(server: str, kind: str, answer: dict[str, Any]) -> Any:
    """What an answer says, the same for every server; raises on errors or a bad shape."""
    if answer.get("errors"):
        raise ValueError(f"{server} answered {kind} with errors: {answer['errors']}")
    data = answer["data"]
    hub_like = server != "postgraphile"
    if kind == "listing":
        if hub_like:
            page = data["pledges"]
            return page["totalCount"], [_hub_card(e["node"]) for e in page["edges"]]
        page = data["publicPledges"]
        return page["totalCount"], [_pg_card(node) for node in page["nodes"]]
    if kind == "detail":
        node = data["node"] if hub_like else data["publicPledge"]
        if node is None:
            return None
        if hub_like:
            return (
                _hub_card(node),
                node["description"],
                node["publicationStatus"],
                node["focusAreas"],
                [(c["alpha3"], c["name"]) for c in node["targetCountries"]],
                node["progressReports"],
            )
        return (
            _pg_card(node),
            node["description"],
            node["publicationStatus"],
            [f["focusArea"] for f in node["pledgeFocusAreasByPledgeId"]["nodes"]],
            [
                (c["countryByCountry"]["alpha3"], c["countryByCountry"]["name"])
                for c in node["pledgeTargetCountriesByPledgeId"]["nodes"]
            ],
            node["publicProgressReports"]["nodes"],
        )
    if kind == "stats":
        if hub_like:
            found = data["pledgeStats"]
            return [_stats_row(row) for row in found["groups"]], _stats_row(found["total"])
        rows = [_stats_row(row) for row in data["publicPledgeStats"]["nodes"]]
        return rows[:-1], rows[-1]
    raise ValueError(f"unknown request kind {kind!r}")

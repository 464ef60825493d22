"""Partners' writes for the benchmark, on the hub only: ``createPledge``, ``inviteEndorser``
and ``reportProgress``, in turn, by several partner clients with real OAuth tokens.

The floor and PostGraphile have no equivalent (none of the hub's rules, audit ledger or
idempotency), so writes are the hub's figures alone. Every request is a real write: each
invitation names an organisation not yet on that pledge, each report a pledge its member
leads and has published.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
from servers import hub_command
from workload import global_id

SCOPES = "pledges:write endorsements:write progress:write"

CREATE = """mutation Create($input: PledgeInput!) {
  createPledge(input: $input) { pledge { id } userErrors { field message code } }
}"""
INVITE = """mutation Invite($pledge: ID!, $organisation: ID!) {
  inviteEndorser(pledgeId: $pledge, organisationId: $organisation, roles: [ENDORSER]) {
    endorsement { id } userErrors { field message code }
  }
}"""
REPORT = """mutation Report($pledge: ID!, $input: ProgressReportInput!) {
  reportProgress(pledgeId: $pledge, input: $input) {
    report { id } userErrors { field message code }
  }
}"""
DRAFT = {
    "title": "Connect 200 rural health facilities",
    "pledgeType": "PROGRAMMATIC",
    "focusAreas": ["ACCESS"],
    "targetCountries": ["MWI"],
    "targets": [
        {
            "indicator": "HEALTH_FACILITIES_CONNECTED",
            "unit": "facilities",
            "targetValue": "200",
            "deadline": "2028-12-31",
        }
    ],
}


@dataclass(frozen=True, slots=True)
class Partner:
    member_id: int
    client_id: str
    client_secret: str


def encryption_key() -> str:
    """A fresh key to seal the hub's signing key with, for this benchmark only."""
    return hub_command(["keys", "generate-encryption-key"]).strip()


def partners(environment: dict[str, str], members: list[int]) -> list[Partner]:
    """A signing key, and a partner client for each member."""
    hub_command(["keys", "init"], environment)
    made = []
    for member in members:
        printed = hub_command(
            [
                "clients",
                "create",
                "--kind",
                "PARTNER",
                "--member",
                str(member),
                "--scopes",
                SCOPES,
                "--name",
                f"bench partner {member}",
                "--json",
            ],
            environment,
        )
        credentials = json.loads(printed)
        made.append(Partner(member, credentials["client_id"], credentials["client_secret"]))
    return made


def token(base_url: str, partner: Partner) -> str:
    """A bearer token from the hub's token endpoint (client credentials)."""
    answer = httpx.post(
        f"{base_url}/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(partner.client_id, partner.client_secret),
        timeout=30,
    )
    answer.raise_for_status()
    return str(answer.json()["access_token"])


async def _targets(url: str, members: list[int]) -> dict[int, tuple[list[int], list[int], int]]:
    """Per member: pledges it leads and published, pledges it leads still open to
    endorsements, and how many organisations there are."""
    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch(
            "SELECT id, lead_member_id, publication_status = 'PUBLISHED' AS open FROM pledges "
            "WHERE lead_member_id = ANY($1::int[]) "
            "AND publication_status IN ('DRAFT', 'SUBMITTED', 'PUBLISHED') ORDER BY id",
            members,
        )
        organisations = int(await connection.fetchval("SELECT max(id) FROM organisations"))
    finally:
        await connection.close()
    found: dict[int, tuple[list[int], list[int], int]] = {
        m: ([], [], organisations) for m in members
    }
    for row in rows:
        published, led, _ = found[row["lead_member_id"]]
        led.append(row["id"])
        if row["open"]:
            published.append(row["id"])
    return found


async def _taken(url: str) -> set[tuple[int, int]]:
    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch("SELECT pledge_id, organisation_id FROM endorsements")
    finally:
        await connection.close()
    return {(row["pledge_id"], row["organisation_id"]) for row in rows}


def _invitations(
    led: list[int], organisations: int, taken: set[tuple[int, int]]
) -> Iterator[tuple[int, int]]:
    for organisation in range(1, organisations + 1):
        for pledge in led:
            if (pledge, organisation) not in taken:
                taken.add((pledge, organisation))
                yield pledge, organisation


async def bodies(url: str, tokens: dict[int, str], per_kind: int) -> list[str]:
    """Lines for the wrk script: ``token<TAB>body``, create, invite and report in turn, up to
    ``per_kind`` of each per member (fewer when invitations run out)."""
    targets = await _targets(url, list(tokens))
    taken = await _taken(url)
    lines: list[str] = []
    invitations = {}
    for member, (published, led, organisations) in targets.items():
        if not published:
            raise RuntimeError(f"member {member} leads no published pledge to report on")
        invitations[member] = _invitations(led, organisations, taken)
    for number in range(per_kind):
        for member, bearer in tokens.items():
            invitation = next(invitations[member], None)
            if invitation is None:  # a small coalition: fewer requests, each still a write
                return lines
            pledge, organisation = invitation
            published = targets[member][0]
            reported = published[number % len(published)]
            month = number % 12 + 1
            requests: list[dict[str, Any]] = [
                {"query": CREATE, "variables": {"input": DRAFT}},
                {
                    "query": INVITE,
                    "variables": {
                        "pledge": global_id("Pledge", pledge),
                        "organisation": global_id("Organisation", organisation),
                    },
                },
                {
                    "query": REPORT,
                    "variables": {
                        "pledge": global_id("Pledge", reported),
                        "input": {
                            "periodStart": f"2026-{month:02d}-01",
                            "periodEnd": f"2026-{month:02d}-28",
                            "narrative": f"Bench report {number} of member {member}.",
                        },
                    },
                },
            ]
            lines.extend(f"{bearer}\t{json.dumps(body)}" for body in requests)
    return lines

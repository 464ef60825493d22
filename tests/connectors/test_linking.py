"""One pledge across the organisations that report it, in any import order.

The fixtures in ``tests/data/linking`` are real activities edited so that two publishers
describe one activity (their headers list every edit): a funder and its implementer linked by
provider and receiver activity ids, a third party's report, a parent whose children carry
commitments too, a co-funded pair, and a World Bank project with its IATI twin. Each scenario
is imported in every order of its files, through each publisher's own connector, and must
leave the same pledges, endorsements, source records and totals.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select

from hub.endorsements.models import Endorsement, EndorsementRole, EndorsementStatus
from hub.imports.models import (
    CountedElsewhere,
    LinkRole,
    ReviewEntry,
    SourceRecord,
)
from hub.money.models import MoneyFlow, TransactionKind
from hub.organisations.models import Organisation
from hub.pledges.models import Pledge
from hub.pledges.queries import PledgeFilter
from hub.stats import StatsGroupBy, pledge_stats
from hub.visibility import Viewer
from tests.fixtures.linking import LINKING, SCENARIOS, Sessions, import_file, join


async def state_of(sessions: Sessions) -> dict[str, Any]:
    """What the hub holds, each pledge named by its lead record's activity (ids follow the
    import order). Endorsements are the standing ones: an invitation a former lead record made
    and the new lead's withdrew is REVOKED in one order and never made in the other."""
    async with sessions() as session:
        orgs = {
            o.id: o.iati_identifier or o.name for o in await session.scalars(select(Organisation))
        }
        records = list(await session.scalars(select(SourceRecord)))
        lead = {r.pledge_id: r.external_id for r in records if r.link_role is LinkRole.LEAD}
        elsewhere = {
            c.pledge_id: lead[c.counted_in_id]
            for c in await session.scalars(select(CountedElsewhere))
        }
        roles: dict[tuple[int, int], list[str]] = {}
        for role in await session.scalars(select(EndorsementRole)):
            roles.setdefault((role.pledge_id, role.organisation_id), []).append(role.role.value)
        endorsements = await session.scalars(
            select(Endorsement).where(Endorsement.status != EndorsementStatus.REVOKED)
        )
        flows = await session.scalars(
            select(MoneyFlow).where(MoneyFlow.kind == TransactionKind.COMMITMENT)
        )
        review = await session.scalars(
            select(ReviewEntry).where(ReviewEntry.subject.in_(("CO_FUNDED", "LINK_CONFLICT")))
        )
        stats = await pledge_stats(
            session, Viewer(sees_all=True), PledgeFilter(), StatsGroupBy.FOCUS_AREA
        )
        return {
            "pledges": sorted(
                (
                    lead[p.id],
                    orgs[p.lead_member_id],
                    p.amount_minor,
                    p.currency,
                    elsewhere.get(p.id),
                )
                for p in await session.scalars(select(Pledge))
            ),
            "endorsements": sorted(
                (
                    lead[e.pledge_id],
                    orgs[e.organisation_id],
                    e.status.value,
                    tuple(sorted(roles[e.pledge_id, e.organisation_id])),
                )
                for e in endorsements
            ),
            "records": sorted(
                (
                    r.source,
                    r.external_id,
                    r.state.value,
                    lead.get(r.pledge_id),
                    r.link_role.value if r.link_role else None,
                    r.reported_minor,
                    r.reported_currency,
                )
                for r in records
            ),
            "commitments": sorted(
                (
                    lead[f.pledge_id],
                    f.source_system,
                    f.amount_minor,
                    f.currency,
                    f.counts_toward_total,
                )
                for f in flows
            ),
            "review": sorted((r.external_id, r.subject, r.code) for r in review),
            "totals": (
                stats.total.pledges,
                stats.total.usd_minor,
                stats.total.without_usd_by_currency,
            ),
        }


EXPECTED: dict[str, dict[str, Any]] = {
    # DFID's commitment to Bond's activity is the pledge; Bond's incoming funds are the same
    # money. Bond reports it through its own connector: ACCEPTED, as the implementer DFID
    # names. DFID's own file names "GB" (the UK) as funder, not a member: INVITED.
    "flow": {
        "pledges": [("GB-1-202907", "GB-1", 42783500, "GBP", None)],
        "endorsements": [
            ("GB-1-202907", "GB", "INVITED", ("FUNDER",)),
            ("GB-1-202907", "GB-1", "ACCEPTED", ("LEAD",)),
            ("GB-1-202907", "GB-CHC-1068839", "ACCEPTED", ("IMPLEMENTER",)),
        ],
        "records": [
            ("iati", "GB-1-202907", "PLEDGE", "GB-1-202907", "LEAD", 42783500, "GBP"),
            (
                "iati",
                "GB-CHC-1068839-dfid_ag_11-13",
                "PLEDGE",
                "GB-1-202907",
                "RECEIVER",
                None,
                None,
            ),
        ],
        "commitments": [("GB-1-202907", "iati", 42783500, "GBP", True)],
        "review": [],
        "totals": (1, 0, {"GBP": 42783500}),
    },
    # The parent's commitment holds its children's: three pledges, 202,405 GBP counted once
    "hierarchy": {
        "pledges": [
            ("GB-1-109635", "GB-GOV-1", 20240500, "GBP", None),
            ("GB-1-109635-101", "GB-GOV-1", 16239300, "GBP", "GB-1-109635"),
            ("GB-1-109635-102", "GB-GOV-1", 4001200, "GBP", "GB-1-109635"),
        ],
        "endorsements": [
            (pledge, organisation, status, roles)
            for pledge in ("GB-1-109635", "GB-1-109635-101", "GB-1-109635-102")
            for organisation, status, roles in (
                ("GB", "INVITED", ("FUNDER",)),
                ("GB-GOV-1", "ACCEPTED", ("LEAD",)),
            )
        ],
        "records": [
            ("iati", key, "PLEDGE", key, "LEAD", amount, "GBP")
            for key, amount in (
                ("GB-1-109635", 20240500),
                ("GB-1-109635-101", 16239300),
                ("GB-1-109635-102", 4001200),
            )
        ],
        "commitments": [
            ("GB-1-109635", "iati", 20240500, "GBP", True),
            ("GB-1-109635-101", "iati", 16239300, "GBP", True),
            ("GB-1-109635-102", "iati", 4001200, "GBP", True),
        ],
        "review": [],
        "totals": (3, 0, {"GBP": 20240500}),
    },
    # Co-funded: two pledges, each counting its own money; one review item for the pair
    "co-funded": {
        "pledges": [
            ("47045-ARM-202-G05-H-00", "47045", 399167500, "USD", None),
            ("NL-1-PPR-28390", "XM-DAC-7", 90000000, "EUR", None),
        ],
        "endorsements": [
            ("47045-ARM-202-G05-H-00", "47045", "ACCEPTED", ("FUNDER", "LEAD")),
            ("NL-1-PPR-28390", "GB-GOV-1", "INVITED", ("IMPLEMENTER",)),
            ("NL-1-PPR-28390", "XM-DAC-7", "ACCEPTED", ("FUNDER", "LEAD")),
        ],
        "records": [
            (
                "iati",
                "47045-ARM-202-G05-H-00",
                "PLEDGE",
                "47045-ARM-202-G05-H-00",
                "LEAD",
                399167500,
                "USD",
            ),
            ("iati", "NL-1-PPR-28390", "PLEDGE", "NL-1-PPR-28390", "LEAD", 90000000, "EUR"),
        ],
        "commitments": [
            ("47045-ARM-202-G05-H-00", "iati", 399167500, "USD", True),
            ("NL-1-PPR-28390", "iati", 90000000, "EUR", True),
        ],
        "review": [("47045-ARM-202-G05-H-00", "CO_FUNDED", "NL-1-PPR-28390")],
        "totals": (2, 399167500, {"EUR": 90000000}),
    },
    # A non-member's report of the Netherlands' activity: shown on its pledge, no pledger
    "third-party": {
        "pledges": [("NL-1-PPR-27791", "XM-DAC-7", 8000000, "EUR", None)],
        "endorsements": [("NL-1-PPR-27791", "XM-DAC-7", "ACCEPTED", ("FUNDER", "LEAD"))],
        "records": [
            ("iati", "NL-1-PPR-27791", "PLEDGE", "NL-1-PPR-27791", "LEAD", 8000000, "EUR"),
            (
                "iati",
                "XI-IATI-EXAMPLE-3P-1",
                "UNCLAIMED",
                "NL-1-PPR-27791",
                "THIRD_PARTY",
                8000000,
                "EUR",
            ),
        ],
        "commitments": [("NL-1-PPR-27791", "iati", 8000000, "EUR", True)],
        "review": [],
        "totals": (1, 0, {"EUR": 8000000}),
    },
    # The project and its IATI activity: one pledge, written by the activity, one commitment
    "twin": {
        "pledges": [("44000-P129828", "44000", 13000000000, "USD", None)],
        "endorsements": [("44000-P129828", "44000", "ACCEPTED", ("LEAD",))],
        "records": [
            ("iati", "44000-P129828", "PLEDGE", "44000-P129828", "LEAD", 13000000000, "USD"),
            ("worldbank", "P129828", "PLEDGE", "44000-P129828", "TWIN", 13000000000, "USD"),
        ],
        "commitments": [("44000-P129828", "iati", 13000000000, "USD", True)],
        "review": [],
        "totals": (1, 13000000000, {}),
    },
}


def _plain(value: Any) -> Any:
    return json.loads(json.dumps(value))


@pytest.mark.parametrize("order", ["as listed", "reversed"])
@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
async def test_each_scenario_links_the_same_in_any_order(
    session_factory: Sessions, scenario: str, order: str
) -> None:
    feeds = SCENARIOS[scenario][:: 1 if order == "as listed" else -1]
    await join(session_factory, feeds)
    for feed in feeds:
        await import_file(session_factory, feed)
    assert _plain(await state_of(session_factory)) == _plain(EXPECTED[scenario])
    for feed in feeds:  # read again, nothing changed: nothing is written
        await import_file(session_factory, feed, unchanged=True)
    assert _plain(await state_of(session_factory)) == _plain(EXPECTED[scenario])


@pytest.mark.parametrize("order", ["as listed", "reversed"])
async def test_a_members_record_takes_no_other_members_pledge_on_its_own_word(
    session_factory: Sessions, order: str
) -> None:
    """DFID's commitment names Bond's activity as its receiver, but Bond's file, edited to
    name no provider activity, does not say it received it: between two members that is no
    tie. Each keeps its own pledge, and Bond's endorsement of DFID's stays INVITED."""
    feeds = SCENARIOS["flow"][:: 1 if order == "as listed" else -1]
    silent = (LINKING / "flow/implementer.xml").read_bytes()
    silent = silent.replace(b' provider-activity-id="GB-1-202907"', b"")
    await join(session_factory, feeds)
    for feed in feeds:
        edit = silent if feed.path == "flow/implementer.xml" else None
        await import_file(session_factory, feed, data=edit)
    state = _plain(await state_of(session_factory))
    bond = "GB-CHC-1068839-dfid_ag_11-13"
    assert state["pledges"] == _plain(
        [("GB-1-202907", "GB-1", 42783500, "GBP", None), (bond, "GB-CHC-1068839", None, None, None)]
    )
    assert ["GB-1-202907", "GB-CHC-1068839", "INVITED", ["IMPLEMENTER"]] in state["endorsements"]
    assert [r[3:5] for r in state["records"]] == [["GB-1-202907", "LEAD"], [bond, "LEAD"]]
    assert state["totals"] == _plain((2, 0, {"GBP": 42783500}))

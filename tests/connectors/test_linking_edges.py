"""Edge cases of linking one pledge across organisations (issue 13), each found by an
adversarial review and fixed. Fixtures from ``tests/data/linking``, edited in the test where a
case needs it."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import select

from hub.endorsements.models import Endorsement
from hub.imports.models import CountedElsewhere, LinkRole, SourceRecord
from hub.organisations.models import Organisation
from hub.pledges.models import Pledge, PublicationStatus
from hub.pledges.queries import PledgeFilter
from hub.pledges.service import publish_pledge, submit_pledge
from hub.stats import StatsGroupBy, pledge_stats
from hub.visibility import Viewer
from tests.fixtures.linking import LINKING, SCENARIOS, Feed, Sessions, import_file, join


def _read(path: str) -> bytes:
    return (LINKING / path).read_bytes()


def _edit(data: bytes, old: bytes, new: bytes, count: int = -1) -> bytes:
    assert old in data, old
    return data.replace(old, new, count)


@dataclass
class Held:
    """What the hub holds, by activity: each pledge by its lead record's external id."""

    lead_org: dict[str, str]
    """Lead record's external id -> the IATI identifier of the pledge's lead member."""
    record: dict[str, tuple[str | None, str | None]]
    """Record external id -> (its pledge's lead record, its link role)."""
    endorsement: dict[tuple[str, str], str]
    """(pledge's lead record, organisation) -> status."""
    counted_in: dict[str, str]
    title: dict[str, str]
    pledge_id: dict[str, int]


async def held(sessions: Sessions) -> Held:
    async with sessions() as session:
        orgs = {
            o.id: o.iati_identifier or o.name for o in await session.scalars(select(Organisation))
        }
        records = list(await session.scalars(select(SourceRecord)))
        lead = {r.pledge_id: r.external_id for r in records if r.link_role is LinkRole.LEAD}
        pledges = list(await session.scalars(select(Pledge)))
        return Held(
            lead_org={lead[p.id]: orgs[p.lead_member_id] for p in pledges},
            record={
                r.external_id: (
                    lead.get(r.pledge_id),
                    r.link_role.value if r.link_role else None,
                )
                for r in records
            },
            endorsement={
                (lead[e.pledge_id], orgs[e.organisation_id]): e.status.value
                for e in await session.scalars(select(Endorsement))
            },
            counted_in={
                lead[c.pledge_id]: lead[c.counted_in_id]
                for c in await session.scalars(select(CountedElsewhere))
            },
            title={lead[p.id]: p.title for p in pledges},
            pledge_id={lead[p.id]: p.id for p in pledges},
        )


async def totals(sessions: Sessions, viewer: Viewer | None = None) -> tuple[int, dict[str, int]]:
    """(US dollars, amounts without a rate by currency), as pledgeStats counts them."""
    async with sessions() as session:
        stats = await pledge_stats(
            session, viewer or Viewer(sees_all=True), PledgeFilter(), StatsGroupBy.FOCUS_AREA
        )
        return stats.total.usd_minor, dict(stats.total.without_usd_by_currency)


# No member's file takes another member's pledge


async def test_an_iati_activity_keyed_like_a_world_bank_project_takes_no_other_members_pledge(
    session_factory: Sessions,
) -> None:
    """DFID publishes an activity whose iati-identifier is 44000-P129828, the World Bank
    project's key. A twin tie never holds between two members, so each keeps its own pledge:
    the Bank leads P129828, DFID its activity."""
    bank, dfid = Feed("twin/project.json", "44000"), Feed("twin/activity.xml", "GB-1")
    await join(session_factory, [bank, dfid])
    await import_file(session_factory, bank)
    data = _edit(
        _read("twin/activity.xml"),
        b'<reporting-org ref="44000" type="40">',
        b'<reporting-org ref="GB-1" type="10">',
    )
    await import_file(session_factory, dfid, data=data)
    state = await held(session_factory)
    assert state.lead_org == {"P129828": "44000", "44000-P129828": "GB-1"}, state.lead_org


async def test_a_receiver_whose_id_sorts_first_joins_a_funder_that_also_receives(
    session_factory: Sessions,
) -> None:
    """DFID's activity receives money from an unclaimed activity, and its implementer's id
    (the Global Fund, 47045-…) sorts first. The implementer names DFID as its provider, so it
    joins DFID's pledge, which DFID leads: one pledge, and DFID's 427,835 GBP are counted."""
    source = Feed("third-party/report.xml", "GB-1")  # an unclaimed activity DFID receives from
    funder = Feed("flow/funder.xml", "GB-1")
    implementer = Feed("flow/implementer.xml", "47045")
    await join(session_factory, [funder, implementer])
    await import_file(session_factory, source)
    receives = _edit(
        _read("flow/funder.xml"),
        b'    <budget type="Revised">',
        b"""    <transaction>
      <value currency="GBP" value-date="2010-05-01">427835</value>
      <transaction-type code="IF">Incoming Funds</transaction-type>
      <provider-org provider-activity-id="XI-IATI-EXAMPLE-3P-1">Open Aid Monitor</provider-org>
      <transaction-date iso-date="2010-05-01"/>
    </transaction>
    <budget type="Revised">""",
        count=1,
    )
    await import_file(session_factory, funder, data=receives)
    data = _edit(
        _read("flow/implementer.xml"),
        b'ref="GB-CHC-1068839" type="22">Bond</reporting-org>',
        b'ref="47045" type="40">The Global Fund</reporting-org>',
    )
    data = _edit(
        data,
        b"<iati-identifier>GB-CHC-1068839-dfid_ag_11-13</iati-identifier>",
        b"<iati-identifier>47045-dfid_ag_11-13</iati-identifier>",
    )
    await import_file(session_factory, implementer, data=data)
    state = await held(session_factory)
    found = (state.lead_org, (await totals(session_factory))[1])
    assert found == ({"GB-1-202907": "GB-1"}, {"GBP": 42783500}), (found, state.record)


async def test_a_member_third_party_whose_id_sorts_first_leaves_the_reported_pledge_to_its_lead(
    session_factory: Sessions,
) -> None:
    """The Netherlands' activity and the Global Fund's report on it name each other (type 5),
    so the tie between the two members holds. The report's id (47045-3P-1) sorts first, but
    the Netherlands' record already leads the pledge and keeps it."""
    lead, report = Feed("third-party/lead.xml", "XM-DAC-7"), Feed("third-party/report.xml", "47045")
    await join(session_factory, [lead, report])
    await import_file(
        session_factory,
        lead,
        data=_edit(_read("third-party/lead.xml"), b"XI-IATI-EXAMPLE-3P-1", b"47045-3P-1"),
    )
    data = _edit(_read("third-party/report.xml"), b"XI-IATI-EXAMPLE-3P-1", b"47045-3P-1")
    data = _edit(data, b'<reporting-org ref="XI-IATI-EXAMPLE-3P" type="21">',
                 b'<reporting-org ref="47045" type="40">')  # fmt: skip
    await import_file(session_factory, report, data=data)
    state = await held(session_factory)
    assert state.record["NL-1-PPR-27791"] == ("NL-1-PPR-27791", "LEAD"), state.record
    assert state.lead_org["NL-1-PPR-27791"] == "XM-DAC-7", state.lead_org


async def test_another_members_child_link_leaves_a_pledges_amount_in_totals(
    session_factory: Sessions,
) -> None:
    """The Netherlands' activity names the Global Fund's as its child (type 2); the Global
    Fund's own record says nothing of it. Between two members a hierarchy holds only when the
    child names its parent, so the Global Fund's 3,991,675 USD stays in the totals."""
    feeds = SCENARIOS["co-funded"]
    await join(session_factory, feeds)
    data = _edit(
        _read("co-funded/a.xml"),
        b'    <related-activity ref="47045-ARM-202-G05-H-00" type="4"/>',
        b'    <related-activity ref="47045-ARM-202-G05-H-00" type="4"/>\n'
        b'    <related-activity ref="47045-ARM-202-G05-H-00" type="2"/>',
    )
    for feed in feeds:
        await import_file(
            session_factory, feed, data=data if feed.path == "co-funded/a.xml" else None
        )
    state = await held(session_factory)
    assert "47045-ARM-202-G05-H-00" not in state.counted_in, state.counted_in
    assert (await totals(session_factory))[0] == 399167500


# Later versions and import order


async def test_an_implementer_that_drops_its_provider_link_goes_back_to_invited(
    session_factory: Sessions,
) -> None:
    """Bond's next version no longer names DFID's activity: it leaves DFID's pledge to lead
    one of its own, and the endorsement the link accepted on its behalf goes back to INVITED
    (DFID's record still names Bond), as if its file had never named DFID."""
    feeds = SCENARIOS["flow"]
    await join(session_factory, feeds)
    for feed in feeds:
        await import_file(session_factory, feed)
    silent = _edit(_read("flow/implementer.xml"), b' provider-activity-id="GB-1-202907"', b"")
    await import_file(session_factory, feeds[1], data=silent)
    state = await held(session_factory)
    bond = "GB-CHC-1068839-dfid_ag_11-13"
    assert state.record[bond] == (bond, "LEAD")  # it left
    assert state.endorsement["GB-1-202907", "GB-CHC-1068839"] == "INVITED", state.endorsement


async def test_a_receiver_moved_to_its_first_funder_goes_back_to_invited_on_the_other(
    session_factory: Sessions,
) -> None:
    """Bond's incoming funds name two DFID activities; it joins the first by id. Imported as
    GB-1-202907, Bond, GB-1-202900, it joins 202907's pledge (ACCEPTED), then moves to
    202900's, and its endorsement on 202907 goes back to INVITED, as in the order 202900,
    202907, Bond."""
    other = _edit(_read("flow/funder.xml"), b"GB-1-202907", b"GB-1-202900")
    other = _edit(other, b">202907<", b">202900<")
    y2q1 = (
        b'="GB-1-202907">DFID</provider-org>\n      <receiver-org'  # first one is two run together
    )
    two = _edit(_read("flow/implementer.xml"), y2q1, y2q1.replace(b"202907", b"202900"), 1)
    funder, implementer = SCENARIOS["flow"]
    await join(session_factory, [funder, implementer])
    await import_file(session_factory, funder)
    await import_file(session_factory, implementer, data=two)
    await import_file(session_factory, funder, data=other)
    state = await held(session_factory)
    bond = "GB-CHC-1068839-dfid_ag_11-13"
    assert state.record[bond] == ("GB-1-202900", "RECEIVER"), state.record
    assert state.endorsement["GB-1-202907", "GB-CHC-1068839"] == "INVITED", state.endorsement


@pytest.mark.parametrize("last", ["NL-1-PPR-28390", "NL-1-PPR-27791"])
async def test_an_unclaimed_report_named_by_two_pledges_sits_on_the_first_pledge_in_any_order(
    session_factory: Sessions, last: str
) -> None:
    """A non-member's report is named (type 5) by two pledges' records. An unclaimed record
    ties no further, so neither import joins the two pledges, and the report stays on the pledge
    of the first record naming it by id (NL-1-PPR-27791), whichever arrives last."""
    lead, report = SCENARIOS["third-party"]
    second = Feed("co-funded/a.xml", "XM-DAC-7")
    await join(session_factory, [lead, report])
    await import_file(session_factory, report)
    data = _edit(
        _read("co-funded/a.xml"),
        b'    <related-activity ref="47045-ARM-202-G05-H-00" type="4"/>',
        b'    <related-activity ref="XI-IATI-EXAMPLE-3P-1" type="5"/>',
    )
    feeds = [(lead, None), (second, data)]
    if last == "NL-1-PPR-27791":
        feeds.reverse()
    for feed, edit in feeds:
        await import_file(session_factory, feed, data=edit)
    state = await held(session_factory)
    assert state.record["XI-IATI-EXAMPLE-3P-1"][0] == "NL-1-PPR-27791", state.record
    assert state.record["NL-1-PPR-28390"] == ("NL-1-PPR-28390", "LEAD")


async def test_a_parent_that_drops_its_child_links_counts_its_children_again(
    session_factory: Sessions,
) -> None:
    """The children (edited) do not name their parent; the parent names them (type 2). When
    the parent's next version names no child, ``recount`` also revisits the pledges counted in
    it before: the children leave counted_elsewhere and totals count all three amounts."""
    parent, children = SCENARIOS["hierarchy"]
    await join(session_factory, [parent, children])
    orphans = _edit(_read("hierarchy/children.xml"),
                    b'    <related-activity ref="GB-1-109635" type="1"/>\n', b"")  # fmt: skip
    await import_file(session_factory, parent)
    await import_file(session_factory, children, data=orphans)
    assert len((await held(session_factory)).counted_in) == 2  # linked as the parent says
    alone = _read("hierarchy/parent.xml")
    for child in (b"101", b"102"):
        alone = _edit(
            alone, b'    <related-activity ref="GB-1-109635-' + child + b'" type="2"/>\n', b""
        )
    await import_file(session_factory, parent, data=alone)
    assert (await held(session_factory)).counted_in == {}
    assert (await totals(session_factory))[1] == {"GBP": 20240500 + 16239300 + 4001200}


async def test_a_record_in_a_link_conflict_still_updates_the_pledge_it_leads(
    session_factory: Sessions,
) -> None:
    """Bond first publishes without the provider link (its own pledge), then a version naming
    DFID's activity and with a new title. The link would join two pledges (LINK_CONFLICT), so
    Bond's record stays LEAD of its own pledge and goes on writing it: the new title lands."""
    funder, implementer = SCENARIOS["flow"]
    await join(session_factory, [funder, implementer])
    silent = _edit(_read("flow/implementer.xml"), b' provider-activity-id="GB-1-202907"', b"")
    await import_file(session_factory, implementer, data=silent)
    await import_file(session_factory, funder)
    renamed = _edit(
        _read("flow/implementer.xml"),
        b'<title xml:lang="en">Improving UK NGO Effectiveness',
        b'<title xml:lang="en">Renamed: Improving UK NGO Effectiveness',
    )
    await import_file(session_factory, implementer, data=renamed)
    state = await held(session_factory)
    bond = "GB-CHC-1068839-dfid_ag_11-13"
    assert state.record[bond] == (bond, "LEAD"), state.record  # still its own pledge's lead
    assert state.title[bond].startswith("Renamed"), state.title


# Totals


async def test_a_hierarchy_cycle_still_counts_an_amount(session_factory: Sessions) -> None:
    """The parent also names its first child as its parent (a cycle in the data). Within the
    loop only the pledge whose lead record comes first holds the others' amounts, so totals
    still count a GBP amount."""
    parent, children = SCENARIOS["hierarchy"]
    await join(session_factory, [parent, children])
    data = _edit(
        _read("hierarchy/parent.xml"),
        b'    <related-activity ref="GB-1-109635-102" type="2"/>',
        b'    <related-activity ref="GB-1-109635-102" type="2"/>\n'
        b'    <related-activity ref="GB-1-109635-101" type="1"/>',
    )
    await import_file(session_factory, parent, data=data)
    await import_file(session_factory, children)
    _, amounts = await totals(session_factory)
    assert amounts.get("GBP"), (amounts, (await held(session_factory)).counted_in)


async def test_a_hidden_grandparent_leaves_the_public_counting_the_parent_alone(
    session_factory: Sessions,
) -> None:
    """A grandparent (a draft) above the fixtures' parent and children, all carrying
    commitments. ``counted_elsewhere`` names every carrying ancestor, so the public, who cannot
    see the grandparent, counts the children in the parent: 202,405 GBP, once."""
    parent, children = SCENARIOS["hierarchy"]
    await join(session_factory, [parent, children])
    grand = _edit(_read("hierarchy/parent.xml"), b"<iati-identifier>GB-1-109635</iati-identifier>",
                  b"<iati-identifier>GB-1-109634</iati-identifier>")  # fmt: skip
    grand = _edit(grand, b'    <related-activity ref="GB-1-109635-101" type="2"/>\n'
                  b'    <related-activity ref="GB-1-109635-102" type="2"/>',
                  b'    <related-activity ref="GB-1-109635" type="2"/>')  # fmt: skip
    await import_file(session_factory, parent, data=grand)
    await import_file(session_factory, parent)
    await import_file(session_factory, children)
    state = await held(session_factory)
    async with session_factory() as session:
        for key, pledge_id in state.pledge_id.items():
            if key == "GB-1-109634":
                continue
            pledge = await session.get(Pledge, pledge_id)
            assert pledge is not None
            if pledge.publication_status is PublicationStatus.DRAFT:
                await submit_pledge(session, pledge_id)
            if pledge.publication_status is PublicationStatus.SUBMITTED:
                await publish_pledge(session, pledge_id)
        grandparent = await session.get(Pledge, state.pledge_id["GB-1-109634"])
        assert grandparent is not None
        assert grandparent.publication_status is PublicationStatus.DRAFT
        await session.commit()
    _, amounts = await totals(session_factory, Viewer())
    assert amounts.get("GBP") == 20240500, amounts

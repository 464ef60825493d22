"""The IATI parser against every real file in tests/data/iati, and against hostile input.

Expected figures are computed here from the same XML with plain lxml XPath, never through the
parser, so that a parser bug cannot hide behind an expectation derived from the parser itself;
figures that the files' SOURCES.md publishes are pinned as well.
"""

from __future__ import annotations

import gc
import io
import json
import sys
import tracemalloc
from collections import Counter, defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree  # type: ignore[import-untyped]  # lxml ships no type information

from connectors.iati.parse import activities
from connectors.iati.records import (
    Activity,
    ActivityDateType,
    ActivityStatus,
    OrganisationRole,
    ParsedActivity,
    RelatedActivityType,
    SdgCode,
    SdgLevel,
    TransactionType,
    Unreadable,
)

DATA = Path(__file__).resolve().parents[1] / "data" / "iati"
FILES = sorted(DATA.glob("*.xml"))

# How the files spell transaction types and roles, by version 2 code: written out here from
# the IATI codelists rather than taken from the parser, so the two can disagree
TYPE_SPELLINGS = {
    **{str(code): str(code) for code in range(1, 14)},
    **{"IF": "1", "C": "2", "D": "3", "E": "4", "IR": "5", "LR": "6", "R": "7"},
    **{"QP": "8", "QS": "9", "CG": "10", "commitment": "2"},
}
ROLE_SPELLINGS = {
    **{"1": "1", "2": "2", "3": "3", "4": "4"},
    **{"Funding": "1", "Accountable": "2", "Extending": "3", "Implementing": "4"},
}


def parsed(source: Path | bytes) -> list[ParsedActivity | Unreadable]:
    return list(activities(source.read_bytes() if isinstance(source, Path) else source))


def read(path: Path) -> list[Activity]:
    """The file's activities, which must all be readable."""
    items = parsed(path)
    assert not [item for item in items if isinstance(item, Unreadable)]
    return [item.activity for item in items if isinstance(item, ParsedActivity)]


def xml_figures(path: Path) -> dict[str, object]:
    """What the file states, by XPath alone."""
    root = etree.parse(str(path)).getroot()
    found = root.xpath("/iati-activity | /iati-activities/iati-activity")
    types: Counter[str | None] = Counter()
    commitments: defaultdict[str, Decimal] = defaultdict(Decimal)
    roles: defaultdict[str, set[str | None]] = defaultdict(set)
    for activity in found:
        for transaction in activity.xpath("transaction"):
            # pre-1.0 files name the type in transaction/@type
            written = transaction.xpath("string(transaction-type[1]/@code)") or transaction.get(
                "type"
            )
            code = TYPE_SPELLINGS.get(written)
            types[code] += 1
            if code == "2":
                currency = transaction.xpath("string(value[1]/@currency)") or activity.get(
                    "default-currency"
                )
                commitments[currency] += Decimal(transaction.xpath("string(value[1])").strip())
        for org in activity.xpath("participating-org[normalize-space(@ref) != '']"):
            roles[org.get("ref").strip()].add(ROLE_SPELLINGS.get(org.get("role", "")))
    return {
        "activities": len(found),
        "transactions": dict(types),
        "commitments": dict(commitments),
        "roles": dict(roles),
        "results": sum(int(a.xpath("count(result)")) for a in found),
        "indicators": sum(int(a.xpath("count(result/indicator)")) for a in found),
        "periods": sum(int(a.xpath("count(result/indicator/period)")) for a in found),
    }


def parsed_figures(found: list[Activity]) -> dict[str, object]:
    """The same figures, from the parser's records."""
    types: Counter[str | None] = Counter()
    commitments: defaultdict[str | None, Decimal] = defaultdict(Decimal)
    roles: defaultdict[str, set[str | None]] = defaultdict(set)
    for activity in found:
        for transaction in activity.transactions:
            types[transaction.type.value if transaction.type else None] += 1
            if transaction.type is TransactionType.OUTGOING_COMMITMENT:
                assert transaction.value is not None
                currency = transaction.currency or activity.default_currency
                commitments[currency] += transaction.value
        for org in activity.participating_orgs:
            if org.ref is not None:
                roles[org.ref].add(org.role.value if org.role else None)
    indicators = [i for a in found for r in a.results for i in r.indicators]
    return {
        "activities": len(found),
        "transactions": dict(types),
        "commitments": dict(commitments),
        "roles": dict(roles),
        "results": sum(len(a.results) for a in found),
        "indicators": len(indicators),
        "periods": sum(len(i.periods) for i in indicators),
    }


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_every_file_gives_the_figures_its_xml_states(path: Path) -> None:
    assert parsed_figures(read(path)) == xml_figures(path)


# Figures the sources publish (tests/data/iati/SOURCES.md)
PUBLISHED = {
    "worldbank.xml": {"activities": 16},
    "CD.xml": {"activities": 205, "related": 794},
    "24-results.xml": {"results": 13, "indicators": 14, "periods": 10},
    "single_activity.xml": {"transactions": 14, "results": 10},
    "example_203_file.xml": {"activities": 13},
    "5e87f792-3d59-4f06-afcf-a8efa8523553.xml": {"activities": 8},
}


@pytest.mark.parametrize(("name", "published"), PUBLISHED.items())
def test_files_hold_what_their_sources_publish(name: str, published: dict[str, int]) -> None:
    found = read(DATA / name)
    indicators = [i for a in found for r in a.results for i in r.indicators]
    figures = {
        "activities": len(found),
        "related": sum(len(a.related_activities) for a in found),
        "transactions": sum(len(a.transactions) for a in found),
        "results": sum(len(a.results) for a in found),
        "indicators": len(indicators),
        "periods": sum(len(i.periods) for i in indicators),
    }
    assert {key: figures[key] for key in published} == published


def test_version_1_letters_and_words_are_normalised() -> None:
    found = read(DATA / "CD.xml")
    assert {a.version for a in found} == {"1.01"}
    assert set((t.type_raw, t.type) for a in found for t in a.transactions) == {
        ("C", TransactionType.OUTGOING_COMMITMENT),
        ("D", TransactionType.DISBURSEMENT),
        ("E", TransactionType.EXPENDITURE),
    }
    assert set((o.role_raw, o.role) for a in found for o in a.participating_orgs) == {
        ("Funding", OrganisationRole.FUNDING),
        ("Extending", OrganisationRole.EXTENDING),
        ("Implementing", OrganisationRole.IMPLEMENTING),
    }
    assert set((d.type_raw, d.type) for a in found for d in a.dates) == {
        ("start-planned", ActivityDateType.PLANNED_START),
        ("start-actual", ActivityDateType.ACTUAL_START),
        ("end-planned", ActivityDateType.PLANNED_END),
        ("end-actual", ActivityDateType.ACTUAL_END),
    }
    # version 1 dates written as text only, and related-activity links for the linking issue
    assert found[0].dates[0].iso_date == date(2010, 12, 31)
    assert {r.type for a in found for r in a.related_activities} == {
        RelatedActivityType.PARENT,
        RelatedActivityType.CHILD,
        RelatedActivityType.SIBLING,
    }
    assert [p for a in found for p in a.problems] == []


def test_single_activity_keeps_values_it_cannot_read() -> None:
    [activity] = read(DATA / "single_activity.xml")
    assert set((o.role_raw, o.role) for o in activity.participating_orgs) == {
        ("Funding", OrganisationRole.FUNDING),
        ("Implementing", OrganisationRole.IMPLEMENTING),
    }
    assert Counter(t.type for t in activity.transactions) == {
        TransactionType.OUTGOING_COMMITMENT: 1,
        TransactionType.DISBURSEMENT: 13,
    }
    period = activity.results[3].indicators[0].periods[0]
    [target], [actual] = period.targets, period.actuals
    assert (target.value, target.raw, actual.raw) == (None, "20,000", "24,055")
    line = etree.parse(str(DATA / "single_activity.xml")).xpath("//target[@value='20,000']")[0]
    assert [(p.line, p.message) for p in target.problems] == [
        (line.sourceline, "not a decimal number: '20,000'")
    ]
    assert activity.results[0].indicators[0].periods[0].targets[0].value == Decimal(350)
    assert target.problems[0] in activity.problems


def test_pre_1_0_world_bank_file_is_keyed_by_its_other_identifier() -> None:
    found = read(DATA / "worldbank.xml")
    assert {a.identifier for a in found} == {None}
    assert found[0].key == "P084404"
    assert not [p for a in found for p in a.problems if p.where == "iati-identifier"]
    first = found[0]
    assert [(o.role_raw, o.role) for o in first.participating_orgs] == [
        ("donor", None),
        ("beneficiary", None),
        ("implementing", OrganisationRole.IMPLEMENTING),
    ]
    assert [(t.type_raw, t.type) for t in first.transactions[:2]] == [
        ("commitment", TransactionType.OUTGOING_COMMITMENT),
        ("disbursment", None),
    ]
    assert (first.transactions[0].provider or pytest.fail("no provider")).activity_id == "IDA43530"
    assert {p.message for p in first.problems} == {
        "no country code",
        "not a known code: 'donor'",
        "not a known code: 'beneficiary'",
        "not a known code: 'disbursment'",
    }


@pytest.mark.parametrize("name", [p.name for p in FILES if p.name[:2].isdigit() and "-" in p.name])
def test_placeholder_activities_without_identifier_are_reported(name: str) -> None:
    found = read(DATA / name)
    assert [(a.identifier, a.key) for a in found] == [(None, None)]
    assert [p.message for p in found[0].problems if p.where == "iati-identifier"] == [
        "no iati-identifier nor other-identifier"
    ]


def test_a_file_whose_root_is_one_activity() -> None:
    [item] = parsed(DATA / "iati_activity_JP.xml")
    assert isinstance(item, ParsedActivity)
    assert (item.place.line, item.place.position) == (2, 1)
    activity = item.activity
    assert (activity.identifier, activity.version, activity.default_currency) == (
        "41AAA-00081406",
        None,
        "USD",
    )
    assert activity.reporting_org is not None
    assert (activity.reporting_org.ref, activity.reporting_org.type) == ("41AAA", "40")
    assert [(o.ref, o.role) for o in activity.participating_orgs] == [
        ("41AAA", OrganisationRole.ACCOUNTABLE),
        ("41AAA", OrganisationRole.IMPLEMENTING),
    ]
    assert activity.status is ActivityStatus.IMPLEMENTATION
    assert [c.code for c in activity.recipient_countries] == ["JP"]
    assert [r.code for r in activity.recipient_regions] == ["789"]
    assert [(s.vocabulary, s.code) for s in activity.sectors] == [("DAC", "72050")]
    assert activity.problems == ()


def test_a_transaction_written_twice_over_is_read_with_problems() -> None:
    [activity] = read(DATA / "provider-activity-id.xml")
    first, *rest = activity.transactions
    assert first.type is TransactionType.INCOMING_FUNDS
    assert (first.provider or pytest.fail("no provider")).activity_id == "GB-1-202907"
    assert (
        first.receiver or pytest.fail("no receiver")
    ).activity_id == "GB-CHC-1068839-dfid_ag_11-13"
    assert sorted(p.message for p in first.problems) == [
        f"2 <{tag}> elements: only the first is read"
        for tag in ("provider-org", "transaction-date", "transaction-type", "value")
    ]
    assert [t.problems for t in rest] == [()] * len(rest)
    # one value of this activity has no currency of its own: the default applies later
    assert [t.currency for t in rest].count(None) == 1


def test_corrections_stay_negative() -> None:
    path = DATA / "example_203_file.xml"
    written = etree.parse(str(path)).xpath("//transaction[transaction-type/@code='2']/value")
    negative = [Decimal(v.text) for v in written if v.text.strip().startswith("-")]
    found = read(path)
    commitments = [
        t for a in found for t in a.transactions if t.type is TransactionType.OUTGOING_COMMITMENT
    ]
    assert [t.value for t in commitments if t.value is not None and t.value < 0] == negative
    assert len(negative) == 11


def test_narratives_keep_their_language() -> None:
    [example] = read(DATA / "activity-standard-example-annotated-203.xml")
    assert [(n.lang, n.text) for n in example.titles] == [
        ("en", "Activity title"),
        ("fr", "Titre de l'activité"),
        ("es", "Título de la actividad"),
    ]
    dutch = read(DATA / "example_203_file.xml")[0]
    assert dutch.default_language == "nl"
    assert [n.lang for n in dutch.titles] == ["nl"]
    assert dutch.reporting_org is not None
    assert [n.lang for n in dutch.reporting_org.narratives] == ["en"]


def test_parent_and_child_activities_are_linked() -> None:
    found = read(DATA / "5e87f792-3d59-4f06-afcf-a8efa8523553.xml")
    parent = found[0]
    assert (parent.identifier, parent.hierarchy, parent.version) == ("GB-1-109616", 1, "2.01")
    assert [(r.type, r.ref) for r in parent.related_activities] == [
        (RelatedActivityType.CHILD, "GB-1-109616-101")
    ]


def document(body: str, root_attributes: str = "", activity_attributes: str = "") -> bytes:
    """A version 2.03 file of one activity, all on its first line but for ``body``'s own."""
    return (
        f'<iati-activities version="2.03" {root_attributes}>'
        f'<iati-activity xml:lang="en" default-currency="EUR" {activity_attributes}>{body}'
        "</iati-activity></iati-activities>"
    ).encode()


def test_elements_and_attributes_of_other_namespaces_are_ignored() -> None:
    body = (
        '<iati-identifier x:note="ignored">XM-1</iati-identifier>'
        '<x:transaction><transaction-type code="2"/><value value-date="2020-01-01">5</value>'
        "</x:transaction>"
        '<transaction x:extra="1"><transaction-type code="2"/>'
        '<value value-date="2020-01-01">7</value></transaction>'
    )
    [item] = parsed(document(body, 'xmlns:x="urn:example"'))
    assert isinstance(item, ParsedActivity)
    assert [t.value for t in item.activity.transactions] == [Decimal(7)]
    assert item.activity.problems == ()


def test_garbled_values_are_kept_raw_with_their_problems() -> None:
    body = """<iati-identifier>XM-1</iati-identifier>
<transaction>
<transaction-type code="Z"/>
<value currency="usd" value-date="2012-02-30">1 000</value>
<transaction-date iso-date="2012-March"/>
</transaction>
<transaction><transaction-type/></transaction>"""
    [item] = parsed(document(body, activity_attributes='hierarchy="x"'))
    assert isinstance(item, ParsedActivity)
    transaction, empty = item.activity.transactions
    assert (transaction.type_raw, transaction.value_raw, transaction.currency) == (
        "Z",
        "1 000",
        "usd",
    )
    assert (transaction.type, transaction.value, transaction.value_date) == (None, None, None)
    assert [(p.line, p.where, p.message) for p in item.activity.problems] == [
        (1, "@hierarchy", "not a whole number: 'x'"),
        (3, "transaction[1]/transaction-type", "not a known code: 'Z'"),
        (4, "transaction[1]/value", "not a currency code: 'usd'"),
        (4, "transaction[1]/value", "not a decimal number: '1 000'"),
        (4, "transaction[1]/value/@value-date", "not a date: '2012-02-30'"),
        (5, "transaction[1]/transaction-date", "not a date: '2012-March'"),
        (7, "transaction[2]/transaction-type", "no transaction type"),
        (7, "transaction[2]", "no value"),
    ]
    assert [p.message for p in empty.problems] == ["no transaction type", "no value"]


def test_sdgs_come_from_sectors_tags_and_indicators() -> None:
    body = (
        "<iati-identifier>XM-1</iati-identifier>"
        '<sector vocabulary="1" code="22040"/><sector vocabulary="7" code="9"/>'
        '<sector vocabulary="8" code="9.c"/><tag vocabulary="2" code="9"/>'
        '<tag vocabulary="3" code="17.6"/>'
        '<result type="1"><indicator measure="1"><reference vocabulary="9" code="9.c.1"/>'
        "</indicator></result>"
    )
    [item] = parsed(document(body))
    assert isinstance(item, ParsedActivity)
    assert item.activity.sdgs == (
        SdgCode(SdgLevel.GOAL, "9"),
        SdgCode(SdgLevel.TARGET, "9.c"),
        SdgCode(SdgLevel.TARGET, "17.6"),
        SdgCode(SdgLevel.INDICATOR, "9.c.1"),
    )


def test_a_stream_reads_as_its_bytes_do() -> None:
    data = (DATA / "CD.xml").read_bytes()
    assert list(activities(io.BytesIO(data))) == list(activities(data))


def billion_laughs() -> bytes:
    """A DTD whose ``&lol9;`` expands to a billion ``lol``s."""
    entities = ['<!ENTITY lol0 "lol">']
    for n in range(1, 10):
        references = f"&lol{n - 1};" * 10
        entities.append(f'<!ENTITY lol{n} "{references}">')
    return f"<!DOCTYPE iati-activities [{''.join(entities)}]>".encode()


def test_a_truncated_file_ends_in_unreadable_after_what_it_could_read() -> None:
    data = (DATA / "CD.xml").read_bytes()
    *read_ones, last = parsed(data[: len(data) // 2])
    lines = [item.place.line for item in read_ones if isinstance(item, ParsedActivity)]
    assert len(lines) == len(read_ones) > 50
    assert isinstance(last, Unreadable)
    assert last.line is not None
    assert last.line > max(line or 0 for line in lines)


# libxml2 refuses to expand a billion laughs in attributes, and some versions in text too
REFUSED = ("declares entities", "amplification")


@pytest.mark.parametrize(
    ("data", "messages"),
    [
        (b"", ("no element found", "Document is empty")),
        (b"not xml at all", ("Start tag expected",)),
        (b"<iati-activities><iati-activity></iati-activities>", ("mismatch",)),
        (b'<iati-organisations version="2.03"/>', ("not iati-activities",)),
        (b"<iati-organisations><iati-activity/></iati-organisations>", ("not iati-activities",)),
        (
            b'<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            + document("<iati-identifier>&x;</iati-identifier>"),
            REFUSED,
        ),
        (billion_laughs() + document("<iati-identifier>&lol9;</iati-identifier>"), REFUSED),
        (
            billion_laughs()
            + document("<iati-identifier>XM-1</iati-identifier>", 'generated-datetime="&lol9;"'),
            REFUSED,
        ),
    ],
    ids=["empty", "not-xml", "mismatch", "other-root", "nested", "xxe", "laughs", "laughs-attr"],
)
def test_unreadable_input_is_reported_not_raised(data: bytes, messages: tuple[str, ...]) -> None:
    [item] = parsed(data)
    assert isinstance(item, Unreadable)
    assert any(message in item.message for message in messages), item.message


def resident_bytes() -> int:
    """This process's resident memory now (not its peak, which earlier tests may have set)."""
    return int(Path("/proc/self/statm").read_text().split()[1]) * 4096


def long_file(path: Path, count: int) -> Path:
    """The largest sample's activities over and over, each with an identifier of its own."""
    sample = etree.parse(str(DATA / "CD.xml")).getroot().findall("iati-activity")
    with path.open("wb") as out:
        out.write(b'<iati-activities version="1.01">\n')
        for position in range(count):
            activity = sample[position % len(sample)]
            identifier = activity.find("iati-identifier")
            original = identifier.text
            identifier.text = f"{original}-{position}"
            out.write(etree.tostring(activity))
            identifier.text = original
        out.write(b"</iati-activities>\n")
    return path


def test_memory_stays_flat_however_long_the_file(tmp_path: Path) -> None:
    """Memory after 20,000 activities is what it was after 2,000.

    libxml2's tree is invisible to tracemalloc, so resident memory is measured too: were read
    activities kept, 18,000 more of them (~95 MB of XML) would add hundreds of megabytes. Tracing
    slows Python fivefold, so it watches the 1,000 activities before each mark only.
    """
    path = long_file(tmp_path / "long.xml", 20_000)
    marks: list[tuple[int, int, int]] = []
    try:
        with path.open("rb") as stream:
            for item in activities(stream):
                assert isinstance(item, ParsedActivity)
                position = item.place.position
                if position in (1_000, 19_000):
                    tracemalloc.start()
                elif position in (2_000, 20_000):
                    peak = tracemalloc.get_traced_memory()[1]
                    tracemalloc.stop()
                    gc.collect()
                    marks.append((resident_bytes(), sys.getallocatedblocks(), peak))
    finally:
        tracemalloc.stop()
    (resident_early, blocks_early, peak_early), (resident_late, blocks_late, peak_late) = marks
    # keeping a window's 1,000 activities would take some 9 MB of records
    assert max(peak_early, peak_late) < 1_000_000
    assert blocks_late - blocks_early < 1_000
    assert resident_late - resident_early < 16_000_000


EXPECTED = DATA / "EXPECTED.json"


def stated(path: Path) -> dict[str, object]:
    """``xml_figures`` as EXPECTED.json writes them: decimals as strings, roles sorted, an
    unknown transaction type as ``"unknown"``."""
    figures = xml_figures(path)
    transactions = figures["transactions"]
    commitments = figures["commitments"]
    roles = figures["roles"]
    assert isinstance(transactions, dict)
    assert isinstance(commitments, dict)
    assert isinstance(roles, dict)
    return {
        **figures,
        "transactions": {str(k or "unknown"): v for k, v in sorted(transactions.items(), key=str)},
        "commitments": {k: str(v) for k, v in sorted(commitments.items())},
        "roles": {k: sorted(r or "unknown" for r in v) for k, v in sorted(roles.items())},
    }


def test_expected_json_states_what_each_file_holds() -> None:
    """tests/data/iati/EXPECTED.json, per file, is what plain XPath finds in it: the figures
    the importer's pledges, flows, endorsements, targets and reports are held to (issue 11)."""
    written = json.loads(EXPECTED.read_text(encoding="utf-8"))
    assert written == {path.name: stated(path) for path in FILES}

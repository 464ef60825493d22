"""The IATI mapping against the real files in tests/data/iati, read through the parser.

Each file is mapped with its own reporting organisation as the member, selected by that
organisation. Expected figures come from the XML by plain lxml XPath, never through the parser
or the mapping. Where a file lacks a case (a type 12 pledge, a placeholder baseline, a
telecommunications sector), the test edits one real activity's bytes and says how.
"""

from __future__ import annotations

import dataclasses
import re
from collections import Counter, defaultdict
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path

import pytest
from lxml import etree  # type: ignore[import-untyped]  # lxml ships no type information

from connectors.iati.mapping import map_activity
from connectors.iati.outcomes import (
    Amount,
    Gap,
    Options,
    Outcome,
    Plan,
    Rejected,
    ReviewSubject,
    Selection,
    Unclaimed,
)
from connectors.iati.parse import activities
from connectors.iati.records import ParsedActivity, TransactionType
from hub.countries.models import CountryGroup
from hub.countries.reference import read_reference
from hub.endorsements.models import EndorsementStatus, Role
from hub.money.models import TransactionKind
from hub.organisations.models import OrganisationType
from hub.pledges.models import FocusArea, ImplementationStatus, Measure

DATA = Path(__file__).resolve().parents[1] / "data" / "iati"
FILES = sorted(DATA.glob("*.xml"))
# The hub's own country file, read as `p2c-hub countries load` reads it
COUNTRIES = {country.alpha2: country.alpha3 for country in read_reference()[0]}
# How the files spell the types that make the pledged amount (IATI TransactionType codelist)
COMMITMENT = {"2", "C", "commitment"}
PLEDGE = {"12"}


@cache
def _file_activities(path: Path) -> tuple[ParsedActivity, ...]:
    found = tuple(activities(path.read_bytes()))
    assert all(isinstance(item, ParsedActivity) for item in found)
    return tuple(item for item in found if isinstance(item, ParsedActivity))


def parsed(source: Path | bytes) -> tuple[ParsedActivity, ...]:
    """The activities of a file (parsed once per run) or of edited bytes."""
    if isinstance(source, Path):
        return _file_activities(source)
    return tuple(item for item in activities(source) if isinstance(item, ParsedActivity))


def reporters(path: Path) -> frozenset[str]:
    root = etree.parse(str(path)).getroot()
    refs = root.xpath("//iati-activity/reporting-org/@ref")
    return frozenset(str(ref).strip() for ref in refs if str(ref).strip())


def options_for(path: Path, **changes: object) -> Options:
    """The file's reporting organisations as the member, selecting what they report."""
    member = reporters(path)
    options = Options(member, Selection(reporting_orgs=member), COUNTRIES)
    return dataclasses.replace(options, **changes)  # type: ignore[arg-type]


def mapped(source: Path | bytes, options: Options) -> list[Outcome]:
    return [map_activity(item, options) for item in parsed(source)]


def plans(source: Path | bytes, options: Options) -> list[Plan]:
    found = mapped(source, options)
    assert all(isinstance(outcome, Plan) for outcome in found)
    return [outcome for outcome in found if isinstance(outcome, Plan)]


def plan_of(item: ParsedActivity, options: Options) -> Plan:
    """The plan of one (edited) parsed activity."""
    outcome = map_activity(item, options)
    assert isinstance(outcome, Plan)
    return outcome


def edited(name: str, old: str, new: str, count: int = 1) -> bytes:
    """A real file with ``old`` replaced by ``new``, which must occur exactly ``count`` times."""
    text = (DATA / name).read_text(encoding="utf-8")
    assert text.count(old) == count, f"{old!r} occurs {text.count(old)} times in {name}"
    return text.replace(old, new).encode()


def xml_activities(source: Path | bytes) -> list[etree._Element]:
    root = (
        etree.parse(str(source)).getroot() if isinstance(source, Path) else etree.fromstring(source)
    )
    return list(root.xpath("/iati-activity | /iati-activities/iati-activity"))


def xml_type(transaction: etree._Element) -> str:
    written = transaction.xpath("string(transaction-type[1]/@code)") or transaction.get("type")
    return str(written).strip()


def xml_currency(transaction: etree._Element, activity: etree._Element) -> str:
    own = str(transaction.xpath("string(value[1]/@currency)")).strip()
    return own or str(activity.get("default-currency"))


def xml_value(transaction: etree._Element) -> Decimal:
    return Decimal(str(transaction.xpath("string(value[1])")).strip())


def test_the_countries_table_is_the_hubs() -> None:
    assert COUNTRIES["AM"] == "ARM"
    assert COUNTRIES["CD"] == "COD"
    assert len(COUNTRIES) > 240


# Files and what they become, read off the files: the five IATI schema fixtures have no
# identifier, and worldbank.xml's reporting-org has no ref, so nothing there is selected
OUTCOMES = {
    "01-humanitarian-activity-flag.xml": {"Rejected": 1},
    "21-transaction.xml": {"Rejected": 1},
    "22-participating-org.xml": {"Rejected": 1},
    "24-results.xml": {"Rejected": 1},
    "41-related-activity.xml": {"Rejected": 1},
    "5e87f792-3d59-4f06-afcf-a8efa8523553.xml": {"Plan": 8},
    "CD.xml": {"Plan": 205},
    "activity-standard-example-annotated-203.xml": {"Plan": 1},
    "example_203_file.xml": {"Plan": 13},
    "iati_activity_JP.xml": {"Plan": 1},
    "provider-activity-id.xml": {"Plan": 1},
    "single_activity.xml": {"Plan": 1},
    "worldbank.xml": {"Skipped": 16},
}


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_each_file_gives_the_outcomes_its_xml_implies(path: Path) -> None:
    expected: Counter[str] = Counter()
    for activity in xml_activities(path):
        keyed = activity.xpath("normalize-space(iati-identifier) or other-identifier")
        reporter = activity.xpath("normalize-space(reporting-org/@ref)")
        expected["Plan" if keyed and reporter else "Skipped" if keyed else "Rejected"] += 1
    found = Counter(type(outcome).__name__ for outcome in mapped(path, options_for(path)))
    assert found == expected == OUTCOMES[path.name]


def test_an_activity_without_identifier_is_rejected_with_the_reason() -> None:
    path = DATA / "24-results.xml"
    [outcome] = mapped(path, options_for(path))
    assert isinstance(outcome, Rejected)
    assert outcome.reason == "no iati-identifier nor other-identifier to key the pledge by"
    assert outcome.place.position == 1


def test_the_other_identifier_keys_an_activity_prefixed_by_its_owner() -> None:
    # CD.xml's first activity without its iati-identifier: other-identifier 105838, owner GB-1
    source = edited("CD.xml", "<iati-identifier>GB-1-105838</iati-identifier>", "")
    outcome = mapped(source, options_for(DATA / "CD.xml"))[0]
    assert isinstance(outcome, Plan)
    assert outcome.external_id == "GB-1-105838"
    # worldbank.xml's other-identifiers have no owner-ref: the identifier alone
    path = DATA / "worldbank.xml"
    selection = Selection(activity_ids=frozenset({"P084404"}))
    outcome = mapped(path, options_for(path, selection=selection))[0]
    assert isinstance(outcome, Unclaimed)
    assert outcome.external_id == "P084404"


def test_only_selected_activities_are_mapped() -> None:
    path = DATA / "CD.xml"
    selection = Selection(activity_ids=frozenset({"GB-1-105838-101", "GB-1-105838-102"}))
    found = mapped(path, options_for(path, selection=selection))
    assert Counter(type(o).__name__ for o in found) == {"Plan": 2, "Skipped": 203}
    # by DAC sector: the activities listing 15110, counted by XPath
    expected = sum(
        1 for a in xml_activities(path) if a.xpath("sector[normalize-space(@code) = '15110']")
    )
    found = mapped(path, options_for(path, selection=Selection(sectors=frozenset({"15110"}))))
    assert sum(isinstance(o, Plan) for o in found) == expected == 14
    # by tag (vocabulary 99, code T1 in example_203_file.xml)
    path = DATA / "example_203_file.xml"
    tags = frozenset({("99", "T1")})
    found = mapped(path, options_for(path, selection=Selection(tags=tags)))
    assert sum(isinstance(o, Plan) for o in found) == 1


def test_an_activity_another_organisation_reports_is_unclaimed() -> None:
    path = DATA / "example_203_file.xml"
    found = mapped(path, options_for(path, member=frozenset({"GB-1"})))
    assert all(isinstance(o, Unclaimed) for o in found)
    first = found[0]
    assert isinstance(first, Unclaimed)
    assert first.reporting_org == "XM-DAC-7"
    assert first.reason == "reported by XM-DAC-7, which is not the member"
    # worldbank.xml's reporting-org names no identifier: nobody's to claim
    path = DATA / "worldbank.xml"
    selection = Selection(activity_ids=frozenset({"P084404"}))
    outcome = mapped(path, options_for(path, selection=selection))[0]
    assert isinstance(outcome, Unclaimed)
    assert outcome.reason == "the reporting organisation gives no identifier"
    assert outcome.reporting_org_names[0].text == "World Bank"
    # the annotated example, its reporter made a secondary reporter of another's activity
    name = "activity-standard-example-annotated-203.xml"
    source = edited(name, 'secondary-reporter="0"', 'secondary-reporter="1"')
    [outcome] = mapped(source, options_for(DATA / name))
    assert isinstance(outcome, Unclaimed)
    assert "secondary reporter" in outcome.reason


PLANNED = [p for p in FILES if OUTCOMES[p.name].get("Plan")]


@pytest.mark.parametrize("path", PLANNED, ids=[p.name for p in PLANNED])
def test_counted_commitments_equal_the_xml_sum_per_currency(path: Path) -> None:
    expected: defaultdict[str, Decimal] = defaultdict(Decimal)
    for activity in xml_activities(path):
        transactions = activity.xpath("transaction")
        committed = any(xml_type(t) in COMMITMENT for t in transactions)
        for transaction in transactions:
            if xml_type(transaction) in (COMMITMENT if committed else PLEDGE):
                expected[xml_currency(transaction, activity)] += xml_value(transaction)
    counted: defaultdict[str, Decimal] = defaultdict(Decimal)
    for plan in plans(path, options_for(path)):
        for amount in plan.counted:
            counted[amount.currency] += amount.value
        if len(plan.counted) == 1 and plan.counted[0].value > 0:
            assert plan.amount == plan.counted[0]
        else:
            assert plan.amount is None
            assert Gap.AMOUNT in plan.gaps
    assert counted == expected


def test_negative_commitments_reduce_the_counted_amount() -> None:
    path = DATA / "example_203_file.xml"
    by_key = {plan.external_id: plan for plan in plans(path, options_for(path))}
    reduced = 0
    for activity in xml_activities(path):
        values = [xml_value(t) for t in activity.xpath("transaction") if xml_type(t) == "2"]
        if not any(value < 0 for value in values):
            continue
        reduced += 1
        plan = by_key[str(activity.xpath("normalize-space(iati-identifier)"))]
        negative = [
            f for f in plan.flows if f.kind is TransactionKind.COMMITMENT and f.amount.value < 0
        ]
        assert negative
        assert all(flow.counts for flow in negative)
        assert plan.counted == (Amount(sum(values, Decimal(0)), "EUR"),)
        assert plan.counted[0].value < sum(v for v in values if v > 0)
    assert reduced > 0


def test_an_outgoing_pledge_counts_only_when_the_activity_has_no_commitment() -> None:
    # single_activity.xml with its one commitment (C) written as an outgoing pledge (12)
    source = edited(
        "single_activity.xml", '<transaction-type code="C">', '<transaction-type code="12">'
    )
    [plan] = plans(source, options_for(DATA / "single_activity.xml"))
    [pledge] = [f for f in plan.flows if f.kind is TransactionKind.PLEDGE]
    assert pledge.counts
    assert pledge.reason.startswith("an outgoing pledge, and the activity has no commitment")
    assert plan.pledge_only
    assert plan.amount == Amount(Decimal(3991675), "USD")
    # the same pledge beside the original commitment counts for nothing
    [original] = parsed(DATA / "single_activity.xml")
    activity = original.activity
    commitment = activity.transactions[0]
    assert commitment.type is TransactionType.OUTGOING_COMMITMENT
    both = dataclasses.replace(
        activity,
        transactions=(
            *activity.transactions,
            dataclasses.replace(commitment, type=TransactionType.OUTGOING_PLEDGE),
        ),
    )
    plan = plan_of(
        ParsedActivity(original.place, both, original.xml),
        options_for(DATA / "single_activity.xml"),
    )
    assert not plan.pledge_only
    assert plan.flows[-1].kind is TransactionKind.PLEDGE
    assert not plan.flows[-1].counts
    assert plan.amount == Amount(Decimal(3991675), "USD")


def test_incoming_funds_never_count() -> None:
    path = DATA / "provider-activity-id.xml"
    [plan] = plans(path, options_for(path))
    incoming = [f for f in plan.flows if f.kind is TransactionKind.INCOMING]
    assert len(incoming) == 4
    assert not any(flow.counts for flow in incoming)
    assert all(flow.reason.startswith("incoming funds") for flow in incoming)
    assert plan.counted == ()
    assert plan.amount is None
    assert Gap.AMOUNT in plan.gaps
    # kept for the linking issue: who provided it, under which of its activities
    assert incoming[0].provider is not None
    assert incoming[0].provider.ref == "GB-1"
    assert incoming[0].provider.activity_id == "GB-1-202907"
    assert incoming[0].receiver is not None
    assert incoming[0].receiver.activity_id == "GB-CHC-1068839-dfid_ag_11-13"
    # the one value without a currency of its own takes the activity's default-currency
    assert {flow.amount.currency for flow in plan.flows} == {"GBP"}


def test_a_flow_without_currency_is_rejected_and_the_rest_goes_on() -> None:
    [original] = parsed(DATA / "single_activity.xml")
    activity = original.activity
    first = dataclasses.replace(activity.transactions[0], currency=None)
    bare = dataclasses.replace(
        activity, default_currency=None, transactions=(first, *activity.transactions[1:])
    )
    plan = plan_of(
        ParsedActivity(original.place, bare, original.xml),
        options_for(DATA / "single_activity.xml"),
    )
    [rejected] = plan.rejected_flows
    assert rejected.position == 1
    assert rejected.reason.startswith("no currency")
    assert len(plan.flows) == len(activity.transactions) - 1
    assert plan.amount is None


def test_disbursements_and_expenditures_are_progress_per_calendar_year() -> None:
    for name in ("single_activity.xml", "iati_activity_JP.xml", "CD.xml"):
        path = DATA / name
        by_key = {plan.external_id: plan for plan in plans(path, options_for(path))}
        for activity in xml_activities(path):
            spent: defaultdict[tuple[int, str], Decimal] = defaultdict(Decimal)
            for transaction in activity.xpath("transaction"):
                if xml_type(transaction) in {"3", "4", "D", "E"}:
                    year = int(str(transaction.xpath("string(value[1]/@value-date)"))[:4])
                    spent[year, xml_currency(transaction, activity)] += xml_value(transaction)
            plan = by_key[str(activity.xpath("normalize-space(iati-identifier)"))]
            reports = {
                (r.period_start.year, r.disbursed.currency): r.disbursed.value
                for r in plan.reports
                if r.disbursed is not None
            }
            assert reports == {key: value for key, value in spent.items() if value > 0}
            for report in plan.reports:
                if report.disbursed is not None:
                    assert report.period_end == date(report.period_start.year, 12, 31)
            assert sum(value <= 0 for value in spent.values()) == sum(
                "disbursed and spent, no report" in note for note in plan.notes
            )


def test_the_reporting_organisation_leads_and_the_others_are_invited_in_their_roles() -> None:
    path = DATA / "activity-standard-example-annotated-203.xml"
    [plan] = plans(path, options_for(path))
    lead, funder, accountable = plan.endorsements
    # its own Extending entry is what leading means: nothing more than LEAD
    assert (lead.ref, lead.roles, lead.status) == (
        "AA-AAA-123456789",
        (Role.LEAD,),
        EndorsementStatus.ACCEPTED,
    )
    assert lead.organisation_type is OrganisationType.INTERNATIONAL_ORGANIZATION
    assert (funder.ref, funder.roles, funder.status) == (
        "BB-BBB-123456789",
        (Role.FUNDER,),
        EndorsementStatus.INVITED,
    )
    assert funder.activity_ids == ("BB-BBB-123456789-1234",)
    assert (accountable.ref, accountable.roles) == ("CC-CCC-123456789", (Role.CO_LEAD,))
    assert accountable.organisation_type is OrganisationType.GOVERNMENT
    # Bond leads and implements; NIDOS implements; DFID funds
    path = DATA / "provider-activity-id.xml"
    [plan] = plans(path, options_for(path))
    assert [(e.ref, e.roles, e.status) for e in plan.endorsements] == [
        ("GB-CHC-1068839", (Role.LEAD, Role.IMPLEMENTER), EndorsementStatus.ACCEPTED),
        ("GB-OSCR-SCO35314", (Role.IMPLEMENTER,), EndorsementStatus.INVITED),
        ("GB-1", (Role.FUNDER,), EndorsementStatus.INVITED),
    ]


def test_all_four_roles_in_the_dutch_file() -> None:
    path = DATA / "example_203_file.xml"
    by_key = {plan.external_id: plan for plan in plans(path, options_for(path))}
    unnamed = 0
    for activity in xml_activities(path):
        plan = by_key[str(activity.xpath("normalize-space(iati-identifier)"))]
        lead, *others = plan.endorsements
        # XM-DAC-7 is Funding, Accountable and Extending in every activity
        assert lead.ref == "XM-DAC-7"
        assert lead.roles == (Role.LEAD, Role.FUNDER)
        refs = {str(r).strip() for r in activity.xpath("participating-org/@ref")} - {"XM-DAC-7"}
        assert {e.ref for e in others} == refs
        assert all(e.roles == (Role.IMPLEMENTER,) for e in others)
        assert all(e.status is EndorsementStatus.INVITED for e in others)
        # implementers without an identifier are for review, never endorsements
        missing = int(activity.xpath("count(participating-org[not(normalize-space(@ref))])"))
        organisations = [r for r in plan.review if r.subject is ReviewSubject.ORGANISATION]
        assert len(organisations) == missing
        unnamed += missing
    assert unnamed == 10


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("1", ImplementationStatus.PIPELINE),
        ("2", ImplementationStatus.IMPLEMENTATION),
        ("3", ImplementationStatus.COMPLETED),
        ("4", ImplementationStatus.COMPLETED),
        ("5", ImplementationStatus.CANCELLED),
        ("6", ImplementationStatus.SUSPENDED),
    ],
)
def test_activity_status_becomes_implementation_status(
    code: str, status: ImplementationStatus
) -> None:
    name = "iati_activity_JP.xml"
    source = edited(name, '<activity-status code="2">', f'<activity-status code="{code}">')
    [plan] = plans(source, options_for(DATA / name))
    assert plan.implementation_status is status


def test_every_status_in_the_dfid_file() -> None:
    path = DATA / "CD.xml"
    expected = Counter(
        str(a.xpath("normalize-space(activity-status/@code)")) for a in xml_activities(path)
    )
    found = Counter(plan.implementation_status for plan in plans(path, options_for(path)))
    assert found == {
        ImplementationStatus.COMPLETED: expected["4"],
        ImplementationStatus.IMPLEMENTATION: expected["2"],
        ImplementationStatus.PIPELINE: expected["1"],
    }


def test_recipient_countries_become_alpha3_target_countries() -> None:
    path = DATA / "example_203_file.xml"
    for activity, plan in zip(xml_activities(path), plans(path, options_for(path)), strict=True):
        codes = [str(c).strip() for c in activity.xpath("recipient-country/@code")]
        assert plan.target_countries == tuple(COUNTRIES[code] for code in codes)
    path = DATA / "single_activity.xml"
    assert plans(path, options_for(path))[0].target_countries == ("ARM",)
    # a code the hub does not know is for review
    name = "iati_activity_JP.xml"
    source = edited(name, '<recipient-country code="JP">', '<recipient-country code="XK">')
    [plan] = plans(source, options_for(DATA / name, countries={"JP": "JPN"}))
    assert plan.target_countries == ()
    assert [(r.subject, r.code) for r in plan.review if r.subject is ReviewSubject.COUNTRY] == [
        (ReviewSubject.COUNTRY, "XK")
    ]
    assert Gap.PLACE in plan.gaps


def test_recipient_regions_are_reported_unless_an_m49_group() -> None:
    name = "iati_activity_JP.xml"
    [plan] = plans(DATA / name, options_for(DATA / name))
    assert plan.target_groups == ()
    [region] = [r for r in plan.review if r.subject is ReviewSubject.REGION]
    assert region.code == "789"
    # the same region written as UN M49 199, the least developed countries
    source = edited(
        name, '<recipient-region code="789"', '<recipient-region vocabulary="2" code="199"'
    )
    [plan] = plans(source, options_for(DATA / name))
    assert plan.target_groups == (CountryGroup.LDC,)


@pytest.mark.parametrize(
    ("sector", "areas", "sdgs"),
    [
        ('vocabulary="DAC" code="22020"', (FocusArea.ACCESS,), ()),
        ('vocabulary="1" code="22040"', (FocusArea.ACCESS, FocusArea.ADOPTION), ()),
        ('code="22010"', (FocusArea.ACCELERATE,), ()),
        ('code="22030"', (FocusArea.ADOPTION,), ()),
        ('vocabulary="8" code="9.c"', (FocusArea.ACCESS,), (9,)),
        ('vocabulary="DAC" code="72050"', (), ()),
    ],
)
def test_sectors_and_sdgs_map_to_focus_areas(
    sector: str, areas: tuple[FocusArea, ...], sdgs: tuple[int, ...]
) -> None:
    # UNOPS's one sector, relief co-ordination (72050), rewritten
    name = "iati_activity_JP.xml"
    source = edited(name, 'code="72050" percentage="100" vocabulary="DAC"', sector)
    [plan] = plans(source, options_for(DATA / name))
    assert plan.focus_areas == areas
    assert plan.sdgs == sdgs
    assert plan.needs_classification == (not areas)
    assert (Gap.FOCUS_AREA in plan.gaps) == (not areas)


def test_results_become_targets_and_reports() -> None:
    path = DATA / "single_activity.xml"
    [plan] = plans(path, options_for(path))
    assert len(plan.targets) == 10
    first = plan.targets[0]
    assert first.label.startswith("Number of adults and children with advanced HIV")
    assert (first.target_value, first.deadline) == (Decimal(350), date(2012, 9, 30))
    assert first.measure is Measure.QUANTITATIVE
    # "20,000" and "24,055": thousands separators, read as such and noted
    tests = plan.targets[3]
    assert tests.target_value == Decimal(20000)
    [report] = [r for r in plan.reports if r.values]
    assert (report.period_start, report.period_end) == (date(2012, 4, 1), date(2012, 9, 30))
    assert report.values[3].value == Decimal(24055)
    assert any("'20,000' read as 20000" in note for note in plan.notes)
    # focus area is all it lacks
    assert plan.gaps == (Gap.FOCUS_AREA,)


def test_a_smart_complete_plan_has_no_gaps() -> None:
    # single_activity.xml given the ICT sector it lacks
    country = '<recipient-country code="AM">Armenia</recipient-country>'
    source = edited("single_activity.xml", country, country + '<sector code="22040"/>')
    [plan] = plans(source, options_for(DATA / "single_activity.xml"))
    assert plan.gaps == ()
    assert plan.smart_complete


def _annotated_without_dimensions(year: str) -> bytes:
    """The annotated example's result as values of the whole (no dimensions), baseline in year."""
    text = (DATA / "activity-standard-example-annotated-203.xml").read_text(encoding="utf-8")
    text, removed = re.subn(r"<dimension [^>]*/>", "", text)
    assert removed == 6
    baseline = '<baseline year="2012" iso-date="2012-01-01" value="10">'
    assert text.count(baseline) == 1
    return text.replace(
        baseline, f'<baseline year="{year}" iso-date="{year}-01-01" value="10">'
    ).encode()


def test_a_placeholder_baseline_is_reported_and_not_trusted() -> None:
    options = options_for(DATA / "activity-standard-example-annotated-203.xml")
    [plan] = plans(_annotated_without_dimensions("2012"), options)
    [target] = plan.targets
    assert (target.baseline_value, target.baseline_date) == (Decimal(10), date(2012, 1, 1))
    assert (target.target_value, target.deadline) == (Decimal(10), date(2013, 3, 31))
    [placeholder] = plans(_annotated_without_dimensions("1900"), options)
    [target] = placeholder.targets
    assert (target.baseline_value, target.baseline_date) == (None, None)
    assert "result 1 indicator 1: the baseline of 1900-01-01 is a placeholder, not trusted" in (
        placeholder.notes
    )
    # values by dimension measure a slice: the unedited example has no target of the whole
    [plan] = plans(DATA / "activity-standard-example-annotated-203.xml", options)
    assert plan.targets == ()
    assert [r.subject for r in plan.review if r.code == "result 1 indicator 1"] == [
        ReviewSubject.INDICATOR
    ]


def test_a_qualitative_indicator_is_qualitative() -> None:
    source = _annotated_without_dimensions("2012").replace(b'measure="1"', b'measure="5"')
    [plan] = plans(source, options_for(DATA / "activity-standard-example-annotated-203.xml"))
    [target] = plan.targets
    assert target.measure is Measure.QUALITATIVE
    assert (target.target_value, target.baseline_value) == (None, None)
    assert target.description[0].text == "Indicator description text"
    [report] = [r for r in plan.reports if r.values]
    assert (report.values[0].value, report.values[0].note) == (None, "11")


def test_narratives_keep_their_language() -> None:
    path = DATA / "activity-standard-example-annotated-203.xml"
    [plan] = plans(path, options_for(path))
    assert [(n.lang, n.text) for n in plan.title] == [
        ("en", "Activity title"),
        ("fr", "Titre de l'activité"),
        ("es", "Título de la actividad"),
    ]
    assert {n.lang for n in plan.description} == {"en", "fr"}


def test_the_content_hash_follows_the_content_and_nothing_else() -> None:
    path = DATA / "CD.xml"
    options = options_for(path)
    first = plans(path, options)
    again = plans((path).read_bytes(), options)  # a second parse of the same bytes
    assert [p.content_hash for p in first] == [p.content_hash for p in again]
    assert len({p.content_hash for p in first}) == len(first)
    # the options' country table in another order, and the activities moved down the file
    reordered = dict(reversed(list(COUNTRIES.items())))
    moved = path.read_bytes().replace(b"<iati-activities", b"\n\n<iati-activities", 1)
    shifted = plans(moved, options_for(path, countries=reordered))
    assert [p.place.line for p in shifted] != [p.place.line for p in first]
    assert [p.content_hash for p in shifted] == [p.content_hash for p in first]
    # what the mapping leaves out (contact-info) changes nothing; a value changes the hash
    phone = "<telephone>+44 (0) 1355 84 3132</telephone>"
    unmapped = path.read_bytes().replace(phone.encode(), b"<telephone>0</telephone>", 1)
    assert plans(unmapped, options)[0].content_hash == first[0].content_hash
    name = "single_activity.xml"
    [before] = plans(DATA / name, options_for(DATA / name))
    source = edited(name, 'currency="USD">3991675<', 'currency="USD">3991676<')
    [after] = plans(source, options_for(DATA / name))
    assert after.content_hash != before.content_hash
    assert after.amount == Amount(Decimal(3991676), "USD")

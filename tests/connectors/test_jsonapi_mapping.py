"""The declarative mapping of operators' JSON APIs, against a JSON:API-style operator feed.

"Connecta Telecom" publishes its commitments at https://api.connecta.example/v2/commitments
in three pages (a relative next link, an absolute one, then none), each commitment with its
KPIs and half-yearly reports. Expected values are written out by hand from the payload below.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from connectors.errors import Malformed
from connectors.framework import Reject, Work
from connectors.jsonapi import (
    JsonMapping,
    compile_mapping,
    next_request,
    page_records,
    record_updated,
    record_work,
)
from hub.errors import InvalidInput
from hub.imports.records import (
    FlowRecord,
    PledgeRecord,
    ReportRecord,
    ReviewRecord,
    TargetRecord,
    ValueRecord,
)
from hub.money.models import TransactionKind
from hub.pledges.models import (
    Direction,
    FocusArea,
    ImplementationStatus,
    Indicator,
    Measure,
    PledgeType,
)
from hub.pledges.rules import PledgeDraft, TargetDraft

BASE = "https://api.connecta.example/v2/commitments"
COUNTRIES = {"KE": "KEN", "NG": "NGA", "GH": "GHA", "TZ": "TZA", "UG": "UGA"}
SOURCE = "jsonapi:connecta"
ORG = "XM-DAC-CONNECTA"

MAPPING: dict[str, Any] = {
    "records": "data",
    "next": "links.next",
    "cursor": None,
    "cursorParam": "cursor",
    "fields": {
        "id": "id",
        "title": "attributes.name",
        "description": "attributes.summary",
        "type": "attributes.kind",
        "focusAreas": "attributes.pillars",
        "countries": "attributes.markets[].iso",
        "amount": "attributes.budget.amount",
        "currency": "attributes.budget.currency",
        "startDate": "attributes.start",
        "endDate": "attributes.end",
        "announcedOn": "attributes.announced",
        "status": "attributes.status",
        "updated": "meta.updatedAt",
    },
    "values": {
        "type": {"capex": "FINANCIAL", "policy": "POLICY", "programme": "PROGRAMMATIC"},
        "focusAreas": {
            "coverage": "ACCESS",
            "skills": "ADOPTION",
            "inclusion": ["ACCESS", "ADOPTION"],
            "corporate": [],
        },
        "status": {"live": "IMPLEMENTATION", "planned": "PIPELINE", "done": "COMPLETED"},
        "indicator": {"pop4g": "PEOPLE_CONNECTED", "schools": "SCHOOLS_CONNECTED"},
        "measure": {"number": "QUANTITATIVE", "narrative": "QUALITATIVE"},
        "direction": {"up": "ASCENDING", "down": "DESCENDING"},
    },
    "targets": {
        "list": "attributes.kpis",
        "key": "code",
        "label": "name",
        "description": "definition",
        "indicator": "code",
        "unit": "unit",
        "measure": "type",
        "direction": "polarity",
        "cumulative": "cumulative",
        "baseline": "baseline.value",
        "baselineDate": "baseline.date",
        "target": "goal",
        "deadline": "due",
    },
    "progress": {
        "list": "attributes.reports",
        "start": "from",
        "end": "to",
        "narrative": "text",
        "values": "measures",
        "valueTarget": "kpi",
        "value": "value",
        "valueNote": "comment",
    },
}


def commitment_4g() -> dict[str, Any]:
    """The first commitment: every field stated, two KPIs, two reports."""
    return {
        "type": "commitments",
        "id": "CT-2024-001",
        "attributes": {
            "name": "Rural 4G for East and West Africa",
            "summary": "New 4G sites in underserved districts of Kenya and Nigeria.",
            "kind": "capex",
            "pillars": ["coverage", "skills"],
            "markets": [{"iso": "KE", "name": "Kenya"}, {"iso": "NGA", "name": "Nigeria"}],
            "budget": {"amount": "25000000.00", "currency": "USD"},
            "start": "2024-01-01",
            "end": "2026-12-31",
            "announced": "2023-11-20",
            "status": "live",
            "internalCode": "CAPEX-7781",
            "kpis": [
                {
                    "code": "pop4g",
                    "name": "People covered by 4G",
                    "definition": "Population within 4G coverage of the new sites",
                    "unit": "people",
                    "type": "number",
                    "polarity": "up",
                    "cumulative": True,
                    "baseline": {"value": 1200000, "date": "2023-12-31"},
                    "goal": 5000000,
                    "due": "2026-12-31",
                },
                {
                    "code": "outages",
                    "name": "Site outage hours per month",
                    "unit": "hours",
                    "polarity": "down",
                    "cumulative": False,
                    "baseline": {"value": "12.5", "date": "2023-12-31"},
                    "goal": "2.25",
                    "due": "2025-12-31",
                },
            ],
            "reports": [
                {
                    "from": "2024-01-01",
                    "to": "2024-06-30",
                    "text": "312 sites on air.",
                    "measures": [
                        {"kpi": "pop4g", "value": 1850000},
                        {"kpi": "outages", "value": "not measured yet", "comment": "new NOC"},
                    ],
                },
                {
                    "from": "2024-07-01",
                    "to": "2024-12-31",
                    "measures": [{"kpi": "pop4g", "value": "2600000", "comment": "audited"}],
                },
            ],
        },
        "meta": {"updatedAt": "2024-09-30T08:15:00Z", "etag": "W/1"},
        "links": {"self": f"{BASE}/CT-2024-001"},
    }


def commitment_policy() -> dict[str, Any]:
    """A policy commitment: no money, a KPI with no goal, an indicator no table knows."""
    return {
        "type": "commitments",
        "id": 1042,
        "attributes": {
            "name": "Affordable entry-level smartphones",
            "kind": "policy",
            "pillars": "inclusion",
            "markets": [{"iso": "gh"}],
            "status": "planned",
            "kpis": [
                {"code": "devices", "name": "Devices sold under 30 USD", "goal": 100000},
                {
                    "code": "retail",
                    "name": "Retail partners",
                    "definition": "Shops selling the devices",
                    "unit": "shops",
                },
            ],
        },
        "meta": {"updatedAt": "2024-10-01T12:00:00+02:00"},
    }


def commitment_skills() -> dict[str, Any]:
    return {
        "type": "commitments",
        "id": "CT-2025-007",
        "attributes": {
            "name": "Digital skills for 50,000 women traders",
            "kind": "programme",
            "pillars": ["skills"],
            "markets": [{"iso": "TZ"}, {"iso": "UG"}],
            "start": "2025-02-01",
            "kpis": [
                {
                    "code": "trained",
                    "name": "Women trained",
                    "unit": "people",
                    "goal": 50000,
                    "due": "2027-01-31",
                },
                {
                    "code": "stories",
                    "name": "Stories of change",
                    "type": "narrative",
                    "definition": "Traders tell how mobile money changed their business",
                },
            ],
        },
        "meta": {"updatedAt": "2025-01-15"},
    }


def pages() -> dict[str, dict[str, Any]]:
    """The feed by URL: page 1 links to page 2 relatively, page 2 to page 3 absolutely."""
    return {
        f"{BASE}?page[size]=2": {
            "data": [commitment_4g(), commitment_policy()],
            "links": {"self": f"{BASE}?page[size]=2", "next": "?page[size]=2&page[number]=2"},
            "meta": {"total": 4},
        },
        f"{BASE}?page[size]=2&page[number]=2": {
            "data": [commitment_skills()],
            "links": {"next": f"{BASE}?page%5Bsize%5D=2&page%5Bnumber%5D=3"},
        },
        f"{BASE}?page%5Bsize%5D=2&page%5Bnumber%5D=3": {
            "data": [],
            "links": {"next": None},
        },
    }


@pytest.fixture(scope="module")
def mapping() -> JsonMapping:
    return compile_mapping(MAPPING)


def work(
    item: Any, mapping: JsonMapping, place: str = "page 1 record 1"
) -> tuple[str | None, Work]:
    return record_work(item, mapping, COUNTRIES, source=SOURCE, reporting_org=ORG, place=place)


def pledge(item: Any, mapping: JsonMapping) -> PledgeRecord:
    _, record = work(item, mapping)
    assert isinstance(record, PledgeRecord), record
    return record


def edited(mapping: dict[str, Any], *path: str, value: Any) -> dict[str, Any]:
    """A copy of ``mapping`` with the entry at ``path`` set (or deleted, for ``...``)."""
    changed = copy.deepcopy(mapping)
    node = changed
    for key in path[:-1]:
        node = node[key]
    if value is ...:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return changed


# Records


def test_every_field_of_a_commitment(mapping: JsonMapping) -> None:
    external_id, record = work(commitment_4g(), mapping)
    assert external_id == "CT-2024-001"
    assert isinstance(record, PledgeRecord)
    assert len(record.content_hash) == 64
    assert record == PledgeRecord(
        source=SOURCE,
        external_id="CT-2024-001",
        content_hash=record.content_hash,
        place="page 1 record 1",
        draft=PledgeDraft(
            title="Rural 4G for East and West Africa",
            pledge_type=PledgeType.FINANCIAL,
            description="New 4G sites in underserved districts of Kenya and Nigeria.",
            focus_areas=(FocusArea.ACCESS, FocusArea.ADOPTION),
            target_countries=("KEN", "NGA"),
            announced_on=date(2023, 11, 20),
            start_date=date(2024, 1, 1),
            end_date=date(2026, 12, 31),
            amount=Decimal("25000000.00"),
            currency="USD",
            implementation_status=ImplementationStatus.IMPLEMENTATION,
        ),
        titles=(),
        descriptions=(),
        lead_roles=(),
        endorsers=(),
        targets=(
            TargetRecord(
                "pop4g",
                TargetDraft(
                    indicator=Indicator.PEOPLE_CONNECTED,
                    unit="people",
                    measure=Measure.QUANTITATIVE,
                    direction=Direction.ASCENDING,
                    cumulative=True,
                    label="People covered by 4G",
                    description="Population within 4G coverage of the new sites",
                    baseline_value=Decimal(1200000),
                    baseline_date=date(2023, 12, 31),
                    target_value=Decimal(5000000),
                    deadline=date(2026, 12, 31),
                ),
            ),
            TargetRecord(
                "outages",
                TargetDraft(
                    indicator=Indicator.OTHER,
                    unit="hours",
                    measure=Measure.QUANTITATIVE,
                    direction=Direction.DESCENDING,
                    cumulative=False,
                    label="Site outage hours per month",
                    description=None,
                    baseline_value=Decimal("12.5"),
                    baseline_date=date(2023, 12, 31),
                    target_value=Decimal("2.25"),
                    deadline=date(2025, 12, 31),
                ),
            ),
        ),
        flows=(
            FlowRecord(
                key="commitment",
                kind=TransactionKind.COMMITMENT,
                amount=Decimal("25000000.00"),
                currency="USD",
                value_date=date(2023, 11, 20),
                counts=True,
                reason="the operator's stated budget: the pledged amount",
                description=None,
            ),
        ),
        reports=(
            ReportRecord(
                key="2024-01-01/2024-06-30",
                period_start=date(2024, 1, 1),
                period_end=date(2024, 6, 30),
                narrative="312 sites on air.",
                values=(
                    ValueRecord("pop4g", Decimal(1850000), None),
                    ValueRecord("outages", None, "not measured yet; new NOC"),
                ),
            ),
            ReportRecord(
                key="2024-07-01/2024-12-31",
                period_start=date(2024, 7, 1),
                period_end=date(2024, 12, 31),
                narrative="Progress from 2024-07-01 to 2024-12-31, as published.",
                values=(ValueRecord("pop4g", Decimal(2600000), "audited"),),
            ),
        ),
        review=(),
        notes=(),
        gaps=(),
        reporting_org=ORG,
        pledge_only=False,
    )


def test_a_policy_commitment_takes_defaults_and_names_its_gaps(mapping: JsonMapping) -> None:
    external_id, record = work(commitment_policy(), mapping)
    assert external_id == "1042"  # a numeric id is its decimal text
    assert isinstance(record, PledgeRecord)
    draft = record.draft
    assert draft.pledge_type is PledgeType.POLICY
    assert draft.focus_areas == (FocusArea.ACCESS, FocusArea.ADOPTION)  # one word, two areas
    assert draft.target_countries == ("GHA",)  # lower-case alpha-2
    assert draft.implementation_status is ImplementationStatus.PIPELINE
    assert (draft.amount, draft.currency, draft.announced_on, draft.start_date) == (None,) * 4
    assert draft.description == ""
    assert record.flows == ()
    assert record.targets == (
        TargetRecord(
            "devices",
            TargetDraft(
                indicator=Indicator.OTHER,  # no table knows "devices": OTHER, labelled
                unit="units",
                label="Devices sold under 30 USD",
                target_value=Decimal(100000),
            ),
        ),
    )
    assert record.review == (
        ReviewRecord(
            "INDICATOR",
            "retail",
            "Retail partners",
            "retail: no target value, which a quantitative target needs",
        ),
    )
    assert record.gaps == ("TARGET_REQUIRED",)  # a target without deadline; POLICY: no amount
    assert record.notes == ()


def test_a_qualitative_target_and_type_by_money(mapping: JsonMapping) -> None:
    record = pledge(commitment_skills(), mapping)
    stories = record.targets[1]
    assert stories == TargetRecord(
        "stories",
        TargetDraft(
            indicator=Indicator.OTHER,
            unit="units",
            measure=Measure.QUALITATIVE,
            label="Stories of change",
            description="Traders tell how mobile money changed their business",
        ),
    )
    assert record.draft.pledge_type is PledgeType.PROGRAMMATIC
    assert record.gaps == ()  # PROGRAMMATIC: SMART without money

    no_type = commitment_skills()
    del no_type["attributes"]["kind"]
    defaulted = pledge(no_type, mapping)
    assert defaulted.draft.pledge_type is PledgeType.PROGRAMMATIC
    assert defaulted.notes == ("no type: PROGRAMMATIC, by whether it states an amount",)
    no_type["attributes"]["budget"] = {"amount": 900000, "currency": "EUR"}
    assert pledge(no_type, mapping).draft.pledge_type is PledgeType.FINANCIAL


def test_a_hub_value_passes_without_a_table_entry(mapping: JsonMapping) -> None:
    item = commitment_4g()
    item["attributes"].update(kind="ADVOCACY", pillars=["VALUE_CREATION", "corporate"])
    record = pledge(item, mapping)
    assert record.draft.pledge_type is PledgeType.ADVOCACY
    assert record.draft.focus_areas == (FocusArea.VALUE_CREATION,)  # "corporate" maps to none


def test_numeric_words_go_through_their_table() -> None:
    mapping = compile_mapping(edited(MAPPING, "values", "status", value={"2": "COMPLETED"}))
    item = commitment_4g()
    item["attributes"]["status"] = 2
    assert pledge(item, mapping).draft.implementation_status is ImplementationStatus.COMPLETED


def test_what_is_dropped_is_noted(mapping: JsonMapping) -> None:
    item = commitment_4g()
    attributes = item["attributes"]
    attributes["markets"] = [{"iso": "KE"}, {"iso": "XK"}, {"iso": "ZZZ"}, {"iso": 404}]
    attributes["pillars"] = []
    attributes["reports"][0]["measures"].append({"kpi": "arpu", "value": 3})
    attributes["reports"][1]["measures"].append({"kpi": "pop4g", "value": 1})
    attributes["reports"].append({"to": "2025-06-30", "measures": []})
    attributes["kpis"][0]["type"] = "narrative"
    record = pledge(item, mapping)
    assert record.draft.target_countries == ("KEN",)
    assert record.notes == (
        "countries: 'XK' is not a country the hub knows, left out",
        "countries: 'ZZZ' is not a country the hub knows, left out",
        "countries: '404' is not a country the hub knows, left out",
        "targets[1]: a qualitative target keeps no values, left out",
        "progress[1].values[3]: no target is keyed 'arpu', left out",
        "progress[2].values[2]: a second value for 'pop4g', left out",
        "progress[3]: a report without its period, left out",
    )
    assert [(r.subject, r.code) for r in record.review] == [
        ("COUNTRY", "XK"),
        ("COUNTRY", "ZZZ"),
        ("COUNTRY", "404"),
        ("CLASSIFICATION", "CT-2024-001"),
    ]
    assert record.gaps == ("FOCUS_AREA_REQUIRED",)
    assert record.targets[0].draft.baseline_value is None
    assert len(record.reports) == 2


def test_long_texts_are_cut_with_a_note(mapping: JsonMapping) -> None:
    item = commitment_4g()
    item["attributes"]["name"] = "x" * 600
    record = pledge(item, mapping)
    assert record.draft.title == "x" * 499 + "…"
    assert record.notes == ("the title has 600 characters: the first 499 are kept",)


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        (("id", None), "id: missing"),
        (("id", {"n": 1}), "id: dict is not text"),
        (("attributes", "name", "  "), "title: missing"),
        (("attributes", "start", "01/02/2024"), "startDate: '01/02/2024' is not an ISO 8601 date"),
        (("attributes", "announced", 20231120), "announcedOn: 20231120 is not an ISO 8601 date"),
        (("attributes", "kind", "opex"), "type: 'opex' is not in values.type nor a hub value"),
        (
            ("attributes", "status", "paused"),
            "status: 'paused' is not in values.status nor a hub value",
        ),
        (
            ("attributes", "pillars", ["coverage", "5G"]),
            "focusAreas: '5G' is not in values.focusAreas nor a hub value",
        ),
        (("attributes", "budget", "amount", "25 million"), "amount: '25 million' is not a number"),
        (("attributes", "budget", "amount", True), "amount: bool is not a number"),
        (("attributes", "budget", "amount", "-5"), "amount: -5 USD is not above zero"),
        (("attributes", "budget", "amount", 0.001), "amount: 0.001 USD is not above zero"),
        (
            ("attributes", "budget", "amount", "1e40"),
            "amount: 1e40 is beyond any number the hub holds",
        ),
        (
            ("attributes", "budget", "amount", "1e14"),
            "amount: 1E+14 USD is more than the hub holds",
        ),
        (("attributes", "budget", "currency", "USX"), "currency: 'USX' is no ISO 4217 currency"),
        (("attributes", "budget", "currency", None), "currency: missing, and the amount needs one"),
        (
            ("attributes", "kpis", 1, "code", None),
            "targets[2].key: missing, and reports name a target by its key",
        ),
        (
            ("attributes", "kpis", 1, "code", "pop4g"),
            "targets[2].key: 'pop4g' again, and reports name a target by its key",
        ),
        (
            ("attributes", "kpis", 0, "goal", "five million"),
            "targets[1].target: 'five million' is not a number",
        ),
        (
            ("attributes", "kpis", 0, "due", "end of 2026"),
            "targets[1].deadline: 'end of 2026' is not an ISO 8601 date",
        ),
        (
            ("attributes", "kpis", 0, "polarity", "sideways"),
            "targets[1].direction: 'sideways' is not in values.direction nor a hub value",
        ),
        (
            ("attributes", "kpis", 0, "cumulative", "yes"),
            "targets[1].cumulative: 'yes' is not true or false",
        ),
        (("id", "CT-" + "9" * 400), "id: 403 characters, at most 400"),
        (
            ("attributes", "kpis", 0, "goal", "1e99"),
            "targets[1].target: 1e99 is beyond any number the hub holds",
        ),
        (
            ("attributes", "reports", 0, "measures", 0, "value", {"n": 1}),
            "progress[1].values[1].value: dict is not text",
        ),
        (
            ("attributes", "reports", 0, "to", "mid-2024"),
            "progress[1].end: 'mid-2024' is not an ISO 8601 date",
        ),
    ],
)
def test_a_record_that_cannot_be_mapped_is_rejected_naming_the_field(
    mapping: JsonMapping, edit: tuple[Any, ...], reason: str
) -> None:
    item = commitment_4g()
    node = item
    for key in edit[:-2]:
        node = node[key]
    node[edit[-2]] = edit[-1]
    external_id, record = work(item, mapping)
    assert record == Reject(f"UNMAPPABLE: {reason}")
    assert external_id == (None if reason.startswith("id") else "CT-2024-001")


@pytest.mark.parametrize("item", [None, [], "CT-1", 42, {"data": {"id": "x"}}])
def test_anything_but_a_record_is_a_rejection_not_an_error(
    mapping: JsonMapping, item: object
) -> None:
    assert work(item, mapping) == (None, Reject("UNMAPPABLE: id: missing"))


def test_a_failing_expression_is_a_rejection(mapping: JsonMapping) -> None:
    odd = compile_mapping(edited(MAPPING, "fields", "title", value="length(attributes.name)"))
    item = commitment_4g()
    item["attributes"]["name"] = 7
    external_id, record = work(item, odd)
    assert external_id == "CT-2024-001"
    assert isinstance(record, Reject)
    assert record.reason.startswith("UNMAPPABLE: title: 'length(attributes.name)' cannot be read")


# Exact amounts


def test_amounts_are_exact_decimals_never_floats(mapping: JsonMapping) -> None:
    item = json.loads(json.dumps(commitment_4g()))
    attributes = item["attributes"]
    attributes["budget"] = json.loads('{"amount": 0.1, "currency": "USD"}')
    attributes["kpis"][1] |= json.loads('{"baseline": {"value": 0.1}, "goal": 1e-7}')
    attributes["reports"][0]["measures"] = json.loads(
        '[{"kpi": "pop4g", "value": 0.1}, {"kpi": "outages", "value": "0.2"}]'
    )
    record = pledge(item, mapping)
    assert record.draft.amount == Decimal("0.10")
    assert str(record.draft.amount) == "0.10"  # 0.1 read as written, to the cent
    assert str(record.targets[1].draft.target_value) == "1E-7"
    assert record.targets[1].draft.baseline_value == Decimal("0.1")
    values = record.reports[0].values
    assert [str(v.value) for v in values] == ["0.1", "0.2"]
    assert sum(v.value or 0 for v in values) == Decimal("0.3")  # as floats it is not


@pytest.mark.parametrize(
    ("amount", "currency", "kept", "note"),
    [
        ("0.125", "USD", "0.12", "amount: 0.125 rounded to 0.12, the currency's minor unit"),
        ("0.135", "USD", "0.14", "amount: 0.135 rounded to 0.14, the currency's minor unit"),
        ("1000.5", "JPY", "1000", "amount: 1000.5 rounded to 1000, the currency's minor unit"),
        (
            "12.3456",
            "kwd",
            "12.346",
            "amount: 12.3456 rounded to 12.346, the currency's minor unit",
        ),
        ("  99.90 ", "EUR", "99.90", None),
    ],
)
def test_amounts_round_half_even_to_the_minor_unit(
    mapping: JsonMapping, amount: str, currency: str, kept: str, note: str | None
) -> None:
    item = commitment_4g()
    item["attributes"]["budget"] = {"amount": amount, "currency": currency}
    record = pledge(item, mapping)
    assert str(record.draft.amount) == kept
    assert record.draft.currency == currency.upper()
    assert record.flows[0].amount == Decimal(kept)
    assert record.notes == ((note,) if note else ())


def test_the_commitment_flow_is_dated_by_start_without_announcement(mapping: JsonMapping) -> None:
    item = commitment_4g()
    del item["attributes"]["announced"]
    assert pledge(item, mapping).flows[0].value_date == date(2024, 1, 1)
    del item["attributes"]["start"]
    record = pledge(item, mapping)
    assert record.flows == ()
    assert record.draft.amount == Decimal("25000000.00")
    assert record.notes == ("no announcement or start date to date the commitment flow by",)


# The content hash


def test_the_hash_ignores_what_the_mapping_does_not_read(mapping: JsonMapping) -> None:
    before = pledge(commitment_4g(), mapping)
    item = commitment_4g()
    item["attributes"]["internalCode"] = "CAPEX-9999"
    item["attributes"]["markets"][0]["name"] = "Republic of Kenya"
    item["meta"] = {"updatedAt": "2025-01-01T00:00:00Z", "etag": "W/2"}
    item["links"] = {}
    item["attributes"]["budget"]["amount"] = 25000000  # the same amount, spelt otherwise
    _, after = work(item, mapping, place="page 7 record 3")
    assert isinstance(after, PledgeRecord)
    assert after.content_hash == before.content_hash


@pytest.mark.parametrize(
    "edit",
    [
        ("name", "Rural 4G for East Africa"),
        ("pillars", ["coverage"]),
        ("end", "2027-06-30"),
        ("budget", {"amount": "25000000.01", "currency": "USD"}),
        ("kpis", []),
        ("reports", []),
    ],
)
def test_the_hash_changes_with_a_mapped_field(
    mapping: JsonMapping, edit: tuple[str, object]
) -> None:
    before = pledge(commitment_4g(), mapping)
    item = commitment_4g()
    item["attributes"][edit[0]] = edit[1]
    assert pledge(item, mapping).content_hash != before.content_hash


def test_the_hash_changes_with_a_reported_value(mapping: JsonMapping) -> None:
    before = pledge(commitment_4g(), mapping)
    item = commitment_4g()
    item["attributes"]["reports"][0]["measures"][0]["value"] = 1850001
    assert pledge(item, mapping).content_hash != before.content_hash


# JSON pointers and JMESPath


def test_json_pointers_map_as_jmespath_does() -> None:
    pointers = copy.deepcopy(MAPPING)
    pointers["records"] = "/data"
    pointers["next"] = "/links/next"
    pointers["fields"] |= {
        "id": "/id",
        "title": "/attributes/name",
        "description": "/attributes/summary",
        "amount": "/attributes/budget/amount",
        "currency": "/attributes/budget/currency",
        "startDate": "/attributes/start",
        "updated": "/meta/updatedAt",
    }
    pointers["targets"] |= {"list": "/attributes/kpis", "key": "/code", "target": "/goal"}
    by_pointer, by_jmespath = compile_mapping(pointers), compile_mapping(MAPPING)
    page = pages()[f"{BASE}?page[size]=2"]
    for item in page_records(page, by_pointer):
        assert work(item, by_pointer) == work(item, by_jmespath)
    assert next_request(page, by_pointer, BASE) == next_request(page, by_jmespath, BASE)
    assert record_updated(page["data"][0], by_pointer) == datetime(2024, 9, 30, 8, 15, tzinfo=UTC)


@pytest.mark.parametrize(
    ("pointer", "found"),
    [
        ("/a~1b", 1),  # ~1 is /
        ("/m~0n", 2),  # ~0 is ~
        ("/~01", 3),  # ~01 is ~1, not /
        ("/list/1/x", 5),
        ("/list/01/x", None),  # no leading zeros
        ("/list/-", None),
        ("/list/2", None),
        ("/", 6),  # the empty key
        ("/a~1b/deeper", None),
    ],
)
def test_json_pointer_unescaping(pointer: str, found: object) -> None:
    document = {"a/b": 1, "m~n": 2, "~1": 3, "list": [{"x": 4}, {"x": 5}], "": 6}
    mapping = compile_mapping(
        {"records": pointer, "next": "n", "fields": {"id": "i", "title": "t"}}
    )
    assert mapping.records.search(document) == found


# Paging


def test_next_links_relative_then_absolute_then_none(mapping: JsonMapping) -> None:
    feed, url = pages(), f"{BASE}?page[size]=2"
    ids, urls = [], [url]
    while True:
        page = feed[url]
        ids += [work(item, mapping)[0] for item in page_records(page, mapping)]
        following = next_request(page, mapping, url)
        if following is None:
            break
        url, params = following
        assert params == {}
        urls.append(url)
    assert urls == [
        f"{BASE}?page[size]=2",
        f"{BASE}?page[size]=2&page[number]=2",  # relative: resolved against the page's URL
        f"{BASE}?page%5Bsize%5D=2&page%5Bnumber%5D=3",
    ]
    assert ids == ["CT-2024-001", "1042", "CT-2025-007"]


def test_a_relative_path_resolves_against_the_page(mapping: JsonMapping) -> None:
    page = {"data": [], "links": {"next": "../v3/commitments?after=9"}}
    assert next_request(page, mapping, f"{BASE}?page=1") == (
        "https://api.connecta.example/v3/commitments?after=9",
        {},
    )


@pytest.mark.parametrize(
    "link",
    [
        "https://collector.example/steal?page=2",
        "//collector.example/v2/commitments?page=2",
        "http://api.connecta.example/v2/commitments?page=2",  # the token in clear
        "https://api.connecta.example:8443/v2/commitments?page=2",
        "https://api.connecta.example.collector.example/v2/commitments",
        "ftp://api.connecta.example/v2/commitments",
    ],
)
def test_a_next_link_elsewhere_is_refused(mapping: JsonMapping, link: str) -> None:
    with pytest.raises(Malformed, match=r"leads away from api\.connecta\.example"):
        next_request({"data": [], "links": {"next": link}}, mapping, f"{BASE}?page=1")


def test_an_explicit_default_port_is_the_same_origin(mapping: JsonMapping) -> None:
    link = "https://API.connecta.example:443/v2/commitments?page=2"
    assert next_request({"links": {"next": link}}, mapping, f"{BASE}?page=1") == (link, {})


@pytest.mark.parametrize(
    ("links", "message"),
    [
        ({"next": {"href": "x"}}, "the next link at 'links.next' is dict, not a URL"),
        ({"next": "?page=1"}, "is this page's own: the paging never ends"),
    ],
)
def test_a_next_link_that_is_none_or_loops_is_refused(
    mapping: JsonMapping, links: dict[str, object], message: str
) -> None:
    with pytest.raises(Malformed, match=message):
        next_request({"links": links}, mapping, f"{BASE}?page=1")


@pytest.mark.parametrize("links", [{}, {"next": None}, {"next": ""}, None])
def test_no_next_link_ends_the_paging(mapping: JsonMapping, links: object) -> None:
    assert next_request({"data": [], "links": links}, mapping, BASE) is None


def cursor_mapping() -> JsonMapping:
    config = edited(MAPPING, "next", value=...)
    config |= {"records": "items", "cursor": "paging.nextCursor", "cursorParam": "after"}
    return compile_mapping(config)


def test_cursor_paging() -> None:
    mapping = cursor_mapping()
    first = {"items": [commitment_4g()], "paging": {"nextCursor": "eyJpZCI6MX0="}}
    url = f"{BASE}?limit=50"
    assert next_request(first, mapping, url) == (url, {"after": "eyJpZCI6MX0="})
    second = {"items": [commitment_skills()], "paging": {"nextCursor": 1042}}
    asked = f"{BASE}?limit=50&after=eyJpZCI6MX0%3D"
    assert next_request(second, mapping, asked) == (url, {"after": "1042"})
    assert next_request({"items": [], "paging": {"nextCursor": None}}, mapping, url) is None
    assert next_request({"items": []}, mapping, url) is None
    assert page_records(second, mapping)[0]["id"] == "CT-2025-007"


def test_a_cursor_that_repeats_or_is_no_value_is_refused() -> None:
    mapping = cursor_mapping()
    with pytest.raises(Malformed, match="is this page's own"):
        next_request({"paging": {"nextCursor": "c2"}}, mapping, f"{BASE}?after=c2&limit=5")
    with pytest.raises(Malformed, match=r"the cursor at 'paging\.nextCursor' is list"):
        next_request({"paging": {"nextCursor": ["c2"]}}, mapping, BASE)


@pytest.mark.parametrize(
    ("page", "message"),
    [
        ({"data": {"id": "CT-1"}}, "the records at 'data' are dict, not a list"),
        ({"errors": [{"status": "500"}]}, "the records at 'data' are null, not a list"),
        ([{"id": "CT-1"}], "the records at 'data' are null, not a list"),
        ("<html>maintenance</html>", "the records at 'data' are null, not a list"),
        ({"data": "none"}, "the records at 'data' are str, not a list"),
    ],
)
def test_records_that_are_no_list_are_malformed(
    mapping: JsonMapping, page: object, message: str
) -> None:
    with pytest.raises(Malformed, match=message):
        page_records(page, mapping)


def test_a_bare_array_page() -> None:
    mapping = compile_mapping(edited(MAPPING, "records", value="@"))
    assert page_records([{"id": 1}], mapping) == [{"id": 1}]


# The watermark


@pytest.mark.parametrize(
    ("updated", "moment"),
    [
        ("2024-09-30T08:15:00Z", datetime(2024, 9, 30, 8, 15, tzinfo=UTC)),
        ("2024-10-01T12:00:00+02:00", datetime(2024, 10, 1, 10, 0, tzinfo=UTC)),
        ("2024-10-01T12:00:00.250", datetime(2024, 10, 1, 12, 0, 0, 250000, tzinfo=UTC)),
        ("2025-01-15", datetime(2025, 1, 15, tzinfo=UTC)),
        ("yesterday", None),
        (1727683200, None),
        (None, None),
    ],
)
def test_record_updated_is_aware_utc(
    mapping: JsonMapping, updated: object, moment: datetime | None
) -> None:
    found = record_updated({"meta": {"updatedAt": updated}}, mapping)
    assert found == moment
    if found is not None:
        assert found.tzinfo is UTC
        assert found.utcoffset() == timedelta(0)


def test_record_updated_without_the_field_mapped() -> None:
    mapping = compile_mapping(edited(MAPPING, "fields", "updated", value=...))
    assert record_updated(commitment_4g(), mapping) is None


def test_offsets_are_kept_apart_from_utc(mapping: JsonMapping) -> None:
    later = record_updated({"meta": {"updatedAt": "2024-10-01T01:00:00-05:00"}}, mapping)
    assert later == datetime(2024, 10, 1, 1, 0, tzinfo=timezone(timedelta(hours=-5)))
    assert later is not None
    assert later.hour == 6


# Compiling the mapping


ALL_FOCUS = "one of ACCESS, ADOPTION, VALUE_CREATION, ACCELERATE"
ALL_STATUS = "one of PIPELINE, IMPLEMENTATION, COMPLETED, CANCELLED, SUSPENDED"


@pytest.mark.parametrize(
    ("path", "value", "field", "message"),
    [
        (("pages",), "data", ("pages",), "unknown entry 'pages': one of records, next, cursor"),
        (("records",), ..., ("records",), "required"),
        (
            ("records",),
            "data[",
            ("records",),
            "'data[' is no JMESPath expression: Invalid jmespath expression: Incomplete expression",
        ),
        (("records",), "", ("records",), "a JMESPath expression, or a JSON pointer"),
        (("records",), ["data"], ("records",), "a JMESPath expression, or a JSON pointer"),
        (
            ("records",),
            "/data/~2",
            ("records",),
            "'/data/~2': in a JSON pointer ~ is followed by 0 or 1",
        ),
        (("next",), ..., ("next",), "required: next (where the next link is) or cursor"),
        (("next",), None, ("next",), "required: next (where the next link is) or cursor"),
        (("cursor",), "paging.cursor", ("cursor",), "give next or cursor, not both"),
        (("fields",), ..., ("fields",), "required"),
        (("fields",), ["id"], ("fields",), "an object is expected, not list"),
        (("fields", "id"), ..., ("fields", "id"), "required"),
        (("fields", "title"), None, ("fields", "title"), "required"),
        (
            ("fields", "title"),
            "attributes.",
            ("fields", "title"),
            "'attributes.' is no JMESPath expression: Expecting:",
        ),
        (("fields", "name"), "attributes.name", ("fields", "name"), "unknown entry 'name'"),
        (("fields", "amount"), "budget amount", ("fields", "amount"), "Unexpected token: amount"),
        (
            ("values", "sector"),
            {},
            ("values", "sector"),
            "unknown entry 'sector': one of type, status, focusAreas",
        ),
        (("values", "type"), ["FINANCIAL"], ("values", "type"), "an object is expected, not list"),
        (
            ("values", "status", "live"),
            "ONGOING",
            ("values", "status", "live"),
            f"'ONGOING' is no status value of the hub: {ALL_STATUS}",
        ),
        (
            ("values", "focusAreas", "skills"),
            ["ADOPTION", "SKILLS"],
            ("values", "focusAreas", "skills"),
            f"'SKILLS' is no focusAreas value of the hub: {ALL_FOCUS}",
        ),
        (
            ("values", "type", "capex"),
            ["FINANCIAL"],
            ("values", "type", "capex"),
            "is no type value of the hub",
        ),
        (
            ("values", "indicator", "pop4g"),
            "PEOPLE",
            ("values", "indicator", "pop4g"),
            "'PEOPLE' is no indicator value",
        ),
        (("targets", "key"), ..., ("targets", "key"), "required"),
        (("targets", "list"), None, ("targets", "list"), "required"),
        (("targets", "goal"), "goal", ("targets", "goal"), "unknown entry 'goal'"),
        (("targets", "deadline"), "due[", ("targets", "deadline"), "is no JMESPath expression"),
        (("progress", "start"), ..., ("progress", "start"), "required"),
        (("progress", "valueTarget"), ..., ("progress", "valueTarget"), "required with values"),
        (
            ("progress", "disbursed"),
            "spent",
            ("progress", "disbursed"),
            "unknown entry 'disbursed'",
        ),
    ],
)
def test_every_mistake_in_a_mapping_is_named(
    path: tuple[str, ...], value: object, field: tuple[str, ...], message: str
) -> None:
    with pytest.raises(InvalidInput) as raised:
        compile_mapping(edited(MAPPING, *path, value=value))
    assert raised.value.code == "BAD_MAPPING"
    assert raised.value.field == ("mapping", *field)
    assert message in raised.value.message


@pytest.mark.parametrize(
    ("config", "field", "message"),
    [
        ("data", ("mapping",), "an object is expected, not str"),
        (
            {**MAPPING, "cursor": "c", "next": None, "cursorParam": None},
            ("mapping", "cursorParam"),
            "required with cursor",
        ),
        (
            {**MAPPING, "cursor": "c", "next": None, "cursorParam": " "},
            ("mapping", "cursorParam"),
            "required with cursor",
        ),
        (
            {**MAPPING, "progress": {**MAPPING["progress"], "value": None, "valueNote": None}},
            ("mapping", "progress", "value"),
            "value or valueNote",
        ),
        (
            edited(MAPPING, "targets", value=...),
            ("mapping", "targets"),
            "required with progress values",
        ),
    ],
)
def test_mistakes_across_entries(config: Any, field: tuple[str, ...], message: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        compile_mapping(config)
    assert (raised.value.code, raised.value.field) == ("BAD_MAPPING", field)
    assert message in raised.value.message


def test_a_minimal_mapping() -> None:
    mapping = compile_mapping(
        {
            "records": "data",
            "next": "links.next",
            "fields": {"id": "id", "title": "attributes.name"},
        }
    )
    record = pledge(commitment_4g(), mapping)
    assert record.draft.title == "Rural 4G for East and West Africa"
    assert record.draft.pledge_type is PledgeType.PROGRAMMATIC  # the mapping reads no money
    assert (record.targets, record.reports, record.flows, record.notes) == ((), (), (), ())
    assert record.gaps == ("FOCUS_AREA_REQUIRED", "PLACE_REQUIRED", "TARGET_REQUIRED")

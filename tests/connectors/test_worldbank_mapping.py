"""The World Bank Projects API mapping against the two real projects in tests/data/worldbank.

The file is an export of API records, not an API answer: :func:`answer` wraps the records in
the envelope the API sends (projects keyed by id, in order, the total as a string). Expected
values are read off the file by eye and written out here, never computed by the mapping. Where
the real projects lack a case (an ICT sector, a region code, amounts as strings), the test
copies one real project, changes the fields it names, and says how.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from connectors.errors import Malformed
from connectors.framework import Reject, Work
from connectors.worldbank import (
    SOURCE,
    WorldBankPage,
    content_hash,
    parse_amount,
    parse_page,
    project_work,
)
from hub.endorsements.models import Role
from hub.imports.records import FlowRecord, PledgeRecord, ReviewRecord
from hub.money.models import TransactionKind
from hub.pledges.models import FocusArea, ImplementationStatus, PledgeType

DATA = Path(__file__).parent.parent / "data" / "worldbank" / "world_bank_projects_less.json"
COUNTRIES = {"ET": "ETH", "TN": "TUN", "KE": "KEN", "FR": "FRA"}
ETHIOPIA, TUNISIA = "P129828", "P144674"


def records() -> list[dict[str, Any]]:
    """The file's two projects, fresh for each test (tests change their copies)."""
    found: list[dict[str, Any]] = json.loads(DATA.read_bytes())
    return found


def answer(projects: list[dict[str, Any]], total: object = None) -> bytes:
    """The projects as the API answers them: keyed by id in the order given, and a total that
    the API writes as a string."""
    body = {
        "rows": len(projects),
        "os": 0,
        "page": 1,
        "total": str(len(projects)) if total is None else total,
        "projects": {project["id"]: project for project in projects},
    }
    return json.dumps(body).encode()


def project(project_id: str) -> dict[str, Any]:
    """One real project, as :func:`parse_page` reads it from the API's answer."""
    return dict(dict(parse_page(answer(records())).projects)[project_id])


def pledge(
    project_id: str, changed: Mapping[str, Any], dropped: tuple[str, ...] = ()
) -> PledgeRecord:
    """A real project with ``changed`` fields set and ``dropped`` ones removed, mapped."""
    edited = {**project(project_id), **changed}
    for field in dropped:
        del edited[field]
    return mapped(project_id, edited)


def mapped(project_id: str, data: Mapping[str, Any]) -> PledgeRecord:
    work = project_work(project_id, data, COUNTRIES, f"page 1, project {project_id}")
    assert isinstance(work, PledgeRecord), work
    return work


def by_subject(record: PledgeRecord, subject: str) -> list[ReviewRecord]:
    return [item for item in record.review if item.subject == subject]


# The page


def test_the_page_keeps_the_api_order_and_reads_the_total() -> None:
    page = parse_page(answer(records()))
    assert isinstance(page, WorldBankPage)
    assert [key for key, _ in page.projects] == [ETHIOPIA, TUNISIA]
    assert page.total == 2
    assert dict(page.projects) == {p["id"]: p for p in records()}
    reversed_order = parse_page(answer(records()[::-1], total=1234))
    assert [key for key, _ in reversed_order.projects] == [TUNISIA, ETHIOPIA]
    assert reversed_order.total == 1234


@pytest.mark.parametrize("total", ["1234", 1234, " 1234 ", 1234.0])
def test_a_total_is_a_number_or_a_string_of_digits(total: object) -> None:
    assert parse_page(answer(records(), total=total)).total == 1234


@pytest.mark.parametrize("empty", [{}, []])
def test_a_page_past_the_end_has_no_projects(empty: object) -> None:
    body = json.dumps({"rows": 10, "os": 20, "page": 3, "total": "20", "projects": empty})
    assert parse_page(body.encode()) == WorldBankPage((), 20)


def _with(**fields: object) -> bytes:
    body: dict[str, object] = {"rows": 2, "os": 0, "page": 1, "total": "2"}
    body["projects"] = {p["id"]: p for p in records()}
    body.update(fields)
    return json.dumps(body).encode()


BAD_PAGES = {
    "not JSON": (b"<html><body>Service Unavailable</body></html>", "not JSON"),
    "truncated": (answer(records())[:-40], "not JSON"),
    "empty": (b"", "not JSON"),
    "not UTF-8": (b'{"total": "\xff\xfe\x80"}', "not JSON"),
    "NaN": (b'{"total": NaN, "projects": {}}', "not JSON"),
    "nested too deep": (b"[" * 100_000 + b"]" * 100_000, "not JSON"),
    "an array": (json.dumps(records()).encode(), "the answer is an array, not an object"),
    "a string": (b'"projects"', "the answer is a string, not an object"),
    "a number": (b"2", "the answer is a number, not an object"),
    "no projects": (json.dumps({"total": "2", "rows": 2}).encode(), "no object of projects"),
    "projects a list": (_with(projects=records()), "no object of projects"),
    "projects a string": (_with(projects="P129828"), "no object of projects"),
    "no total": (json.dumps({"projects": {}}).encode(), "total None is not a count"),
    "total words": (_with(total="many"), "total 'many' is not a count"),
    "total negative": (_with(total=-2), "total -2 is not a count"),
    "total a fraction": (_with(total=2.5), "total 2.5 is not a count"),
    "total a boolean": (_with(total=True), "total True is not a count"),
    "total separated": (_with(total="1,234"), "total '1,234' is not a count"),
    "a project a list": (_with(projects={ETHIOPIA: [1, 2]}), "'P129828' is an array, not an"),
    "a project null": (_with(projects={ETHIOPIA: None}), "project 'P129828' is null, not an"),
    "a project a string": (_with(projects={ETHIOPIA: "x"}), "'P129828' is a string, not an"),
}


@pytest.mark.parametrize("case", BAD_PAGES)
def test_a_page_that_is_not_the_apis_answer_is_malformed(case: str) -> None:
    body, message = BAD_PAGES[case]
    with pytest.raises(Malformed) as raised:
        parse_page(body)
    assert message in raised.value.message
    assert raised.value.retryable  # a body cut short reads the same way


# The two real projects


def test_the_ethiopian_project_in_every_field() -> None:
    data = project(ETHIOPIA)
    record = mapped(ETHIOPIA, data)
    assert (record.source, record.external_id, record.reporting_org) == (SOURCE, ETHIOPIA, "44000")
    assert record.place == "page 1, project P129828"
    draft = record.draft
    assert draft.title == "Ethiopia General Education Quality Improvement Project II"
    assert draft.pledge_type is PledgeType.FINANCIAL
    assert draft.description.startswith("The development objective of the Second Phase of Gen")
    assert draft.description.endswith(
        "(ii) monitoring and evaluation (M and E); and (iii) communication."
    )
    assert len(draft.description) == 3267
    assert list(draft.target_countries) == ["ETH"]
    assert list(draft.target_groups) == []
    assert draft.start_date == draft.announced_on == date(2013, 11, 12)
    assert draft.end_date == date(2018, 7, 7)
    assert draft.amount == Decimal(130_000_000)
    assert draft.currency == "USD"
    assert draft.implementation_status is ImplementationStatus.IMPLEMENTATION
    assert list(draft.focus_areas) == []
    assert record.flows == (
        FlowRecord(
            key="commitment",
            kind=TransactionKind.COMMITMENT,
            amount=Decimal(130_000_000),
            currency="USD",
            value_date=date(2013, 11, 12),
            counts=True,
            reason=(
                "the World Bank's commitment to the project at board approval: the pledged amount"
            ),
            description=None,
        ),
    )
    assert [(r.subject, r.code, r.names) for r in record.review] == [
        ("CLASSIFICATION", ETHIOPIA, "Ethiopia General Education Quality Improvement Project II"),
        (
            "ORGANISATION",
            "FEDERAL DEMOCRATIC REPUBLIC OF ETHIOPIA",
            "FEDERAL DEMOCRATIC REPUBLIC OF ETHIOPIA",
        ),
        ("ORGANISATION", "MINISTRY OF EDUCATION", "MINISTRY OF EDUCATION"),
    ]
    unidentified = "named without an identifier: link it to an organisation"
    assert [r.reason for r in record.review] == [
        "no sector of the project maps to a focus area: choose one",
        f"the borrower: it receives the financing, no role in the pledge; {unidentified}",
        f"the implementing agency: an IMPLEMENTER; {unidentified}",
    ]
    assert record.gaps == ("FOCUS_AREA_REQUIRED", "TARGET_REQUIRED")
    assert record.notes == ("no sector is an ICT one: it needs classification",)
    assert record.lead_roles == (Role.FUNDER,)
    assert (record.titles, record.descriptions, record.endorsers) == ((), (), ())
    assert (record.targets, record.reports, record.pledge_only) == ((), (), False)
    kept = {k: v for k, v in data.items() if k not in {"_id", "projectdocs", "docty"}}
    canonical = json.dumps(kept, sort_keys=True, separators=(",", ":"))
    assert record.content_hash == hashlib.sha256(canonical.encode()).hexdigest()


def test_the_tunisian_project_in_every_field() -> None:
    """No abstract, no closing date, nothing lent (`totalamt` 0): a trust-fund grant of
    4,700,000 committed (`totalcommamt`)."""
    record = mapped(TUNISIA, project(TUNISIA))
    draft = record.draft
    assert (record.external_id, record.reporting_org) == (TUNISIA, "44000")
    assert draft.title == "TN: DTF Social Protection Reforms Support"
    assert draft.description == ""
    assert list(draft.target_countries) == ["TUN"]
    assert draft.start_date == draft.announced_on == date(2013, 11, 4)
    assert draft.end_date is None
    assert draft.amount == Decimal(4_700_000)
    assert draft.currency == "USD"
    assert draft.implementation_status is ImplementationStatus.IMPLEMENTATION
    assert list(draft.focus_areas) == []
    assert [(f.key, f.kind, f.amount, f.value_date, f.counts) for f in record.flows] == [
        ("commitment", TransactionKind.COMMITMENT, Decimal(4_700_000), date(2013, 11, 4), True)
    ]
    assert [(r.subject, r.code) for r in record.review] == [
        ("CLASSIFICATION", TUNISIA),
        ("ORGANISATION", "GOVERNMENT OF TUNISIA"),
        ("ORGANISATION", "MINISTRY OF FINANCE"),
    ]
    assert record.gaps == ("FOCUS_AREA_REQUIRED", "TARGET_REQUIRED")
    assert record.notes == ("no sector is an ICT one: it needs classification",)


# Focus areas

ICT_EDITS: dict[str, dict[str, Any]] = {
    # the legacy taxonomy, as the file's other sectors are written
    "sector named Telecommunications": {
        "sector": [{"Name": "Telecommunications"}, {"Name": "Secondary education"}],
    },
    "sector2 named Information technology": {
        "sector2": {"Name": "Information technology", "Percent": 26},
    },
    "major sector code CX, under any name": {
        "mjsector_namecode": [{"name": "Information & Comms", "code": "CX"}],
    },
    "major sector named Information and communications": {
        "majorsector_percent": [{"Name": "Information and communications", "Percent": 30}],
    },
    # the taxonomy since 2016, spelt as the API spells "Public administration- Other"
    "sector ICT Infrastructure": {"sector1": {"Name": "ICT Infrastructure", "Percent": 100}},
    "major sector Information and Communications Technologies": {
        "mjsector_namecode": [{"name": "Information and Communications Technologies", "code": "X"}],
    },
    "sector Public Administration- ICT": {
        "sector_namecode": [
            {
                "name": "Public Administration- Information and Communications Technologies",
                "code": "BC",
            }
        ],
    },
}


@pytest.mark.parametrize("case", ICT_EDITS)
def test_an_ict_sector_makes_it_access(case: str) -> None:
    """The Ethiopian project with one sector field made an ICT one, as `case` says."""
    record = pledge(ETHIOPIA, ICT_EDITS[case])
    assert list(record.draft.focus_areas) == [FocusArea.ACCESS]
    assert by_subject(record, "CLASSIFICATION") == []
    assert record.gaps == ("TARGET_REQUIRED",)
    assert record.notes == ()


@pytest.mark.parametrize(
    "edit",
    [
        {"sector_namecode": [{"name": "Primary education", "code": "CX"}]},  # a sector's code
        {"mjsector_namecode": [{"name": "Education", "code": "CT"}]},  # not the major code
        {"sector": [{"Name": "Telecommunications services reform"}]},  # a name not listed
        {"theme1": {"Name": "Information and communications", "Percent": 100}},  # a theme
        {"sector": "Telecommunications"},  # not the API's shape
    ],
)
def test_nothing_else_classifies(edit: dict[str, Any]) -> None:
    record = pledge(ETHIOPIA, edit)
    assert list(record.draft.focus_areas) == []
    assert len(by_subject(record, "CLASSIFICATION")) == 1
    assert "FOCUS_AREA_REQUIRED" in record.gaps


# The content hash


def _reordered(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _reordered(value[key]) for key in reversed(list(value))}
    if isinstance(value, list):
        return [_reordered(item) for item in value]
    return value


def test_the_same_project_read_again_hashes_the_same() -> None:
    for project_id in (ETHIOPIA, TUNISIA):
        first = mapped(project_id, project(project_id)).content_hash
        again_data = _reordered(project(project_id))
        assert list(again_data) != list(project(project_id))
        again_body = json.dumps({"total": 2, "projects": {project_id: again_data}}, indent=2)
        ((key, again),) = parse_page(again_body.encode()).projects
        assert mapped(key, again).content_hash == first
        assert content_hash(again) == first


def test_volatile_fields_leave_the_hash_and_content_does_not() -> None:
    first = mapped(ETHIOPIA, project(ETHIOPIA)).content_hash
    volatile = {"_id": {"$oid": "000000000000000000000000"}, "projectdocs": [], "docty": ""}
    assert pledge(ETHIOPIA, volatile).content_hash == first
    assert pledge(ETHIOPIA, {"totalcommamt": 130_000_001}).content_hash != first
    assert pledge(ETHIOPIA, {"totalcommamt": "130,000,000"}).content_hash != first
    assert pledge(ETHIOPIA, {"status": "Closed"}).content_hash != first
    assert pledge(ETHIOPIA, {}, dropped=("closingdate",)).content_hash != first
    assert mapped(TUNISIA, project(TUNISIA)).content_hash != first


# Amounts


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1,250,000,000", Decimal(1_250_000_000)),
        ("1250000", Decimal(1_250_000)),
        (" 4,700,000 ", Decimal(4_700_000)),
        ("1,000.50", Decimal("1000.50")),
        ("-5", Decimal(-5)),
        (130_000_000, Decimal(130_000_000)),
        (0, Decimal(0)),
        ("0", Decimal(0)),
        (0.1, Decimal("0.1")),  # not 0.1000000000000000055511151231257827...
        (1.5e9, Decimal(1_500_000_000)),
        ("", None),
        ("n/a", None),
        ("1,25,000", None),  # commas that do not group by three are no separators
        ("1,250,000,", None),
        ("1.5E9", None),
        (None, None),
        (True, None),
        (float("nan"), None),
        (float("inf"), None),
        ([1], None),
    ],
)
def test_parse_amount(value: object, expected: Decimal | None) -> None:
    assert parse_amount(value) == expected


def test_a_separated_string_amount_is_the_amount() -> None:
    record = pledge(ETHIOPIA, {"totalcommamt": "1,250,000,000", "totalamt": ""})
    assert record.draft.amount == Decimal(1_250_000_000)
    assert record.flows[0].amount == Decimal(1_250_000_000)
    assert record.notes == ("no sector is an ICT one: it needs classification",)


@pytest.mark.parametrize(
    ("edit", "amount", "note"),
    [
        ({"totalcommamt": "", "totalamt": "2,000"}, Decimal(2000), None),
        ({"totalcommamt": None, "totalamt": 2000}, Decimal(2000), None),
        (
            {"totalcommamt": "n/a", "totalamt": 2000},
            Decimal(2000),
            "totalcommamt 'n/a' is not a number",
        ),
        ({"totalcommamt": 0, "totalamt": 2000}, Decimal(2000), "totalcommamt 0 commits nothing"),
        ({"totalcommamt": "1,000.005"}, Decimal("1000.00"), "rounded to 1000.00, whole cents"),
        ({"totalcommamt": 0, "totalamt": 0}, None, "totalamt 0 commits nothing"),
        ({"totalcommamt": "-3", "totalamt": "zero"}, None, "totalamt 'zero' is not a number"),
        ({"totalcommamt": "1" + "0" * 40, "totalamt": ""}, None, "beyond what the hub holds"),
    ],
)
def test_which_amount_is_the_pledge(
    edit: dict[str, Any], amount: Decimal | None, note: str | None
) -> None:
    record = pledge(ETHIOPIA, edit)
    assert record.draft.amount == amount
    if note is not None:
        assert any(note in n for n in record.notes), record.notes
    if amount is None:
        assert (record.draft.currency, record.flows) == (None, ())
        assert record.gaps == ("FOCUS_AREA_REQUIRED", "TARGET_REQUIRED", "AMOUNT_REQUIRED")
    else:
        assert [f.amount for f in record.flows] == [amount]


# Dates, places, status, organisations


def test_dates() -> None:
    us = pledge(ETHIOPIA, {"closingdate": "3/30/2017 12:00:00 AM"})
    assert us.draft.end_date == date(2017, 3, 30)
    before = pledge(ETHIOPIA, {"closingdate": "2012-01-31T00:00:00Z"})
    assert before.draft.end_date is None
    assert "the project closes (2012-01-31) before its approval: no end date" in before.notes
    for bad in ("soon", "2013-02-30T00:00:00Z", "1900-01-01T00:00:00Z", 20180707):
        dropped = pledge(ETHIOPIA, {"closingdate": bad})
        assert dropped.draft.end_date is None
        assert any(n.startswith(f"closingdate {bad!r} is") for n in dropped.notes)
    unapproved = pledge(ETHIOPIA, {}, dropped=("boardapprovaldate",))
    assert (unapproved.draft.start_date, unapproved.draft.announced_on) == (None, None)
    assert unapproved.draft.amount == Decimal(130_000_000)
    assert unapproved.flows == ()
    assert "no board approval date to date the commitment by: no flow" in unapproved.notes


@pytest.mark.parametrize(
    ("edit", "subject", "code", "reason"),
    [
        ({"countrycode": "3A", "countryname": "Africa"}, "REGION", "3A", "a region"),
        ({"countrycode": "XK", "countryname": "Kosovo"}, "COUNTRY", "XK", "not a country the hub"),
        (
            {"countrycode": ""},
            "COUNTRY",
            "Federal Democratic Republic of Ethiopia",
            "no country code",
        ),
    ],
)
def test_a_place_the_hub_does_not_know_goes_to_review(
    edit: dict[str, Any], subject: str, code: str, reason: str
) -> None:
    record = pledge(ETHIOPIA, edit)
    assert list(record.draft.target_countries) == []
    (item,) = by_subject(record, subject)
    assert item.code == code
    assert reason in item.reason
    assert any(n.startswith("countrycode") for n in record.notes)
    assert record.gaps == ("FOCUS_AREA_REQUIRED", "PLACE_REQUIRED", "TARGET_REQUIRED")


def test_no_place_at_all_is_noted() -> None:
    record = pledge(ETHIOPIA, {}, dropped=("countrycode", "countryname", "countryshortname"))
    assert list(record.draft.target_countries) == []
    assert "no countrycode: no target country" in record.notes
    assert [r.subject for r in record.review] == ["CLASSIFICATION", "ORGANISATION", "ORGANISATION"]


def test_a_lower_case_country_code_maps() -> None:
    assert list(pledge(TUNISIA, {"countrycode": "tn"}).draft.target_countries) == ["TUN"]


S = ImplementationStatus


@pytest.mark.parametrize(
    ("edit", "status"),
    [
        ({"status": "Active"}, S.IMPLEMENTATION),
        ({"status": "Closed"}, S.COMPLETED),
        ({"status": "Pipeline"}, S.PIPELINE),
        ({"status": "Dropped"}, S.CANCELLED),
        ({"status": "closed"}, S.COMPLETED),
        ({"status": "", "projectstatusdisplay": "Dropped"}, S.CANCELLED),
    ],
)
def test_status(edit: dict[str, Any], status: ImplementationStatus) -> None:
    record = pledge(ETHIOPIA, edit)
    assert record.draft.implementation_status is status
    assert not any(n.startswith("status") for n in record.notes)


def test_an_unknown_status_is_pipeline_and_noted() -> None:
    record = pledge(ETHIOPIA, {"status": "Frozen", "projectstatusdisplay": "Frozen"})
    assert record.draft.implementation_status is S.PIPELINE
    assert "status 'Frozen' is not one the hub reads: PIPELINE" in record.notes
    missing = pledge(ETHIOPIA, {}, dropped=("status", "projectstatusdisplay"))
    assert "no status: PIPELINE" in missing.notes


def test_one_organisation_both_borrower_and_agency_is_one_review_item() -> None:
    record = pledge(TUNISIA, {"borrower": "MINISTRY OF FINANCE"})
    (item,) = by_subject(record, "ORGANISATION")
    assert (item.code, item.names) == ("MINISTRY OF FINANCE", "MINISTRY OF FINANCE")
    assert "the borrower" in item.reason
    assert "the implementing agency" in item.reason
    nobody = pledge(TUNISIA, {}, dropped=("borrower", "impagency"))
    assert by_subject(nobody, "ORGANISATION") == []


def test_long_texts_are_cut_with_a_note() -> None:
    record = pledge(
        ETHIOPIA, {"project_name": "T" * 600, "project_abstract": {"cdata": "d" * 20_001}}
    )
    assert record.draft.title == "T" * 499 + "…"
    assert len(record.draft.description) == 20_000
    assert "the title has 600 characters: the first 499 are kept" in record.notes
    assert "the description has 20001 characters: the first 19999 are kept" in record.notes


# What cannot be mapped, and what never raises


@pytest.mark.parametrize(
    "project_id",
    ["129828", "p129828", "P12a", "P", "", " P129828", "P" + "1" * 21, "P\uff11\uff12"],
)
def test_a_bad_project_id_is_rejected(project_id: str) -> None:
    work = project_work(project_id, {"project_name": "x"}, COUNTRIES, "page 2")
    assert isinstance(work, Reject)
    assert work.reason.startswith("UNMAPPABLE: page 2: ")
    assert repr(project_id) in work.reason
    assert not work.ends_run


@pytest.mark.parametrize("name", [None, "", "   ", 42, ["a title"]])
def test_a_project_without_a_title_is_rejected(name: object) -> None:
    data = {**project(TUNISIA), "project_name": name}
    work = project_work(TUNISIA, data, COUNTRIES, "page 1, project P144674")
    assert work == Reject(
        "UNMAPPABLE: page 1, project P144674: project P144674 has no project_name"
    )
    without = project_work(TUNISIA, {"id": TUNISIA}, COUNTRIES, "here")
    assert isinstance(without, Reject)


def test_a_project_keyed_by_another_id_is_rejected() -> None:
    work = project_work(ETHIOPIA, project(TUNISIA), COUNTRIES, "page 1")
    assert work == Reject("UNMAPPABLE: page 1: project P129828 says its id is 'P144674'")


def test_wrong_types_everywhere_map_without_raising() -> None:
    data: dict[str, Any] = {
        "project_name": "A project",
        "project_abstract": ["not", "text"],
        "countrycode": 5,
        "boardapprovaldate": {"$date": 1},
        "closingdate": ["2018-07-07"],
        "totalcommamt": {"value": 1},
        "totalamt": [1],
        "status": 3,
        "sector": "ICT",
        "sector1": None,
        "mjsector_namecode": [1, None, "CX", {"name": None, "code": None}],
        "borrower": 7,
        "impagency": None,
        "_id": object(),  # not JSON: left out of the hash
    }
    work: Work = project_work("P1", data, COUNTRIES, "page 9")
    assert isinstance(work, PledgeRecord)
    assert work.draft.description == ""
    assert work.draft.amount is None
    assert work.draft.implementation_status is S.PIPELINE
    assert work.gaps == (
        "FOCUS_AREA_REQUIRED",
        "PLACE_REQUIRED",
        "TARGET_REQUIRED",
        "AMOUNT_REQUIRED",
    )
    assert [r.subject for r in work.review] == ["CLASSIFICATION"]
    data["_id"] = "another"
    assert content_hash(data) == work.content_hash
    deep = copy.deepcopy({k: v for k, v in data.items() if k != "_id"})
    assert content_hash(deep) == work.content_hash

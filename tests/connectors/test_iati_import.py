"""Every real IATI file in tests/data/iati imported into the hub (issue 11), on SQLite and
PostgreSQL, each through a connector acting for the file's reporting organisation.

What the hub must hold afterwards is worked out here from ``tests/data/iati/EXPECTED.json``
and the XML itself (plain lxml XPath), following the rules as the docstring of
``connectors/iati/mapping.py`` writes them; never through the parser, the mapping or the
importer, so that a mistake there cannot hide behind an expectation derived from it. Each
file is imported once per backend (twice: the second run is the re-import) into a database of
its own, shared by the tests of that file through a module-scoped fixture.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import uuid
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any

import pytest
from lxml import etree  # type: ignore[import-untyped]  # lxml ships no type information
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from connectors.framework import sync
from connectors.iati.importer import incoming, options_for
from hub.audit.delivery import Sessions
from hub.audit.models import AuditEvent
from hub.countries.models import Country, CountryGroup
from hub.db import Base, create_engine, create_session_factory
from hub.endorsements.models import Endorsement, EndorsementRole, EndorsementStatus, Role
from hub.errors import InvalidInput
from hub.imports.connectors import ConnectorConfig, add_connector, get_connector
from hub.imports.models import (
    ConnectorKind,
    DeadLetter,
    LetterStatus,
    ReviewEntry,
    RunStatus,
    SourceRecord,
    SourceState,
    SyncRun,
)
from hub.money.currencies import get_currency
from hub.money.models import MoneyFlow, TransactionKind
from hub.money.rates import parse_fred, parse_imf
from hub.money.service import load_rates
from hub.organisations.models import MembershipStatus, Organisation, OrganisationType
from hub.pledges.models import (
    Direction,
    ImplementationStatus,
    Measure,
    Pledge,
    PledgeFocusArea,
    PledgeSdg,
    PledgeTargetCountry,
    PledgeTargetGroup,
    PledgeText,
    PledgeType,
    PublicationStatus,
    Target,
)
from hub.pledges.service import return_pledge
from hub.progress.models import ProgressReport, ProgressValue
from tests.fixtures.database import (
    BACKENDS,
    Templates,
    create_postgres_database,
    drop_postgres_database,
    postgres_url,
)
from tests.fixtures.factories import add_member

DATA = Path(__file__).resolve().parents[1] / "data" / "iati"
FILES = sorted(DATA.glob("*.xml"))
EXPECTED: dict[str, dict[str, Any]] = json.loads((DATA / "EXPECTED.json").read_text("utf-8"))
FX = Path(__file__).resolve().parents[2] / "data" / "fx"
P2C_HUB = str(Path(sys.executable).with_name("p2c-hub"))
CONNECTOR = "iati-file"
WORLD_BANK = "44000"
"""The World Bank's IATI organisation identifier: worldbank.xml's reporting-org gives none."""

# ---------------------------------------------------------------------------------------------
# The mapping's rules, written out again from connectors/iati/mapping.py's docstring

TYPE_CODES = {
    **{str(code): str(code) for code in range(1, 14)},
    # version 1 letters
    **{"if": "1", "c": "2", "d": "3", "e": "4", "ir": "5", "lr": "6", "r": "7"},
    **{"qp": "8", "qs": "9", "cg": "10"},
    # names, which pre-1.0 files write in transaction/@type
    **{"incoming funds": "1", "commitment": "2", "outgoing commitment": "2"},
    **{"disbursement": "3", "expenditure": "4", "incoming commitment": "11"},
    **{"outgoing pledge": "12", "incoming pledge": "13"},
}
K = TransactionKind
FLOW_KINDS = {
    "2": K.COMMITMENT,
    "12": K.PLEDGE,
    "3": K.DISBURSEMENT,
    "4": K.EXPENDITURE,
    "1": K.INCOMING,
    "11": K.INCOMING,
    "13": K.INCOMING,
}
ROLES = {
    **{"1": Role.FUNDER, "funding": Role.FUNDER, "donor": Role.FUNDER},
    **{"2": Role.CO_LEAD, "accountable": Role.CO_LEAD},
    **{"3": Role.CO_LEAD, "extending": Role.CO_LEAD},
    **{"4": Role.IMPLEMENTER, "implementing": Role.IMPLEMENTER},
}
GOV, CIVIL, PRIVATE = (
    OrganisationType.GOVERNMENT,
    OrganisationType.CIVIL_SOCIETY,
    OrganisationType.PRIVATE_SECTOR,
)
ORGANISATION_TYPES: dict[str, OrganisationType] = {
    **{"10": GOV, "11": GOV, "15": GOV, "21": CIVIL, "22": CIVIL, "23": CIVIL, "24": CIVIL},
    **{"40": OrganisationType.INTERNATIONAL_ORGANIZATION, "60": CIVIL},
    **{"70": PRIVATE, "71": PRIVATE, "72": PRIVATE, "73": PRIVATE},
    "80": OrganisationType.ACADEMIA,
}
ORGANISATION_TYPE_NAMES = {
    **{"government": "10", "local government": "11", "other public sector": "15"},
    **{"international ngo": "21", "national ngo": "22", "regional ngo": "23"},
    **{"partner country based ngo": "24", "public private partnership": "30"},
    **{"multilateral": "40", "foundation": "60", "private sector": "70"},
    **{"academic, training and research": "80", "other": "90"},
}
STATUSES = {
    "1": ImplementationStatus.PIPELINE,
    "2": ImplementationStatus.IMPLEMENTATION,
    "3": ImplementationStatus.COMPLETED,
    "4": ImplementationStatus.COMPLETED,
    "5": ImplementationStatus.CANCELLED,
    "6": ImplementationStatus.SUSPENDED,
}
QUANTITATIVE, QUALITATIVE = Measure.QUANTITATIVE, Measure.QUALITATIVE
MEASURES = {
    **{"1": (QUANTITATIVE, "units"), "unit": (QUANTITATIVE, "units")},
    **{"2": (QUANTITATIVE, "%"), "percentage": (QUANTITATIVE, "%")},
    **{"3": (QUALITATIVE, "category"), "nominal": (QUALITATIVE, "category")},
    **{"4": (QUANTITATIVE, "rank"), "ordinal": (QUANTITATIVE, "rank")},
    **{"5": (QUALITATIVE, "qualitative"), "qualitative": (QUALITATIVE, "qualitative")},
}
FOCUS_SECTORS = {"22010", "22011", "22020", "22030", "22040"}
PLACEHOLDER_YEAR = 1900
KEYLESS = "no iati-identifier nor other-identifier"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
M49_GROUPS = {"199": CountryGroup.LDC, "432": CountryGroup.LLDC, "722": CountryGroup.SIDS}

CURRENCY = re.compile(r"[A-Z]{3}")
DECIMAL = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")  # xsd:decimal
THOUSANDS = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?")
ISO_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})(?:T[\d:.]+)?(?:Z|[+-]\d{2}:\d{2})?")


def attr(element: Any, name: str) -> str | None:
    """An attribute without surrounding blanks; empty is absent."""
    value = element.get(name) if element is not None else None
    return (value.strip() or None) if value is not None else None


def first(element: Any, path: str) -> Any:
    found = element.xpath(path)
    return found[0] if found else None


def own_text(element: Any) -> str | None:
    if element is None:
        return None
    return "".join([element.text or ""] + [child.tail or "" for child in element]).strip() or None


def spelt(raw: str | None) -> str:
    return " ".join((raw or "").split()).lower()


def to_date(raw: str | None) -> date | None:
    match = ISO_DATE.fullmatch(raw) if raw else None
    try:
        return date.fromisoformat(match.group(1)) if match else None
    except ValueError:
        return None


def date_of(element: Any) -> date | None:
    """``@iso-date``, else (version 1) the element's text."""
    return None if element is None else to_date(attr(element, "iso-date") or own_text(element))


def decimal_of(raw: str | None) -> Decimal | None:
    return Decimal(raw) if raw is not None and DECIMAL.fullmatch(raw) else None


def number_of(raw: str | None) -> Decimal | None:
    """A decimal; commas grouping digits by three are thousands separators."""
    if raw is not None and THOUSANDS.fullmatch(raw):
        return Decimal(raw.replace(",", ""))
    return decimal_of(raw)


def exponent(currency: str) -> int | None:
    try:
        return get_currency(currency).exponent
    except InvalidInput:
        return None


def minor(value: Decimal, currency: str) -> int:
    """``value`` in the currency's minor units, rounded half-even."""
    places = exponent(currency)
    assert places is not None
    return int(value.scaleb(places).quantize(Decimal(1), ROUND_HALF_EVEN))


def from_minor(amount: int, currency: str) -> Decimal:
    places = exponent(currency)
    assert places is not None
    return Decimal(amount).scaleb(-places)


def name_of(element: Any) -> str | None:
    """The first narrative's text, or (version 1) the element's own."""
    narrative = first(element, "narrative")
    return own_text(narrative) if narrative is not None else own_text(element)


def found_activities(path: Path | bytes) -> list[Any]:
    root = etree.parse(str(path)).getroot() if isinstance(path, Path) else etree.fromstring(path)
    return list(root.xpath("/iati-activity | /iati-activities/iati-activity"))


def key_of(activity: Any) -> str | None:
    """Rule (1): the iati-identifier, else the first other-identifier prefixed with its
    owner's ref and ``-`` unless it starts so already."""
    identifier = own_text(first(activity, "iati-identifier"))
    if identifier is not None:
        return identifier
    for other in activity.xpath("other-identifier"):
        ref = attr(other, "ref") or own_text(other)
        if ref is None:
            continue
        owner_org = first(other, "owner-org")
        owner = attr(owner_org, "ref") if owner_org is not None else attr(other, "owner-ref")
        return ref if owner is None or ref.startswith(f"{owner}-") else f"{owner}-{ref}"
    return None


@dataclass(frozen=True)
class ExpectedFlow:
    position: int
    kind: TransactionKind
    amount_minor: int
    currency: str
    on: date
    counts: bool


@dataclass(frozen=True)
class ExpectedTarget:
    key: str
    measure: Measure
    unit: str
    direction: Direction
    target_value: Decimal | None
    deadline: date | None
    baseline_value: Decimal | None
    baseline_date: date | None


@dataclass
class Partner:
    roles: set[Role]
    type: str | None


@dataclass
class ExpectedActivity:
    """What the rules make of one activity, before knowing who runs the connector."""

    position: int
    line: int
    key: str | None
    reporter: str | None
    secondary: bool
    status: ImplementationStatus | None
    focus_possible: bool
    flows: list[ExpectedFlow]
    rejected_flows: list[int]
    commitments: dict[str, Decimal]
    """Outgoing commitments as written (type 2 / C, first value), per currency."""
    transactions: list[str | None]
    """Each transaction's type, as a version 2 code (None: unknown)."""
    participating: list[tuple[str | None, Role | None, str | None, str | None]]
    """Each participating-org: ref, role, type and name."""
    targets: list[ExpectedTarget]
    indicator_reviews: list[str]
    results: int
    indicators: int
    result_reports: dict[tuple[date, date], dict[int, tuple[Decimal | None, str | None]]]
    """Reports per (start, end) period: per target (by its index), value and note."""
    dates: dict[str, date]
    """Activity dates by type (the first of each that is no placeholder)."""
    title_languages: set[str]
    countries: list[str | None]
    regions: list[tuple[str | None, str | None]]
    """Recipient regions: vocabulary and code."""

    def start_and_end(self) -> tuple[date | None, date | None]:
        """Start: actual, else planned; end: actual, else planned, unless before the start."""
        start = self.dates.get("2") or self.dates.get("1")
        end = self.dates.get("4") or self.dates.get("3")
        return start, None if start is not None and end is not None and end < start else end

    def announced_on(self) -> date | None:
        """The earliest value date of a counted commitment or pledge, else the start."""
        pledged = [f.on for f in self.flows if f.counts and f.kind in (K.COMMITMENT, K.PLEDGE)]
        return min(pledged, default=self.start_and_end()[0])

    def claimed_by(self, member: frozenset[str]) -> bool:
        return self.key is not None and self.reporter in member and not self.secondary

    def organisations(self, member: frozenset[str]) -> tuple[set[Role], dict[str, Partner]]:
        """The member's roles (LEAD and the rest) and every other identifier's."""
        lead = {Role.LEAD}
        partners: dict[str, Partner] = {}
        for ref, role, type_, _ in self.participating:
            if ref is None or role is None:
                continue
            if ref in member:
                if role is not Role.CO_LEAD:  # LEAD says accountable and extending already
                    lead.add(role)
                continue
            partner = partners.setdefault(ref, Partner(set(), None))
            partner.roles.add(role)
            partner.type = partner.type or type_
        return lead, partners

    def pledged(self) -> dict[str, Decimal]:
        """The counted commitments and pledges, per currency."""
        sums: defaultdict[str, Decimal] = defaultdict(Decimal)
        for flow in self.flows:
            if flow.counts and flow.kind in (K.COMMITMENT, K.PLEDGE):
                sums[flow.currency] += from_minor(flow.amount_minor, flow.currency)
        return dict(sums)

    def disbursed(self) -> dict[tuple[int, str], Decimal]:
        """Disbursed and spent, per calendar year and currency."""
        sums: defaultdict[tuple[int, str], Decimal] = defaultdict(Decimal)
        for flow in self.flows:
            if flow.kind in (K.DISBURSEMENT, K.EXPENDITURE):
                sums[flow.on.year, flow.currency] += from_minor(flow.amount_minor, flow.currency)
        return dict(sums)


def type_code(transaction: Any) -> str | None:
    written = first(transaction, "transaction-type")
    if written is None:  # pre-1.0 files put the type's name in transaction/@type
        raw = attr(transaction, "type")
    else:
        raw = attr(written, "code") or own_text(written)
    return TYPE_CODES.get(spelt(raw))


def money_of(
    activity: Any,
) -> tuple[list[ExpectedFlow], list[int], dict[str, Decimal], list[str | None]]:
    """The transaction table: flows, the positions of rejected ones, commitments as written,
    and each transaction's type."""
    default = attr(activity, "default-currency")
    transactions = activity.xpath("transaction")
    codes = [type_code(t) for t in transactions]
    committed = "2" in codes
    flows: list[ExpectedFlow] = []
    rejected: list[int] = []
    written: defaultdict[str, Decimal] = defaultdict(Decimal)
    for position, (transaction, code) in enumerate(zip(transactions, codes, strict=True), 1):
        value = first(transaction, "value")
        amount = decimal_of(own_text(value))
        currency = attr(value, "currency") or default
        if code == "2" and currency is not None and amount is not None:
            written[currency] += amount
        on = to_date(attr(value, "value-date")) or date_of(first(transaction, "transaction-date"))
        kind = FLOW_KINDS.get(code or "")
        if (
            kind is None
            or amount is None
            or currency is None
            or not CURRENCY.fullmatch(currency)
            or exponent(currency) is None
            or on is None
        ):
            rejected.append(position)
            continue
        counts = kind is not K.INCOMING and (kind is not K.PLEDGE or not committed)
        flows.append(ExpectedFlow(position, kind, minor(amount, currency), currency, on, counts))
    return flows, rejected, dict(written), codes


def whole(measurements: list[Any]) -> Any:
    """The first stated measurement that has no dimension (one with dimensions is a slice)."""
    for measurement in measurements:
        if attr(measurement, "value") is not None and not measurement.xpath("dimension"):
            return measurement
    return None


def results_of(
    activity: Any,
) -> tuple[
    list[ExpectedTarget],
    list[str],
    dict[tuple[date, date], dict[int, tuple[Decimal | None, str | None]]],
]:
    """The results table: targets, indicators sent to review, and reports per period."""
    targets: list[ExpectedTarget] = []
    reviews: list[str] = []
    reports: defaultdict[tuple[date, date], dict[int, tuple[Decimal | None, str | None]]] = (
        defaultdict(dict)
    )
    for r, result in enumerate(activity.xpath("result"), 1):
        for i, indicator in enumerate(result.xpath("indicator"), 1):
            key = f"result {r} indicator {i}"
            measure, unit = MEASURES.get(spelt(attr(indicator, "measure")), (QUANTITATIVE, "units"))
            aim: tuple[date | None, Decimal | None] | None = None
            for period in indicator.xpath("period"):
                stated = whole(period.xpath("target"))
                if stated is None:
                    continue
                value = number_of(attr(stated, "value")) if measure is QUANTITATIVE else None
                if measure is QUANTITATIVE and value is None:
                    continue
                end = date_of(first(period, "period-end"))
                if aim is None or (end or date.min) >= (aim[0] or date.min):
                    aim = (end, value)
            if measure is QUANTITATIVE and aim is None:
                reviews.append(key)
                continue
            baseline_value, baseline_date = None, None
            baseline = next(
                iter(b for b in indicator.xpath("baseline") if not b.xpath("dimension")), None
            )
            if baseline is not None:
                on = to_date(attr(baseline, "iso-date"))
                year_raw = attr(baseline, "year")
                year = (
                    on.year if on else (int(year_raw) if year_raw and year_raw.isdigit() else None)
                )
                if year is None or year > PLACEHOLDER_YEAR:
                    baseline_date = on or (date(year, 1, 1) if year is not None else None)
                    if measure is QUANTITATIVE:
                        baseline_value = number_of(attr(baseline, "value"))
            deadline, target_value = aim or (None, None)
            index = len(targets)
            targets.append(
                ExpectedTarget(
                    key=key,
                    measure=measure,
                    unit=unit,
                    direction=(
                        Direction.DESCENDING
                        if spelt(attr(indicator, "ascending")) in ("0", "false")
                        else Direction.ASCENDING
                    ),
                    target_value=target_value,
                    deadline=deadline,
                    baseline_value=baseline_value,
                    baseline_date=baseline_date,
                )
            )
            for period in indicator.xpath("period"):
                actual = whole(period.xpath("actual"))
                start = date_of(first(period, "period-start"))
                end = date_of(first(period, "period-end"))
                if actual is None or start is None or end is None or end < start:
                    continue
                values = reports[start, end]
                if index in values:
                    continue
                raw = attr(actual, "value")
                if measure is QUALITATIVE:
                    values[index] = (None, raw)
                else:
                    number = number_of(raw)
                    values[index] = (number, None if number is not None else f"stated as {raw!r}")
    return targets, reviews, dict(reports)


DATE_TYPES = {
    **{"1": "1", "2": "2", "3": "3", "4": "4"},
    **{"start-planned": "1", "start-actual": "2", "end-planned": "3", "end-actual": "4"},
}


def dates_of(activity: Any) -> dict[str, date]:
    found: dict[str, date] = {}
    for element in activity.xpath("activity-date"):
        kind, on = DATE_TYPES.get(spelt(attr(element, "type"))), date_of(element)
        if kind is not None and on is not None and on.year > PLACEHOLDER_YEAR:
            found.setdefault(kind, on)
    return found


def languages_of(element: Any, default: str | None) -> set[str]:
    """The languages of an element's narratives (version 1: of its own text)."""
    lang = attr(element, XML_LANG) or default
    narratives = element.xpath("narrative")
    if not narratives:
        return {lang.lower()} if lang and own_text(element) else set()
    return {
        found.lower()
        for n in narratives
        if own_text(n) and (found := attr(n, XML_LANG) or lang) is not None
    }


def focus_possible(activity: Any) -> bool:
    """Whether a sector or an SDG could give the activity a focus area."""
    sectors = [
        attr(s, "code")
        for s in activity.xpath("sector")
        if attr(s, "vocabulary") in (None, "1", "DAC")
    ]
    sdgs = activity.xpath(
        "sector[@vocabulary='7' or @vocabulary='8' or @vocabulary='9'] | "
        "tag[@vocabulary='2' or @vocabulary='3'] | result/indicator/reference[@vocabulary='9']"
    )
    return bool(FOCUS_SECTORS.intersection(sectors)) or bool(sdgs)


def expected_activities(source: Path | bytes) -> list[ExpectedActivity]:
    found = []
    for position, activity in enumerate(found_activities(source), 1):
        default = attr(activity, XML_LANG) or attr(activity.getparent(), XML_LANG)
        key = key_of(activity)
        titles = [lang for t in activity.xpath("title") for lang in languages_of(t, default)]
        if not activity.xpath("title") and default:  # the key stands in for the title
            titles = [default.lower()]
        reporter = first(activity, "reporting-org")
        flows, rejected, commitments, transactions = money_of(activity)
        targets, reviews, reports = results_of(activity)
        found.append(
            ExpectedActivity(
                position=position,
                line=activity.sourceline,
                key=key,
                reporter=attr(reporter, "ref"),
                secondary=spelt(attr(reporter, "secondary-reporter")) in ("1", "true"),
                status=STATUSES.get(attr(first(activity, "activity-status"), "code") or ""),
                focus_possible=focus_possible(activity),
                flows=flows,
                rejected_flows=rejected,
                commitments=commitments,
                transactions=transactions,
                participating=[
                    (attr(o, "ref"), ROLES.get(spelt(attr(o, "role"))), attr(o, "type"), name_of(o))
                    for o in activity.xpath("participating-org")
                ],
                targets=targets,
                indicator_reviews=reviews,
                results=len(activity.xpath("result")),
                indicators=len(activity.xpath("result/indicator")),
                result_reports=reports,
                dates=dates_of(activity),
                title_languages=set(titles),
                countries=[attr(c, "code") for c in activity.xpath("recipient-country")],
                regions=[
                    (attr(r, "vocabulary"), attr(r, "code"))
                    for r in activity.xpath("recipient-region")
                ],
            )
        )
    return found


def hub_type(raw: str | None) -> OrganisationType | None:
    """The organisation type table: None for 30, 90 and anything unknown (review)."""
    if raw is None:
        return None
    return ORGANISATION_TYPES.get(ORGANISATION_TYPE_NAMES.get(raw.lower(), raw))


# ---------------------------------------------------------------------------------------------
# Databases with exchange rates, a connector per file, and what the database holds

Row = dict[str, Any]
State = dict[str, list[Row]]

TABLES: dict[str, type[Base]] = {
    "organisations": Organisation,
    "pledges": Pledge,
    "pledge_texts": PledgeText,
    "pledge_focus_areas": PledgeFocusArea,
    "pledge_target_countries": PledgeTargetCountry,
    "pledge_target_groups": PledgeTargetGroup,
    "pledge_sdgs": PledgeSdg,
    "targets": Target,
    "money_flows": MoneyFlow,
    "endorsements": Endorsement,
    "endorsement_roles": EndorsementRole,
    "progress_reports": ProgressReport,
    "progress_values": ProgressValue,
    "source_records": SourceRecord,
    "dead_letters": DeadLetter,
    "review_queue": ReviewEntry,
    "sync_runs": SyncRun,
    "audit_events": AuditEvent,
}


async def state_of(engine: AsyncEngine) -> State:
    """Every row of the tables an import writes, by table."""
    state: State = {}
    async with engine.connect() as connection:
        for name, model in TABLES.items():
            table = model.__table__
            rows = (await connection.execute(select(table))).mappings()
            state[name] = sorted((dict(row) for row in rows), key=repr)
    return state


async def load_fx(url: str) -> None:
    engine = create_engine(url)
    try:
        async with create_session_factory(engine)() as session:
            await load_rates(session, parse_imf((FX / "imf_exchangerates.csv").read_text()))
            await load_rates(session, parse_fred((FX / "fred-monthly.csv").read_text()))
            await session.commit()
    finally:
        await engine.dispose()


class RatedTemplates:
    """The session's migrated templates with exchange rates loaded, made on first use."""

    def __init__(self, templates: Templates, directory: Path) -> None:
        self.templates, self.directory = templates, directory
        self.sqlite_path: Path | None = None
        self.postgres_name: str | None = None

    async def sqlite(self) -> Path:
        if self.sqlite_path is None:
            path = self.directory / "rated.db"
            shutil.copyfile(await self.templates.sqlite_template(), path)
            await load_fx(f"sqlite+aiosqlite:///{path}")
            self.sqlite_path = path
        return self.sqlite_path

    async def postgres(self) -> str:
        if self.postgres_name is None:
            name = await create_postgres_database(await self.templates.postgres_template())
            try:
                await load_fx(postgres_url(name))
            except BaseException:
                await drop_postgres_database(name)
                raise
            self.postgres_name = name
        return self.postgres_name

    async def close(self) -> None:
        if self.postgres_name is not None:
            await drop_postgres_database(self.postgres_name)


@pytest.fixture(scope="module")
async def rated(
    templates: Templates, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RatedTemplates]:
    cache = RatedTemplates(templates, tmp_path_factory.mktemp("rated"))
    try:
        yield cache
    finally:
        await cache.close()


@asynccontextmanager
async def fresh_database(
    rated: RatedTemplates, backend: str, directory: Path
) -> AsyncIterator[str]:
    """A migrated database with countries and rates, of its own."""
    if backend == "sqlite":
        path = directory / f"hub-{uuid.uuid4().hex[:8]}.db"
        shutil.copyfile(await rated.sqlite(), path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    name = await create_postgres_database(template=await rated.postgres())
    try:
        yield postgres_url(name)
    finally:
        await drop_postgres_database(name)


@dataclass(frozen=True)
class Member:
    id: int
    identifiers: frozenset[str]


async def add_file_connector(sessions: Sessions, path: Path) -> Member:
    """A member for the file's reporting organisation and a connector acting for it: selecting
    by reporting organisation, or (a reporter without ref) by the activities' keys."""
    found = found_activities(path)
    reporters = {
        (attr(r, "ref"), attr(r, "type"), name_of(r))
        for a in found
        if (r := first(a, "reporting-org")) is not None
    }
    assert len(reporters) == 1, f"{path.name}: one reporting organisation throughout"
    [(ref, type_, name)] = reporters
    if ref is None:
        keys = tuple(k for a in found if (k := key_of(a)) is not None)
        config = ConnectorConfig(activity_ids=keys)
    else:
        config = ConnectorConfig(reporting_orgs=(ref,))
    identifier = ref or WORLD_BANK
    async with sessions() as session:
        member = await add_member(
            session,
            name=name or identifier,
            organisation_type=hub_type(type_) or OrganisationType.INTERNATIONAL_ORGANIZATION,
            iati_identifier=identifier,
        )
        await add_connector(session, CONNECTOR, ConnectorKind.IATI_FILE, member.id, config)
        await session.commit()
        return Member(member.id, frozenset({identifier}))


async def import_file(sessions: Sessions, path: Path, connector_name: str = CONNECTOR) -> SyncRun:
    """``p2c-hub import iati PATH --connector NAME``, in this process."""
    async with sessions() as session:
        connector = await get_connector(session, connector_name)
        options = await options_for(session, connector)
    data, name, digest = read_source(path)
    return await sync(
        sessions,
        connector,
        name,
        digest,
        lambda resume: incoming(data, path.name, options, resume.position),
    )


def read_source(path: Path) -> tuple[bytes, str, str]:
    """A file's bytes, the name its runs go by (as the CLI's: the absolute path) and digest."""
    data = path.read_bytes()
    return data, str(path.resolve()), hashlib.sha256(data).hexdigest()


@dataclass
class Imported:
    """A file imported twice into a database of its own; what it held after each run."""

    backend: str
    name: str
    member: Member
    expected: list[ExpectedActivity]
    countries: dict[str, str] = field(default_factory=dict)
    """The hub's countries: alpha-3 by alpha-2."""
    runs: list[SyncRun] = field(default_factory=list)
    states: list[State] = field(default_factory=list)
    error: str | None = None

    @property
    def first(self) -> State:
        if self.error is not None:
            pytest.fail(f"{self.name} did not import: {self.error}")
        return self.states[0]

    @property
    def figures(self) -> dict[str, Any]:
        return EXPECTED[self.name]

    def claimed(self) -> list[ExpectedActivity]:
        return [a for a in self.expected if a.claimed_by(self.member.identifiers)]

    def pledges(self) -> dict[str, Row]:
        """The pledges by their source record's key."""
        rows = self.first["pledges"]
        keyed = {row["external_id"]: row for row in rows}
        assert len(keyed) == len(rows), "one pledge per source record"
        return keyed

    def of_pledge(self, table: str, key: str) -> list[Row]:
        pledge_id = self.pledges()[key]["id"]
        return [row for row in self.first[table] if row["pledge_id"] == pledge_id]

    def source_records(self) -> dict[str, Row]:
        return {row["external_id"]: row for row in self.first["source_records"]}


PARAMS = [(backend, path.name) for backend in BACKENDS for path in FILES]


@pytest.fixture(scope="module", params=PARAMS, ids=[f"{b}-{n}" for b, n in PARAMS])
async def imported(
    request: pytest.FixtureRequest,
    rated: RatedTemplates,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Imported]:
    backend, name = request.param
    async with fresh_database(rated, backend, tmp_path_factory.mktemp("imported")) as url:
        engine = create_engine(url)
        try:
            sessions = create_session_factory(engine)
            member = await add_file_connector(sessions, DATA / name)
            result = Imported(backend, name, member, expected_activities(DATA / name))
            async with sessions() as session:
                rows = await session.execute(select(Country.alpha2, Country.alpha3))
                result.countries = {alpha2: alpha3 for alpha2, alpha3 in rows}
            try:
                for _ in range(2):
                    result.runs.append(await import_file(sessions, DATA / name))
                    result.states.append(await state_of(engine))
            except Exception as error:  # reported by the test that every file imports
                result.error = f"{type(error).__name__}: {error}"
        finally:
            await engine.dispose()
        yield result


def counts_of(run: SyncRun) -> dict[str, int]:
    names = ("fetched", "created", "updated", "unchanged", "rejected", "unclaimed", "skipped")
    return {name: getattr(run, name) for name in names}


def notes_of(record: Row) -> list[str]:
    notes: list[str] = json.loads(record["notes"])
    return notes


# ---------------------------------------------------------------------------------------------
# 1. Every file imports, through a connector acting for its reporting organisation


async def test_the_connectors_options_are_read_without_deprecated_calls(
    session: AsyncSession,
) -> None:
    """The suite turns warnings into errors (pyproject.toml), so an import run by a test
    fails before its first activity if reading the connector's options warns."""
    member = await add_member(session, iati_identifier="XM-DAC-7")
    config = ConnectorConfig(reporting_orgs=("XM-DAC-7",))
    connector = await add_connector(session, CONNECTOR, ConnectorKind.IATI_FILE, member.id, config)
    options = await options_for(session, connector)
    assert options.countries["CD"] == "COD"
    assert options.member == frozenset({"XM-DAC-7"})


def test_every_file_imports_through_its_reporters_connector(imported: Imported) -> None:
    assert imported.error is None
    first_run = imported.runs[0]
    member = imported.member.identifiers
    activities = imported.expected
    assert len(activities) == imported.figures["activities"]
    keyless = [a for a in activities if a.key is None]
    claimed = imported.claimed()
    unclaimed = [a for a in activities if a.key is not None and not a.claimed_by(member)]
    assert (first_run.status, first_run.error) == (RunStatus.SUCCEEDED, None)
    assert counts_of(first_run) == {
        "fetched": len(activities),
        "created": len(claimed),
        "updated": 0,
        "unchanged": 0,
        "rejected": len(keyless),
        "unclaimed": len(unclaimed),
        "skipped": 0,
    }
    records = imported.source_records()
    assert len(records) == len(claimed) + len(unclaimed)
    for activity in unclaimed:
        assert activity.key is not None
        record = records[activity.key]
        assert (record["state"], record["pledge_id"]) == (SourceState.UNCLAIMED, None)
        assert record["reporting_org"] == activity.reporter
        assert record["payload"] is not None  # kept for the linking issue
        why = "gives no identifier" if activity.reporter is None else "not the member"
        assert any(why in note for note in notes_of(record)), notes_of(record)
    if imported.name == "worldbank.xml":
        # the reporting-org has no ref: the connector selects by the other-identifier keys,
        # and the hub never makes a pledge on an organisation's behalf
        assert len(unclaimed) == 16
        assert {r["state"] for r in records.values()} == {SourceState.UNCLAIMED}
        for table in ("pledges", "money_flows", "endorsements", "targets", "progress_reports"):
            assert imported.first[table] == [], table


# ---------------------------------------------------------------------------------------------
# 2. The importer's results against EXPECTED.json and the documented rules


def test_pledges_are_the_activities_the_member_reports(imported: Imported) -> None:
    figures = imported.figures
    claimed = imported.claimed()
    not_pledged = [a for a in imported.expected if not a.claimed_by(imported.member.identifiers)]
    # pledges = activities - those without a key (dead letters) - those reported by others
    assert len(claimed) == figures["activities"] - len(not_pledged)
    pledges = imported.pledges()
    assert sorted(pledges) == sorted(a.key for a in claimed if a.key is not None)
    records = imported.source_records()
    for activity in claimed:
        assert activity.key is not None
        pledge, record = pledges[activity.key], records[activity.key]
        assert (pledge["lead_member_id"], pledge["pledge_type"]) == (
            imported.member.id,
            PledgeType.FINANCIAL,
        )
        assert (pledge["source_system"], record["state"], record["pledge_id"]) == (
            "iati",
            SourceState.PLEDGE,
            pledge["id"],
        )
        if activity.status is not None:
            assert pledge["implementation_status"] is activity.status, activity.key
        gaps = json.loads(record["gaps"])
        submitted = PublicationStatus.SUBMITTED if not gaps else PublicationStatus.DRAFT
        assert pledge["publication_status"] is submitted, (activity.key, gaps)
        if not activity.focus_possible:
            assert gaps, f"{activity.key}: no focus area, so not SMART-complete"
        # the pledged amount: the counted sum when it is one currency's and above zero
        pledged = activity.pledged()
        amount: tuple[int | None, str | None] = (None, None)
        if len(pledged) == 1:
            [(currency, value)] = pledged.items()
            if value > 0:
                amount = (minor(value, currency), currency)
        assert (pledge["amount_minor"], pledge["currency"]) == amount, activity.key
        if pledged and amount == (None, None):
            notes = notes_of(record)
            assert any("pledged in" in n or "no amount above 0" in n for n in notes), notes
        # dates: start and end, actual else planned; announced when first committed
        start, end = activity.start_and_end()
        assert (pledge["start_date"], pledge["end_date"]) == (start, end), activity.key
        if activity.announced_on() is not None:
            assert pledge["announced_on"] == activity.announced_on(), activity.key
        # titles keep their languages
        titles = {
            t["language"]
            for t in imported.of_pledge("pledge_texts", activity.key)
            if t["field"] == "TITLE"
        }
        assert titles == activity.title_languages, activity.key
        # recipient countries (alpha-2) are target countries (alpha-3); M49 regions
        # 199, 432, 722 the groups LDC, LLDC, SIDS; anything else goes to review
        countries = {imported.countries.get((c or "").upper()) for c in activity.countries}
        groups = {M49_GROUPS.get(c or "") for v, c in activity.regions if v == "2"}
        assert {
            r["country"] for r in imported.of_pledge("pledge_target_countries", activity.key)
        } == countries - {None}, activity.key
        assert {
            r["country_group"] for r in imported.of_pledge("pledge_target_groups", activity.key)
        } == groups - {None}, activity.key
        review = {
            (r["subject"], r["code"])
            for r in imported.first["review_queue"]
            if r["pledge_id"] == pledge["id"]
        }
        for code in activity.countries:
            if imported.countries.get((code or "").upper()) is None:
                assert any(s == "COUNTRY" for s, _ in review), (activity.key, code)
        for vocabulary, code in activity.regions:
            if vocabulary != "2" or code not in M49_GROUPS:
                assert ("REGION", code) in review, (activity.key, code)


def test_transactions_become_signed_money_flows(imported: Imported) -> None:
    figures = imported.figures
    claimed = imported.claimed()
    records = imported.source_records()
    stated = Counter({code: n for code, n in figures["transactions"].items()})
    assert Counter(c or "unknown" for a in imported.expected for c in a.transactions) == stated
    for activity in claimed:
        assert activity.key is not None
        held = Counter(
            (r["kind"], r["amount_minor"], r["currency"], r["value_date"], r["counts_toward_total"])
            for r in imported.of_pledge("money_flows", activity.key)
        )
        wanted = Counter(
            (f.kind, f.amount_minor, f.currency, f.on, f.counts) for f in activity.flows
        )
        assert held == wanted, activity.key
        notes = notes_of(records[activity.key])
        for position in activity.rejected_flows:
            assert any(n.startswith(f"transaction {position}: ") for n in notes), (position, notes)
    flows = imported.first["money_flows"]
    assert len(flows) == sum(len(a.flows) for a in claimed)
    # the file's transactions by type (EXPECTED.json) are its flows by kind, less those of
    # activities that make no pledge and those rejected as flows (unknown types among them)
    wanted_kinds = Counter(
        {FLOW_KINDS[code]: n for code, n in stated.items() if code in FLOW_KINDS}
    )
    for activity in imported.expected:
        codes = activity.transactions
        if activity.claimed_by(imported.member.identifiers):
            codes = [codes[position - 1] for position in activity.rejected_flows]
        wanted_kinds.subtract(FLOW_KINDS[c] for c in codes if c in FLOW_KINDS)
    assert Counter(row["kind"] for row in flows) == +wanted_kinds
    # commitments, signed, per currency: EXPECTED's, less what a documented rule leaves out
    # (activities with no key or reported by someone else; commitments rejected as flows)
    left_out: defaultdict[str, Decimal] = defaultdict(Decimal)
    for activity in imported.expected:
        if not activity.claimed_by(imported.member.identifiers):
            for currency, value in activity.commitments.items():
                left_out[currency] += value
    wanted_sums = {
        currency: Decimal(value) - left_out[currency]
        for currency, value in figures["commitments"].items()
    }
    for activity in claimed:
        for currency, value in activity.commitments.items():
            made = sum(
                (from_minor(f.amount_minor, f.currency) for f in activity.flows
                 if f.kind is K.COMMITMENT and f.currency == currency),
                Decimal(0),
            )  # fmt: skip
            wanted_sums[currency] -= value - made  # a commitment rejected as a flow
    sums: defaultdict[str, int] = defaultdict(int)
    for row in flows:
        if row["kind"] is K.COMMITMENT:
            sums[row["currency"]] += row["amount_minor"]
    held_sums = {currency: from_minor(total, currency) for currency, total in sums.items()}
    assert held_sums == {c: v for c, v in wanted_sums.items() if v != 0}
    if not left_out and all(not a.rejected_flows for a in claimed):
        assert held_sums == {c: Decimal(v) for c, v in figures["commitments"].items()}
    # every flow has its USD equivalent, or says why not
    for row in flows:
        assert row["usd_amount_minor"] is not None or row["usd_missing_reason"], row


def test_participating_organisations_become_endorsements(imported: Imported) -> None:
    member = imported.member.identifiers
    state = imported.first
    organisations = {row["id"]: row for row in state["organisations"]}
    roles: defaultdict[tuple[int, int], set[Role]] = defaultdict(set)
    for row in state["endorsement_roles"]:
        roles[row["pledge_id"], row["organisation_id"]].add(row["role"])
    known = set(member)  # identifiers of organisations the hub holds
    silent: list[tuple[str, str]] = []
    for activity in imported.claimed():
        assert activity.key is not None
        lead_roles, partners = activity.organisations(member)
        held = {
            organisations[row["organisation_id"]]["iati_identifier"]: row
            for row in imported.of_pledge("endorsements", activity.key)
        }
        pledge_id = imported.pledges()[activity.key]["id"]
        lead = held.pop(next(iter(member)))
        assert lead["status"] is EndorsementStatus.ACCEPTED
        assert roles[pledge_id, lead["organisation_id"]] == lead_roles, activity.key
        review = [
            row
            for row in state["review_queue"]
            if row["external_id"] == activity.key and row["pledge_id"] == pledge_id
        ]
        reviewed = {row["code"] for row in review}
        wanted: dict[str, set[Role]] = {}
        for ref, partner in partners.items():
            if ref in known or hub_type(partner.type) is not None:
                known.add(ref)
                wanted[ref] = partner.roles
            elif ref not in reviewed:
                silent.append((activity.key, ref))
        assert {ref: roles[pledge_id, row["organisation_id"]] for ref, row in held.items()} == (
            wanted
        ), activity.key
        assert {row["status"] for row in held.values()} <= {EndorsementStatus.INVITED}
        # organisations with no identifier go to review, never into organisations
        for identifier, _, _, name in activity.participating:
            if identifier is None:
                assert (name or "(no name)")[:300] in reviewed, (activity.key, name)
    for ref in known - member:
        [organisation] = [o for o in organisations.values() if o["iati_identifier"] == ref]
        assert organisation["membership_status"] is MembershipStatus.NONE
    # the file's figures (EXPECTED.json): every identifier but the member's holds the roles
    # of the table, through endorsements, or waits in review; the member's are the lead's
    if imported.claimed() and len(imported.claimed()) == len(imported.expected):
        stated = {
            ref: {ROLES[c] for c in codes if c in ROLES}
            for ref, codes in imported.figures["roles"].items()
        }
        lead_stated = set().union(*(stated.pop(ref) for ref in member & set(stated)))
        held_by_ref: defaultdict[str, set[Role]] = defaultdict(set)
        lead_held: set[Role] = set()
        for (_, organisation_id), held_roles in roles.items():
            identifier = organisations[organisation_id]["iati_identifier"]
            if identifier in member:
                lead_held |= held_roles
            else:
                held_by_ref[identifier] |= held_roles
        assert lead_held - {Role.LEAD} == lead_stated - {Role.CO_LEAD}
        in_review = {row["code"] for row in state["review_queue"]}
        assert set(held_by_ref) <= set(stated)
        unexplained = sorted(
            ref
            for ref, wanted_roles in stated.items()
            if wanted_roles and held_by_ref.get(ref) != wanted_roles and ref not in in_review
        )
        assert unexplained == [], (
            f"{len(unexplained)} of EXPECTED.json's identifiers are neither endorsed with their "
            f"roles nor in review: {', '.join(unexplained)}"
        )
    # an organisation the rules cannot type (no type, 30, 90) waits for a person: the
    # mapping's organisation-type table says "review", so the review queue must name it
    assert silent == [], (
        f"{len(silent)} endorsement(s) of identified organisations without a type are "
        f"neither made nor queued for review, e.g. {silent[:3]}"
    )


def test_results_become_targets_and_progress(imported: Imported) -> None:
    figures = imported.figures
    claimed = imported.claimed()
    state = imported.first
    others = [a for a in imported.expected if not a.claimed_by(imported.member.identifiers)]
    # every indicator of a pledge becomes a target, or goes to review with its reason
    assert figures["indicators"] == sum(a.indicators for a in imported.expected)
    assert figures["results"] == sum(a.results for a in imported.expected)
    targets_made = sum(len(a.targets) for a in claimed)
    reviews = sum(len(a.indicator_reviews) for a in claimed)
    assert targets_made + reviews + sum(a.indicators for a in others) == figures["indicators"]
    assert len(state["targets"]) == targets_made
    for activity in claimed:
        assert activity.key is not None
        pledge_id = imported.pledges()[activity.key]["id"]
        rows = sorted(imported.of_pledge("targets", activity.key), key=lambda r: r["id"])
        assert [
            (
                r["measure"],
                r["unit"],
                r["direction"],
                r["target_value"],
                r["deadline"],
                r["baseline_value"],
                r["baseline_date"],
                r["cumulative"],
            )
            for r in rows
        ] == [
            (
                t.measure,
                t.unit,
                t.direction,
                t.target_value,
                t.deadline,
                t.baseline_value,
                t.baseline_date,
                True,
            )
            for t in activity.targets
        ], activity.key
        index = {row["id"]: n for n, row in enumerate(rows)}
        reviewed = {
            row["code"]
            for row in state["review_queue"]
            if row["pledge_id"] == pledge_id and row["subject"] == "INDICATOR"
        }
        assert reviewed == set(activity.indicator_reviews), activity.key
        reports = imported.of_pledge("progress_reports", activity.key)
        values: defaultdict[int, dict[int, tuple[Decimal | None, str | None]]] = defaultdict(dict)
        for row in state["progress_values"]:
            if row["pledge_id"] == pledge_id:
                values[row["report_id"]][index[row["target_id"]]] = (row["value"], row["note"])
        held_results = {
            (r["period_start"], r["period_end"]): values[r["id"]]
            for r in reports
            if r["amount_minor"] is None
        }
        assert held_results == activity.result_reports, activity.key
        # disbursements and expenditures: one report per calendar year and currency
        held_money = Counter(
            (r["period_start"], r["period_end"], r["amount_minor"], r["currency"])
            for r in reports
            if r["amount_minor"] is not None
        )
        wanted_money = Counter(
            (date(year, 1, 1), date(year, 12, 31), minor(total, currency), currency)
            for (year, currency), total in activity.disbursed().items()
            if total > 0
        )
        assert held_money == wanted_money, activity.key
        notes = notes_of(imported.source_records()[activity.key])
        for (year, _), total in activity.disbursed().items():
            if total <= 0:
                assert any(n.startswith(f"{year}: ") and "no report" in n for n in notes)
        assert all(r["reporting_member_id"] == imported.member.id for r in reports)


def test_dead_letters_only_for_activities_without_a_key(imported: Imported) -> None:
    letters = imported.first["dead_letters"]
    keyless = [a for a in imported.expected if a.key is None]
    assert len(letters) == len(keyless)
    for activity, letter in zip(keyless, sorted(letters, key=lambda r: r["id"]), strict=True):
        assert KEYLESS in letter["reason"]
        assert f"{imported.name} line {activity.line}" in letter["place"]
        assert letter["status"] is LetterStatus.OPEN
        [payload] = found_activities(letter["payload"].encode())
        assert payload.xpath("string(iati-identifier)").strip() == ""


# ---------------------------------------------------------------------------------------------
# 3. Importing again changes nothing


def test_importing_again_changes_nothing(imported: Imported) -> None:
    before, after = imported.first, imported.states[1]
    first_run, again = imported.runs
    claimed = len(imported.claimed())
    unclaimed = first_run.unclaimed
    # unchanged records write nothing; a record that cannot be taken stays one dead letter
    assert counts_of(again) == {
        "fetched": first_run.fetched,
        "created": 0,
        "updated": 0,
        "unchanged": claimed + unclaimed,
        "rejected": first_run.rejected,
        "unclaimed": 0,
        "skipped": 0,
    }
    assert [e for e in after["audit_events"] if e["sync_run_id"] == again.id] == []
    assert len(after["audit_events"]) == len(before["audit_events"])
    for table in TABLES:
        if table != "sync_runs":
            assert after[table] == before[table], table


# ---------------------------------------------------------------------------------------------
# 6. Every record the import made has its audit event, of the connector and its run


def test_every_record_made_has_the_connectors_audit_event(imported: Imported) -> None:
    state = imported.first
    run = imported.runs[0]
    events = [e for e in state["audit_events"] if e["sync_run_id"] == run.id]
    assert {
        (e["actor_kind"], e["connector"], e["actor_client_id"], e["actor_member_id"])
        for e in events
    } <= {("CONNECTOR", CONNECTOR, f"connector:{CONNECTOR}", imported.member.id)}
    made = {(e["action"], e["entity_type"], e["entity_id"]) for e in events}

    def has(action: str, entity: str, rows: list[Row]) -> None:
        missing = [r["id"] for r in rows if (action, entity, str(r["id"])) not in made]
        assert missing == [], f"{entity} without a {action} event of run {run.id}"

    has("pledge.create", "Pledge", state["pledges"])
    has("flow.import", "MoneyFlow", state["money_flows"])
    has("progress.import", "ProgressReport", state["progress_reports"])
    lead = [e for e in state["endorsements"] if e["status"] is EndorsementStatus.ACCEPTED]
    invited = [e for e in state["endorsements"] if e["status"] is EndorsementStatus.INVITED]
    has("endorsement.invite", "Endorsement", invited)
    created = [o for o in state["organisations"] if o["id"] != imported.member.id]
    has("organisation.create", "Organisation", created)
    with_roles = {
        (r["pledge_id"], r["organisation_id"])
        for r in state["endorsement_roles"]
        if r["role"] != "LEAD"
    }
    has(
        "endorsement.roles",
        "Endorsement",
        [e for e in lead if (e["pledge_id"], e["organisation_id"]) in with_roles],
    )
    # targets are recorded with their pledge, in its creation event
    created_targets = {
        target["id"]
        for e in events
        if e["action"] == "pledge.create"
        for target in (json.loads(e["changes"]).get("targets", {}).get("after") or [])
    }
    assert {t["id"] for t in state["targets"]} <= created_targets


# ---------------------------------------------------------------------------------------------
# 4. A run killed mid-file, run again, holds what one clean import holds


def hub_env(url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    env["HUB_DATABASE_URL"] = url
    return env


def p2c_hub(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [P2C_HUB, *args], env=hub_env(url), capture_output=True, text=True, timeout=600, check=False
    )


def summary(state: State) -> dict[str, Counter[tuple[Any, ...]]]:
    """What a database holds of imports, keyed by what the source names (not by row ids)."""
    organisations = {o["id"]: o["iati_identifier"] for o in state["organisations"]}
    pledges = {p["id"]: p["external_id"] for p in state["pledges"]}
    targets = {t["id"]: (pledges[t["pledge_id"]], t["label"]) for t in state["targets"]}
    reports = {r["id"]: r["external_id"] for r in state["progress_reports"]}
    roles: defaultdict[tuple[int, int], list[str]] = defaultdict(list)
    for row in state["endorsement_roles"]:
        roles[row["pledge_id"], row["organisation_id"]].append(str(row["role"]))
    return {
        "pledges": Counter(
            (p["source_system"], p["external_id"], p["amount_minor"], p["currency"], p["title"],
             p["publication_status"], p["implementation_status"], p["announced_on"])
            for p in state["pledges"]
        ),
        "flows": Counter(
            (f["external_id"], pledges[f["pledge_id"]], f["kind"], f["amount_minor"],
             f["currency"], f["value_date"], f["counts_toward_total"], f["usd_amount_minor"])
            for f in state["money_flows"]
        ),
        "endorsements": Counter(
            (pledges[e["pledge_id"]], organisations[e["organisation_id"]], e["status"],
             tuple(sorted(roles[e["pledge_id"], e["organisation_id"]])))
            for e in state["endorsements"]
        ),
        "reports": Counter(
            (r["external_id"], pledges[r["pledge_id"]], r["period_start"], r["period_end"],
             r["amount_minor"], r["currency"])
            for r in state["progress_reports"]
        ),
        "values": Counter(
            (reports[v["report_id"]], targets[v["target_id"]], v["value"], v["note"])
            for v in state["progress_values"]
        ),
        "targets": Counter(
            (pledges[t["pledge_id"]], t["label"], t["measure"], t["target_value"], t["deadline"])
            for t in state["targets"]
        ),
        "organisations": Counter(
            (o["iati_identifier"], o["organisation_type"], o["membership_status"])
            for o in state["organisations"]
        ),
        "source_records": Counter(
            (s["source"], s["external_id"], s["state"], s["content_hash"], s["pending"])
            for s in state["source_records"]
        ),
        "dead_letters": Counter((d["external_id"], d["reason"]) for d in state["dead_letters"]),
        "review": Counter(
            (r["external_id"], r["subject"], r["code"]) for r in state["review_queue"]
        ),
    }  # fmt: skip


async def wait_for_marker(engine: AsyncEngine, process: subprocess.Popen[bytes], at: int) -> int:
    """Poll the run's marker until it reaches ``at``; the process must still be running."""
    reading = create_session_factory(engine, read_only=True)
    deadline = asyncio.get_running_loop().time() + 300
    while True:
        async with reading() as session:
            position = await session.scalar(select(func.max(SyncRun.position))) or 0
        if position >= at:
            return position
        if process.poll() is not None:
            pytest.fail(
                f"the import ended (code {process.returncode}) before its marker reached {at}"
            )
        if asyncio.get_running_loop().time() > deadline:
            pytest.fail(f"the marker stayed at {position}")
        await asyncio.sleep(0.02)


SLICE = 80


def first_activities(path: Path, count: int) -> Path:
    """CD.xml's first ``count`` activities, as they are, in a file of their own: enough
    batches to be killed in, at a fraction of the whole file's import time."""
    root = etree.parse(str(DATA / "CD.xml")).getroot()
    for activity in root.findall("iati-activity")[count:]:
        root.remove(activity)
    path.write_bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
    return path


async def test_a_run_killed_mid_file_resumes_and_holds_what_one_import_holds(
    backend: str, rated: RatedTemplates, tmp_path: Path
) -> None:
    path = first_activities(tmp_path / "CD-first.xml", SLICE)
    async with fresh_database(rated, backend, tmp_path) as url:
        engine = create_engine(url)
        try:
            sessions = create_session_factory(engine)
            await add_file_connector(sessions, path)
            assert counts_of(await import_file(sessions, path))["created"] == SLICE
            reference = await state_of(engine)  # one clean import, in another database
        finally:
            await engine.dispose()
    command = ["import", "iati", str(path), "--connector", CONNECTOR, "--batch-size", "5"]
    async with fresh_database(rated, backend, tmp_path) as url:
        engine = create_engine(url)
        try:
            await add_file_connector(create_session_factory(engine), path)
            process = await asyncio.to_thread(
                subprocess.Popen,
                [P2C_HUB, *command],
                env=hub_env(url),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            try:
                await wait_for_marker(engine, process, 10)
            finally:
                process.send_signal(signal.SIGKILL)
                await asyncio.to_thread(process.wait, timeout=30)
            assert process.returncode == -signal.SIGKILL
            again = await asyncio.to_thread(p2c_hub, url, *command)
            assert again.returncode == 0, again.stderr
            runs = await asyncio.to_thread(p2c_hub, url, "connectors", "runs", CONNECTOR, "--json")
            assert runs.returncode == 0, runs.stderr
            state = await state_of(engine)
        finally:
            await engine.dispose()
    second, killed = json.loads(runs.stdout)
    assert killed["status"] == RunStatus.INTERRUPTED.value
    marker = next(r["position"] for r in state["sync_runs"] if r["id"] == killed["id"])
    assert marker >= 10
    # the marker and the counts are written with their batch: they say what was committed
    assert killed["fetched"] == killed["created"] == marker
    assert (second["status"], second["resumedFrom"]) == (RunStatus.SUCCEEDED.value, killed["id"])
    # the second run read on from the marker: the activities after it, each new
    assert second["fetched"] == second["created"] == SLICE - marker
    assert second["unchanged"] == second["rejected"] == 0
    held, wanted = summary(state), summary(reference)
    for part, rows in held.items():
        assert [row for row, n in rows.items() if n > 1] == [], f"duplicate {part}"
        assert rows == wanted[part], part
    assert sum(held["pledges"].values()) == SLICE


# ---------------------------------------------------------------------------------------------
# 5. Dead letters: kept with payload, reason and place; listed; not doubled; retried


SAMPLE_TITLES = ("Herziene titel: mensenrechten en vrede", "Herziene titel: Jordanië 2016")


def edited_sample(path: Path, *, retitled: bool) -> Path:
    """The first three activities of example_203_file.xml, edited by this test:

    - the first loses its ``<iati-identifier>`` and ``<other-identifier>``: it has no key;
    - the second gains DAC sector 22040 and a result with a quantitative target (500 schools
      by 2030), so that it is SMART-complete and lands SUBMITTED, under review;
    - with ``retitled``, the second and third get new titles (on the same lines), as a
      publisher's next version of the file would.
    """
    root = etree.parse(str(DATA / "example_203_file.xml")).getroot()
    keep = root.findall("iati-activity")[:3]
    for activity in root.findall("iati-activity")[3:]:
        root.remove(activity)
    keyless, submitted, neighbour = keep
    for tag in ("iati-identifier", "other-identifier"):
        for element in keyless.findall(tag):
            keyless.remove(element)
    submitted.append(etree.fromstring('<sector vocabulary="1" code="22040"/>'))
    submitted.append(
        etree.fromstring(
            '<result type="1"><title><narrative>Schools connected</narrative></title>'
            '<indicator measure="1" ascending="1"><title><narrative>Schools connected to '
            'broadband</narrative></title><baseline year="2020" iso-date="2020-01-01" '
            'value="0"/><period><period-start iso-date="2021-01-01"/><period-end '
            'iso-date="2030-12-31"/><target value="500"/></period></indicator></result>'
        )
    )
    if retitled:
        for activity, title in zip((submitted, neighbour), SAMPLE_TITLES, strict=True):
            first(activity, "title/narrative").text = title
    path.write_bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
    return path


async def test_dead_letters_keep_what_could_not_be_taken_and_are_retried(
    backend: str, rated: RatedTemplates, tmp_path: Path
) -> None:
    sample = tmp_path / "p2c-sample.xml"
    edited_sample(sample, retitled=False)
    keyless, submitted, neighbour = expected_activities(sample)
    assert (keyless.key, submitted.key, neighbour.key) == (None, "NL-1-PPR-25275", "NL-1-PPR-27787")
    async with fresh_database(rated, backend, tmp_path) as url:
        engine = create_engine(url)
        sessions = create_session_factory(engine)
        try:
            await add_file_connector(sessions, DATA / "example_203_file.xml")
            first_run = await import_file(sessions, sample)
            assert counts_of(first_run)["created"] == 2
            assert counts_of(first_run)["rejected"] == 1
            state = await state_of(engine)
            pledges = {p["external_id"]: p for p in state["pledges"]}
            # the precondition of the refusal below: imported SMART-complete, under review
            assert pledges[submitted.key]["publication_status"] is PublicationStatus.SUBMITTED, [
                json.loads(r["gaps"]) for r in state["source_records"]
            ]
            [letter] = state["dead_letters"]
            assert KEYLESS in letter["reason"]
            assert f"p2c-sample.xml line {keyless.line}" in letter["place"]
            assert letter["external_id"] is None
            [payload] = found_activities(letter["payload"].encode())
            assert own_text(first(payload, "title/narrative")) == "ICTJ 2013-2014"
            listed = await asyncio.to_thread(p2c_hub, url, "deadletters", "list", "--json")
            assert listed.returncode == 0, listed.stderr
            [shown] = json.loads(listed.stdout)
            assert (shown["id"], shown["reason"], shown["place"], shown["payload"]) == (
                letter["id"],
                letter["reason"],
                letter["place"],
                letter["payload"],
            )
            again = await import_file(sessions, sample)
            assert counts_of(again)["unchanged"] == 2
            assert len((await state_of(engine))["dead_letters"]) == 1, "not doubled"

            # the publisher's next version: the pledge under review is refused (UNDER_REVIEW),
            # its neighbour in the same batch is updated all the same
            edited_sample(sample, retitled=True)
            changed = await import_file(sessions, sample)
            assert counts_of(changed) == {
                "fetched": 3, "created": 0, "updated": 1, "unchanged": 0, "rejected": 2,
                "unclaimed": 0, "skipped": 0,
            }  # fmt: skip
            await import_file(sessions, sample)  # and once more: nothing new
            state = await state_of(engine)
            pledges = {p["external_id"]: p for p in state["pledges"]}
            assert pledges[neighbour.key]["title"] == SAMPLE_TITLES[1]
            assert pledges[submitted.key]["title"] != SAMPLE_TITLES[0]
            refused = [d for d in state["dead_letters"] if d["external_id"] == submitted.key]
            assert len(state["dead_letters"]) == 2
            [under_review] = refused
            assert under_review["reason"].startswith("UNDER_REVIEW")
            assert SAMPLE_TITLES[0] in (under_review["payload"] or "")
            assert f"line {submitted.line}" in under_review["place"]

            # the fix: the secretariat returns the pledge, so it leaves review
            async with sessions() as session:
                await return_pledge(session, pledges[submitted.key]["id"], "over to you")
                await session.commit()
            retried = await asyncio.to_thread(p2c_hub, url, "deadletters", "retry")
            assert retried.returncode == 0, retried.stderr
            state = await state_of(engine)
        finally:
            await engine.dispose()
    letters = {d["id"]: d for d in state["dead_letters"]}
    runs = sorted(state["sync_runs"], key=lambda r: r["id"])
    retry_run = runs[-1]
    assert letters[under_review["id"]]["status"] is LetterStatus.RESOLVED
    assert letters[under_review["id"]]["resolved_by_run_id"] == retry_run["id"]
    # the letter with no key cannot be taken by any fix of the connector: it keeps waiting
    still = letters[letter["id"]]
    assert (still["status"], still["attempts"]) == (LetterStatus.OPEN, 2)
    assert KEYLESS in still["reason"]
    pledges = {p["external_id"]: p for p in state["pledges"]}
    assert pledges[submitted.key]["title"] == SAMPLE_TITLES[0]

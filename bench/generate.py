"""A realistic coalition at a chosen scale, written straight into a PostgreSQL database.

The hub's own migrations and country reference build the schema and its indexes; the rows
then go in with COPY, so that ``large`` (50,000 pledges) takes seconds, not the hours the
hub's own commands would (each write audited). The data is skewed like a real coalition: a
few members lead most pledges, Access dominates the focus areas, some countries draw most
pledges, most pledges have few co-endorsers and a few have many, and progress reports pile
up on the older published pledges. The same seed gives the same rows.

    .venv/bin/python bench/generate.py --scale small --database-url postgresql://...
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import random
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg
from servers import hub_command


@dataclass(frozen=True, slots=True)
class Scale:
    """How big a coalition: members, pledges, endorsements beyond the lead's, reports."""

    members: int
    others: int
    pledges: int
    endorsements: int
    reports: int


SCALES = {
    "tiny": Scale(members=20, others=10, pledges=120, endorsements=360, reports=480),
    "small": Scale(members=100, others=50, pledges=1_000, endorsements=3_000, reports=4_000),
    "large": Scale(
        members=2_000, others=500, pledges=50_000, endorsements=150_000, reports=200_000
    ),
}

FOCUS_AREAS = (("ACCESS", 45), ("ADOPTION", 25), ("VALUE_CREATION", 15), ("ACCELERATE", 15))
PLEDGE_TYPES = (("FINANCIAL", 40), ("PROGRAMMATIC", 35), ("POLICY", 15), ("ADVOCACY", 10))
PUBLICATION = (
    ("PUBLISHED", 78),
    ("FULFILLED", 4),
    ("WITHDRAWN", 3),
    ("DRAFT", 10),
    ("SUBMITTED", 5),
)
ORGANISATION_TYPES = (
    ("PRIVATE_SECTOR", 30),
    ("GOVERNMENT", 20),
    ("INTERNATIONAL_ORGANIZATION", 15),
    ("CIVIL_SOCIETY", 20),
    ("ACADEMIA", 8),
    ("YOUTH", 4),
    ("MEDIA", 3),
)
INDICATORS = (
    ("PEOPLE_CONNECTED", "people"),
    ("SCHOOLS_CONNECTED", "schools"),
    ("HEALTH_FACILITIES_CONNECTED", "facilities"),
    ("PEOPLE_TRAINED", "people"),
    ("FIBRE_KM", "km"),
)
CURRENCIES = (("USD", Decimal(1)), ("EUR", Decimal("1.08")), ("GBP", Decimal("1.27")))
ROLES = (("ENDORSER", 50), ("FUNDER", 20), ("IMPLEMENTER", 25), ("CO_LEAD", 5))
WORDS = tuple(
    [
        "Connect",
        "Schools",
        "Rural",
        "Fibre",
        "Digital",
        "Skills",
        "Women",
        "Youth",
        "Health",
        "Broadband",
        "Satellite",
        "Community",
        "Networks",
        "Mobile",
        "Money",
        "Literacy",
        "Clinics",
        "Islands",
        "Towers",
        "Policy",
        "Spectrum",
        "Affordable",
        "Devices",
        "Coding",
        "Innovation",
        "Hubs",
        "Open",
        "Data",
        "Agriculture",
        "Farmers",
        "Last",
        "Mile",
    ]
)
BENCH_RATES = "bench (fixed rate)"


def _weighted(rng: random.Random, table: Sequence[tuple[str, int]]) -> str:
    return rng.choices([key for key, _ in table], [weight for _, weight in table])[0]


def _zipf_weights(count: int, exponent: float = 1.1) -> list[float]:
    return [1 / (rank**exponent) for rank in range(1, count + 1)]


def _title(rng: random.Random, number: int) -> str:
    return f"{' '.join(rng.sample(WORDS, 4))} #{number}"


class _Rows:
    """Every table's rows, built in memory in dependency order."""

    def __init__(
        self, scale: Scale, countries: list[str], seed: int, now: datetime, name_key: Any
    ) -> None:
        self.rng = random.Random(seed)
        self.scale = scale
        self.countries = countries
        self.now = now
        self.name_key = name_key
        self.tables: dict[str, list[tuple[Any, ...]]] = {}

    def build(self) -> dict[str, list[tuple[Any, ...]]]:
        self._organisations()
        self._pledges()
        self._endorsements()
        self._targets_and_reports()
        return self.tables

    def _organisations(self) -> None:
        rows = []
        for number in range(1, self.scale.members + self.scale.others + 1):
            member = number <= self.scale.members
            name = f"{_title(self.rng, number).split(' #')[0]} Partners {number}"
            since = self.now - timedelta(days=self.rng.randint(30, 1500))
            rows.append(
                (
                    number,
                    name,
                    self.name_key(name),
                    _weighted(self.rng, ORGANISATION_TYPES),
                    self.rng.choice(self.countries),
                    "MEMBER" if member else "NONE",
                    since if member else None,
                    self.now,
                    self.now,
                )
            )
        self.tables["organisations"] = rows

    def _pledges(self) -> None:
        rng, scale = self.rng, self.scale
        lead_weights = _zipf_weights(scale.members)
        country_weights = _zipf_weights(len(self.countries), 0.8)
        leads = rng.choices(range(1, scale.members + 1), lead_weights, k=scale.pledges)
        pledges: list[tuple[Any, ...]] = []
        areas: list[tuple[Any, ...]] = []
        targets_c: list[tuple[Any, ...]] = []
        groups: list[tuple[Any, ...]] = []
        self.pledge_leads: dict[int, int] = {}
        self.public: list[int] = []
        for number, lead in enumerate(leads, start=1):
            status = _weighted(rng, PUBLICATION)
            announced = date(2022, 1, 1) + timedelta(days=rng.randint(0, 1760))
            published = (
                datetime.combine(announced, datetime.min.time(), UTC)
                if status in ("PUBLISHED", "FULFILLED", "WITHDRAWN")
                else None
            )
            kind = _weighted(rng, PLEDGE_TYPES)
            amount = currency = usd = rate = None
            if kind in ("FINANCIAL", "PROGRAMMATIC") and rng.random() < 0.85:
                currency, rate = rng.choices(CURRENCIES, (70, 20, 10))[0]
                amount = int(rng.lognormvariate(13, 1.6)) * 100
                usd = int(Decimal(amount) * rate)
            pledges.append(
                (
                    number,
                    lead,
                    _title(rng, number),
                    f"What pledge {number} commits to, and how it will be measured.",
                    kind,
                    status,
                    rng.choice(("PIPELINE", "IMPLEMENTATION", "IMPLEMENTATION", "COMPLETED")),
                    announced,
                    published,
                    self.now if status == "WITHDRAWN" else None,
                    1,
                    amount,
                    currency,
                    usd,
                    rate if usd is not None else None,
                    announced if usd is not None else None,
                    BENCH_RATES if usd is not None else None,
                    self.now,
                    self.now,
                )
            )
            self.pledge_leads[number] = lead
            if published is not None:
                self.public.append(number)
            chosen = {_weighted(rng, FOCUS_AREAS) for _ in range(rng.choice((1, 1, 2, 3)))}
            areas.extend((number, area) for area in sorted(chosen))
            count = rng.choice((1, 1, 1, 2, 3, 5))
            for country in sorted(set(rng.choices(self.countries, country_weights, k=count))):
                targets_c.append((number, country))
            if rng.random() < 0.1:
                groups.append((number, rng.choice(("LDC", "LLDC", "SIDS"))))
        self.tables["pledges"] = pledges
        self.tables["pledge_focus_areas"] = areas
        self.tables["pledge_target_countries"] = targets_c
        self.tables["pledge_target_groups"] = groups

    def _endorsements(self) -> None:
        rng, scale = self.rng, self.scale
        organisations = scale.members + scale.others
        rows: list[tuple[Any, ...]] = []
        roles: list[tuple[Any, ...]] = []
        number = itertools.count(1)
        for pledge, lead in self.pledge_leads.items():
            rows.append(
                (next(number), pledge, lead, "ACCEPTED", None, None, self.now, self.now, self.now)
            )
            roles.append((pledge, lead, "LEAD", lead))
        extra = max(scale.endorsements - scale.pledges, 0)
        pledge_weights = [rng.paretovariate(1.5) for _ in range(scale.pledges)]
        taken = {(pledge, lead) for pledge, lead in self.pledge_leads.items()}
        for pledge in rng.choices(range(1, scale.pledges + 1), pledge_weights, k=extra * 2):
            if len(rows) >= scale.endorsements:
                break
            organisation = rng.randint(1, organisations)
            if (pledge, organisation) in taken:
                continue
            taken.add((pledge, organisation))
            status = rng.choices(("ACCEPTED", "INVITED", "DECLINED"), (85, 10, 5))[0]
            at = self.now - timedelta(days=rng.randint(1, 600))
            rows.append(
                (
                    next(number),
                    pledge,
                    organisation,
                    status,
                    self.pledge_leads[pledge],
                    at,
                    at if status == "ACCEPTED" else None,
                    at if status == "DECLINED" else None,
                    self.now,
                )
            )
            roles.append((pledge, organisation, _weighted(rng, ROLES), None))
        self.tables["endorsements"] = rows
        self.tables["endorsement_roles"] = roles

    def _targets_and_reports(self) -> None:
        rng = self.rng
        targets: list[tuple[Any, ...]] = []
        reports: list[tuple[Any, ...]] = []
        values: list[tuple[Any, ...]] = []
        by_pledge: dict[int, list[tuple[int, Decimal]]] = {}
        target_number = itertools.count(1)
        for pledge in self.pledge_leads:
            for indicator, unit in rng.sample(INDICATORS, rng.choice((1, 1, 2, 3))):
                goal = Decimal(rng.randrange(100, 100_000, 100))
                number = next(target_number)
                targets.append(
                    (number, pledge, indicator, unit, "QUANTITATIVE", "ASCENDING", True, goal)
                )
                by_pledge.setdefault(pledge, []).append((number, goal))
        weights = [1 / (rank**0.7) for rank in range(1, len(self.public) + 1)]
        counts: dict[int, int] = {}
        for pledge in rng.choices(self.public, weights, k=self.scale.reports):
            counts[pledge] = counts.get(pledge, 0) + 1
        report_number = itertools.count(1)
        for pledge, count in counts.items():
            start = date(2022, 1, 1) + timedelta(days=rng.randint(0, 400))
            reached = {target: Decimal(0) for target, _ in by_pledge[pledge]}
            for period in range(count):
                period_start = start + timedelta(days=30 * period)
                period_end = period_start + timedelta(days=29)
                number = next(report_number)
                status = rng.choices(("VERIFIED", "SUBMITTED", "REJECTED"), (60, 35, 5))[0]
                reports.append(
                    (
                        number,
                        pledge,
                        self.pledge_leads[pledge],
                        period_start,
                        period_end,
                        datetime.combine(period_end, datetime.min.time(), UTC),
                        f"Period {period + 1} of pledge {pledge}.",
                        status,
                        self.now,
                        self.now,
                    )
                )
                for target, goal in by_pledge[pledge]:
                    reached[target] += Decimal(rng.randrange(0, int(goal) // 10 + 1))
                    values.append((number, target, pledge, reached[target]))
        self.tables["targets"] = [(*row, self.now, self.now) for row in targets]
        self.tables["progress_reports"] = reports
        self.tables["progress_values"] = values


COLUMNS = {
    "organisations": (
        "id name name_key organisation_type headquarters_country membership_status "
        "member_since created_at updated_at"
    ),
    "pledges": (
        "id lead_member_id title description pledge_type publication_status "
        "implementation_status announced_on published_at withdrawn_at version amount_minor "
        "currency usd_amount_minor usd_rate usd_rate_date usd_rate_source created_at updated_at"
    ),
    "pledge_focus_areas": "pledge_id focus_area",
    "pledge_target_countries": "pledge_id country",
    "pledge_target_groups": "pledge_id country_group",
    "endorsements": (
        "id pledge_id organisation_id status invited_by_id invited_at accepted_at declined_at "
        "updated_at"
    ),
    "endorsement_roles": "pledge_id organisation_id role lead_member_id",
    "targets": (
        "id pledge_id indicator unit measure direction cumulative target_value created_at "
        "updated_at"
    ),
    "progress_reports": (
        "id pledge_id reporting_member_id period_start period_end submitted_at narrative "
        "status created_at updated_at"
    ),
    "progress_values": "report_id target_id pledge_id value",
}


SEQUENCED = ("organisations", "pledges", "endorsements", "targets", "progress_reports")


def _plain_url(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


def _endorsement_rows(rows: list[tuple[Any, ...]]) -> Iterator[tuple[Any, ...]]:
    """Endorsements with created_at: the invitation's date, or the lead's now."""
    for row in rows:
        yield (*row, row[5] or row[8])


async def _copy(url: str, tables: dict[str, list[tuple[Any, ...]]]) -> dict[str, int]:
    connection = await asyncpg.connect(_plain_url(url))
    try:
        async with connection.transaction():
            # Rows built consistent: skip the foreign-key triggers for the bulk load.
            await connection.execute("SET LOCAL session_replication_role = replica")
            for table, columns in COLUMNS.items():
                names = columns.split()
                records = tables[table]
                if table == "endorsements":
                    names.append("created_at")
                    records = list(_endorsement_rows(records))
                await connection.copy_records_to_table(table, records=records, columns=names)
            for table in SEQUENCED:
                await connection.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
        await connection.execute("ANALYZE")
    finally:
        await connection.close()
    return {table: len(rows) for table, rows in tables.items()}


async def _countries(url: str) -> list[str]:
    connection = await asyncpg.connect(_plain_url(url))
    try:
        rows = await connection.fetch(
            "SELECT DISTINCT country FROM country_group_memberships WHERE valid_to IS NULL "
            "ORDER BY country"
        )
    finally:
        await connection.close()
    return [row["country"] for row in rows]


def generate(url: str, scale: str, seed: int = 2026) -> dict[str, Any]:
    """Migrate an empty database and fill it; returns row counts and seconds taken."""
    from hub.organisations.matching import normalise_name

    started = time.perf_counter()
    settings = {"HUB_DATABASE_URL": url.replace("postgresql://", "postgresql+asyncpg://")}
    hub_command(["migrate"], settings)
    hub_command(["countries", "load"], settings)
    countries = asyncio.run(_countries(url))
    now = datetime(2026, 11, 1, tzinfo=UTC)
    tables = _Rows(SCALES[scale], countries, seed, now, normalise_name).build()
    counts = asyncio.run(_copy(url, tables))
    return {"scale": scale, "rows": counts, "seconds": round(time.perf_counter() - started, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="small")
    parser.add_argument("--database-url", required=True, help="an empty PostgreSQL database")
    parser.add_argument("--seed", type=int, default=2026)
    arguments = parser.parse_args()
    result = generate(arguments.database_url, arguments.scale, arguments.seed)
    print(f"{arguments.scale}: {result['rows']} in {result['seconds']} s", file=sys.stderr)


if __name__ == "__main__":
    main()

"""The demo coalition as plain data, drawn from a seeded generator: same seed, same coalition.

Organisations are fictional; countries, currencies and groups are real. The shape follows
what the coalition reports: a few members with many pledges and most with one or two,
about a third of pledges co-endorsed, most published, yearly progress reports with gaps.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from hub.countries.models import CountryGroup
from hub.countries.reference import read_reference
from hub.endorsements.models import EndorsementStatus, Role
from hub.money.models import TransactionKind
from hub.organisations.models import MembershipStatus, OrganisationType
from hub.pledges.models import (
    BeneficiaryGroup,
    Direction,
    FocusArea,
    ImplementationStatus,
    Indicator,
    Measure,
    PledgeType,
    PublicationStatus,
)
from hub.progress.models import ReportStatus

AS_OF = date(2026, 6, 30)
"""The demo's "now": reports and statuses are drawn as they would stand on this day."""

TARGET_COUNTRIES = (
    # least developed countries
    "AFG",
    "BGD",
    "BEN",
    "BFA",
    "BDI",
    "KHM",
    "CAF",
    "TCD",
    "COM",
    "COD",
    "DJI",
    "ETH",
    "GMB",
    "GIN",
    "HTI",
    "KIR",
    "LAO",
    "LSO",
    "LBR",
    "MDG",
    "MWI",
    "MLI",
    "MOZ",
    "MMR",
    "NPL",
    "NER",
    "RWA",
    "SEN",
    "SLE",
    "SLB",
    "SOM",
    "SSD",
    "TLS",
    "TGO",
    "TUV",
    "UGA",
    "TZA",
    "YEM",
    "ZMB",
    # landlocked and small island developing states beyond them, and recent graduates
    "BOL",
    "KGZ",
    "MNG",
    "PRY",
    "TJK",
    "ZWE",
    "FJI",
    "JAM",
    "MDV",
    "WSM",
    "VUT",
    "PNG",
    "BTN",
    "STP",
)

CO_ROLES = [Role.CO_LEAD, Role.FUNDER, Role.IMPLEMENTER, Role.ENDORSER]

IMPLEMENTATION = (
    ("IMPLEMENTATION", 45),
    ("PIPELINE", 20),
    ("COMPLETED", 20),
    ("CANCELLED", 10),
    ("SUSPENDED", 5),
)

CURRENCIES = (
    ("USD", 50),
    ("EUR", 20),
    ("GBP", 10),
    ("JPY", 7),
    ("CHF", 4),
    ("ZAR", 3),
    ("INR", 3),
    ("KWD", 2),
    ("XOF", 1),
)
"""Pledge currencies and their weights; KWD and XOF have no loaded rate, on purpose."""

NAMES = {
    OrganisationType.GOVERNMENT: [
        "Ministry of Digital Economy of {country}",
        "Ministry of ICT and Innovation of {country}",
        "Department for Connectivity of {country}",
        "Office of the Digital Envoy of {country}",
    ],
    OrganisationType.PRIVATE_SECTOR: [
        "{place} Fibre Networks",
        "{place} Mobile",
        "{place} Satellite Link",
        "{place} Towers",
        "{place} Cloud Services",
        "{place} Digital Payments",
    ],
    OrganisationType.INTERNATIONAL_ORGANIZATION: [
        "{place} Development Bank",
        "{place} Connectivity Fund",
        "{place} Digital Alliance",
    ],
    OrganisationType.CIVIL_SOCIETY: [
        "Connect {place} Foundation",
        "{place} Digital Rights Network",
        "{place} Women in Tech",
    ],
    OrganisationType.ACADEMIA: ["University of {place}", "{place} Institute of Technology"],
    OrganisationType.YOUTH: ["{place} Youth Coders", "Young Connectors of {place}"],
    OrganisationType.MEDIA: ["{place} Broadcasting Network", "{place} Community Radio"],
}

PLACES = (
    "Sahel",
    "Pacific",
    "Andes",
    "Mekong",
    "Great Lakes",
    "Horn",
    "Himalaya",
    "Caribbean",
    "Indian Ocean",
    "Kalahari",
    "Steppe",
    "Zambezi",
    "Niger Delta",
    "Atlas",
    "Volta",
    "Nile",
    "Limpopo",
    "Irrawaddy",
    "Amazon",
    "Danube",
    "Rift Valley",
    "Coral Sea",
    "Gobi",
    "Sahara",
)

MEMBER_COUNTS = {
    OrganisationType.GOVERNMENT: 10,
    OrganisationType.PRIVATE_SECTOR: 18,
    OrganisationType.INTERNATIONAL_ORGANIZATION: 10,
    OrganisationType.CIVIL_SOCIETY: 10,
    OrganisationType.ACADEMIA: 6,
    OrganisationType.YOUTH: 5,
    OrganisationType.MEDIA: 5,
}

HEADQUARTERS = (
    "USA",
    "GBR",
    "FRA",
    "DEU",
    "JPN",
    "CHE",
    "KEN",
    "NGA",
    "IND",
    "ZAF",
    "BRA",
    "SEN",
    "RWA",
    "FJI",
    "NPL",
    "BGD",
    "ETH",
    "JAM",
)

QUANTITATIVE = {
    Indicator.PEOPLE_CONNECTED: ("people", 10_000, 2_000_000),
    Indicator.SCHOOLS_CONNECTED: ("schools", 50, 5_000),
    Indicator.HEALTH_FACILITIES_CONNECTED: ("health facilities", 20, 1_500),
    Indicator.PEOPLE_TRAINED: ("people", 1_000, 500_000),
    Indicator.FIBRE_KM: ("km", 100, 20_000),
    Indicator.USD_MOBILISED: ("USD", 1_000_000, 200_000_000),
}


@dataclass
class OrganisationPlan:
    key: str
    name: str
    organisation_type: OrganisationType
    headquarters: str
    status: MembershipStatus
    joined: date


@dataclass
class InvitationPlan:
    organisation: str
    roles: list[Role]
    status: EndorsementStatus


@dataclass
class TargetPlan:
    indicator: Indicator
    unit: str
    measure: Measure
    direction: Direction
    cumulative: bool
    baseline: Decimal | None
    target: Decimal | None
    deadline: date
    label: str | None = None
    description: str | None = None


@dataclass
class ReportPlan:
    period_start: date
    period_end: date
    submitted_on: date
    fractions: list[Decimal | None]
    status: ReportStatus
    disbursed_share: Decimal | None


@dataclass
class FlowPlan:
    kind: TransactionKind
    share: Decimal
    on: date
    counts: bool
    reason: str


@dataclass
class PledgePlan:
    key: str
    lead: str
    title: str
    description: str
    pledge_type: PledgeType
    focus_areas: list[FocusArea]
    countries: list[str]
    groups: list[CountryGroup]
    beneficiaries: list[BeneficiaryGroup]
    sdgs: list[int]
    announced_on: date
    start: date
    end: date
    amount: Decimal | None
    currency: str | None
    publication: PublicationStatus
    was_published: bool
    implementation: ImplementationStatus
    invitations: list[InvitationPlan] = field(default_factory=list)
    targets: list[TargetPlan] = field(default_factory=list)
    reports: list[ReportPlan] = field(default_factory=list)
    flows: list[FlowPlan] = field(default_factory=list)


@dataclass
class DemoPlan:
    organisations: list[OrganisationPlan]
    pledges: list[PledgePlan]


def _organisations(rng: random.Random, names: dict[str, str]) -> list[OrganisationPlan]:
    organisations: list[OrganisationPlan] = []
    used: set[str] = set()
    for organisation_type, count in MEMBER_COUNTS.items():
        for _ in range(count):
            name = ""
            while not name or name in used:
                template = rng.choice(NAMES[organisation_type])
                country = rng.choice(TARGET_COUNTRIES)
                name = template.format(place=rng.choice(PLACES), country=names[country])
            used.add(name)
            organisations.append(
                OrganisationPlan(
                    key=f"org-{len(organisations) + 1:03d}",
                    name=name,
                    organisation_type=organisation_type,
                    headquarters=rng.choice(HEADQUARTERS),
                    status=MembershipStatus.MEMBER,
                    joined=date(2021, 1, 1) + timedelta(days=rng.randrange(0, 900)),
                )
            )
    for status in [MembershipStatus.NONE] * 4 + [MembershipStatus.APPLIED] * 3:
        name = f"{rng.choice(PLACES)} Implementing Partner {len(organisations) + 1}"
        organisations.append(
            OrganisationPlan(
                key=f"org-{len(organisations) + 1:03d}",
                name=name,
                organisation_type=rng.choice(list(MEMBER_COUNTS)),
                headquarters=rng.choice(TARGET_COUNTRIES),
                status=status,
                joined=date(2024, 1, 1) + timedelta(days=rng.randrange(0, 500)),
            )
        )
    for suspended in rng.sample(organisations[:64], 2):
        suspended.status = MembershipStatus.SUSPENDED
    return organisations


def _weighted(rng: random.Random, options: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([o for o, _ in options], weights=[w for _, w in options])[0]


def _amount(rng: random.Random, currency: str) -> Decimal:
    usd = 10 ** rng.uniform(5, 8.7)
    per_usd = {"JPY": 150, "INR": 85, "ZAR": 18, "XOF": 600, "KWD": 0.3}.get(currency, 1)
    rounded = round(usd * per_usd, -len(str(int(usd * per_usd))) + 3)
    return Decimal(int(rounded))


def _targets(rng: random.Random, plan: PledgePlan) -> list[TargetPlan]:
    deadline = plan.end
    if plan.pledge_type in (PledgeType.POLICY, PledgeType.ADVOCACY):
        return [
            TargetPlan(
                Indicator.OTHER,
                "milestone",
                Measure.QUALITATIVE,
                Direction.ASCENDING,
                True,
                None,
                None,
                deadline,
                label="Policy adopted",
                description="A national broadband or digital inclusion policy is adopted",
            )
        ]
    targets = []
    for indicator in rng.sample(list(QUANTITATIVE), rng.choice([1, 1, 2])):
        unit, low, high = QUANTITATIVE[indicator]
        target = Decimal(int(10 ** rng.uniform(len(str(low)) - 1, len(str(high)) - 1)))
        targets.append(
            TargetPlan(
                indicator,
                unit,
                Measure.QUANTITATIVE,
                Direction.ASCENDING,
                rng.random() < 0.8,
                Decimal(0),
                max(target, Decimal(low)),
                deadline,
            )
        )
    if rng.random() < 0.15:
        targets.append(
            TargetPlan(
                Indicator.OTHER,
                "% of monthly income",
                Measure.QUANTITATIVE,
                Direction.DESCENDING,
                True,
                Decimal("5.0"),
                Decimal("2.0"),
                deadline,
                label="Price of 1 GB of mobile data",
            )
        )
    return targets


REPORTING = (
    ImplementationStatus.IMPLEMENTATION,
    ImplementationStatus.COMPLETED,
    ImplementationStatus.SUSPENDED,
)
"""Work that has started reports on itself; planned or cancelled work has nothing to report."""


def _reports(rng: random.Random, plan: PledgePlan) -> list[ReportPlan]:
    if not plan.was_published or plan.publication is PublicationStatus.WITHDRAWN:
        return []
    if plan.implementation not in REPORTING:
        return []
    reports: list[ReportPlan] = []
    start = plan.announced_on
    stops_early = rng.random() < 0.25
    progress = Decimal(0)
    while start + timedelta(days=365) <= AS_OF:
        end = start + timedelta(days=364)
        if stops_early and reports:
            break
        progress = min(Decimal(1), progress + Decimal(rng.randint(10, 45)) / 100)
        status = _weighted(rng, (("VERIFIED", 70), ("SUBMITTED", 20), ("REJECTED", 10)))
        fractions: list[Decimal | None] = [
            None if target.measure is Measure.QUALITATIVE else progress for target in plan.targets
        ]
        reports.append(
            ReportPlan(
                start,
                end,
                min(end + timedelta(days=rng.randint(15, 90)), AS_OF),
                fractions,
                ReportStatus(status),
                progress / 2 if plan.amount else None,
            )
        )
        start = end + timedelta(days=1)
    return reports


def _flows(rng: random.Random, plan: PledgePlan) -> list[FlowPlan]:
    if plan.amount is None or not plan.was_published:
        return []
    flows = [
        FlowPlan(
            TransactionKind.COMMITMENT,
            Decimal(1),
            plan.announced_on,
            True,
            "the lead member's own commitment",
        )
    ]
    for report in plan.reports:
        if report.disbursed_share is not None:
            flows.append(
                FlowPlan(
                    TransactionKind.DISBURSEMENT,
                    Decimal("0.2"),
                    report.period_end,
                    True,
                    "disbursed by the lead member",
                )
            )
    if len(flows) > 2 and rng.random() < 0.3:
        flows.append(
            FlowPlan(
                TransactionKind.DISBURSEMENT,
                Decimal("-0.05"),
                flows[-1].on,
                True,
                "correction of the previous disbursement",
            )
        )
    return flows


def _publication(rng: random.Random) -> tuple[PublicationStatus, bool]:
    status = PublicationStatus(
        _weighted(
            rng,
            (
                ("DRAFT", 8),
                ("SUBMITTED", 8),
                ("PUBLISHED", 62),
                ("FULFILLED", 10),
                ("WITHDRAWN", 12),
            ),
        )
    )
    if status is PublicationStatus.WITHDRAWN:
        return status, rng.random() < 0.7
    return status, status in (PublicationStatus.PUBLISHED, PublicationStatus.FULFILLED)


def build_plan(seed: int = 2030, pledges: int = 320) -> DemoPlan:
    """The whole demo coalition for ``seed``."""
    rng = random.Random(seed)
    names = {row.alpha3: row.names["name"] for row in read_reference()[0]}
    organisations = _organisations(rng, names)
    members = [
        o
        for o in organisations
        if o.status in (MembershipStatus.MEMBER, MembershipStatus.SUSPENDED)
    ]
    leads = [m.key for m in members]
    weights = [1 / (rank + 4) ** 1.6 for rank in range(len(members))]
    leads += [m.key for m in rng.choices(members, weights=weights, k=pledges - len(members))]
    invitable = [o.key for o in organisations if o.status is not MembershipStatus.APPLIED]
    member_keys = {o.key for o in organisations if o.status is MembershipStatus.MEMBER}
    plans = []
    for number, lead in enumerate(sorted(leads, key=lambda key: rng.random()), start=1):
        pledge_type = rng.choice(list(PledgeType))
        announced = date(2021, 6, 1) + timedelta(days=rng.randrange(0, 4 * 365))
        currency = _weighted(rng, CURRENCIES)
        has_money = pledge_type is PledgeType.FINANCIAL or rng.random() < 0.3
        publication, was_published = _publication(rng)
        if publication is PublicationStatus.FULFILLED:
            implementation = ImplementationStatus.COMPLETED
        else:
            implementation = ImplementationStatus(_weighted(rng, IMPLEMENTATION))
        area_count = (
            0
            if publication is PublicationStatus.DRAFT and rng.random() < 0.3
            else (rng.choice([1, 1, 2, 3]))
        )
        countries = rng.sample(TARGET_COUNTRIES, rng.choice([1, 1, 2, 3, 5]))
        plan = PledgePlan(
            key=f"pledge-{number:04d}",
            lead=lead,
            title=_title(rng, pledge_type, [names[code] for code in countries]),
            description="Demo pledge: fictional organisation, real countries.",
            pledge_type=pledge_type,
            focus_areas=rng.sample(list(FocusArea), area_count),
            countries=countries,
            groups=rng.sample(list(CountryGroup), 1) if rng.random() < 0.15 else [],
            beneficiaries=rng.sample(list(BeneficiaryGroup), rng.choice([0, 1, 2])),
            sdgs=sorted(rng.sample([4, 5, 8, 9, 10, 17], rng.choice([1, 2]))),
            announced_on=announced,
            start=announced + timedelta(days=rng.randrange(0, 120)),
            end=announced + timedelta(days=365 * rng.choice([2, 3, 4, 5])),
            amount=_amount(rng, currency) if has_money else None,
            currency=currency if has_money else None,
            publication=publication,
            was_published=was_published,
            implementation=implementation,
        )
        if rng.random() < 0.35:
            partner = rng.choice(sorted(member_keys - {lead}))
            plan.invitations.append(
                InvitationPlan(partner, [rng.choice(CO_ROLES)], EndorsementStatus.ACCEPTED)
            )
            candidates = [k for k in invitable if k not in (lead, partner)]
            others = rng.sample(candidates, rng.choice([0, 0, 1, 2, 3]))
            for other in others:
                status = _weighted(
                    rng, (("ACCEPTED", 60), ("INVITED", 15), ("DECLINED", 15), ("REVOKED", 10))
                )
                if other not in member_keys and status in ("ACCEPTED", "REVOKED"):
                    status = "INVITED"
                roles = rng.sample(
                    [Role.CO_LEAD, Role.FUNDER, Role.IMPLEMENTER, Role.ENDORSER],
                    rng.choice([1, 1, 2]),
                )
                plan.invitations.append(InvitationPlan(other, roles, EndorsementStatus(status)))
        plan.targets = _targets(rng, plan)
        plan.reports = _reports(rng, plan)
        plan.flows = _flows(rng, plan)
        plans.append(plan)
    return DemoPlan(organisations, plans)


def _title(rng: random.Random, pledge_type: PledgeType, country_names: list[str]) -> str:
    where = country_names[0] if len(country_names) == 1 else f"{len(country_names)} countries"
    verbs = {
        PledgeType.FINANCIAL: ["Finance rural broadband in", "Invest in mobile coverage for"],
        PledgeType.POLICY: ["Adopt a national broadband plan with", "Open spectrum policy in"],
        PledgeType.ADVOCACY: ["Champion affordable data in", "Advocate digital inclusion in"],
        PledgeType.PROGRAMMATIC: [
            "Connect schools in",
            "Train digital skills in",
            "Bring clinics online in",
        ],
    }
    return f"{rng.choice(verbs[pledge_type])} {where}"

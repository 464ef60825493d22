"""The hub's enums in GraphQL, under the same SCREAMING_CASE values, each value described.

Registration happens on import; schema modules import the enums from here.
"""

from __future__ import annotations

import enum

import strawberry

from hub.countries.models import CountryGroup
from hub.endorsements.models import EndorsementStatus, Role
from hub.imports.models import ConnectorKind, LetterStatus, LinkRole, ReviewStatus, RunStatus
from hub.money.models import TransactionKind
from hub.organisations.models import MembershipStatus, OrganisationType
from hub.organisations.queries import OrganisationOrderField
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
from hub.pledges.queries import PledgeOrderField
from hub.progress.measures import ReportingStatus
from hub.progress.models import ReportStatus
from hub.stats import StatsGroupBy

__all__ = [
    "BeneficiaryGroup", "ConnectorKind", "CountryGroup", "Direction", "EndorsementStatus",
    "FocusArea", "ImplementationStatus", "Indicator", "LetterStatus", "LinkRole", "Measure",
    "MembershipStatus", "OrganisationOrderField", "OrganisationType", "PledgeOrderField",
    "PledgeType", "PublicationStatus", "ReportStatus", "ReportingStatus", "ReviewStatus", "Role",
    "RunStatus", "SortDirection", "StatsGroupBy", "TransactionKind",
]  # fmt: skip


def _register(
    cls: type[enum.Enum], description: str, values: dict[str, str], name: str | None = None
) -> None:
    """Register ``cls`` (as ``name``, when the hub's name says too little in GraphQL) with a
    description for the enum and every one of its values."""
    missing = {member.name for member in cls} - set(values)
    if missing:
        raise ValueError(f"{cls.__name__} values without a description: {sorted(missing)}")
    strawberry.enum(cls, name=name, description=description)
    for value in cls.__strawberry_definition__.values:  # type: ignore[attr-defined]
        value.description = values[value.name]


_register(
    OrganisationType,
    "The seven P2C constituencies.",
    {
        "GOVERNMENT": "A national or local government, ministry or regulator.",
        "PRIVATE_SECTOR": "A company: operators, vendors, platforms, investors.",
        "INTERNATIONAL_ORGANIZATION": "A UN agency, development bank or regional body.",
        "CIVIL_SOCIETY": "A non-governmental or community organisation.",
        "ACADEMIA": "A university or research institute.",
        "YOUTH": "A youth-led organisation or network.",
        "MEDIA": "A media organisation.",
    },
)
_register(
    MembershipStatus,
    "Where an organisation stands with the coalition.",
    {
        "NONE": "Known from partner data, not a member.",
        "APPLIED": "Asked to join; the secretariat has not decided yet.",
        "MEMBER": "A coalition member: may pledge and endorse.",
        "SUSPENDED": "A former member whose membership is suspended.",
    },
)
_register(
    PledgeType,
    "The four kinds of P2C pledge.",
    {
        "FINANCIAL": "Money committed to connectivity.",
        "POLICY": "A change of law, regulation or policy.",
        "ADVOCACY": "Campaigning and awareness.",
        "PROGRAMMATIC": "A programme or project delivered on the ground.",
    },
)
_register(
    FocusArea,
    "The four P2C focus areas a pledge may serve.",
    {
        "ACCESS": "Infrastructure and coverage: people can connect.",
        "ADOPTION": "Affordability, devices and skills: people do connect.",
        "VALUE_CREATION": "Content, services and businesses that make connecting worthwhile.",
        "ACCELERATE": "Financing and partnerships that speed up the other three.",
    },
)
_register(
    PublicationStatus,
    "Where a pledge is in its public life.",
    {
        "DRAFT": "Being written; never public.",
        "SUBMITTED": "Waiting for the secretariat; not public yet.",
        "PUBLISHED": "Public.",
        "FULFILLED": "Public, and the commitment was met.",
        "WITHDRAWN": "Withdrawn; public only if it was published before.",
    },
)
_register(
    ImplementationStatus,
    "How the pledged work is going, apart from its publication.",
    {
        "PIPELINE": "Planned, not started.",
        "IMPLEMENTATION": "Under way.",
        "COMPLETED": "Done.",
        "CANCELLED": "Stopped for good.",
        "SUSPENDED": "Paused.",
    },
)
_register(
    CountryGroup,
    "The UN country groups P2C focuses on.",
    {
        "LDC": "Least Developed Countries.",
        "LLDC": "Landlocked Developing Countries.",
        "SIDS": "Small Island Developing States.",
    },
)
_register(
    BeneficiaryGroup,
    "People a pledge means to reach first.",
    {
        "WOMEN_AND_GIRLS": "Women and girls.",
        "YOUTH": "Young people.",
        "CHILDREN": "Children.",
        "PERSONS_WITH_DISABILITIES": "Persons with disabilities.",
        "OLDER_PERSONS": "Older persons.",
        "RURAL_COMMUNITIES": "Rural and remote communities.",
        "INDIGENOUS_PEOPLES": "Indigenous peoples.",
        "REFUGEES_AND_DISPLACED_PERSONS": "Refugees and displaced persons.",
        "SMALL_BUSINESSES": "Micro, small and medium enterprises.",
    },
)
_register(
    Role,
    "What an organisation does in a pledge; one may hold several roles.",
    {
        "LEAD": "Leads the pledge and is accountable for it.",
        "CO_LEAD": "Shares the lead.",
        "FUNDER": "Provides money.",
        "IMPLEMENTER": "Carries out the work.",
        "ENDORSER": "Stands behind the pledge.",
    },
)
_register(
    EndorsementStatus,
    "Where an endorsement stands; the public sees ACCEPTED ones, the members concerned all.",
    {
        "INVITED": "Invited, no answer yet.",
        "ACCEPTED": "Accepted by the endorsing organisation itself.",
        "DECLINED": "Declined by the invited organisation.",
        "REVOKED": "Withdrawn after the invitation or acceptance.",
    },
)
_register(
    Indicator,
    "What a target measures.",
    {
        "PEOPLE_CONNECTED": "People newly connected.",
        "SCHOOLS_CONNECTED": "Schools connected.",
        "HEALTH_FACILITIES_CONNECTED": "Health facilities connected.",
        "PEOPLE_TRAINED": "People trained in digital skills.",
        "USD_MOBILISED": "US dollars mobilised.",
        "FIBRE_KM": "Kilometres of fibre laid.",
        "OTHER": "Something else, named by the target's label.",
    },
)
_register(
    Measure,
    "Whether a target is a number or a described outcome.",
    {
        "QUANTITATIVE": "A number to reach.",
        "QUALITATIVE": "An outcome described in words.",
    },
)
_register(
    Direction,
    "Whether success means the value going up or down.",
    {
        "ASCENDING": "Higher is better.",
        "DESCENDING": "Lower is better (a price, a gap).",
    },
)
_register(
    ReportStatus,
    "The secretariat's verdict on a progress report.",
    {
        "SUBMITTED": "Not reviewed yet.",
        "VERIFIED": "Checked by the secretariat.",
        "REJECTED": "Refused; never public.",
    },
)
_register(
    ReportingStatus,
    "Whether a pledge reports on time (yearly).",
    {
        "REPORTED": "A report within 12 months of the last one (or of publication).",
        "DUE": "More than 12 months since.",
        "OVERDUE": "More than 24 months since.",
    },
)
_register(
    TransactionKind,
    "What a money flow is, after IATI transaction types.",
    {
        "COMMITMENT": "A firm commitment of money.",
        "PLEDGE": "An announced intention, not yet committed.",
        "DISBURSEMENT": "Money paid out.",
        "EXPENDITURE": "Money spent directly.",
        "INCOMING": "Money received from another organisation.",
    },
)
_register(
    PledgeOrderField,
    "What a list of pledges can be ordered by.",
    {
        "ANNOUNCED_ON": "The date the pledge was announced.",
        "USD_AMOUNT": "The pledged amount in US dollars (pledges without one come last).",
        "TITLE": "The title.",
    },
)
_register(
    OrganisationOrderField,
    "What a list of organisations can be ordered by.",
    {
        "NAME": "The name.",
        "MEMBER_SINCE": "When the organisation became a member (non-members come last).",
        "RECORDED": "When the hub first recorded the organisation.",
    },
)
_register(
    StatsGroupBy,
    "How pledge statistics are grouped.",
    {
        "FOCUS_AREA": "By focus area; a pledge may serve several.",
        "PLEDGE_TYPE": "By pledge type.",
        "COUNTRY": "By target country (ISO 3166-1 alpha-3); a pledge may target several.",
        "COUNTRY_GROUP": "By LDC, LLDC and SIDS, as of each pledge's announcement.",
        "MEMBER_TYPE": "By the constituency of the organisations endorsing the pledge.",
        "YEAR": "By the year the pledge was announced.",
    },
)


@strawberry.enum(description="A sort direction.")
class SortDirection(enum.Enum):
    ASC = strawberry.enum_value("ASC", description="Smallest first.")
    DESC = strawberry.enum_value("DESC", description="Largest first.")


_register(
    ConnectorKind,
    "Where a connector's records come from.",
    {
        "IATI_FILE": "IATI activity files, from disk or a URL (p2c-hub import iati).",
        "IATI_DATASTORE": "The IATI Datastore's API, with an API key, paged by cursorMark.",
        "WORLD_BANK": "The World Bank Projects API, paged by rows and offset.",
        "JSON_API": "An operator's JSON API behind OAuth 2.0, through a declared field mapping.",
    },
    name="ConnectorKind",
)
_register(
    RunStatus,
    "Where a sync run stands.",
    {
        "RUNNING": "Under way (or its process died and the next run has not noticed yet).",
        "SUCCEEDED": "Read its sources to the end.",
        "FAILED": "Stopped on the error it names; what its committed batches wrote stays.",
        "INTERRUPTED": "Its process stopped mid-run; the next run over the same bytes resumes "
        "after its position.",
    },
    name="SyncRunStatus",
)
_register(
    LetterStatus,
    "Whether a dead letter still waits.",
    {
        "OPEN": "Its record was not taken yet: a retry tries it again.",
        "RESOLVED": "A later run took its record.",
    },
    name="DeadLetterStatus",
)
_register(
    ReviewStatus,
    "Whether a review item still waits for a person.",
    {"OPEN": "Waits for a person.", "RESOLVED": "Looked at."},
    name="ReviewStatus",
)
_register(
    LinkRole,
    "What a source record is to the pledge it is linked to (see the README's linking rules).",
    {
        "LEAD": "It writes the pledge: its member leads, its commitments are the ones counted.",
        "RECEIVER": "The receiving end of the lead's money: its incoming funds are the same "
        "money, never counted again.",
        "PROVIDER": "The funding end, reported by an organisation that pledged nothing through "
        "the hub: it informs the link.",
        "THIRD_PARTY": "Another organisation's report on the same activity (IATI "
        "related-activity type 5).",
        "TWIN": "The same activity from another source (World Bank project P…, IATI activity "
        "44000-P…).",
    },
    name="LinkRole",
)

"""The authorization matrix, kept as data: what every mutation and every non-public query field
answers to each kind of caller on each kind of object.

Who may do what is decided in a few places (``hub.lifecycle``'s table, ``hub.authorization``,
``hub.visibility``, the commands); this file pins the answer a partner actually gets over HTTP,
so that a rule drifting, or a root field added without anyone deciding who may call it, fails
here. Every refused call must leave the pledge graph's tables exactly as they were. The
matrix runs in full on PostgreSQL and on a sample on SQLite; the refused-token cases of the
OAuth issue run once per root field on both.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from joserfc.jwk import RSAKey
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.auth.clients import Credentials, create_client, revoke_client
from hub.auth.scopes import KIND_SCOPES, MEMBER_WRITES, ClientKind
from hub.endorsements.models import EndorsementStatus, Role
from hub.endorsements.service import invite, respond
from hub.imports.connectors import ConnectorConfig, HttpConfig, add_connector
from hub.imports.models import ConnectorKind
from hub.organisations.models import MembershipStatus, OrganisationType
from hub.organisations.service import create_organisation
from hub.pledges.models import FocusArea, Indicator, Pledge, PledgeType, PublicationStatus
from hub.pledges.rules import PledgeDraft, TargetDraft
from hub.pledges.service import (
    TargetChange,
    create_pledge,
    fulfil_pledge,
    publish_pledge,
    submit_pledge,
)
from hub.progress.models import ReportStatus
from hub.progress.rules import ReportDraft
from hub.progress.service import report_progress, review_report
from hub.types import utcnow
from schema import build_schema
from tests.fixtures.factories import add_member, add_review_item
from tests.fixtures.oauth import basic, claims_for, get_token, hub_signing_key, sign
from tests.fixtures.partners import (
    APPROVE,
    CREATE,
    CREATE_ORGANISATION,
    INVITE,
    REJECT,
    REPORT,
    RESPOND,
    RETURN,
    REVOKE,
    UPDATE,
    UPDATE_ORGANISATION,
    VERIFY,
    VIEWER,
    Partners,
    gid,
    move,
    running_partners,
    smart_pledge,
)

PS, ES, RS = PublicationStatus, EndorsementStatus, ReportStatus

# --- The axes ---------------------------------------------------------------------------------

PRINCIPALS = ("anonymous", "owner", "stranger", "lacking", "secretariat", "auditor")
"""The callers, in the matrix's column order: no token; alpha's partner (the owning member);
beta's partner (a member with nothing to do with the objects); a client of alpha's member
whose token lacks the scope the field needs (see ``lacking_token``); the secretariat (every
secretariat scope); an auditor (audit:read)."""

OWN, OTHER, PUBLISHED, DRAFT, NONE = "own", "other", "published", "draft", "-"
"""The objects: ``own`` is alpha's record in the status the field acts on (so that the rightful
caller succeeds), ``other`` gamma's record in that same status, ``published`` and ``draft``
alpha's record on a published or a draft pledge (``OBJECTS`` spells each out per field). Fields
that make a record, and ``viewer``, have no object (``NONE``)."""

PUBLIC = frozenset(
    {"_entities", "_service", "node", "nodes", "pledges", "members", "organisations"}
    | {"countries", "pledgeStats", "rateLimit"}
)
"""Query fields anyone may call without a token: they answer what the caller may see."""

# --- The expected outcomes ------------------------------------------------------------------

OK, NULL = "ok", "null"
UNAUTH, SCOPE = "UNAUTHENTICATED", "MISSING_SCOPE"
NF, NP, IT = "NOT_FOUND", "NOT_PERMITTED", "INVALID_TRANSITION"
NOT_PUBLISHED = "PLEDGE_NOT_PUBLISHED"

PARTNER_ONLY = (UNAUTH, SCOPE, SCOPE, SCOPE)  # anonymous, owner, stranger, lacking
SECRETARIAT_OK = (*PARTNER_ONLY, OK, SCOPE)
SECRETARIAT_IT = (*PARTNER_ONLY, IT, SCOPE)
NO_SECRETARIAT = (SCOPE, SCOPE)  # secretariat, auditor: no member scope

ROWS: dict[tuple[str, str], tuple[str, ...]] = {
    # (field, object): (anonymous, owner, stranger, lacking, secretariat, auditor)
    ("createPledge", NONE): (UNAUTH, OK, OK, SCOPE, *NO_SECRETARIAT),
    ("updatePledge", OWN): (UNAUTH, OK, NF, SCOPE, *NO_SECRETARIAT),
    ("updatePledge", OTHER): (UNAUTH, NF, NF, SCOPE, *NO_SECRETARIAT),
    ("updatePledge", PUBLISHED): (UNAUTH, OK, NP, SCOPE, *NO_SECRETARIAT),
    ("updatePledge", DRAFT): (UNAUTH, OK, NF, SCOPE, *NO_SECRETARIAT),
    ("submitPledge", OWN): (UNAUTH, OK, NF, SCOPE, *NO_SECRETARIAT),
    ("submitPledge", OTHER): (UNAUTH, NF, NF, SCOPE, *NO_SECRETARIAT),
    ("submitPledge", PUBLISHED): (UNAUTH, IT, NP, SCOPE, *NO_SECRETARIAT),
    ("submitPledge", DRAFT): (UNAUTH, OK, NF, SCOPE, *NO_SECRETARIAT),
    ("returnPledge", OWN): SECRETARIAT_OK,
    ("returnPledge", OTHER): SECRETARIAT_OK,
    ("returnPledge", PUBLISHED): SECRETARIAT_IT,
    ("returnPledge", DRAFT): SECRETARIAT_IT,
    ("publishPledge", OWN): SECRETARIAT_OK,
    ("publishPledge", OTHER): SECRETARIAT_OK,
    ("publishPledge", PUBLISHED): SECRETARIAT_IT,
    ("publishPledge", DRAFT): SECRETARIAT_IT,
    ("withdrawPledge", OWN): (UNAUTH, OK, NF, SCOPE, OK, SCOPE),
    ("withdrawPledge", OTHER): (UNAUTH, NF, NF, SCOPE, OK, SCOPE),
    ("withdrawPledge", PUBLISHED): (UNAUTH, OK, NP, SCOPE, OK, SCOPE),
    ("withdrawPledge", DRAFT): (UNAUTH, OK, NF, SCOPE, OK, SCOPE),
    ("markPledgeFulfilled", OWN): SECRETARIAT_OK,
    ("markPledgeFulfilled", OTHER): SECRETARIAT_OK,
    ("markPledgeFulfilled", PUBLISHED): SECRETARIAT_OK,
    ("markPledgeFulfilled", DRAFT): SECRETARIAT_IT,
    ("inviteEndorser", OWN): (UNAUTH, OK, NF, SCOPE, *NO_SECRETARIAT),
    ("inviteEndorser", OTHER): (UNAUTH, NF, NF, SCOPE, *NO_SECRETARIAT),
    ("inviteEndorser", PUBLISHED): (UNAUTH, OK, NP, SCOPE, *NO_SECRETARIAT),
    ("inviteEndorser", DRAFT): (UNAUTH, OK, NF, SCOPE, *NO_SECRETARIAT),
    ("respondToEndorsement", OWN): (UNAUTH, NP, NF, SCOPE, *NO_SECRETARIAT),
    ("respondToEndorsement", OTHER): (UNAUTH, OK, NF, SCOPE, *NO_SECRETARIAT),
    ("respondToEndorsement", PUBLISHED): (UNAUTH, NP, NP, SCOPE, *NO_SECRETARIAT),
    ("respondToEndorsement", DRAFT): (UNAUTH, NP, NF, SCOPE, *NO_SECRETARIAT),
    ("revokeEndorsement", OWN): (UNAUTH, OK, NF, SCOPE, *NO_SECRETARIAT),
    ("revokeEndorsement", OTHER): (UNAUTH, OK, NF, SCOPE, *NO_SECRETARIAT),
    ("revokeEndorsement", PUBLISHED): (UNAUTH, OK, NP, SCOPE, *NO_SECRETARIAT),
    ("revokeEndorsement", DRAFT): (UNAUTH, OK, NF, SCOPE, *NO_SECRETARIAT),
    ("reportProgress", OWN): (UNAUTH, OK, NP, SCOPE, *NO_SECRETARIAT),
    ("reportProgress", OTHER): (UNAUTH, OK, NP, SCOPE, *NO_SECRETARIAT),
    ("reportProgress", PUBLISHED): (UNAUTH, OK, NP, SCOPE, *NO_SECRETARIAT),
    ("reportProgress", DRAFT): (UNAUTH, NOT_PUBLISHED, NF, SCOPE, *NO_SECRETARIAT),
    ("verifyProgress", OWN): SECRETARIAT_OK,
    ("verifyProgress", OTHER): SECRETARIAT_OK,
    ("verifyProgress", PUBLISHED): SECRETARIAT_IT,
    ("verifyProgress", DRAFT): SECRETARIAT_IT,
    ("rejectProgress", OWN): SECRETARIAT_OK,
    ("rejectProgress", OTHER): SECRETARIAT_OK,
    ("rejectProgress", PUBLISHED): SECRETARIAT_IT,
    ("rejectProgress", DRAFT): SECRETARIAT_IT,
    ("createOrganisation", NONE): SECRETARIAT_OK,
    ("updateOrganisation", OWN): SECRETARIAT_OK,
    ("updateOrganisation", OTHER): SECRETARIAT_OK,
    ("updateOrganisation", PUBLISHED): SECRETARIAT_OK,
    ("updateOrganisation", DRAFT): SECRETARIAT_OK,
    ("approveMembership", OWN): SECRETARIAT_IT,
    ("approveMembership", OTHER): SECRETARIAT_IT,
    ("approveMembership", PUBLISHED): SECRETARIAT_IT,
    ("approveMembership", DRAFT): SECRETARIAT_OK,
    ("viewer", NONE): (NULL, OK, OK, OK, OK, OK),
    # The auditors' fields: audit:read, which the secretariat and auditors hold. No head is
    # signed in this hub, and the event asked for is not one.
    ("auditTrail", NONE): (UNAUTH, SCOPE, SCOPE, SCOPE, OK, OK),
    ("endorsementTrail", NONE): (UNAUTH, SCOPE, SCOPE, SCOPE, OK, OK),
    ("treeHead", NONE): (UNAUTH, SCOPE, SCOPE, SCOPE, NULL, NULL),
    ("inclusionProof", NONE): (UNAUTH, SCOPE, SCOPE, SCOPE, NF, NF),
    ("consistencyProof", NONE): (UNAUTH, SCOPE, SCOPE, SCOPE, OK, OK),
    # The connector administrators' fields: connectors:admin, which only the secretariat holds.
    ("connectors", NONE): (UNAUTH, SCOPE, SCOPE, SCOPE, OK, SCOPE),
    ("syncRuns", NONE): (UNAUTH, SCOPE, SCOPE, SCOPE, OK, SCOPE),
    ("deadLetters", NONE): (UNAUTH, SCOPE, SCOPE, SCOPE, OK, SCOPE),
    ("reviewQueue", NONE): (UNAUTH, SCOPE, SCOPE, SCOPE, OK, SCOPE),
    ("addConnector", NONE): (UNAUTH, SCOPE, SCOPE, SCOPE, OK, SCOPE),
    ("setConnectorSchedule", NONE): (UNAUTH, SCOPE, SCOPE, SCOPE, OK, SCOPE),
    ("removeConnector", NONE): (UNAUTH, SCOPE, SCOPE, SCOPE, OK, SCOPE),
    # The review queue's items are resolved by the members administrators: members:admin.
    ("resolveReviewItem", NONE): (UNAUTH, SCOPE, SCOPE, SCOPE, OK, SCOPE),
}

EXPECTED: dict[tuple[str, str, str], str] = {
    (name, principal, thing): outcome
    for (name, thing), row in ROWS.items()
    for principal, outcome in zip(PRINCIPALS, row, strict=True)
}
"""(root field, principal, object) -> the outcome: "ok", "null", or the error code (a top-level
GraphQL error's for UNAUTHENTICATED and MISSING_SCOPE, a user error's otherwise)."""

# --- The objects ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Spec:
    """What one case acts on: a pledge led by ``lead`` in status ``pledge``; on it, maybe an
    endorsement of ``invitee`` in status ``endorsement`` or a report by the lead in status
    ``report``. Or an organisation: a member's own (``organisation``) or a new one in
    membership status ``fresh``. Or a connector of alpha's (``connector``), or a review item an
    import of alpha's left (``review``)."""

    lead: str | None = None
    pledge: PublicationStatus | None = None
    invitee: str | None = None
    endorsement: EndorsementStatus | None = None
    report: ReportStatus | None = None
    organisation: str | None = None
    fresh: MembershipStatus | None = None
    connector: bool = False
    review: bool = False


def on_pledge(ready: PublicationStatus) -> dict[str, Spec]:
    """The four pledges of a field acting on pledges in status ``ready``."""
    return {
        OWN: Spec("alpha", ready),
        OTHER: Spec("gamma", ready),
        PUBLISHED: Spec("alpha", PS.PUBLISHED),
        DRAFT: Spec("alpha", PS.DRAFT),
    }


def on_report() -> dict[str, Spec]:
    """Reports by the lead on its published pledge; a report's own status stands in for the
    pledge's: VERIFIED counts in public, REJECTED is seen only by those it concerns."""
    return {
        OWN: Spec("alpha", PS.PUBLISHED, report=RS.SUBMITTED),
        OTHER: Spec("gamma", PS.PUBLISHED, report=RS.SUBMITTED),
        PUBLISHED: Spec("alpha", PS.PUBLISHED, report=RS.VERIFIED),
        DRAFT: Spec("alpha", PS.PUBLISHED, report=RS.REJECTED),
    }


def on_organisation() -> dict[str, Spec]:
    """The two members' own organisations; a new member, and an organisation not yet one."""
    return {
        OWN: Spec(organisation="alpha"),
        OTHER: Spec(organisation="gamma"),
        PUBLISHED: Spec(fresh=MembershipStatus.MEMBER),
        DRAFT: Spec(fresh=MembershipStatus.NONE),
    }


OBJECTS: dict[str, dict[str, Spec]] = {
    "updatePledge": on_pledge(PS.DRAFT),
    "submitPledge": on_pledge(PS.DRAFT),
    "returnPledge": on_pledge(PS.SUBMITTED),
    "publishPledge": on_pledge(PS.SUBMITTED),
    "withdrawPledge": on_pledge(PS.SUBMITTED),
    "markPledgeFulfilled": on_pledge(PS.PUBLISHED),
    "inviteEndorser": on_pledge(PS.SUBMITTED),  # inviting delta, a member with no client
    # Gamma's pledge is one alpha accepted to implement: alpha reports on it without leading it.
    "reportProgress": {
        **on_pledge(PS.FULFILLED),
        OTHER: Spec("gamma", PS.FULFILLED, "alpha", ES.ACCEPTED),
    },
    # An endorsement on alpha's pledges names delta; on gamma's, it names alpha.
    "respondToEndorsement": {
        OWN: Spec("alpha", PS.SUBMITTED, "delta", ES.INVITED),
        OTHER: Spec("gamma", PS.SUBMITTED, "alpha", ES.INVITED),
        PUBLISHED: Spec("alpha", PS.PUBLISHED, "delta", ES.ACCEPTED),
        DRAFT: Spec("alpha", PS.DRAFT, "delta", ES.INVITED),
    },
    "revokeEndorsement": {
        OWN: Spec("alpha", PS.SUBMITTED, "delta", ES.INVITED),
        OTHER: Spec("gamma", PS.SUBMITTED, "alpha", ES.ACCEPTED),
        PUBLISHED: Spec("alpha", PS.PUBLISHED, "delta", ES.ACCEPTED),
        DRAFT: Spec("alpha", PS.DRAFT, "delta", ES.INVITED),
    },
    "verifyProgress": on_report(),
    "rejectProgress": on_report(),
    "updateOrganisation": on_organisation(),
    "approveMembership": on_organisation(),
    "setConnectorSchedule": {NONE: Spec(connector=True)},
    "removeConnector": {NONE: Spec(connector=True)},
    "resolveReviewItem": {NONE: Spec(review=True)},
}


def objects_of(name: str) -> tuple[str, ...]:
    """The object axis of a root field."""
    return tuple(OBJECTS[name]) if name in OBJECTS else (NONE,)


NEEDS_PLEDGES_WRITE = frozenset({"createPledge", "updatePledge", "submitPledge", "withdrawPledge"})


def lacking_token(name: str) -> str:
    """The client of alpha's member whose token lacks the scope ``name`` needs: alpha_read holds
    pledges:write only; alpha_reports everything but it."""
    return "alpha_reports" if name in NEEDS_PLEDGES_WRITE else "alpha_read"


TOKEN_OF = {
    "owner": "alpha",
    "stranger": "beta",
    "secretariat": "secretariat",
    "auditor": "auditor",
}


def sampled(name: str, principal: str, thing: str) -> bool:
    """The SQLite sample: every field for every caller on its own object, and for the owner on
    every object (each field, caller and object at least once)."""
    return thing in (OWN, NONE) or principal == "owner"


# --- Building the objects and calling the fields --------------------------------------------


@dataclass
class Built:
    """The ids of the records one case acts on."""

    delta: int
    pledge: int | None = None
    version: int | None = None
    endorsement: int | None = None
    report: int | None = None
    organisation: int | None = None
    connector: str | None = None
    review: int | None = None


SMART = PledgeDraft(
    title="Connect 500 schools in Malawi",
    pledge_type=PledgeType.FINANCIAL,
    description="Fibre and satellite links for rural schools.",
    focus_areas=(FocusArea.ACCESS,),
    target_countries=("MWI",),
    start_date=date(2026, 1, 1),
    end_date=date(2028, 12, 31),
    amount="2500000.00",
    currency="USD",
)
SCHOOLS = TargetChange(
    TargetDraft(
        indicator=Indicator.SCHOOLS_CONNECTED,
        unit="schools",
        baseline_value=Decimal(0),
        target_value=Decimal(500),
        deadline=date(2028, 12, 31),
    )
)
PLEDGE_STEPS = {
    PS.DRAFT: (),
    PS.SUBMITTED: (submit_pledge,),
    PS.PUBLISHED: (submit_pledge, publish_pledge),
    PS.FULFILLED: (submit_pledge, publish_pledge, fulfil_pledge),
}


class Builder:
    """Makes each case's records through the hub's services, in one session."""

    def __init__(self, session: AsyncSession, members: dict[str, int]) -> None:
        self.session = session
        self.members = members
        self.made = 0

    async def build(self, spec: Spec) -> Built:
        session, members = self.session, self.members
        built = Built(delta=members["delta"])
        self.made += 1
        if spec.organisation is not None:
            built.organisation = members[spec.organisation]
        elif spec.fresh is not None:
            name = f"Candidate {self.made}"
            if spec.fresh is MembershipStatus.MEMBER:
                organisation = await add_member(session, name)
            else:
                kind = OrganisationType.CIVIL_SOCIETY
                organisation = await create_organisation(session, name=name, organisation_type=kind)
            built.organisation = organisation.id
        if spec.connector:
            built.connector = f"matrix-{self.made}"
            http = HttpConfig(url="https://search.worldbank.example")
            await add_connector(
                session, built.connector, ConnectorKind.WORLD_BANK, members["alpha"],
                ConnectorConfig(http=http),
            )  # fmt: skip
        if spec.review:
            entry = await add_review_item(session, members["alpha"], f"review-{self.made}")
            built.review = entry.id
        if spec.lead is None or spec.pledge is None:
            return built
        lead = members[spec.lead]
        pledge = await create_pledge(session, lead, SMART, [SCHOOLS])
        built.pledge = pledge.id
        if spec.invitee is not None:
            invitee = members[spec.invitee]
            endorsement = await invite(
                session, pledge.id, invitee, [Role.IMPLEMENTER], invited_by_id=lead
            )
            built.endorsement = endorsement.id
            if spec.endorsement is ES.ACCEPTED:
                await respond(session, endorsement.id, accept=True)
        for step in PLEDGE_STEPS[spec.pledge]:
            await step(session, pledge.id)
        if spec.report is not None:
            draft = ReportDraft(date(2026, 1, 1), date(2026, 3, 31), narrative="Begun.")
            report = await report_progress(session, pledge.id, lead, draft)
            built.report = report.id
            if spec.report is not RS.SUBMITTED:
                verified = spec.report is RS.VERIFIED
                await review_report(session, report.id, verified=verified, note="Checked.")
        return built


Call = Callable[[Built], tuple[str, dict[str, Any]]]
REPORT_INPUT = {"periodStart": "2026-01-01", "periodEnd": "2026-03-31", "narrative": "Begun."}
ORGANISATION_INPUT = {
    "name": "Renamed Organisation",
    "organisationType": "CIVIL_SOCIETY",
    "website": "https://renamed.example",
}


def pledge_id(built: Built) -> str:
    assert built.pledge is not None
    return gid("Pledge", built.pledge)


def endorsement_id(built: Built) -> str:
    assert built.endorsement is not None
    return gid("Endorsement", built.endorsement)


def report_id(built: Built) -> str:
    assert built.report is not None
    return gid("ProgressReport", built.report)


def organisation_id(built: Built) -> str:
    assert built.organisation is not None
    return gid("Organisation", built.organisation)


def review_id(built: Built) -> str:
    assert built.review is not None
    return gid("ReviewItem", built.review)


def on(name: str) -> Call:
    """A pledge transition by its field name."""
    return lambda built: (move(name), {"id": pledge_id(built)})


CALLS: dict[str, Call] = {
    "createPledge": lambda built: (CREATE, {"input": smart_pledge()}),
    "updatePledge": lambda built: (
        UPDATE,
        {
            "id": pledge_id(built),
            "version": built.version,
            "input": smart_pledge(title="Connect 600 schools in Malawi"),
        },
    ),
    "submitPledge": on("submitPledge"),
    "returnPledge": lambda built: (RETURN, {"id": pledge_id(built), "note": "Name the schools."}),
    "publishPledge": on("publishPledge"),
    "withdrawPledge": on("withdrawPledge"),
    "markPledgeFulfilled": on("markPledgeFulfilled"),
    "inviteEndorser": lambda built: (
        INVITE,
        {
            "pledgeId": pledge_id(built),
            "organisationId": gid("Organisation", built.delta),
            "roles": ["IMPLEMENTER"],
        },
    ),
    "respondToEndorsement": lambda built: (
        RESPOND,
        {"id": endorsement_id(built), "answer": "ACCEPT"},
    ),
    "revokeEndorsement": lambda built: (REVOKE, {"id": endorsement_id(built)}),
    "reportProgress": lambda built: (
        REPORT,
        {"pledgeId": pledge_id(built), "input": REPORT_INPUT},
    ),
    "verifyProgress": lambda built: (VERIFY, {"id": report_id(built)}),
    "rejectProgress": lambda built: (REJECT, {"id": report_id(built), "note": "No evidence."}),
    "createOrganisation": lambda built: (
        CREATE_ORGANISATION,
        {"input": {"name": "Delta Youth Network", "organisationType": "YOUTH"}},
    ),
    "updateOrganisation": lambda built: (
        UPDATE_ORGANISATION,
        {"id": organisation_id(built), "input": ORGANISATION_INPUT},
    ),
    "approveMembership": lambda built: (APPROVE, {"id": organisation_id(built)}),
    "viewer": lambda built: (VIEWER, {}),
    "auditTrail": lambda built: (
        "query { auditTrail(first: 5) { totalCount edges { node { action } } } }",
        {},
    ),
    "endorsementTrail": lambda built: (
        "query($id: ID!) { endorsementTrail(memberId: $id, first: 5) { totalCount } }",
        {"id": gid("Organisation", built.delta)},
    ),
    "treeHead": lambda built: ("query { treeHead { treeSize note } }", {}),
    "inclusionProof": lambda built: (
        "query { inclusionProof(eventId: 2000000000, treeSize: 0) { path } }",
        {},
    ),
    "consistencyProof": lambda built: (
        "query { consistencyProof(fromSize: 0, toSize: 0) { path } }",
        {},
    ),
    "connectors": lambda built: (
        "query { connectors(first: 5) { totalCount edges { node { name } } } }",
        {},
    ),
    "syncRuns": lambda built: (
        "query { syncRuns(status: FAILED, first: 5) { totalCount edges { node { error } } } }",
        {},
    ),
    "deadLetters": lambda built: (
        "query { deadLetters(first: 5) { totalCount edges { node { reason payload } } } }",
        {},
    ),
    "reviewQueue": lambda built: (
        "query { reviewQueue(first: 5) { totalCount edges { node { subject code } } } }",
        {},
    ),
    "addConnector": lambda built: (
        "mutation($input: AddConnectorInput!) { addConnector(input: $input) { "
        "connector { name } userErrors { field message code } } }",
        {
            "input": {
                "name": "matrix-added",
                "kind": "IATI_FILE",
                "member": gid("Organisation", built.delta),
                "selection": {"sectors": ["22040"]},
            }
        },
    ),
    "setConnectorSchedule": lambda built: (
        "mutation($name: String!) { setConnectorSchedule(name: $name, everySeconds: 3600) { "
        "connector { everySeconds } userErrors { field message code } } }",
        {"name": built.connector},
    ),
    "removeConnector": lambda built: (
        "mutation($name: String!) { removeConnector(name: $name) { "
        "removedConnectorId userErrors { field message code } } }",
        {"name": built.connector},
    ),
    "resolveReviewItem": lambda built: (
        "mutation($input: ResolveReviewItemInput!) { resolveReviewItem(input: $input) { "
        "reviewItem { status } userErrors { field message code } } }",
        {"input": {"id": review_id(built), "note": "Mapped to Africa."}},
    ),
}
"""The document and variables each root field is called with."""


def root_fields() -> tuple[list[str], list[str]]:
    """The schema's Mutation fields, and its Query fields not in ``PUBLIC``."""
    graphql_schema = build_schema()._schema
    mutation, query = graphql_schema.mutation_type, graphql_schema.query_type
    assert mutation is not None
    assert query is not None
    return list(mutation.fields), [name for name in query.fields if name not in PUBLIC]


def outcome(name: str, body: dict[str, Any]) -> str:
    """What a response said, in the matrix's words."""
    data = body.get("data") or {}
    payload = data.get(name)
    if body.get("errors"):
        codes = sorted({str(e.get("extensions", {}).get("code")) for e in body["errors"]})
        found = "+".join(codes)
        return found if payload is None else f"{found} (with data)"
    if payload is None:
        return NULL
    codes = sorted({str(e["code"]) for e in payload.get("userErrors") or ()})
    return "+".join(codes) if codes else OK


GRAPH_TABLES = (
    "organisations",
    "organisation_identifiers",
    "pledges",
    "pledge_focus_areas",
    "pledge_target_countries",
    "pledge_target_groups",
    "pledge_beneficiary_groups",
    "pledge_sdgs",
    "targets",
    "endorsements",
    "endorsement_roles",
    "progress_reports",
    "progress_values",
    "evidence_links",
    "money_flows",
    "idempotency_keys",
    "connectors",
    "review_queue",
    "organisation_aliases",
)
"""Every table a mutation writes: a refused call must leave each exactly as it was."""

Snapshot = dict[str, list[str]]


async def snapshot(session_factory: async_sessionmaker[AsyncSession]) -> Snapshot:
    """Every row of the graph's tables."""
    async with session_factory() as session:
        return {
            table: sorted(
                repr(tuple(row)) for row in await session.execute(text(f"SELECT * FROM {table}"))
            )
            for table in GRAPH_TABLES
        }


def changes(before: Snapshot, after: Snapshot) -> list[str]:
    """The tables whose rows differ, with how many rows came and went."""
    found = []
    for table in GRAPH_TABLES:
        old, new = set(before[table]), set(after[table])
        if old != new:
            found.append(f"{table} (+{len(new - old)} -{len(old - new)})")
    return found


# --- Setting up the callers -----------------------------------------------------------------


async def client_of(
    partners: Partners, name: str, kind: ClientKind, scopes: list[str], member: str | None
) -> Credentials:
    """A client made in the hub's database."""
    async with partners.session_factory() as session:
        credentials = await create_client(
            session, name=name, kind=kind, scopes=scopes, member=member, now=utcnow()
        )
        await session.commit()
    return credentials


async def with_delta_and_reports_client(partners: Partners) -> dict[str, int]:
    """Adds delta (a member with no client) and alpha_reports (alpha's client without
    pledges:write); the members' ids."""
    async with partners.session_factory() as session:
        delta = (await add_member(session, "Delta Youth Network")).id
        await session.commit()
    writes = sorted(scope.value for scope in MEMBER_WRITES if scope.value != "pledges:write")
    alpha = str(partners.members["alpha"])
    reports = await client_of(partners, "alpha reports", ClientKind.PARTNER, writes, alpha)
    partners.tokens["alpha_reports"] = (await get_token(partners.http, reports))["access_token"]
    return {**partners.members, "delta": delta}


async def build_all(
    partners: Partners, members: dict[str, int], keys: list[tuple[str, ...]]
) -> dict[tuple[str, ...], Built]:
    """Fresh records for each key, (field, object, ...), committed together."""
    built: dict[tuple[str, ...], Built] = {}
    async with partners.session_factory() as session:
        builder = Builder(session, members)
        for key in keys:
            built[key] = await builder.build(OBJECTS.get(key[0], {}).get(key[1], Spec()))
        await session.commit()
        rows = await session.execute(select(Pledge.id, Pledge.version))
        versions = {pledge: version for pledge, version in rows}
    for made in built.values():
        if made.pledge is not None:
            made.version = versions[made.pledge]
    return built


# --- The tests ------------------------------------------------------------------------------


def test_every_root_field_has_an_entry() -> None:
    mutations, private_queries = root_fields()
    fields = [*mutations, *private_queries]
    assert "viewer" in private_queries
    missing = [
        f"{name}, {principal}, {thing}"
        for name in fields
        for thing in objects_of(name)
        for principal in PRINCIPALS
        if (name, principal, thing) not in EXPECTED
    ]
    assert missing == [], "root fields with no entry in the matrix:\n" + "\n".join(missing)
    assert {name for name, _, _ in EXPECTED} == set(fields), "entries for no root field"
    assert set(CALLS) == set(fields), "every root field needs a call"
    assert set(OBJECTS) <= set(fields)
    graphql_schema = build_schema()._schema
    assert graphql_schema.query_type is not None
    assert set(graphql_schema.query_type.fields) >= PUBLIC, "PUBLIC names a field that is gone"


async def test_the_authorization_matrix(
    backend: str, database_url: str, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    cases = sorted(
        (name, principal, thing)
        for (name, principal, thing) in EXPECTED
        if backend == "postgresql" or sampled(name, principal, thing)
    )
    _, queries = root_fields()
    async with running_partners(database_url, session_factory) as partners:
        members = await with_delta_and_reports_client(partners)
        built = await build_all(partners, members, [(n, t, p) for n, p, t in cases])
        wrong: list[str] = []
        before = await snapshot(session_factory)
        for name, principal, thing in cases:
            expected = EXPECTED[name, principal, thing]
            document, variables = CALLS[name](built[name, thing, principal])
            who = None if principal == "anonymous" else TOKEN_OF.get(principal)
            if principal == "lacking":
                who = lacking_token(name)
            found = outcome(name, await partners.gql(who, document, **variables))
            after = await snapshot(session_factory)
            case = f"{name}, {principal}, {thing}"
            if found != expected:
                wrong.append(f"{case}: expected {expected}, got {found}")
            changed = changes(before, after)
            if expected not in (OK, NULL) and changed:
                wrong.append(f"{case} was refused ({found}) but changed {', '.join(changed)}")
            if expected == OK and name not in queries and not changed:
                wrong.append(f"{case} succeeded but changed nothing")
            before = after
    assert wrong == [], f"{len(wrong)} problems in {len(cases)} cases:\n" + "\n".join(wrong)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


async def bad_tokens(
    partners: Partners, who: str, kind: ClientKind, member: str | None
) -> tuple[str, dict[str, str]]:
    """A token the hub accepts, made by hand for a new client of ``kind``; and tokens it must
    refuse, each naming such a client: garbage, expired, with a signature that does not
    verify, signed with another key, for another audience, revoked, and held by a revoked
    client."""
    scopes = sorted(scope.value for scope in KIND_SCOPES[kind])
    forger = await client_of(partners, f"{who} forged", kind, scopes, member)
    gone = await client_of(partners, f"{who} gone", kind, scopes, member)
    key = (await hub_signing_key(partners.session_factory)).key
    stranger = RSAKey.generate_key(2048, private=True, parameters={"kid": str(key.kid)})
    now = int(time.time())
    valid = sign(claims_for(forger), key)
    revoked = (await get_token(partners.http, forger))["access_token"]
    answer = await partners.http.post("/oauth/revoke", data={"token": revoked}, auth=basic(forger))
    assert answer.status_code == 200, answer.text
    held = (await get_token(partners.http, gone))["access_token"]
    async with partners.session_factory() as session:
        await revoke_client(session, gone.client.client_id, utcnow())
        await session.commit()
    head, body, _ = valid.split(".")
    return valid, {
        "garbage": "not-a-token",
        "expired": sign(claims_for(forger, iat=now - 3600, exp=now - 1800), key),
        "bad signature": f"{head}.{body}.{b64url(b'0' * 256)}",
        "foreign key": sign(claims_for(forger), stranger),
        "wrong audience": sign(claims_for(forger, aud="https://other.example"), key),
        "revoked token": revoked,
        "revoked client": held,
    }


@dataclass(frozen=True, slots=True)
class TokenCase:
    """A root field, the caller whose forged tokens are sent, and the object it would change."""

    name: str
    who: str
    thing: str


async def test_refused_tokens_are_refused_on_every_root_field(
    database_url: str, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    mutations, private_queries = root_fields()
    plan: list[TokenCase] = []
    for name in [*mutations, *private_queries]:
        who, thing = next(
            (principal, thing)
            for thing in objects_of(name)
            for principal in ("owner", "secretariat")
            if EXPECTED[name, principal, thing] not in (UNAUTH, SCOPE)  # its token reaches it
        )
        plan.append(TokenCase(name, who, thing))
    async with running_partners(database_url, session_factory) as partners:
        members = await with_delta_and_reports_client(partners)
        alpha = str(members["alpha"])
        tokens: dict[str, dict[str, str]] = {}
        for who, kind, member in (
            ("owner", ClientKind.PARTNER, alpha),
            ("secretariat", ClientKind.SECRETARIAT, None),
        ):
            valid, tokens[who] = await bad_tokens(partners, who, kind, member)
            partners.tokens[f"{who} valid"] = valid  # the forgery's control: it is accepted
            viewer = (await partners.ok(f"{who} valid", VIEWER))["viewer"]
            assert viewer["kind"] == kind.value
        built = await build_all(partners, members, [(c.name, c.thing) for c in plan])
        wrong: list[str] = []
        before = await snapshot(session_factory)
        for case in plan:
            document, variables = CALLS[case.name](built[case.name, case.thing])
            for reason, token in tokens[case.who].items():
                headers = {"Authorization": f"Bearer {token}"}
                response = await partners.post(None, document, variables, headers=headers)
                assert response.status_code == 200, response.text
                body = response.json()
                found = outcome(case.name, body)
                after = await snapshot(session_factory)
                label = f"{case.name} as {case.who} with a {reason} token"
                if found != UNAUTH or body.get("data") is not None:
                    wrong.append(f"{label}: expected UNAUTHENTICATED and no data, got {body}")
                if changed := changes(before, after):
                    wrong.append(f"{label} changed {', '.join(changed)}")
                before = after
    assert wrong == [], "\n".join(wrong)
    assert len(plan) == len(CALLS)

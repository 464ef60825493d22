"""An import that names an organisation the hub may or may not know leaves its endorsement
waiting with an ORGANISATION_MATCH review item; the secretariat resolves it over GraphQL
(scope members:admin), and the next run invites the organisation chosen. Refusals: callers
without the scope, an item resolved twice, an answer that says two things."""

from __future__ import annotations

import hashlib
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from connectors.framework import sync
from connectors.iati.importer import incoming, options_for
from hub.audit.models import AuditEvent
from hub.auth.clients import create_client
from hub.auth.scopes import ClientKind
from hub.endorsements.models import Endorsement, EndorsementStatus
from hub.imports.connectors import ConnectorConfig, add_connector
from hub.imports.models import Connector, ConnectorKind, ReviewEntry, SourceRecord
from hub.money.rates import parse_imf
from hub.money.service import load_rates
from hub.organisations.models import OrganisationAlias, OrganisationType
from hub.organisations.service import create_organisation
from hub.types import utcnow
from tests.fixtures.factories import add_member
from tests.fixtures.oauth import get_token
from tests.fixtures.partners import Partners, gid

GOVERNMENT, CSO = OrganisationType.GOVERNMENT, OrganisationType.CIVIL_SOCIETY
DATA = Path(__file__).resolve().parents[1] / "data" / "iati"
FX = Path(__file__).resolve().parents[2] / "data" / "fx"

# The Global Fund's activity with one more implementer, named by an identifier the hub does
# not know and a name two organisations it knows share once normalised.
ACTIVITY = (
    (DATA / "single_activity.xml")
    .read_bytes()
    .replace(
        b"<recipient-country",
        b'<participating-org role="Implementing" ref="GB-GOV-1" type="10">'
        b"DEPARTMENT FOR INTERNATIONAL DEVELOPMENT</participating-org>\n<recipient-country",
        1,
    )
)

QUEUE = """
query {
  reviewQueue(subject: "ORGANISATION_MATCH", first: 5) {
    edges { node { id code names reason status candidates { id name } } }
  }
}"""

RESOLVE = """
mutation($input: ResolveReviewItemInput!) {
  resolveReviewItem(input: $input) {
    reviewItem { id status resolvedAt resolvedBy resolution organisation { id name } }
    userErrors { field message code }
  }
}"""


async def add_secretariat_client(partners: Partners, who: str, scopes: list[str]) -> None:
    """A secretariat client holding ``scopes`` only, with a token, as ``who``."""
    async with partners.session_factory() as session:
        made = await create_client(session, name=who, kind=ClientKind.SECRETARIAT,
                                   scopes=scopes, member=None, now=utcnow())  # fmt: skip
        await session.commit()
    partners.tokens[who] = (await get_token(partners.http, made))["access_token"]


async def run_import(sessions: async_sessionmaker[AsyncSession], connector: Connector) -> None:
    async with sessions() as session:
        options = await options_for(session, connector)
    digest = hashlib.sha256(ACTIVITY).hexdigest()
    await sync(
        sessions,
        connector,
        "activity.xml",
        digest,
        lambda resume: incoming(ACTIVITY, "activity.xml", options, resume.position),
    )


async def invited(sessions: async_sessionmaker[AsyncSession], organisation_id: int) -> list[str]:
    async with sessions() as session:
        rows = await session.scalars(
            select(Endorsement.status).where(Endorsement.organisation_id == organisation_id)
        )
        return [str(status) for status in rows]


async def test_an_uncertain_match_waits_for_a_person_and_the_next_run_invites_their_choice(
    partners: Partners, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    async with session_factory() as session:
        await load_rates(session, parse_imf((FX / "imf_exchangerates.csv").read_text()))
        fund = await add_member(session, "The Global Fund", iati_identifier="47045")
        dfid = await create_organisation(
            session, name="Department for International Development", organisation_type=GOVERNMENT
        )
        twin = await create_organisation(
            session, name="The Department for International Development Ltd", organisation_type=CSO
        )
        config = ConnectorConfig(reporting_orgs=("47045",))
        connector = await add_connector(session, "gf", ConnectorKind.IATI_FILE, fund.id, config)
        await session.commit()
    await run_import(session_factory, connector)
    assert await invited(session_factory, dfid.id) == []
    assert await invited(session_factory, twin.id) == []
    async with session_factory() as session:
        record = await session.scalar(select(SourceRecord))
        assert record is not None
        assert record.pending

    await add_secretariat_client(partners, "reviewer", ["members:admin"])
    await add_secretariat_client(partners, "operator", ["connectors:admin"])
    [edge] = (await partners.ok("reviewer", QUEUE))["reviewQueue"]["edges"]
    item = edge["node"]
    assert (item["code"], item["names"], item["status"]) == (
        "GB-GOV-1", "DEPARTMENT FOR INTERNATIONAL DEVELOPMENT", "OPEN"
    )  # fmt: skip
    assert [c["name"] for c in item["candidates"]] == [dfid.name, twin.name]
    assert f"organisation {dfid.id}" in item["reason"]
    assert "resolveReviewItem" in item["reason"]
    assert (await partners.ok("operator", QUEUE))["reviewQueue"]["edges"] == [edge]

    choose = {"id": item["id"], "organisationId": gid("Organisation", dfid.id)}
    for who in ("operator", "alpha"):  # connectors:admin only; a partner
        refused = await partners.gql(who, RESOLVE, input=choose)
        assert [e["extensions"]["code"] for e in refused["errors"]] == ["MISSING_SCOPE"]
    said_both = await partners.gql("reviewer", RESOLVE, input={**choose, "create": "GOVERNMENT"})
    payload = said_both["data"]["resolveReviewItem"]
    assert payload["reviewItem"] is None
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
        (["input", "create"], "INVALID_INPUT")
    ]

    resolved = (await partners.ok("reviewer", RESOLVE, input=choose))["resolveReviewItem"]
    done = resolved["reviewItem"]
    assert (done["status"], done["organisation"]["name"]) == ("RESOLVED", dfid.name)
    assert done["resolvedAt"] is not None
    assert done["resolvedBy"].startswith("SECRETARIAT ")
    assert "GB-GOV-1 recorded as its alias" in done["resolution"]
    again = await partners.gql("reviewer", RESOLVE, input=choose)
    assert [e["code"] for e in again["data"]["resolveReviewItem"]["userErrors"]] == [
        "ALREADY_RESOLVED"
    ]
    async with session_factory() as session:
        alias = await session.get(OrganisationAlias, "GB-GOV-1")
        assert alias is not None
        assert alias.organisation_id == dfid.id
        resolving = select(AuditEvent).where(AuditEvent.action == "review.resolve")
        events = list(await session.scalars(resolving))
        assert [e.entity_type for e in events] == ["ReviewEntry"]
        assert '"alias"' in events[0].changes

    await run_import(session_factory, connector)
    assert await invited(session_factory, dfid.id) == [EndorsementStatus.INVITED]
    assert await invited(session_factory, twin.id) == []
    async with session_factory() as session:
        record = await session.scalar(select(SourceRecord))
        assert record is not None
        assert not record.pending
        entries = list(await session.scalars(select(ReviewEntry.subject)))
        assert entries.count("ORGANISATION_MATCH") == 1

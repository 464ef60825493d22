"""Who publishes an imported pledge: the secretariat, or the member's own connector when the
secretariat granted it ``pledges:publish``; never a partner's client."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from connectors.framework import sync
from connectors.iati.importer import incoming, options_for
from hub.audit.models import AuditEvent
from hub.auth.scopes import ClientKind, Scope, parse_scopes
from hub.errors import InvalidInput
from hub.imports.connectors import ConnectorConfig, add_connector, principal_for
from hub.imports.models import Connector, ConnectorKind
from hub.money.rates import parse_imf
from hub.money.service import load_rates
from hub.pledges.models import Pledge, PublicationStatus
from tests.fixtures.factories import add_member

DATA = Path(__file__).resolve().parents[1] / "data" / "iati"
FX = Path(__file__).resolve().parents[2] / "data" / "fx"

# single_activity.xml (the Global Fund's 47045-ARM-202-G05-H-00) has commitments, a recipient
# country and quantified results, but no sector: the edit gives it DAC sector 22040 (ICT), so
# that it is SMART-complete. Nothing else changes.
SMART = (
    (DATA / "single_activity.xml")
    .read_bytes()
    .replace(b"<reporting-org", b'<sector code="22040" vocabulary="1"/>\n<reporting-org', 1)
)


async def import_smart(
    session_factory: async_sessionmaker[AsyncSession], *, publish: bool
) -> Pledge:
    async with session_factory() as session:
        await load_rates(session, parse_imf((FX / "imf_exchangerates.csv").read_text()))
        member = await add_member(session, iati_identifier="47045")
        config = ConnectorConfig(reporting_orgs=("47045",), publish=publish)
        connector = await add_connector(session, "gf", ConnectorKind.IATI_FILE, member.id, config)
        options = await options_for(session, connector)
        await session.commit()
    digest = hashlib.sha256(SMART).hexdigest()
    run = await sync(
        session_factory, connector, "smart.xml", digest,
        lambda resume: incoming(SMART, "smart.xml", options, resume.position),
    )  # fmt: skip
    assert (run.created, run.rejected) == (1, 0)
    async with session_factory() as session:
        pledge: Pledge | None = await session.scalar(select(Pledge))
        assert pledge is not None
        return pledge


@pytest.mark.parametrize("publish", [False, True])
async def test_a_smart_complete_import_is_submitted_and_published_only_when_granted(
    session_factory: async_sessionmaker[AsyncSession], publish: bool
) -> None:
    pledge = await import_smart(session_factory, publish=publish)
    expected = PublicationStatus.PUBLISHED if publish else PublicationStatus.SUBMITTED
    assert pledge.publication_status is expected
    async with session_factory() as session:
        events = await session.scalars(
            select(AuditEvent).where(AuditEvent.entity_type == "Pledge").order_by(AuditEvent.id)
        )
        moves = [
            (e.action, e.actor_kind, e.connector) for e in events if e.action != "pledge.translate"
        ]
    steps = ["pledge.create", "pledge.submit", *(["pledge.publish"] if publish else [])]
    assert moves == [(step, "CONNECTOR", "gf") for step in steps]


def test_only_a_connector_among_members_clients_may_hold_pledges_publish() -> None:
    granted = parse_scopes(["pledges:write", "pledges:publish"], ClientKind.CONNECTOR)
    assert Scope.PLEDGES_PUBLISH in granted
    with pytest.raises(InvalidInput, match="a PARTNER client may not hold pledges:publish"):
        parse_scopes(["pledges:publish"], ClientKind.PARTNER)


def test_a_connector_acts_for_its_member_with_a_members_scopes() -> None:
    config = ConnectorConfig(sectors=("22040",))
    connector = Connector(
        name="c", kind=ConnectorKind.IATI_FILE, member_id=7, config=config.to_json()
    )
    principal = principal_for(connector)
    assert (principal.kind, principal.member_id, principal.client_id) == (
        ClientKind.CONNECTOR, 7, "connector:c",
    )  # fmt: skip
    assert Scope.PLEDGES_PUBLISH not in principal.scopes

"""HTTP connectors against a real partner API on loopback (``tests.fixtures.partner_api``),
behind the hub's own OAuth token endpoint, with faults injected on demand: after each
fault the database holds exactly the expected records, once, and the run says what
happened. stamina's testing mode keeps the backoffs from sleeping (the waits it would take
are checked in ``test_http_source``)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import stamina
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from connectors.iati.importer import options_for, record_of
from connectors.iati.parse import activities
from connectors.iati.records import ParsedActivity
from connectors.runner import Outcome, run_connector, work
from hub.auth.clients import Credentials, create_client, revoke_client
from hub.auth.scopes import ClientKind
from hub.db import create_engine, create_session_factory
from hub.imports.connectors import ConnectorConfig, HttpConfig, add_connector
from hub.imports.models import (
    Connector,
    ConnectorKind,
    DeadLetter,
    LetterStatus,
    RunStatus,
    SourceRecord,
    SourceState,
    SyncRun,
)
from hub.imports.records import PledgeRecord
from hub.organisations.models import OrganisationType
from hub.types import utcnow
from tests.connectors.test_iati_import import RatedTemplates, fresh_database, rated
from tests.fixtures.factories import add_member
from tests.fixtures.oauth import ENCRYPTION_KEY, VAULT, make_clients, oauth_settings
from tests.fixtures.partner_api import (
    BROKEN_XML,
    DEFAULT_UPDATED,
    BadRecord,
    CutConnection,
    CutJson,
    Delay,
    ExpireToken,
    Gzip,
    Malformed,
    PartnerApi,
    Status,
    datastore_docs,
    operator_records,
    running_partner_api,
    worldbank_projects,
)
from tests.fixtures.server import running_hub

__all__ = ["rated"]  # test_iati_import's fixture: migrated databases with rates, made once

CD = Path(__file__).parent.parent / "data/iati/CD.xml"
MAPPING: dict[str, Any] = {
    "records": "data",
    "next": "links.next",
    "sinceParam": "updated_since",
    "fields": {
        "id": "id",
        "title": "attributes.name",
        "description": "attributes.summary",
        "type": "attributes.kind",
        "focusAreas": "attributes.pillars",
        "countries": "attributes.countries",
        "amount": "attributes.budget.amount",
        "currency": "attributes.budget.currency",
        "startDate": "attributes.start",
        "endDate": "attributes.end",
        "announcedOn": "attributes.announced",
        "status": "attributes.status",
        "updated": "meta.updatedAt",
    },
    "values": {
        "type": {"capex": "FINANCIAL", "opex": "FINANCIAL", "training": "PROGRAMMATIC"},
        "focusAreas": {"coverage": "ACCESS", "affordability": "ADOPTION", "skills": "ADOPTION"},
        "status": {"live": "IMPLEMENTATION", "planned": "PIPELINE", "completed": "COMPLETED"},
    },
}


@pytest.fixture(autouse=True)
def no_backoff() -> Iterator[None]:
    """Retries without their waits; each connector's own number of attempts holds."""
    with stamina.set_testing(True, attempts=100, cap=True):
        yield


@dataclass
class World:
    """A hub database, the hub serving tokens, a partner API, and the connectors' client."""

    url: str
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    api: PartnerApi
    client: Credentials

    def http(self, **changes: Any) -> HttpConfig:
        oauth = {
            "token_url": f"{self.api.base_url}/oauth/token",
            "client_id": self.client.client.client_id,
            "audience": self.api.audience,
        }
        return HttpConfig(**{"url": self.api.base_url, **oauth, "timeout": 5.0, **changes})

    async def connector(
        self, name: str, kind: ConnectorKind, member: int, config: ConnectorConfig, secret: str
    ) -> None:
        async with self.sessions() as session:
            await add_connector(session, name, kind, member, config,
                                sealed_secret=VAULT.seal(secret.encode()))  # fmt: skip
            await session.commit()

    async def sync(self, name: str) -> SyncRun:
        outcome = await run_connector(self.engine, self.sessions, VAULT, name)
        assert outcome.run is not None, outcome.error
        return outcome.run

    async def records(self, source: str) -> dict[str, SourceState]:
        async with self.sessions() as session:
            rows = await session.execute(
                select(SourceRecord.external_id, SourceRecord.state).where(
                    SourceRecord.source == source
                )
            )
            return {row.external_id: row.state for row in rows}

    async def connector_row(self, name: str) -> Connector:
        async with self.sessions() as session:
            found = await session.scalar(select(Connector).where(Connector.name == name))
            assert found is not None
            return found


@pytest.fixture
async def world(rated: RatedTemplates, backend: str, tmp_path: Path) -> AsyncIterator[World]:
    async with fresh_database(rated, backend, tmp_path) as url:
        engine = create_engine(url)
        try:
            sessions = create_session_factory(engine)
            made = await make_clients(sessions)  # the hub's signing key; a partner's client
            async with sessions() as session:
                introspector = await create_client(
                    session, name="Partner API", kind=ClientKind.AUDITOR,
                    scopes=["audit:read"], member=None, now=utcnow(),
                )  # fmt: skip
                await session.commit()
            async with (
                running_hub(oauth_settings(url)) as hub,
                running_partner_api(hub, introspector) as api,
            ):
                yield World(url, engine, sessions, api, made.partner)
        finally:
            await engine.dispose()


async def until(condition: Callable[[], Awaitable[bool]], seconds: float = 30) -> None:
    """Poll ``condition`` (another process's progress) until it holds."""
    async with asyncio.timeout(seconds):
        while True:
            if await condition():
                return
            await asyncio.sleep(0.05)  # the database of another process: poll it


def expected_pledges(docs: list[dict[str, Any]], options: Any) -> set[str]:
    """What a clean import of the docs makes pledges of, by the IATI mapping alone."""
    found = set()
    for doc in docs:
        parsed = next(iter(activities(doc["iati_xml"].encode())))
        assert isinstance(parsed, ParsedActivity)
        incoming = record_of(parsed, "", options)
        if isinstance(incoming.work, PledgeRecord):
            found.add(incoming.work.external_id)
    return found


async def test_the_datastore_survives_every_fault_and_a_second_pass_asks_only_for_changes(
    world: World,
) -> None:
    docs = datastore_docs(CD)[:24]
    world.api.datastore = docs
    async with world.sessions() as session:
        dfid = await add_member(session, name="DFID", organisation_type=OrganisationType.GOVERNMENT,
                                iati_identifier="GB-1")  # fmt: skip
        await session.commit()
    http = HttpConfig(url=world.api.base_url, key_header="Ocp-Apim-Subscription-Key",
                      page_size=8, timeout=0.5, attempts=8)  # fmt: skip
    config = ConnectorConfig(reporting_orgs=("GB-1",), http=http)
    await world.connector("dfid", ConnectorKind.IATI_DATASTORE, dfid.id, config,
                          world.api.subscription_key)  # fmt: skip
    world.api.fault(
        "datastore",
        Status(500), Status(429, retry_after=1), Delay(3), CutConnection(), CutJson(),
        Malformed(), Gzip(), BadRecord(index=2),
    )  # fmt: skip

    run = await world.sync("dfid")

    assert run.status is RunStatus.SUCCEEDED, run.error
    assert (run.requests, run.retries) == (10, 6)  # 7 for page 1; 2, 3 and the empty end
    async with world.sessions() as session:
        options = await options_for(session, await world.connector_row("dfid"))
        letters = list(await session.scalars(select(DeadLetter)))
    wanted = expected_pledges(docs, options)
    broken = docs[8 + 2]["iati_identifier"]
    assert await world.records("iati") == dict.fromkeys(wanted - {broken}, SourceState.PLEDGE)
    assert [(x.external_id, x.payload, x.reason[:11]) for x in letters] == [
        (broken, BROKEN_XML, "UNREADABLE:")
    ]
    assert (run.fetched, run.created, run.rejected) == (24, len(wanted) - 1, 1)
    stored = await world.connector_row("dfid")
    assert (stored.cursor, stored.watermark, stored.failures) == (None, DEFAULT_UPDATED, 0)

    again = await world.sync("dfid")  # the broken document reads well now

    assert again.status is RunStatus.SUCCEEDED
    assert (again.created, again.updated, again.unchanged) == (1, 0, len(wanted) - 1)
    asked = world.api.served("datastore")[-1].target
    assert "last_updated_datetime%3A%5B2024-06-01T00%3A00%3A00Z+TO+%2A%5D" in asked
    assert await world.records("iati") == dict.fromkeys(wanted, SourceState.PLEDGE)
    async with world.sessions() as session:
        letter = await session.scalar(select(DeadLetter))
        assert letter is not None
        assert letter.status is LetterStatus.RESOLVED


async def test_an_operators_api_with_expiring_tokens_then_a_revoked_client(world: World) -> None:
    world.api.operator = operator_records(25)
    world.api.expires_in_override = 5  # within the client's leeway: a token per request
    async with world.sessions() as session:
        operator = await add_member(session, name="Opx Telecom",
                                    organisation_type=OrganisationType.PRIVATE_SECTOR)  # fmt: skip
        await session.commit()
    resource = f"{world.api.base_url}/v1"  # RFC 8707, beside the audience: sent as well
    http = world.http(url=f"{resource}/commitments", query="limit=10", resource=resource)
    config = ConnectorConfig(http=http, mapping=MAPPING)
    await world.connector("opx", ConnectorKind.JSON_API, operator.id, config, world.client.secret)
    world.api.fault("operator", Status(503), ExpireToken(), Status(502))

    run = await world.sync("opx")

    assert run.status is RunStatus.SUCCEEDED, run.error
    ids = {record["id"] for record in world.api.operator}
    records = await world.records("jsonapi:opx")
    assert set(records) == ids
    assert len(records) == 25
    assert all(state is SourceState.PLEDGE for state in records.values())
    assert world.api.token_requests
    assert all(
        (form.get("audience"), form.get("resource")) == (world.api.audience, resource)
        for form in world.api.token_requests
    )
    assert run.retries == 2  # the 503 and the 502; the expired token was fetched again
    stored = await world.connector_row("opx")
    latest = max(record["meta"]["updatedAt"] for record in world.api.operator)
    assert (stored.cursor, stored.watermark) == (None, latest)

    async with world.sessions() as session:
        await revoke_client(session, world.client.client.client_id, utcnow())
        await session.commit()
    world.api.operator[0]["attributes"]["name"] = "Renamed after the revocation"
    before = len(world.api.token_requests)

    outcome = await run_connector(world.engine, world.sessions, VAULT, "opx")

    assert outcome.run is not None
    assert outcome.run.status is RunStatus.FAILED
    assert outcome.error is not None
    assert "invalid_client" in outcome.error
    assert (outcome.run.fetched, outcome.run.created, outcome.run.updated) == (0, 0, 0)
    assert len(world.api.token_requests) == before + 1  # refused once, not hammered
    assert (await world.connector_row("opx")).failures == 1


async def test_a_killed_sync_resumes_at_its_page_and_one_run_holds_the_lock(
    world: World,
) -> None:
    world.api.worldbank = worldbank_projects(12)
    async with world.sessions() as session:
        bank = await add_member(session, name="World Bank", iati_identifier="44000")
        await session.commit()
    config = ConnectorConfig(http=world.http(page_size=4, timeout=120.0, concurrency=1))
    await world.connector("wb", ConnectorKind.WORLD_BANK, bank.id, config, world.client.secret)
    world.api.fault("worldbank", Gzip(), Gzip(), Delay(120))  # the third page never comes
    environment = {**os.environ, "HUB_DATABASE_URL": world.url,
                   "HUB_KEY_ENCRYPTION_KEYS": ENCRYPTION_KEY}  # fmt: skip
    process = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).parent / "p2c-hub"), "sync", "wb", env=environment,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:

        async def third_page_asked() -> bool:
            cursor = (await world.connector_row("wb")).cursor or ""
            return len(world.api.served("worldbank")) >= 3 and '"page": 8' in cursor

        await until(third_page_asked)
        refused = await run_connector(world.engine, world.sessions, VAULT, "wb")
        assert refused.run is None
        assert refused.error is not None
        assert "running already" in refused.error
    finally:
        process.send_signal(signal.SIGKILL)
        await process.wait()

    killed = await world.connector_row("wb")
    assert killed.cursor is not None
    assert '"page": 8' in killed.cursor
    run = await world.sync("wb")

    assert run.status is RunStatus.SUCCEEDED, run.error
    async with world.sessions() as session:
        earlier = await session.get_one(SyncRun, run.resumed_from)
        assert earlier.status is RunStatus.INTERRUPTED
        assert earlier.position == 8
        pledged = await session.scalar(
            select(func.count()).select_from(SourceRecord).where(SourceRecord.source == "worldbank")
        )
    assert pledged == 12
    assert set(await world.records("worldbank")) == {p["id"] for p in world.api.worldbank}
    resumed = [s.target for s in world.api.served("worldbank")][3:]
    assert resumed[0].endswith("os=8") or "os=8&" in resumed[0]
    assert (run.fetched, run.created) == (4, 4)


async def test_a_failing_connector_backs_off_while_the_others_run(world: World) -> None:
    world.api.worldbank = worldbank_projects(3)
    async with world.sessions() as session:
        bank = await add_member(session, name="World Bank", iati_identifier="44000")
        await session.commit()
    good = ConnectorConfig(http=world.http())
    down = ConnectorConfig(http=world.http(url="http://127.0.0.1:9", attempts=2, timeout=0.5))
    for name, config in (("wb", good), ("wb-down", down)):
        async with world.sessions() as session:
            await add_connector(session, name, ConnectorKind.WORLD_BANK, bank.id, config,
                                sealed_secret=VAULT.seal(world.client.secret.encode()),
                                every_seconds=3600)  # fmt: skip
            await session.commit()
    stop = asyncio.Event()
    seen: list[tuple[str, str | None]] = []

    async def ran(outcome: Outcome) -> None:
        seen.append((outcome.connector, outcome.error))
        if len([name for name, _ in seen if name == outcome.connector]) == 2:
            if len(seen) == 4:
                stop.set()
            return
        async with world.sessions() as session:  # due again at once
            await session.execute(
                update(Connector)
                .where(Connector.name == outcome.connector)
                .values(next_run_at=utcnow())
            )
            await session.commit()

    await work(world.engine, world.sessions, VAULT, stop, tick=0.01, ran=ran)

    assert sorted(name for name, _ in seen) == ["wb", "wb", "wb-down", "wb-down"]
    assert all((error is None) == (name == "wb") for name, error in seen)
    up, failing = await world.connector_row("wb"), await world.connector_row("wb-down")
    assert (up.failures, failing.failures) == (0, 2)
    assert up.next_run_at is not None
    assert failing.next_run_at is not None
    waited = (failing.next_run_at - utcnow()).total_seconds()
    assert 7000 < waited <= 7200  # twice the schedule after the second failure in a row
    assert 3400 < (up.next_run_at - utcnow()).total_seconds() <= 3600
    assert len(await world.records("worldbank")) == 3

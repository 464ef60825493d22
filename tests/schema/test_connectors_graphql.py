"""Connectors configured over GraphQL (scope connectors:admin), with real tokens and a real
source on a loopback port: added once their form and their source are checked (a token from
the token endpoint, a page from the API, a mapping that compiles), every refusal a user
error with its field and code; their secret sealed, and in no answer and no audit event;
scheduled, stopped and removed; refused to everyone else. And the schedule's service.
"""

from __future__ import annotations

import base64
import json
import socket
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from hub.audit.models import AuditEvent
from hub.errors import InvalidInput
from hub.imports.connectors import ConnectorConfig, HttpConfig, add_connector
from hub.imports.models import Connector, ConnectorKind, SourceRecord, SourceState
from hub.imports.runs import dead_letter, finish, start_run
from hub.imports.schedule import set_schedule
from hub.types import utcnow
from tests.fixtures.factories import add_member
from tests.fixtures.oauth import VAULT
from tests.fixtures.partners import Partners, gid, running_partners
from tests.fixtures.server import running_app

SECRET = "partner-secret-7f3a9c0e5b21"
CLIENT_ID = "p2c-hub"
MAPPING = {
    "records": "data",
    "next": "links.next",
    "fields": {"id": "id", "title": "attributes.name"},
}

CONNECTOR_FIELDS = """
  id name kind activityIds reportingOrgs sectors tags identifiers publish
  hasSecret everySeconds nextRunAt failuresInARow watermark cursor mapping
  http { url tokenUrl clientId audience resource scope keyHeader query pageSize concurrency
         timeout }
  member { name }
"""

ADD = f"""
mutation($input: AddConnectorInput!) {{
  addConnector(input: $input) {{
    connector {{ {CONNECTOR_FIELDS} }}
    userErrors {{ field message code }}
  }}
}}"""

SCHEDULE = """
mutation($name: String!, $every: Int) {
  setConnectorSchedule(name: $name, everySeconds: $every) {
    connector { name everySeconds nextRunAt }
    userErrors { field message code }
  }
}"""

REMOVE = """
mutation($name: String!) {
  removeConnector(name: $name) { removedConnectorId userErrors { field message code } }
}"""

CONNECTORS = f"query {{ connectors(first: 20) {{ edges {{ node {{ {CONNECTOR_FIELDS} }} }} }} }}"

NODE = "query($id: ID!) { node(id: $id) { id ... on Connector { name } } }"

RUNS = """
query($id: ID!) {
  syncRuns(connector: $id, first: 5) { totalCount edges { node { requests retries } } }
}"""


def source_app() -> Starlette:
    """A partner's source: the World Bank's projects (none), and an OAuth 2.0 token endpoint
    that gives a token for the connector's client id and secret only."""

    async def projects(request: Request) -> JSONResponse:
        return JSONResponse({"projects": {}, "total": 0})

    async def token(request: Request) -> JSONResponse:
        basic = base64.b64encode(f"{CLIENT_ID}:{SECRET}".encode()).decode()
        if request.headers.get("authorization") != f"Basic {basic}":
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        return JSONResponse({"access_token": "t", "token_type": "Bearer", "expires_in": 3600})

    return Starlette(
        routes=[
            Route("/api/v2/projects", projects),
            Route("/oauth/token", token, methods=["POST"]),
        ]
    )


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def problems(payload: dict[str, Any]) -> list[tuple[list[str] | None, str]]:
    """A payload's user errors, as (field, code)."""
    return [(error["field"], error["code"]) for error in payload["userErrors"]]


@pytest.fixture
async def hub(
    database_url: str, session_factory: async_sessionmaker[AsyncSession]
) -> AsyncIterator[tuple[Partners, str]]:
    """The partners' hub, and the base URL of a partner's source."""
    async with (
        running_partners(database_url, session_factory) as partners,
        running_app(source_app()) as source,
    ):
        yield partners, source


async def test_connectors_are_checked_on_save_and_their_secret_is_never_shown(
    hub: tuple[Partners, str],
) -> None:
    p, source = hub
    alpha = gid("Organisation", p.members["alpha"])

    data = await p.ok("secretariat", ADD, input={
        "name": "iati-alpha", "kind": "IATI_FILE", "member": alpha, "publish": True,
        "selection": {"sectors": ["22040"], "tags": ["99:P2C"]},
    })  # fmt: skip
    iati = data["addConnector"]["connector"]
    assert {k: v for k, v in iati.items() if k != "id"} == {
        "name": "iati-alpha",
        "kind": "IATI_FILE",
        "activityIds": [],
        "reportingOrgs": [],
        "sectors": ["22040"],
        "tags": ["99:P2C"],
        "identifiers": [],
        "publish": True,
        "hasSecret": False,
        "everySeconds": None,
        "nextRunAt": None,
        "failuresInARow": 0,
        "watermark": None,
        "cursor": None,
        "mapping": None,
        "http": None,
        "member": {"name": "Alpha Telecom"},
    }

    data = await p.ok("secretariat", ADD, input={
        "name": "worldbank", "kind": "WORLD_BANK", "member": alpha, "everySeconds": 3600,
        "http": {"url": source, "query": "countrycode_exact=MW", "pageSize": 50},
    })  # fmt: skip
    bank = data["addConnector"]["connector"]
    assert bank["http"] == {
        "url": source, "tokenUrl": None, "clientId": None, "audience": None, "resource": None,
        "scope": None, "keyHeader": None, "query": "countrycode_exact=MW", "pageSize": 50,
        "concurrency": 2, "timeout": 30.0,
    }  # fmt: skip
    assert (bank["everySeconds"], bank["hasSecret"]) == (3600, False)
    assert bank["nextRunAt"] is not None

    def operator(**changes: Any) -> dict[str, Any]:
        """An operator's JSON API behind OAuth 2.0, with ``changes``."""
        http = {"url": f"{source}/api", "tokenUrl": f"{source}/oauth/token",
                "clientId": CLIENT_ID, "audience": "https://api.operator.example"}  # fmt: skip
        return {
            "name": "operator", "kind": "JSON_API", "member": alpha, "http": http,
            "mapping": MAPPING, "secret": SECRET, **changes,
        }  # fmt: skip

    closed = f"http://127.0.0.1:{closed_port()}/oauth/token"
    refusals = {
        "a mapping that does not compile": (
            operator(mapping={"records": "data", "fields": {"id": "id", "title": "name"}}),
            [(["input", "mapping", "next"], "BAD_MAPPING")],
        ),
        "a mapping that is no object": (
            operator(mapping=["data"]),
            [(["input", "mapping"], "BAD_MAPPING")],
        ),
        "an unreachable token endpoint": (
            operator(http={**operator()["http"], "tokenUrl": closed}),
            [(["input", "http", "tokenUrl"], "UNREACHABLE")],
        ),
        "a secret the token endpoint refuses": (
            operator(secret="not-the-secret"),
            [(["input", "http", "tokenUrl"], "UNREACHABLE")],
        ),
        "no secret": (operator(secret=None), [(["input", "secret"], "INVALID_INPUT")]),
        "a blank secret": (operator(secret="  "), [(["input", "secret"], "INVALID_INPUT")]),
        "a selection of nothing": (
            {"name": "iati-none", "kind": "IATI_FILE", "member": alpha},
            [(["input", "selection"], "EMPTY_SELECTION")],
        ),
        "a schedule too often": (
            operator(everySeconds=59),
            [(["input", "everySeconds"], "INVALID_INPUT")],
        ),
        "a name taken": (operator(name="worldbank"), [(["input", "name"], "DUPLICATE")]),
        "a pledge for a member": (
            operator(member=gid("Pledge", 1)),
            [(["input", "member"], "INVALID_ID")],
        ),
        "an organisation that is none": (
            operator(member=gid("Organisation", 10**6)),
            [(["input", "member"], "NOT_FOUND")],
        ),
    }
    for case, (given, expected) in refusals.items():
        body = await p.gql("secretariat", ADD, input=given)
        assert "errors" not in body, (case, body)
        payload = body["data"]["addConnector"]
        assert (payload["connector"], problems(payload)) == (None, expected), case
        assert SECRET not in json.dumps(body), case

    data = await p.ok("secretariat", ADD, input=operator(everySeconds=600))
    made = data["addConnector"]["connector"]
    assert made["hasSecret"] is True
    assert made["mapping"] == MAPPING
    assert made["http"]["audience"] == "https://api.operator.example"

    # The secret is sealed at rest, and in no answer and no audit event.
    listed = await p.post("secretariat", CONNECTORS)
    assert [e["node"]["name"] for e in listed.json()["data"]["connectors"]["edges"]] == [
        "iati-alpha", "operator", "worldbank",
    ]  # fmt: skip
    node = await p.post("secretariat", NODE, {"id": made["id"]})
    async with p.session_factory() as session:
        sealed = await session.scalar(select(Connector.secret).where(Connector.name == "operator"))
        events = list(
            await session.scalars(select(AuditEvent).where(AuditEvent.entity_type == "Connector"))
        )
    assert sealed is not None
    assert VAULT.open(sealed, what="the secret") == SECRET.encode()
    for text in (listed.text, node.text, *(event.changes for event in events)):
        assert SECRET not in text
        assert sealed not in text
    assert [(e.action, e.actor_kind) for e in events] == [("connector.add", "SECRETARIAT")] * 3
    changes = json.loads(events[-1].changes)
    assert changes["secret"] == {"before": None, "after": "(withheld)"}
    assert changes["name"] == {"before": None, "after": "operator"}


async def test_schedules_removal_and_who_may_configure(hub: tuple[Partners, str]) -> None:
    p, source = hub
    alpha = p.members["alpha"]
    async with p.session_factory() as session:
        bank = await add_connector(
            session, "worldbank", ConnectorKind.WORLD_BANK, alpha,
            ConnectorConfig(http=HttpConfig(url=source)),
        )  # fmt: skip
        kept = await add_connector(
            session, "iati-kept", ConnectorKind.IATI_FILE, alpha,
            ConnectorConfig(sectors=("22040",)),
        )  # fmt: skip
        gone = await add_connector(
            session, "iati-gone", ConnectorKind.IATI_FILE, alpha,
            ConnectorConfig(sectors=("22040",)),
        )  # fmt: skip
        run, _ = await start_run(session, kept, "file:///kept.xml", "a" * 64)
        session.add(
            SourceRecord(
                source="iati", external_id="XM-DAC-ALPHA-1", state=SourceState.PLEDGE,
                connector_id=kept.id, sync_run_id=run.id, content_hash="c" * 64,
            )
        )  # fmt: skip
        finish(run)
        gone_run, _ = await start_run(session, gone, "file:///gone.xml", "b" * 64)
        dead_letter(session, gone_run, source="iati", external_id=None, place="file:///gone.xml#1",
                    reason="UNREADABLE", payload="<broken")  # fmt: skip
        finish(gone_run, "stopped")
        await session.commit()
        bank_id, gone_id = gid("Connector", bank.id), gid("Connector", gone.id)

    calls: dict[str, tuple[str, dict[str, Any]]] = {
        "addConnector": (ADD, {"input": {"name": "x", "kind": "IATI_FILE",
                                         "member": gid("Organisation", alpha)}}),
        "setConnectorSchedule": (SCHEDULE, {"name": "worldbank", "every": 600}),
        "removeConnector": (REMOVE, {"name": "iati-gone"}),
    }  # fmt: skip
    refusals = ((None, "UNAUTHENTICATED"), ("alpha", "MISSING_SCOPE"), ("auditor", "MISSING_SCOPE"))
    for who, code in refusals:
        for name, (document, variables) in calls.items():
            body = await p.gql(who, document, **variables)
            assert body["data"] == {name: None}, (who, name, body)
            assert [e["extensions"]["code"] for e in body["errors"]] == [code], (who, name)

    async def schedule(name: str, every: int | None) -> dict[str, Any]:
        body = await p.gql("secretariat", SCHEDULE, name=name, every=every)
        payload: dict[str, Any] = body["data"]["setConnectorSchedule"]
        return payload

    started = utcnow()
    scheduled = await schedule("worldbank", 600)
    assert problems(scheduled) == []
    assert scheduled["connector"]["everySeconds"] == 600
    assert datetime.fromisoformat(scheduled["connector"]["nextRunAt"]) >= started
    stopped = await schedule("worldbank", None)
    assert stopped["connector"] == {"name": "worldbank", "everySeconds": None, "nextRunAt": None}
    assert problems(await schedule("iati-kept", 600)) == [(["everySeconds"], "INVALID_INPUT")]
    assert problems(await schedule("worldbank", 30)) == [(["everySeconds"], "INVALID_INPUT")]
    assert problems(await schedule("nowhere", 600)) == [(["name"], "NOT_FOUND")]

    none = (await p.ok("secretariat", RUNS, id=bank_id))["syncRuns"]
    assert none == {"totalCount": 0, "edges": []}
    runs = (await p.ok("secretariat", RUNS, id=gone_id))["syncRuns"]
    assert runs["edges"] == [{"node": {"requests": 0, "retries": 0}}]

    body = await p.gql("secretariat", REMOVE, name="iati-kept")
    assert problems(body["data"]["removeConnector"]) == [(["name"], "IN_USE")]
    data = await p.ok("secretariat", REMOVE, name="iati-gone")
    assert data["removeConnector"]["removedConnectorId"] == gone_id
    assert (await p.ok("secretariat", NODE, id=gone_id)) == {"node": None}
    assert (await p.ok("secretariat", RUNS, id=gone_id))["syncRuns"]["totalCount"] == 0
    body = await p.gql("secretariat", REMOVE, name="iati-gone")
    assert problems(body["data"]["removeConnector"]) == [(["name"], "NOT_FOUND")]

    async with p.session_factory() as session:
        names = await session.scalars(select(Connector.name).order_by(Connector.name))
        assert list(names) == ["iati-kept", "worldbank"]
        actions = await session.scalars(
            select(AuditEvent.action).where(AuditEvent.entity_type == "Connector")
        )
        assert sorted(actions) == ["connector.remove", "connector.schedule", "connector.schedule"]


async def test_the_schedule_service(session: AsyncSession) -> None:
    member = await add_member(session, "Alpha Telecom")
    bank = await add_connector(
        session, "worldbank", ConnectorKind.WORLD_BANK, member.id,
        ConnectorConfig(http=HttpConfig(url="https://search.worldbank.example")),
    )  # fmt: skip
    files = await add_connector(
        session, "iati", ConnectorKind.IATI_FILE, member.id, ConnectorConfig(sectors=("22040",))
    )
    before = utcnow()
    await set_schedule(session, bank, 3600)  # none before: it runs as soon as the worker looks
    assert bank.every_seconds == 3600
    assert bank.next_run_at is not None
    assert before <= bank.next_run_at <= utcnow()

    planned = utcnow() + timedelta(minutes=5)
    bank.next_run_at = planned
    await set_schedule(session, bank, 86400)  # a longer interval does not put it off
    assert (bank.every_seconds, bank.next_run_at) == (86400, planned)
    bank.next_run_at = utcnow() + timedelta(hours=2)
    await set_schedule(session, bank, 600)  # a shorter one brings it forward
    assert bank.next_run_at is not None
    assert bank.next_run_at <= utcnow() + timedelta(seconds=600)

    bank.failures = 3
    stopped = await set_schedule(session, bank, None)
    assert (stopped.every_seconds, stopped.next_run_at, stopped.failures) == (None, None, 3)

    for connector, every in ((files, 3600), (bank, 59)):
        with pytest.raises(InvalidInput) as refused:
            await set_schedule(session, connector, every)
        assert refused.value.field == ("every",)
    unscheduled = await set_schedule(session, files, None)  # stopping no schedule: no error
    assert unscheduled.every_seconds is None

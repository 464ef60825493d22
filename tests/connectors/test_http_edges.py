"""Edges of the HTTP connectors a review found broken (each test failed before its fix):
paging that never ends, a selection the Datastore was not asked for, a busy token endpoint,
a worker held up or stopped by one connector, a connector removed under its run, settings a
later version stored. SQLite only (the defects are the runner's, the client's and the
paging's, not a backend's). The partner API on loopback and the ``world`` fixture are
``test_http_sync``'s."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator
from contextlib import aclosing
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from connectors import jsonapi
from connectors.checks import check_source
from connectors.errors import SourceError
from connectors.framework import Checkpoint, Incoming
from connectors.http import HttpSource
from connectors.iati.outcomes import Options, Selection
from connectors.pulls import datastore_query, json_api
from connectors.runner import due_connectors, run_all, run_connector, work
from hub.errors import Conflict, InvalidInput
from hub.imports.connectors import (
    ConnectorConfig,
    HttpConfig,
    add_connector,
    remove_connector,
)
from hub.imports.locks import connector_lock
from hub.imports.models import Connector, ConnectorKind, RunStatus, SyncRun
from hub.imports.runs import Resume
from hub.types import utcnow
from tests.connectors.test_http_sync import World, no_backoff, rated, until, world
from tests.fixtures.factories import add_member
from tests.fixtures.oauth import VAULT
from tests.fixtures.partner_api import Delay, Malformed, Status, worldbank_projects
from tests.fixtures.server import running_app

__all__ = ["no_backoff", "rated", "world"]  # the fixtures, shared with test_http_sync


@pytest.fixture
def backend() -> str:
    return "sqlite"


async def _bank(world: World) -> int:
    async with world.sessions() as session:
        bank = await add_member(session, name="World Bank", iati_identifier="44000")
        await session.commit()
        return bank.id


async def _add(
    world: World,
    name: str,
    kind: ConnectorKind,
    member: int,
    config: ConnectorConfig,
    *,
    sealed: str | None = None,
    every: int | None = None,
) -> None:
    async with world.sessions() as session:
        secret = sealed or VAULT.seal(world.client.secret.encode())
        await add_connector(session, name, kind, member, config, sealed_secret=secret,
                            every_seconds=every)  # fmt: skip
        await session.commit()


# Paging


async def test_review_a_json_api_repeating_its_cursor_ends_the_pass() -> None:
    """Cursor mode: an API that hands back the cursor the page was asked with (a common way
    of saying "last page") must end the pass, failed, never page forever: the cursor travels
    in the request's params, not in the page's URL."""
    mapping = jsonapi.compile_mapping({
        "records": "data", "cursor": "meta.next", "cursorParam": "cursor",
        "fields": {"id": "id", "title": "name"},
    })  # fmt: skip
    asked: list[str] = []

    async def answer(request: Request) -> JSONResponse:
        asked.append(str(request.url))
        first = "cursor" not in request.query_params
        record = {"id": "A" if first else "B", "name": "a pledge"}
        return JSONResponse({"data": [record], "meta": {"next": "c1"}})

    app = Starlette(routes=[Route("/v1/records", answer)])
    async with running_app(app) as base:
        config = HttpConfig(url=f"{base}/v1/records", concurrency=1)
        async with HttpSource(config, None) as http:
            items = json_api(http, mapping, {}, Resume(), None, source="jsonapi:x",
                             reporting_org="XM-1")  # fmt: skip
            with pytest.raises(SourceError, match="paging never ends"):
                await read_pages(items)
    assert len(asked) == 2


async def read_pages(items: AsyncGenerator[Incoming | Checkpoint]) -> None:
    pages = 0
    async with aclosing(items):
        async for item in items:
            if isinstance(item, Checkpoint):
                pages += 1
                assert pages <= 3, "still paging"


def test_review_a_datastore_selection_by_tag_asks_the_datastore_for_the_tag() -> None:
    """The Datastore's query is built from activity ids, reporting orgs and sectors only: a
    selection by tag asks for ``*:*`` (the whole Datastore, over a million activities), and
    a tag beside a reporting org never fetches the activities selected only by the tag."""
    http = HttpConfig(url="https://api.iatistandard.org", key_header="Ocp-Apim-Subscription-Key")
    tagged = Selection(tags=frozenset({("99", "P2C")}))
    alone = datastore_query(http, Options(frozenset({"XM-1"}), tagged, {}), None)
    assert alone != "*:*"
    beside = Selection(reporting_orgs=frozenset({"GB-1"}), tags=frozenset({("99", "P2C")}))
    mixed = datastore_query(http, Options(frozenset({"XM-1"}), beside, {}), None)
    assert "P2C" in mixed


# The token endpoint


@pytest.mark.parametrize(
    "fault",
    [Status(429, retry_after=1), Malformed()],
    ids=["429-with-a-json-error", "html-200"],
)
async def test_review_a_busy_token_endpoint_is_asked_again(world: World, fault: Any) -> None:
    """A rate-limited token endpoint (Auth0 answers 429 with a JSON ``error``) is read by
    authlib as an OAuth refusal, and a gateway's HTML 200 as a bare ValueError: neither is
    retried, and the run fails at once ("refused the connector's credentials: Too Many
    Requests"), where the API's own 429s and garbage bodies are retried."""
    world.api.worldbank = worldbank_projects(2)
    bank = await _bank(world)
    await _add(world, "wb", ConnectorKind.WORLD_BANK, bank, ConnectorConfig(http=world.http()))
    world.api.fault("token", fault)

    run = await world.sync("wb")

    assert run.status is RunStatus.SUCCEEDED, run.error
    assert run.created == 2


async def test_review_a_token_endpoint_answering_html_is_unreachable(world: World) -> None:
    """``connectors add`` / ``addConnector``: a token endpoint that answers 200 with a portal's
    HTML makes authlib raise ValueError, which ``check_source`` does not turn into
    ``UNREACHABLE``: a traceback at the console, an internal error in GraphQL."""
    world.api.fault("token", Malformed(), Malformed())  # both of the check's attempts
    config = ConnectorConfig(http=world.http())
    with pytest.raises(InvalidInput) as refused:
        await check_source(ConnectorKind.WORLD_BANK, config, world.client.secret)
    assert refused.value.code == "UNREACHABLE"


# The runner and the worker


async def test_review_a_connector_removed_before_its_turn_stops_no_other(world: World) -> None:
    """``run_connector`` looks the connector up outside its ``try``: a connector removed
    between the worker's look and its turn (or a name given to ``sync`` that is gone) raises
    ``NotFound`` out of ``run_all``'s ``gather``, which ends ``work()``: the worker dies."""
    world.api.worldbank = worldbank_projects(2)
    bank = await _bank(world)
    await _add(world, "wb", ConnectorKind.WORLD_BANK, bank, ConnectorConfig(http=world.http()))

    outcomes = await run_all(world.engine, world.sessions, VAULT, ["gone", "wb"])

    by_name = {outcome.connector: outcome for outcome in outcomes}
    assert by_name["wb"].error is None
    assert by_name["gone"].error is not None


async def test_review_a_connector_running_elsewhere_is_not_tried_every_tick(
    world: World,
) -> None:
    """A scheduled connector another process is running (``p2c-hub sync`` by hand, a second
    worker) is refused with RUN_IN_PROGRESS and left due: the worker takes its lock again
    every tick (five seconds) until the other run ends, and logs nothing about it."""
    world.api.worldbank = worldbank_projects(2)
    bank = await _bank(world)
    await _add(world, "wb", ConnectorKind.WORLD_BANK, bank, ConnectorConfig(http=world.http()),
               every=3600)  # fmt: skip
    stored = await world.connector_row("wb")
    async with connector_lock(world.engine, stored.id, "wb"):  # the other process's run
        refused = await run_connector(world.engine, world.sessions, VAULT, "wb")
        assert refused.run is None
        assert refused.error is not None

        assert "wb" not in await due_connectors(world.sessions)


async def test_review_a_slow_run_holds_up_no_other_connectors_schedule(world: World) -> None:
    """``work()`` awaits every run it started before it looks again: one slow run (a
    Datastore pass of an hour, a source in its five minutes of retries) keeps every other
    connector that comes due meanwhile waiting, with three of its four slots free."""
    world.api.worldbank = worldbank_projects(2)
    bank = await _bank(world)
    for name in ("slow", "quick"):
        await _add(world, name, ConnectorKind.WORLD_BANK, bank,
                   ConnectorConfig(http=world.http()), every=3600)  # fmt: skip
    async with world.sessions() as session:
        later = utcnow() + timedelta(days=1)
        await session.execute(
            update(Connector).where(Connector.name == "quick").values(next_run_at=later)
        )
        await session.commit()
    world.api.fault("worldbank", Delay(1.5))  # the slow one's page
    stop = asyncio.Event()
    worker = asyncio.create_task(work(world.engine, world.sessions, VAULT, stop, tick=0.02))
    try:

        async def slow_page_asked() -> bool:
            return any(s.status == 0 for s in world.api.served("worldbank"))

        await until(slow_page_asked, 5)
        async with world.sessions() as session:  # the quick one comes due meanwhile
            await session.execute(
                update(Connector).where(Connector.name == "quick").values(next_run_at=utcnow())
            )
            await session.commit()

        async def both_ran() -> bool:
            async with world.sessions() as session:
                done = await session.scalars(
                    select(SyncRun).where(SyncRun.finished_at.is_not(None))
                )
                return len(list(done)) == 2

        await until(both_ran, 10)
    finally:
        stop.set()
        await asyncio.wait_for(worker, 10)
    async with world.sessions() as session:
        rows = await session.execute(
            select(Connector.name, SyncRun.finished_at).join(
                SyncRun, SyncRun.connector_id == Connector.id
            )
        )
        finished = {row.name: row.finished_at for row in rows}
    assert finished["quick"] < finished["slow"]


async def test_review_removing_a_connector_mid_run_does_not_crash_the_run(world: World) -> None:
    """``remove_connector`` takes no lock and checks no RUNNING run: removed while its first
    page is on the way, the run's commit finds its run row gone, ``sync``'s failure path
    asserts it is there, and the AssertionError leaves ``run_connector`` (and the worker).
    Either the removal is refused while a run is under way, or the run ends as an outcome."""
    world.api.worldbank = worldbank_projects(2)
    bank = await _bank(world)
    await _add(world, "wb", ConnectorKind.WORLD_BANK, bank, ConnectorConfig(http=world.http()))
    world.api.fault("worldbank", Delay(1.0))
    running = asyncio.create_task(run_connector(world.engine, world.sessions, VAULT, "wb"))

    async def page_asked() -> bool:
        return any(s.status == 0 for s in world.api.served("worldbank"))

    await until(page_asked, 5)
    try:
        async with world.sessions() as session:
            await remove_connector(session, "wb")
            await session.commit()
    except Conflict:
        pass  # refused while it runs: fine

    outcome = await asyncio.wait_for(running, 10)  # an outcome, never an exception

    assert outcome.connector == "wb"


# Configuration and locks


def test_review_a_stored_http_setting_this_version_does_not_know_is_read() -> None:
    """``ConnectorConfig.from_json`` ignores top-level keys it does not know, but
    ``HttpConfig.from_mapping`` refuses unknown ``http`` keys: one connector stored by a
    newer hub (then rolled back) breaks GraphQL's ``connectors``, its runs and its letters."""
    stored = json.loads(ConnectorConfig(http=HttpConfig(url="https://x.example")).to_json())
    stored["http"]["proxy"] = "http://proxy.example:3128"  # a setting of a later version
    stored["later_top_level_setting"] = True

    config = ConnectorConfig.from_json(json.dumps(stored))

    assert config.http is not None
    assert config.http.url == "https://x.example"

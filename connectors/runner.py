"""Running HTTP connectors: one now (``p2c-hub sync``), all, or each on its schedule
(``p2c-hub worker``).

A run holds the connector's lock (``hub.imports.locks``) from start to end, reads its source
through one :class:`~connectors.http.HttpSource`, and ends by setting when the connector
runs next: its schedule after a success, later and later after failures in a row (the
worker logs each, and ``connectors list`` and GraphQL show them), so a partner whose API is
down costs little and never holds up the others.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import structlog
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from connectors import jsonapi
from connectors.framework import Records, Stopped, sync
from connectors.http import HttpSource
from connectors.iati.importer import options_for
from connectors.letters import json_source
from connectors.pulls import Item, datastore, json_api, world_bank
from hub.audit.delivery import Sessions
from hub.countries.service import alpha3_by_alpha2
from hub.errors import HubError
from hub.imports.connectors import ConnectorConfig, get_connector, list_connectors
from hub.imports.locks import connector_lock
from hub.imports.models import HTTP_KINDS, Connector, ConnectorKind, SyncRun
from hub.imports.runs import Resume, move_cursor
from hub.imports.schedule import after_run, due, postpone
from hub.keys.vault import Vault

log = structlog.get_logger("connectors.runner")

Progress = Callable[[int, int | None], None]
"""Told how many more records were committed, and how many the source says it holds."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """How one connector's run ended: its run (none if it could not start) and the error."""

    connector: str
    run: SyncRun | None
    error: str | None


async def run_connector(
    engine: AsyncEngine,
    sessions: Sessions,
    vault: Vault,
    name: str,
    progress: Progress = lambda done, total: None,
    *,
    full: bool = False,
) -> Outcome:
    """Run the HTTP connector ``name`` once, under its lock; never raises for the source's
    or the hub's refusals (they are the outcome's error), so one connector's failure stops
    no other. ``full``: a new pass over everything, whatever the watermark and cursor say."""
    try:
        async with sessions() as session:
            connector = await get_connector(session, name)
    except HubError as missing:  # removed since it was named
        return Outcome(name, None, missing.message)
    if connector.kind not in HTTP_KINDS:
        message = f"connector {name} is {connector.kind.value}: import its files instead"
        return Outcome(name, None, message)
    try:
        async with connector_lock(engine, connector.id, name):
            run, error = await _run(sessions, vault, connector, progress, full)
    except HubError as refused:  # another process runs it, or its secret cannot be opened
        if refused.code == "RUN_IN_PROGRESS":  # the other run sets the next one when done
            await _postpone(sessions, connector)
        else:  # a fault of its own: counted, and waited on
            await _schedule(sessions, connector, failed=True)
            log.warning("connector could not run", connector=name, error=refused.message)
        return Outcome(name, None, refused.message)
    await _schedule(sessions, connector, failed=error is not None)
    if error is not None:
        log.warning("connector run failed", connector=name, run=run.id, error=error)
    return Outcome(name, run, error)


async def _run(
    sessions: Sessions, vault: Vault, connector: Connector, progress: Progress, full: bool
) -> tuple[SyncRun, str | None]:
    config = ConnectorConfig.from_json(connector.config)
    assert config.http is not None  # checked when the connector was added
    secret = None
    if connector.secret is not None:
        secret = vault.open(connector.secret, what=f"connector {connector.name}'s secret").decode()
    async with sessions() as session:
        if full:
            await move_cursor(session, connector.id, None, None)
            await session.commit()
        records = await _records_of(
            session, connector, config, None if full else connector.watermark
        )
    async with HttpSource(config.http, secret) as http:
        try:
            run = await sync(
                sessions,
                connector,
                config.http.url,
                None,
                lambda resume: records(http, resume),
                lambda done: progress(done, http.total),
                traffic=http.traffic,
                exclusive=True,
            )
        except Stopped as stopped:
            return stopped.run, stopped.run.error
    return run, None


Source = Callable[[HttpSource, Resume], Records]


async def _records_of(
    session: AsyncSession, connector: Connector, config: ConnectorConfig, watermark: str | None
) -> Source:
    """What the connector's kind reads from ``watermark`` on, with what the hub knows that
    the mapping needs (the IATI options hold the countries)."""
    if connector.kind is ConnectorKind.IATI_DATASTORE:
        options = await options_for(session, connector)
        return lambda http, resume: datastore(http, options, resume, watermark)
    countries = await alpha3_by_alpha2(session)
    if connector.kind is ConnectorKind.WORLD_BANK:
        return lambda http, resume: world_bank(http, countries, resume)
    assert config.mapping is not None  # a JSON_API connector has one
    mapping = jsonapi.compile_mapping(config.mapping)
    source, reporting_org = await json_source(session, connector)

    def read(http: HttpSource, resume: Resume) -> AsyncIterator[Item]:
        return json_api(http, mapping, countries, resume, watermark, source=source,
                        reporting_org=reporting_org)  # fmt: skip

    return read


async def _schedule(sessions: Sessions, connector: Connector, *, failed: bool) -> None:
    async with sessions() as session:
        await after_run(session, connector.id, failed=failed)
        await session.commit()


async def _postpone(sessions: Sessions, connector: Connector) -> None:
    async with sessions() as session:
        await postpone(session, connector.id)
        await session.commit()


async def due_connectors(sessions: Sessions) -> list[str]:
    """The scheduled connectors whose time has come, the longest waiting first."""
    async with sessions() as session:
        return list(await due(session))


async def run_all(
    engine: AsyncEngine,
    sessions: Sessions,
    vault: Vault,
    names: list[str] | None = None,
    *,
    limit: int = 4,
    full: bool = False,
) -> list[Outcome]:
    """Run the named HTTP connectors (else every one), at most ``limit`` at a time."""
    if names is None:
        async with sessions() as session:
            names = [c.name for c in await list_connectors(session) if c.kind in HTTP_KINDS]
    slots = asyncio.Semaphore(limit)

    async def one(name: str) -> Outcome:
        async with slots:
            return await run_connector(engine, sessions, vault, name, full=full)

    return list(await asyncio.gather(*(one(name) for name in names)))


async def work(
    engine: AsyncEngine,
    sessions: Sessions,
    vault: Vault,
    stop: asyncio.Event,
    *,
    tick: float = 5.0,
    limit: int = 4,
    ran: Callable[[Outcome], Awaitable[None]] | None = None,
) -> None:
    """Run each connector on its schedule until ``stop`` is set, at most ``limit`` at once:
    a connector that comes due starts at the next look, whatever runs are under way. When
    stopped, runs under way finish (a run stopped anyway resumes: its pages are committed as
    they go)."""
    running: dict[str, asyncio.Task[None]] = {}
    finished: dict[str, float] = {}
    slots = asyncio.Semaphore(limit)
    clock = asyncio.get_running_loop().time

    async def one(name: str) -> None:
        try:
            async with slots:
                outcome = await run_connector(engine, sessions, vault, name)
            if outcome.error is None and outcome.run is not None:
                log.info("connector ran", connector=name, run=outcome.run.id)
            if ran is not None:
                await ran(outcome)
        except Exception:  # a fault of the hub's, not the connector's: the worker goes on
            log.exception("connector run crashed", connector=name)
        finally:
            running.pop(name, None)
            finished[name] = clock()

    while not stop.is_set():
        looked = clock()
        try:
            due = await due_connectors(sessions)
        except (OSError, DBAPIError) as away:  # the database, for a while: look again later
            log.warning("worker cannot read the schedule", error=str(away))
            due = []
        for name in due:
            # A run that ended while the schedule was read may be due only in that stale read.
            if name not in running and finished.get(name, looked) <= looked:
                running[name] = asyncio.create_task(one(name))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), tick)
    if running:
        await asyncio.gather(*running.values())

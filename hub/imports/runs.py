"""Sync runs: started, advanced batch by batch with their marker, finished; and the dead
letters a run leaves for records it could not take.

A run's counts and ``position`` change only in the transaction that commits a batch, so
they always say what the database holds. A run whose process died stays RUNNING until the
next run of its connector finds it dead (its process gone, or silent for
``STALE_AFTER``), marks it INTERRUPTED and resumes after its marker when it reads the same
bytes again.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hub.errors import Conflict, NotFound
from hub.imports.models import Connector, DeadLetter, LetterStatus, RunStatus, SyncRun
from hub.integrity import flush
from hub.types import utcnow

STALE_AFTER = timedelta(minutes=10)
"""A run that wrote no batch for this long is taken for dead, whichever host ran it."""

COUNTS = ("fetched", "created", "updated", "unchanged", "rejected", "unclaimed", "skipped")
TRAFFIC = ("requests", "retries")
"""An HTTP run's requests, and how many were made again after a fault."""


def this_process() -> str:
    """Who runs a sync: host and process id."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _alive(process: str, heartbeat: datetime, now: datetime) -> bool:
    host, _, pid = process.rpartition(":")
    if host == socket.gethostname() and pid.isdigit():
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    return now - heartbeat < STALE_AFTER


@dataclass(frozen=True, slots=True)
class Resume:
    """Where a new run starts reading: after ``position``, left by run ``run_id``; for an
    HTTP source, at the connector's page ``cursor`` of an unfinished pass."""

    run_id: int | None = None
    position: int = 0
    cursor: str | None = None


async def settle_earlier_runs(
    session: AsyncSession, connector: Connector, *, exclusive: bool = False
) -> None:
    """Mark the connector's dead runs INTERRUPTED; refuse while one is still alive.
    ``exclusive``: the caller holds the connector's lock (``hub.imports.locks``), so no run
    of it is alive anywhere, whatever its host and heartbeat say."""
    now = utcnow()
    running = await session.scalars(
        select(SyncRun)
        .where(SyncRun.connector_id == connector.id, SyncRun.status == RunStatus.RUNNING)
        .with_for_update()
    )
    for run in running:
        if not exclusive and _alive(run.process_id, run.heartbeat_at, now):
            raise Conflict(
                f"connector {connector.name} is running already (run {run.id}, "
                f"process {run.process_id}, since {run.started_at:%Y-%m-%d %H:%M:%S} UTC)",
                code="RUN_IN_PROGRESS",
                field=("connector",),
            )
        run.status, run.finished_at = RunStatus.INTERRUPTED, run.heartbeat_at
        run.error = "the process stopped before the run finished"
    await flush(session)


async def resume_point(
    session: AsyncSession, connector: Connector, source: str, digest: str
) -> Resume:
    """Where reading ``source`` starts: after the marker of the connector's last run over
    the same bytes, if it stopped before the end; else at the start."""
    last = await session.scalar(
        select(SyncRun)
        .where(SyncRun.connector_id == connector.id, SyncRun.source == source)
        .order_by(SyncRun.id.desc())
        .limit(1)
    )
    if last is None or last.status is RunStatus.SUCCEEDED or last.source_digest != digest:
        return Resume()
    return Resume(last.id, last.position)


async def _unfinished_pass(session: AsyncSession, connector: Connector) -> Resume:
    """Where the connector's pass over its HTTP source stopped, if it did."""
    cursor = await session.scalar(select(Connector.cursor).where(Connector.id == connector.id))
    if cursor is None:
        return Resume()
    last = await session.scalar(
        select(SyncRun).where(SyncRun.connector_id == connector.id).order_by(SyncRun.id.desc())
    )
    return Resume(last.id, last.position, cursor) if last is not None else Resume(cursor=cursor)


async def move_cursor(
    session: AsyncSession, connector_id: int, cursor: str | None, watermark: str | None
) -> None:
    """Where the connector's pass goes on after the page being committed (None: the pass
    ended), and, when a pass ends, the watermark the next one asks from: call in the page's
    transaction."""
    values: dict[str, str | None] = {"cursor": cursor}
    if cursor is None and watermark is not None:
        values["watermark"] = watermark
    await session.execute(update(Connector).where(Connector.id == connector_id).values(values))


async def start_run(
    session: AsyncSession,
    connector: Connector,
    source: str | None,
    digest: str | None,
    *,
    exclusive: bool = False,
) -> tuple[SyncRun, Resume]:
    """A RUNNING run of ``connector`` over ``source`` and where it starts reading;
    ``exclusive``: the caller holds the connector's lock."""
    await settle_earlier_runs(session, connector, exclusive=exclusive)
    if source is None:
        resume = Resume()  # records given by hand (dead letters taken again)
    elif digest is None:
        resume = await _unfinished_pass(session, connector)
    else:
        resume = await resume_point(session, connector, source, digest)
    now = utcnow()
    run = SyncRun(
        connector_id=connector.id,
        status=RunStatus.RUNNING,
        started_at=now,
        heartbeat_at=now,
        process_id=this_process(),
        source=source,
        source_digest=digest,
        position=resume.position,
        resumed_from=resume.run_id,
        **{name: 0 for name in COUNTS},
    )
    session.add(run)
    await flush(session)
    return run, resume


def advance(
    run: SyncRun, position: int, counts: Mapping[str, int], traffic: Traffic | None = None
) -> None:
    """Move the marker past a batch and add its counts: call in the batch's transaction;
    ``traffic``: the HTTP requests and retries of the run so far."""
    run.position = position
    for name in COUNTS:
        setattr(run, name, getattr(run, name) + counts.get(name, 0))
    if traffic is not None:
        run.requests, run.retries = traffic.requests, traffic.retries
    run.heartbeat_at = utcnow()


class Traffic(Protocol):
    """What an HTTP run asked of its source."""

    @property
    def requests(self) -> int: ...

    @property
    def retries(self) -> int: ...


def finish(run: SyncRun, error: str | None = None, traffic: Traffic | None = None) -> None:
    """End the run: SUCCEEDED, or FAILED with ``error``."""
    if traffic is not None:
        run.requests, run.retries = traffic.requests, traffic.retries
    run.status = RunStatus.FAILED if error else RunStatus.SUCCEEDED
    run.error = error
    run.finished_at = run.heartbeat_at = utcnow()


async def runs_of(
    session: AsyncSession, connector_id: int | None = None, limit: int = 20
) -> Sequence[SyncRun]:
    """The latest runs, newest first, of one connector or all."""
    query = select(SyncRun).order_by(SyncRun.id.desc()).limit(limit)
    if connector_id is not None:
        query = query.where(SyncRun.connector_id == connector_id)
    return list(await session.scalars(query))


def dead_letter(
    session: AsyncSession,
    run: SyncRun,
    *,
    source: str,
    external_id: str | None,
    place: str,
    reason: str,
    payload: str | None,
) -> DeadLetter:
    """Keep a record the run could not take: its payload, why, and where it was."""
    letter = DeadLetter(
        connector_id=run.connector_id,
        sync_run_id=run.id,
        source=source,
        external_id=external_id[:500] if external_id is not None else None,
        place=place[:2100],
        reason=reason,
        payload=payload,
        status=LetterStatus.OPEN,
        attempts=1,
    )
    session.add(letter)
    return letter


async def open_letters(
    session: AsyncSession, connector_id: int | None = None, *, ids: Sequence[int] = ()
) -> Sequence[DeadLetter]:
    """Dead letters still waiting, oldest first; ``ids`` picks some (``NotFound`` for one
    that does not exist or was resolved)."""
    query = select(DeadLetter).where(DeadLetter.status == LetterStatus.OPEN)
    if connector_id is not None:
        query = query.where(DeadLetter.connector_id == connector_id)
    if ids:
        query = query.where(DeadLetter.id.in_(ids))
    letters = list(await session.scalars(query.order_by(DeadLetter.id)))
    missing = sorted(set(ids) - {letter.id for letter in letters})
    if missing:
        raise NotFound(f"no open dead letter {', '.join(map(str, missing))}", field=("deadLetter",))
    return letters


def resolve(letter: DeadLetter, run: SyncRun) -> None:
    """The letter's record was taken by ``run``."""
    letter.status, letter.resolved_at, letter.resolved_by_run_id = (
        LetterStatus.RESOLVED,
        utcnow(),
        run.id,
    )


async def close_unreadable(session: AsyncSession, run: SyncRun) -> None:
    """Resolve the letters earlier runs over the same source left where it could not be read
    on (no record, no payload): ``run`` read it to its end."""
    if run.source is None:
        return
    earlier = select(SyncRun.id).where(
        SyncRun.connector_id == run.connector_id, SyncRun.source == run.source
    )
    letters = await session.scalars(
        select(DeadLetter).where(
            DeadLetter.status == LetterStatus.OPEN,
            DeadLetter.external_id.is_(None),
            DeadLetter.payload.is_(None),
            DeadLetter.sync_run_id.in_(earlier),
        )
    )
    for letter in letters:
        resolve(letter, run)

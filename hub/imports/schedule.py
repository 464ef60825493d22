"""When an HTTP connector runs on its own: the schedule the secretariat sets, when the
worker (``p2c-hub worker``) runs it next, and how long one that keeps failing waits.

After each run the next one is set from ``every_seconds``: the schedule after a success,
later and later after failures in a row, so a partner whose API is down costs little.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hub.errors import InvalidInput
from hub.imports.models import HTTP_KINDS, Connector, ConnectorKind
from hub.integrity import flush
from hub.types import utcnow

MIN_EVERY = 60
"""The shortest schedule, in seconds."""
MAX_BACKOFF = timedelta(hours=24)
"""The longest a failing connector waits between runs (unless its schedule is longer)."""
BUSY_WAIT = timedelta(minutes=1)
"""How long the worker leaves a connector that another process is running."""


def check_every(name: str, kind: ConnectorKind, every_seconds: int) -> None:
    """Only HTTP connectors run on a schedule, at most every ``MIN_EVERY`` seconds."""
    if kind not in HTTP_KINDS:
        raise InvalidInput(
            f"connector {name} is {kind.value}: only HTTP connectors run on a schedule "
            "(import its files instead)",
            field=("every",),
        )
    if every_seconds < MIN_EVERY:
        raise InvalidInput(
            f"every {every_seconds} seconds is too often: at least every {MIN_EVERY}",
            field=("every",),
        )


def next_wait(every: timedelta, failures: int) -> timedelta:
    """How long after a run the connector runs again: its schedule, doubled for each
    failure in a row after the first, at most a day (or the schedule, if longer)."""
    if failures <= 1:
        return every
    longest = max(every, MAX_BACKOFF)
    doubled: timedelta = every * 2 ** min(failures - 1, 20)
    return min(doubled, longest)


async def set_schedule(
    session: AsyncSession, connector: Connector, every_seconds: int | None
) -> Connector:
    """Run ``connector`` every ``every_seconds`` (HTTP kinds, at least ``MIN_EVERY``), or,
    with None, only when asked (a run under way finishes).

    A connector that had no schedule runs first as soon as the worker looks; one that had
    runs next at its planned time or a new interval from now, whichever comes first. Its
    failures in a row stay as they are: they say how its source has been answering."""
    if every_seconds is None:
        connector.every_seconds = None
        connector.next_run_at = None
        await flush(session)
        return connector
    check_every(connector.name, connector.kind, every_seconds)
    now = utcnow()
    soonest = now + timedelta(seconds=every_seconds)
    planned = connector.next_run_at
    connector.every_seconds = every_seconds
    connector.next_run_at = now if planned is None else min(planned, soonest)
    await flush(session)
    return connector


async def after_run(session: AsyncSession, connector_id: int, *, failed: bool) -> None:
    """Count the run in the connector's failures in a row, and set when it runs next."""
    current = await session.get_one(Connector, connector_id, populate_existing=True)
    failures = current.failures + 1 if failed else 0
    next_run = None
    if current.every_seconds is not None:
        next_run = utcnow() + next_wait(timedelta(seconds=current.every_seconds), failures)
    current.failures, current.next_run_at = failures, next_run
    await flush(session)


async def postpone(session: AsyncSession, connector_id: int) -> None:
    """Look again a little later at a scheduled connector another process runs (its run
    sets the next one when it ends)."""
    await session.execute(
        update(Connector)
        .where(Connector.id == connector_id, Connector.every_seconds.is_not(None))
        .values(next_run_at=utcnow() + BUSY_WAIT)
    )


async def due(session: AsyncSession) -> Sequence[str]:
    """The scheduled connectors whose time has come, the longest waiting first."""
    names = await session.scalars(
        select(Connector.name)
        .where(Connector.every_seconds.is_not(None), Connector.next_run_at <= utcnow())
        .order_by(Connector.next_run_at)
    )
    return list(names)

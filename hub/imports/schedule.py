"""When an HTTP connector runs on its own: the schedule the secretariat sets, or stops.

The worker (``p2c-hub worker``) runs a connector whose ``next_run_at`` has come, and after
each run sets the next one from ``every_seconds`` (later after failures in a row).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from hub.errors import InvalidInput
from hub.imports.connectors import MIN_EVERY
from hub.imports.models import HTTP_KINDS, Connector
from hub.integrity import flush
from hub.types import utcnow


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
    if connector.kind not in HTTP_KINDS:
        raise InvalidInput(
            f"connector {connector.name} is {connector.kind.value}: only HTTP connectors run on a "
            "schedule (import its files instead)",
            field=("every",),
        )
    if every_seconds < MIN_EVERY:
        raise InvalidInput(
            f"every {every_seconds} seconds is too often: at least every {MIN_EVERY}",
            field=("every",),
        )
    now = utcnow()
    soonest = now + timedelta(seconds=every_seconds)
    planned = connector.next_run_at
    connector.every_seconds = every_seconds
    connector.next_run_at = now if planned is None else min(planned, soonest)
    await flush(session)
    return connector

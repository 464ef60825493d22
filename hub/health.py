"""Liveness and readiness: is the process up, and can it serve from its database."""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import JSONResponse

from hub.migrate import current_revision

READINESS_TIMEOUT_SECONDS = 3.0


async def healthz(request: Request) -> JSONResponse:
    """The process is alive and answering."""
    return JSONResponse({"status": "ok"})


async def _revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as connection:
        return await current_revision(connection)


async def readyz(request: Request) -> JSONResponse:
    """Ready when the database answers and its schema is at the code's migration head."""
    engine: AsyncEngine = request.app.state.engine
    expected: str = request.app.state.migration_head
    try:
        async with asyncio.timeout(READINESS_TIMEOUT_SECONDS):
            revision = await _revision(engine)
    except Exception as error:  # any failure to reach the database means not ready
        return JSONResponse(
            {"status": "unavailable", "database": "unreachable", "error": type(error).__name__},
            status_code=503,
        )
    if revision != expected:
        return JSONResponse(
            {
                "status": "unavailable",
                "database": "ok",
                "migrations": {"current": revision, "expected": expected},
            },
            status_code=503,
        )
    return JSONResponse({"status": "ok", "database": "ok", "migrations": {"current": revision}})

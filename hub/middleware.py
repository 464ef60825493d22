"""Request ids, the one access-log line per request, and the last word on unhandled errors.

This middleware is the outermost layer that knows the request id, so an error nothing else
handled becomes a 500 here, with the id in its header, its body and the logged traceback.
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import structlog
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID_HEADER = "x-request-id"
_ACCEPTABLE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

log = structlog.get_logger("hub.http")


class RequestLogMiddleware:
    """Gives each request an id (the caller's, if well formed), echoes it, and logs once."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        supplied = (
            dict(scope.get("headers") or []).get(REQUEST_ID_HEADER.encode(), b"").decode("latin-1")
        )
        request_id = supplied if _ACCEPTABLE_ID.match(supplied) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        status = 500
        responded = False
        closed: dict[str, Any] = {}
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status, responded
            kind = message["type"]
            if kind in ("http.response.start", "websocket.http.response.start"):
                status, responded = message["status"], True
                headers = list(message.get("headers", []))
                headers.append((REQUEST_ID_HEADER.encode(), request_id.encode()))
                message = {**message, "headers": headers}
            elif kind == "websocket.accept":
                status, responded = 101, True
            elif kind == "websocket.close":
                closed["close_code"] = message.get("code", 1000)
                status = status if responded else 403  # closed before accepting: refused
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=request_id):
            try:
                await self.app(scope, receive, send_with_id)
            except Exception:
                log.exception("http.unhandled_error")
                if responded or scope["type"] != "http":
                    raise
                await JSONResponse(
                    {"error": f"internal error; quote request id {request_id} when reporting it"},
                    status_code=500,
                )(scope, receive, send_with_id)
            finally:
                log.info(
                    "http.request",
                    method=scope.get("method", "WEBSOCKET"),
                    path=scope["path"],
                    status=status,
                    duration_ms=round((time.perf_counter() - started) * 1000, 2),
                    client=(scope.get("client") or ("", 0))[0],
                    **closed,
                )

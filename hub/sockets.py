"""The hub's graphql-transport-ws: the token travels in ``connection_init`` and is checked
there, then again every few seconds until it expires or is revoked, when the socket closes.

Close codes are the protocol's: 4400 for a malformed ``connection_init``, 4403 for a token
refused at the start or later (the reason says why), 4429 for a second ``connection_init``.
"""

from __future__ import annotations

import asyncio
import time
from contextlib import suppress
from typing import Any

import structlog
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import ConnectionInitMessage

from hub.auth.principal import Principal
from hub.auth.validation import TokenValidator
from hub.callers import caller_key
from hub.errors import Unauthenticated
from schema.context import Context

log = structlog.get_logger("hub.live")

FORBIDDEN, BAD_REQUEST, TOO_MANY_INITIALISATIONS = 4403, 4400, 4429


def close_reason(message: str) -> str:
    """A WebSocket close reason holds at most 123 bytes of UTF-8."""
    return message.encode()[:123].decode(errors="ignore")


def authorization_of(payload: dict[str, Any]) -> str | None:
    """The ``authorization`` entry of a connection_init payload (any case of the name)."""
    found = [value for name, value in payload.items() if name.lower() == "authorization"]
    if not found:
        return None
    if len(found) > 1 or not isinstance(found[0], str):
        raise Unauthenticated(
            'send the token once in connection_init, as {"authorization": "Bearer TOKEN"}',
            bearer=False,
        )
    return found[0]


def subscribe_problem(message: dict[str, Any]) -> str | None:
    """What is wrong with the shape of a ``subscribe`` message, if anything."""
    payload = message.get("payload")
    if not isinstance(message.get("id"), str):
        return "a subscribe message needs a string id"
    if not isinstance(payload, dict):
        return "a subscribe message needs a payload object"
    if not isinstance(payload.get("query"), str):
        return "the subscribe payload's query must be a string"
    for name in ("variables", "extensions"):
        if not isinstance(payload.get(name), dict | None):
            return f"the subscribe payload's {name} must be an object"
    if not isinstance(payload.get("operationName"), str | None):
        return "the subscribe payload's operationName must be a string"
    return None


class TokenWatch:
    """How a socket's token is watched: the validator, the recheck period and the leeway."""

    def __init__(self, validator: TokenValidator, recheck_seconds: float, leeway: float) -> None:
        self.validator = validator
        self.recheck_seconds = recheck_seconds
        self.leeway = leeway

    def next_check(self, principal: Principal) -> float:
        """Seconds to wait before checking again: the period, or until just past expiry."""
        if principal.expires is None:
            return self.recheck_seconds
        until_expiry = principal.expires + self.leeway - time.time()
        return max(min(self.recheck_seconds, until_expiry + 0.05), 0.0)

    def expired(self, principal: Principal) -> bool:
        """Known without asking anyone: the token's ``exp`` (and the leeway) has passed."""
        return principal.expires is not None and time.time() > principal.expires + self.leeway


class HubTransportWS(BaseGraphQLTransportWSHandler[Context, None]):
    """Strawberry's graphql-transport-ws handler with the hub's connection_init."""

    watcher: asyncio.Task[None] | None = None

    async def handle_message(self, message: Any) -> None:
        """Messages of the wrong shape close the socket (4400) with what was wrong."""
        if not isinstance(message, dict):
            await self.handle_invalid_message("a message must be a JSON object")
            return
        kind = message.get("type")
        if kind == "complete" and not isinstance(message.get("id"), str):
            await self.handle_invalid_message("a complete message needs a string id")
            return
        if kind == "subscribe":
            problem = subscribe_problem(message)
            if problem is not None:
                await self.handle_invalid_message(problem)
                return
            self.context.refresh()
        await super().handle_message(message)  # type: ignore[arg-type]

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        if self.connection_timed_out:
            return
        if self.connection_init_timeout_task:
            self.connection_init_timeout_task.cancel()
        if self.connection_init_received:
            await self.websocket.close(TOO_MANY_INITIALISATIONS, "Too many initialisation requests")
            return
        self.connection_init_received = True
        payload = message.get("payload")
        payload = {} if payload is None else payload
        if not isinstance(payload, dict):
            await self.websocket.close(BAD_REQUEST, "the connection_init payload must be an object")
            return
        watch: TokenWatch = self.view.token_watch  # type: ignore[attr-defined]
        try:
            authorization = authorization_of(payload)
            principal = await watch.validator.principal(authorization)
        except Unauthenticated as refusal:
            await self.websocket.close(FORBIDDEN, close_reason(refusal.message))
            return
        self.context.act_as(principal, caller_key(principal, self.context.caller))
        if authorization is not None:
            self.watcher = asyncio.create_task(self._watch(watch, authorization, principal))
        await self.send_message({"type": "connection_ack"})
        self.connection_acknowledged = True

    async def _watch(self, watch: TokenWatch, authorization: str, principal: Principal) -> None:
        while True:
            await asyncio.sleep(watch.next_check(principal))
            try:
                if watch.expired(principal):
                    raise Unauthenticated("the token has expired")
                await watch.validator.principal(authorization)
            except Unauthenticated as refusal:
                await self._close_for(refusal)
                return
            except Exception as error:  # the database is away: keep serving, check later
                log.warning("live.token_check_failed", error=str(error))
                await asyncio.sleep(watch.recheck_seconds)

    async def _close_for(self, refusal: Unauthenticated) -> None:
        for operation_id in list(self.operations):
            await self.cleanup_operation(operation_id)
        await self.websocket.close(FORBIDDEN, close_reason(refusal.message))

    async def shutdown(self) -> None:
        if self.watcher is not None:
            self.watcher.cancel()
            with suppress(asyncio.CancelledError):
                await self.watcher
        await super().shutdown()

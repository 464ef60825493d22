"""HTTP caching of anonymous GraphQL GETs: an ETag of the response and ``Cache-Control``.

The ETag is a digest of the body, so it changes exactly when what the caller would see
changes; a matching ``If-None-Match`` gets ``304 Not Modified`` without the body. Requests
that carry credentials, responses that carry errors, and answers that are the caller's own
(``rateLimit``, the gateway's ``_service``) are never cached.
"""

from __future__ import annotations

import hashlib
import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send


def _has_errors(body: bytes) -> bool:
    if b'"errors"' not in body:
        return False
    try:
        parsed = json.loads(body)
    except ValueError:
        return True
    return isinstance(parsed, dict) and "errors" in parsed


class GraphQLGetCaching:
    """ETag, ``Cache-Control`` and 304s for anonymous ``GET`` requests to ``path``."""

    def __init__(self, app: ASGIApp, *, path: str, max_age: int) -> None:
        self.app = app
        self.path = path
        self.max_age = max_age

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = dict(scope.get("headers") or []) if scope["type"] == "http" else {}
        if (
            scope["type"] != "http"
            or scope["method"] != "GET"
            or scope["path"] != self.path
            or b"authorization" in headers
        ):
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        chunks: list[bytes] = []

        async def buffer(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                await self._finish(scope, start, b"".join(chunks), headers, send)

        await self.app(scope, receive, buffer)

    async def _finish(
        self,
        scope: Scope,
        start: Message | None,
        body: bytes,
        request: dict[bytes, bytes],
        send: Send,
    ) -> None:
        assert start is not None
        response_headers = list(start.get("headers", []))
        content_type = dict(response_headers).get(b"content-type", b"")
        if start["status"] != 200 or not content_type.startswith(b"application/json"):
            await send(start)
            await send({"type": "http.response.body", "body": body})
            return
        private = scope.get("state", {}).get("hub_private") or b"x-gateway-secret" in request
        if private or _has_errors(body):
            # the caller's own answer (its budget, the gateway's schema, a refusal)
            no_store = [(k, v) for k, v in response_headers if k.lower() != b"cache-control"]
            no_store.append((b"cache-control", b"no-store"))
            await send({**start, "headers": no_store})
            await send({"type": "http.response.body", "body": body})
            return
        etag = f'W/"{hashlib.sha256(body).hexdigest()[:32]}"'.encode()
        response_headers += [
            (b"etag", etag),
            (b"cache-control", f"public, max-age={self.max_age}".encode()),
            (b"vary", b"Accept, Authorization"),  # a token changes the answer
        ]
        matches = request.get(b"if-none-match", b"")
        if etag in [tag.strip() for tag in matches.split(b",")] or matches.strip() == b"*":
            kept = [(k, v) for k, v in response_headers if k.lower() != b"content-length"]
            await send({**start, "status": 304, "headers": kept})
            await send({"type": "http.response.body", "body": b""})
            return
        fixed = [(k, v) for k, v in response_headers if k.lower() != b"content-length"]
        fixed.append((b"content-length", str(len(body)).encode()))
        await send({**start, "headers": fixed})
        await send({"type": "http.response.body", "body": body})

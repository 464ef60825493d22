"""Request-level protections: a cap on body size, and refusing cross-site simple POSTs.

Both answer in JSON with the limit or rule that refused the request, before the request
reaches GraphQL.
"""

from __future__ import annotations

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SIMPLE_CONTENT_TYPES = (
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data",
)
"""Content types a browser may POST cross-site without a CORS preflight."""

PREFLIGHT_HEADERS = (b"apollo-require-preflight", b"x-apollo-operation-name")
"""Headers whose presence forces a preflight, so a request carrying one is not a CSRF."""


class BodyTooLarge(Exception):
    """The request body passed the limit while it was being read."""


class RequestGuard:
    """Refuses bodies (413) and query strings (414) over ``max_body_bytes``, and CSRF-able
    POSTs (400) to ``csrf_paths``, whose content type is simple or not one media type at all.

    The OAuth endpoints take form posts by design and are left out: they authenticate by
    credentials in the request, never by a cookie a browser would add.
    """

    def __init__(self, app: ASGIApp, *, max_body_bytes: int, csrf_paths: tuple[str, ...]) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.csrf_paths = csrf_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if len(scope.get("query_string", b"")) > self.max_body_bytes:
            size = len(scope["query_string"])
            await _refuse(
                scope, receive, send, 414, "QUERY_STRING_TOO_LONG",
                f"the query string has {size} bytes; the limit is {self.max_body_bytes}",
            )  # fmt: skip
            return
        if scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        content_type = headers.get(b"content-type", b"").decode("latin-1").lower()
        media_type = content_type.split(";")[0].strip()
        simple = media_type in SIMPLE_CONTENT_TYPES or "," in media_type
        guarded = scope["path"] in self.csrf_paths
        if guarded and simple and not any(h in headers for h in PREFLIGHT_HEADERS):
            await _refuse(
                scope, receive, send, 400, "CSRF_REFUSED",
                f"a POST with content type {media_type} could come from another site: send "
                "application/json, or an Apollo-Require-Preflight header",
            )  # fmt: skip
            return
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            await self._too_large(scope, receive, send, int(declared))
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise BodyTooLarge
            return message

        try:
            await self.app(scope, counted, send)
        except BodyTooLarge:
            await self._too_large(scope, receive, send, received)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send, size: int) -> None:
        await _refuse(
            scope, receive, send, 413, "BODY_TOO_LARGE",
            f"the request body has {size} bytes or more; the limit is {self.max_body_bytes}",
        )  # fmt: skip


async def _refuse(
    scope: Scope, receive: Receive, send: Send, status: int, code: str, message: str
) -> None:
    body = {"errors": [{"message": message, "extensions": {"code": code}}]}
    await JSONResponse(body, status_code=status)(scope, receive, send)

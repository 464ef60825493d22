"""The OAuth endpoints over HTTP: token, revocation, introspection, JWKS and metadata.

Each POST endpoint reads a form body, counts the request against its address's hourly
budget, loads the records it names, lets authlib decide, and logs the outcome without the
secrets it carried. Token requests also count against the authenticated client's budget.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections import Counter
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, unquote

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hub.audit.canonical import plain
from hub.audit.ledger import record_change
from hub.auth.clients import find_active_client, secret_matches
from hub.auth.denylist import deny
from hub.auth.models import OAuthClient
from hub.auth.principal import Principal
from hub.auth.scopes import Scope
from hub.auth.server import AUTH_METHODS, Answer, RequestServer, TokenIssue
from hub.auth.validation import TokenValidator
from hub.budget import CostBudget
from hub.callers import Network, request_address
from hub.errors import HubError
from hub.keys.service import SigningKey, open_signing_key, published_token_jwks
from hub.keys.vault import Vault
from hub.settings import Settings
from hub.types import utcnow

log = structlog.get_logger("hub.oauth")

FORM = "application/x-www-form-urlencoded"
CLIENT_ID_SHAPE = re.compile(r"p2c-[0-9a-f]{16}")
"""The shape of the ids ``clients create`` makes; anything else is refused before the
database, and never logged (an integrator who swapped id and secret would log the secret)."""
MAX_FIELDS = 20

TOKEN_PATH = "/oauth/token"
REVOCATION_PATH = "/oauth/revoke"
INTROSPECTION_PATH = "/oauth/introspect"
JWKS_PATH = "/.well-known/jwks.json"
METADATA_PATH = "/.well-known/oauth-authorization-server"


class _Refusal(Exception):
    """A request refused before authlib saw it."""

    def __init__(self, status: int, error: str, description: str, **headers: str) -> None:
        super().__init__(description)
        self.answer = Answer(
            status,
            {"error": error, "error_description": description},
            [("Cache-Control", "no-store"), *headers.items()],
        )


async def _form(request: Request) -> dict[str, str]:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != FORM:
        raise _Refusal(400, "invalid_request", f"send the parameters as {FORM}")
    try:
        pairs = parse_qsl(
            (await request.body()).decode("utf-8"),
            keep_blank_values=True,
            max_num_fields=MAX_FIELDS,
        )
    except (UnicodeDecodeError, ValueError):
        raise _Refusal(400, "invalid_request", "the body is not UTF-8 form data") from None
    repeated = sorted(name for name, count in Counter(n for n, _ in pairs).items() if count > 1)
    if repeated:
        raise _Refusal(400, "invalid_request", f"{', '.join(repeated)} given more than once")
    return dict(pairs)


def _basic(headers: Headers) -> tuple[str, str] | None:
    """HTTP Basic credentials (RFC 6749 section 2.3.1: form-encoded, then base64), strictly."""
    parts = headers.get("authorization", "").split(None, 1)  # any whitespace, as authlib splits
    if len(parts) != 2 or parts[0].lower() != "basic":
        return None
    encoded = parts[1]
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise _bad_client("the Basic credentials are not base64 of UTF-8 text") from None
    client_id, colon, secret = decoded.partition(":")
    if not colon:
        raise _bad_client("the Basic credentials lack the colon between id and secret")
    return unquote(client_id), unquote(secret)


def _bad_client(description: str) -> _Refusal:
    return _Refusal(
        401, "invalid_client", description, **{"WWW-Authenticate": 'Basic realm="p2c-hub"'}
    )


def _presented(headers: Headers, form: Mapping[str, str]) -> tuple[str | None, str | None]:
    """The client id and secret the request presents, by exactly one method."""
    basic: tuple[str | None, str | None] | None = _basic(headers)
    if basic is not None and ("client_id" in form or "client_secret" in form):
        raise _Refusal(
            400, "invalid_request", "authenticate with HTTP Basic or with form fields, not both"
        )
    client_id, secret = (
        basic if basic is not None else (form.get("client_id"), form.get("client_secret"))
    )
    if client_id is not None and not CLIENT_ID_SHAPE.fullmatch(client_id):
        raise _bad_client("that is not a client id of this hub")
    return client_id, secret


def _response(answer: Answer) -> Response:
    return JSONResponse(answer.body, status_code=answer.status, headers=dict(answer.headers))


class OAuthEndpoints:
    """The authorization server's routes, sharing the hub's database, keys and budgets."""

    def __init__(
        self,
        *,
        settings: Settings,
        session_factory: async_sessionmaker[AsyncSession],
        validator: TokenValidator,
        vault: Vault,
        proxies: list[Network],
        client_budget: CostBudget,
        address_budget: CostBudget,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.issuer = settings.issuer
        self.audience = settings.audience
        self.lifetime = settings.access_token_lifetime_seconds
        self.jwks_max_age = settings.jwks_max_age_seconds
        self.session_factory = session_factory
        self.validator = validator
        self.vault = vault
        self.opened: dict[str, SigningKey] = {}
        self.proxies = proxies
        self.client_budget = client_budget
        self.address_budget = address_budget
        self.clock = clock

    def routes(self) -> list[Route]:
        return [
            Route(TOKEN_PATH, self.token, methods=["POST"]),
            Route(REVOCATION_PATH, self.revoke, methods=["POST"]),
            Route(INTROSPECTION_PATH, self.introspect, methods=["POST"]),
            Route(JWKS_PATH, self.jwks, methods=["GET"]),
            Route(METADATA_PATH, self.metadata, methods=["GET"]),
        ]

    async def token(self, request: Request) -> Response:
        """RFC 6749 section 4.4, issuing RFC 9068 access tokens."""
        address = request_address(request, self.proxies)
        claimed: str | None = None
        try:
            await self._spend(self.address_budget, f"oauth-address:{address}", "address")
            form = await _form(request)
            claimed, secret = _presented(request.headers, form)
            client, authenticated = await self._authenticate(claimed, secret)
            issue = None
            if client is not None and authenticated:
                await self._spend(self.client_budget, f"oauth-client:{client.client_id}", "client")
                issue = await self._issue()
            server = RequestServer(f"{self.issuer}{TOKEN_PATH}", client, issue=issue)
            answer = server.token(request.headers, form)
        except _Refusal as refusal:
            answer = refusal.answer
        self._log("token", answer, claimed, address)
        return _response(answer)

    async def introspect(self, request: Request) -> Response:
        """RFC 7662; inactive for unknown, expired, revoked and other issuers' tokens."""
        return await self._about_token(request, "introspection", INTROSPECTION_PATH)

    async def revoke(self, request: Request) -> Response:
        """RFC 7009; a revoked token's ``jti`` is refused until the token expires."""
        return await self._about_token(request, "revocation", REVOCATION_PATH)

    async def jwks(self, request: Request) -> Response:
        """The public keys that verify the hub's tokens, including the next one to sign."""
        async with self.session_factory() as session:
            keys = await published_token_jwks(session, self.clock())
        return JSONResponse(
            {"keys": keys}, headers={"Cache-Control": f"public, max-age={self.jwks_max_age}"}
        )

    async def metadata(self, request: Request) -> Response:
        """RFC 8414 authorization server metadata."""
        methods = list(AUTH_METHODS)
        body: dict[str, Any] = {
            "issuer": self.issuer,
            "token_endpoint": f"{self.issuer}{TOKEN_PATH}",
            "jwks_uri": f"{self.issuer}{JWKS_PATH}",
            "revocation_endpoint": f"{self.issuer}{REVOCATION_PATH}",
            "introspection_endpoint": f"{self.issuer}{INTROSPECTION_PATH}",
            "grant_types_supported": ["client_credentials"],
            "response_types_supported": [],
            "scopes_supported": sorted(scope.value for scope in Scope),
            "token_endpoint_auth_methods_supported": methods,
            "revocation_endpoint_auth_methods_supported": methods,
            "introspection_endpoint_auth_methods_supported": methods,
        }
        return JSONResponse(body, headers={"Cache-Control": f"public, max-age={self.jwks_max_age}"})

    async def _about_token(self, request: Request, endpoint: str, path: str) -> Response:
        address = request_address(request, self.proxies)
        claimed: str | None = None
        try:
            await self._spend(self.address_budget, f"oauth-address:{address}", "address")
            form = await _form(request)
            claimed, secret = _presented(request.headers, form)
            client, authenticated = await self._authenticate(claimed, secret)
            token = form.get("token")
            inspected = await self.validator.inspect_own(token) if authenticated and token else None
            server = RequestServer(f"{self.issuer}{path}", client, inspected=inspected)
            answer = server.endpoint(endpoint, request.headers, form)
            if server.revoked:
                await self._deny(client, server.revoked[0].claims)
        except _Refusal as refusal:
            answer = refusal.answer
        self._log(endpoint, answer, claimed, address)
        return _response(answer)

    async def _authenticate(
        self, claimed: str | None, secret: str | None
    ) -> tuple[OAuthClient | None, bool]:
        """The active client named (for authlib to judge), and whether the secret matched."""
        if not claimed:
            return None, False
        async with self.session_factory() as session:
            client = await find_active_client(session, claimed)
        matched = (
            client is not None and bool(secret) and secret_matches(secret or "", client.secret_hash)
        )
        return client, matched

    async def _issue(self) -> TokenIssue:
        try:
            async with self.session_factory() as session:
                signing = await open_signing_key(session, self.vault, self.clock(), self.opened)
        except HubError as error:
            log.error("oauth.signing_key_unavailable", reason=error.message)
            signing = None
        if signing is None:
            raise _Refusal(
                503,
                "temporarily_unavailable",
                "the hub cannot sign tokens now; its operators have been told",
            )
        return TokenIssue(self.issuer, self.audience, signing, self.lifetime)

    async def _deny(self, client: OAuthClient | None, claims: dict[str, Any]) -> None:
        assert client is not None  # authlib revokes only for an authenticated client
        now = self.clock()
        expires_at = datetime.fromtimestamp(float(claims["exp"]), UTC)
        if expires_at <= now:
            return
        async with self.session_factory() as session:
            revoked = await deny(
                session,
                jti=str(claims["jti"]),
                client_id=client.client_id,
                expires_at=expires_at,
                now=now,
            )
            revoker = Principal(
                kind=client.kind, client_id=client.client_id, member_id=client.member_id
            )
            changes = {"revoked_at": {"before": None, "after": plain(now)}}
            if revoked:  # a second revocation changes nothing
                record_change(
                    session, revoker, "token.revoke", "AccessToken", str(claims["jti"]), changes
                )
            await session.commit()

    async def _spend(self, budget: CostBudget, key: str, what: str) -> None:
        state = await budget.spend(key, 1, self.clock())
        if not state.granted:
            retry = max(1, int((state.reset_at - self.clock()).total_seconds()))
            raise _Refusal(
                429,
                "slow_down",
                f"this {what} made {state.limit} token requests this hour, the most allowed",
                **{"Retry-After": str(retry)},
            )

    def _log(self, endpoint: str, answer: Answer, client_id: str | None, address: str) -> None:
        fields = {"endpoint": endpoint, "client_id": client_id, "address": address}
        if answer.status == 200:
            log.info("oauth.granted", **fields)
        else:
            log.warning(
                "oauth.refused",
                **fields,
                status=answer.status,
                error=answer.body.get("error"),
                description=answer.body.get("error_description"),
            )

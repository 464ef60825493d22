"""The app factory: where the hub, its GraphQL schema and its routes are composed."""

from __future__ import annotations

import asyncio
import gc
import hmac
import json
import re
import signal
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import structlog
from cross_web import HTTPException
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route, WebSocketRoute
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET

from connectors.checks import check_source
from hub import graphiql
from hub.audit import heads, sequencer
from hub.audit.delivery import targets
from hub.auth.endpoints import OAuthEndpoints
from hub.auth.principal import ANONYMOUS
from hub.auth.trust import FETCH_SECONDS, build_validator
from hub.auth.validation import TokenValidator
from hub.budget import budget_for
from hub.caching import GraphQLGetCaching
from hub.callers import Network, caller_key, parse_networks, request_address
from hub.db import create_engine, create_session_factory, is_sqlite, ping_when_idle
from hub.errors import Unauthenticated
from hub.health import healthz, readyz
from hub.keys.vault import Vault
from hub.limits import RequestGuard
from hub.live.announcements import delivering_to
from hub.live.broker import Broker
from hub.live.follow import Live
from hub.live.listener import Listener
from hub.middleware import RequestLogMiddleware
from hub.migrate import head_revision
from hub.settings import Settings
from hub.sockets import HubTransportWS, TokenWatch
from hub.sqlstats import instrument
from schema import SchemaOptions, build_schema
from schema.context import Context, SourceCheck
from schema.errors import to_graphql_error
from schema.fastpath import FastPath

log = structlog.get_logger("hub.app")

CONNECTION_INIT_WAIT = timedelta(seconds=15)
"""How long a new WebSocket may take to send connection_init before it is closed (4408)."""

STOP_WAIT = 10.0
"""Seconds shutting down waits for a sequencer run under way to finish."""

LISTEN_WAIT = 5.0
"""Seconds serving waits at start for the LISTEN connection; without it, it serves anyway
and subscribers catch up once the connection is made."""


class HubGraphQL(GraphQL[Context, None]):
    """Strawberry's ASGI app with the hub's per-request context, its own GraphiQL page, and
    subscriptions over graphql-transport-ws (see hub.sockets)."""

    graphql_transport_ws_handler_class = HubTransportWS

    def __init__(
        self,
        schema: Any,
        *,
        graphiql: bool,
        graphiql_assets: Path,
        validator: TokenValidator,
        proxies: list[Network],
        gateway_secret: str | None,
        suggestions: bool,
        live: Live,
        token_watch: TokenWatch,
        subscriptions_per_connection: int,
        allowed_origins: list[str],
        vault: Vault,
        source_check: SourceCheck,
        fast_path: FastPath | None,
    ) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql" if graphiql else None,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            connection_init_wait_timeout=CONNECTION_INIT_WAIT,
            max_subscriptions_per_connection=subscriptions_per_connection,
            allowed_origins=allowed_origins,
        )
        self.graphiql_assets = graphiql_assets
        self.validator = validator
        self.proxies = proxies
        self.gateway_secret = gateway_secret
        self.suggestions = suggestions
        self.live = live
        self.token_watch = token_watch
        self.vault = vault
        self.source_check = source_check
        self.fast_path = fast_path

    async def run(self, request: Any, context: Any = UNSET, root_value: Any = UNSET) -> Any:
        """An anonymous JSON POST goes to the compiled fast path first (schema.fastpath);
        what it does not answer, the resolvers do."""
        if self.fast_path is not None and _anonymous_json_post(request):
            try:
                payload = json.loads(await request.body())
            except (ValueError, RecursionError):
                payload = None  # parse_json says what is wrong with it
            caller = caller_key(ANONYMOUS, request_address(request, self.proxies))
            answer = await self.fast_path.answer(payload, caller)
            if answer is not None:
                return Response(answer, media_type="application/json")
        return await super().run(request, context, root_value)

    async def render_graphql_ide(self, request: Any) -> HTMLResponse:
        return graphiql.page_response(self.graphiql_assets)

    async def get_context(self, request: Any, response: Any = None) -> Context:
        """The request's principal is checked here, once; a refused token refuses the
        operation (see schema.auth) and gets RFC 6750's challenge header."""
        app = request.scope["app"]
        caller = request_address(request, self.proxies)
        if request.scope["type"] == "websocket":  # the token comes in connection_init
            return Context(
                session_factory=self.live.session_factory,  # it reads only (TransportRules)
                caller=caller,
                request=request,
                response=response,
                live=self.live,
            )
        presented = request.headers.get("x-gateway-secret", "")
        gateway = self.gateway_secret is not None and hmac.compare_digest(
            presented.encode(), self.gateway_secret.encode()
        )
        principal, refused = ANONYMOUS, None
        try:
            principal = await self.validator.principal(request.headers.get("authorization"))
        except Unauthenticated as refusal:
            refused = refusal
            if response is not None:
                response.headers["WWW-Authenticate"] = bearer_challenge(refusal)
        return Context(
            session_factory=app.state.session_factory,
            principal=principal,
            refused=refused,
            caller=caller_key(principal, caller),
            gateway=gateway,
            request=request,
            idempotency_key=request.headers.get("idempotency-key"),
            response=response,
            vault=self.vault,
            check_source=self.source_check,
        )

    def should_render_graphql_ide(self, request: Any) -> bool:
        """GraphiQL for a browser's plain GET, never for a persisted-query GET."""
        persisted = request.query_params.get("extensions") is not None
        return not persisted and bool(super().should_render_graphql_ide(request))

    async def process_result(self, request: Any, result: ExecutionResult) -> GraphQLHTTPResponse:
        """Errors raised outside resolvers (in an extension) are masked here all the same."""
        if result.errors:
            result.errors = [
                to_graphql_error(error, suggestions=self.suggestions) for error in result.errors
            ]
        return await super().process_result(request, result)

    def parse_json(self, data: str | bytes) -> Any:
        """A GraphQL request body is a JSON object; anything else is the caller's error."""
        try:
            parsed = super().parse_json(data)
        except RecursionError as error:  # json's decoder gives up on deep nesting this way
            raise HTTPException(400, "the request body nests too deeply") from error
        if not isinstance(parsed, dict):
            raise HTTPException(400, "the request body must be a JSON object")
        return parsed


def _anonymous_json_post(request: Any) -> bool:
    headers = request.headers
    return bool(
        request.scope["type"] == "http"
        and request.method == "POST"
        and "authorization" not in headers
        and "x-gateway-secret" not in headers
        and headers.get("content-type", "").startswith("application/json")
    )


def bearer_challenge(refused: Unauthenticated) -> str:
    """RFC 6750's ``WWW-Authenticate`` value for a refused token: the description kept to the
    characters section 3 allows (it may quote the token), and no error code for a request
    that used another scheme."""
    if not refused.bearer:
        return 'Bearer realm="p2c-hub"'
    description = re.sub(r"[^\x20\x21\x23-\x5b\x5d-\x7e]", "?", refused.message)[:300]
    return f'Bearer realm="p2c-hub", error="invalid_token", error_description="{description}"'


def schema_sdl() -> str:
    """The schema partners build on, as SDL (committed as schema/schema.graphql)."""
    return build_schema().as_str() + "\n"


def create_app(settings: Settings) -> Starlette:
    """Build the hub; the lifespan owns the database engine."""

    pool: dict[str, Any] = {}
    if not is_sqlite(settings.database_url):
        pool = {
            "pool_size": settings.database_pool_size,
            "max_overflow": settings.database_max_overflow,
        }
    engine = create_engine(settings.database_url, **pool)
    ping_when_idle(engine)
    if settings.debug:
        instrument(engine)
    broker = Broker(per_owner=settings.subscriptions_per_client)
    session_factory = create_session_factory(engine, info=delivering_to(broker))
    reading = create_session_factory(engine, read_only=True)
    jwks_http = httpx.AsyncClient(timeout=FETCH_SECONDS, follow_redirects=False)
    validator = build_validator(settings, reading, jwks_http)
    proxies = parse_networks(settings.trusted_proxies)
    listener = None if is_sqlite(settings.database_url) else Listener(settings.database_url, broker)
    vault = Vault(settings.encryption_keys)
    heads_http = httpx.AsyncClient(follow_redirects=False)
    head_targets = targets(settings, heads_http)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.engine = engine
        app.state.session_factory = session_factory
        app.state.migration_head = head_revision()
        app.state.broker, app.state.listener = broker, listener
        stopping, asked = asyncio.Event(), asyncio.Event()
        sequencing = asyncio.create_task(sequencer.run(session_factory, stopping))
        signing = asyncio.create_task(
            heads.run(
                session_factory,
                vault,
                head_targets,
                settings.audit_head_interval_seconds,
                stopping,
                asked,
                timedelta(seconds=settings.audit_head_max_age_seconds),
            )
        )
        loop = asyncio.get_running_loop()
        on_signals = threading.current_thread() is threading.main_thread()
        if on_signals:  # kill -USR1: sign a head now
            loop.add_signal_handler(signal.SIGUSR1, asked.set)
        if not head_targets:
            log.warning("audit.heads_not_exported", hint="set HUB_AUDIT_HEADS_FILE or _URL")
        listening = asyncio.create_task(listener.run()) if listener is not None else None
        try:
            if listener is not None:
                await listener.started(LISTEN_WAIT)
            gc.freeze()  # what start-up made lives as long as the process: collections skip it
            yield
        finally:
            if on_signals:
                loop.remove_signal_handler(signal.SIGUSR1)
                signal.signal(signal.SIGUSR1, signal.SIG_IGN)  # not fatal while stopping
            stopping.set()
            with suppress(TimeoutError):
                await asyncio.wait_for(asyncio.gather(sequencing, signing), STOP_WAIT)
            for task in (sequencing, signing, listening):
                if task is not None and not task.done():
                    task.cancel()
                    with suppress(asyncio.CancelledError):
                        await task
            await jwks_http.aclose()
            await heads_http.aclose()
            await engine.dispose()

    options = SchemaOptions(
        debug=settings.debug,
        max_depth=settings.max_query_depth,
        max_aliases=settings.max_aliases,
        max_tokens=settings.max_tokens,
        max_root_fields=settings.max_root_fields,
        max_cost=settings.max_operation_cost,
        budget=budget_for(settings.database_url, settings.anonymous_cost_per_hour, session_factory),
        client_budget=budget_for(
            settings.database_url, settings.client_cost_per_hour, session_factory
        ),
        field_suggestions=settings.field_suggestions,
        introspection=settings.introspection,
        tracing=settings.federation_tracing,
    )
    schema = build_schema(options)
    fast = settings.fast_path and not settings.debug and not settings.federation_tracing
    graphql = HubGraphQL(
        schema,
        graphiql=settings.graphiql,
        graphiql_assets=settings.graphiql_assets_dir,
        validator=validator,
        proxies=proxies,
        gateway_secret=settings.gateway_secret,
        suggestions=settings.field_suggestions,
        live=Live(broker, reading),
        token_watch=TokenWatch(
            validator, settings.subscription_recheck_seconds, settings.token_leeway_seconds
        ),
        subscriptions_per_connection=settings.subscriptions_per_connection,
        allowed_origins=settings.cors_origins,
        vault=vault,
        source_check=check_source,
        fast_path=(
            FastPath.of(schema, options, engine)
            if fast and not is_sqlite(settings.database_url)
            else None
        ),
    )

    oauth = OAuthEndpoints(
        settings=settings,
        session_factory=session_factory,
        validator=validator,
        vault=vault,
        proxies=proxies,
        client_budget=budget_for(
            settings.database_url, settings.token_requests_per_client_per_hour, session_factory
        ),
        address_budget=budget_for(
            settings.database_url, settings.token_requests_per_address_per_hour, session_factory
        ),
    )

    return Starlette(
        debug=settings.debug,
        routes=[
            *oauth.routes(),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route(
                "/graphiql/{name}",
                graphiql.asset_endpoint(settings.graphiql_assets_dir),
                methods=["GET"],
            ),
        ],
        middleware=[
            Middleware(RequestLogMiddleware),
            Middleware(
                CORSMiddleware,
                allow_origins=settings.cors_origins,
                allow_methods=["GET", "POST"],
                allow_headers=[
                    "authorization",
                    "content-type",
                    "apollo-require-preflight",
                    "x-request-id",
                    "idempotency-key",
                ],
                expose_headers=[
                    "x-request-id",
                    "etag",
                    "www-authenticate",
                    "idempotent-replayed",
                ],
                max_age=600,
            ),
            Middleware(
                RequestGuard, max_body_bytes=settings.max_body_bytes, csrf_paths=("/graphql",)
            ),
            Middleware(GraphQLGetCaching, path="/graphql", max_age=settings.cache_max_age),
        ],
        lifespan=lifespan,
    )

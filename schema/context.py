"""What every resolver gets: the session factory, the principal, and this request's loaders."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info as StrawberryInfo

from hub.auth.principal import ANONYMOUS, Principal
from hub.errors import Unauthenticated
from hub.imports.connectors import ConnectorConfig
from hub.imports.models import ConnectorKind
from hub.keys.vault import Vault
from hub.live.follow import Live
from hub.visibility import Viewer
from schema.loaders import Loaders

if TYPE_CHECKING:
    from schema.writes import SharedSession

SessionFactory = Callable[[], AbstractAsyncContextManager[AsyncSession]]


class SourceCheck(Protocol):
    """What is checked of a connector before it is saved, beyond its form: that its mapping
    compiles and its source answers with the secret given, else ``InvalidInput``
    (``UNREACHABLE``, ``BAD_MAPPING``). The connectors' ``check_source``, which ``hub.app``
    composes in: the schema does not import the connectors."""

    def __call__(
        self, kind: ConnectorKind, config: ConnectorConfig, secret: str | None, /
    ) -> Awaitable[None]: ...


async def no_source_check(kind: ConnectorKind, config: ConnectorConfig, secret: str | None) -> None:
    """The check of a context that was not given one: adding a connector through it is a
    mistake in composing the app, never a connector saved unchecked."""
    raise RuntimeError("this hub was composed without a check of connectors' sources (hub.app)")


@dataclass
class Context:
    """Per-request context; loaders are new for each request so nothing leaks between them.

    ``principal`` is who the request acts for, checked once from its token; ``refused`` is
    the reason its token was refused, if it was (the operation is then refused whole).
    ``today`` is the default of every "as of" argument, fixed once per request; ``caller``
    keys the cost budget; ``gateway`` is true for the federation gateway (it showed the shared
    secret); ``request`` is read by the gateway's inline tracing (it asks by header);
    ``rate_limit`` is what the cost limiter found for this operation. In a mutation
    operation ``writes`` is the request's one write session, which every read then uses too
    (see schema.writes); ``idempotency_key`` is the request's ``Idempotency-Key`` header and
    ``response`` the HTTP response, to say that a stored response was replayed. ``live`` is
    what subscriptions follow; on a WebSocket the principal is set once ``connection_init``
    brought the token (``act_as``). ``vault`` seals the secrets connectors are given (the default
    has no key-encryption key and refuses to), and ``check_source`` checks a connector's
    source before it is saved (see ``SourceCheck``).
    """

    session_factory: SessionFactory
    principal: Principal = ANONYMOUS
    refused: Unauthenticated | None = None
    caller: str = "unknown"
    gateway: bool = False
    request: Any = None
    today: date = field(default_factory=date.today)
    loaders: Loaders = field(init=False)
    rate_limit: Any = None
    idempotency_key: str | None = None
    response: Any = None
    writes: SharedSession | None = None
    live: Live | None = None
    vault: Vault = field(default_factory=lambda: Vault(()))
    check_source: SourceCheck = no_source_check

    def __post_init__(self) -> None:
        self.loaders = Loaders(self.session_factory, self.viewer)

    def use_writes(self, writes: SharedSession) -> None:
        """Read and write through the request's one write session from now on."""
        self.writes = writes
        self.session_factory = writes
        self.renew_loaders()

    def act_as(self, principal: Principal, caller: str) -> None:
        """From now on, act for ``principal`` (a WebSocket's, from its connection_init)."""
        self.principal, self.caller = principal, caller
        self.renew_loaders()

    def refresh(self) -> None:
        """Show what is true now, on a WebSocket that outlives a day: each new operation and
        each event of a subscription gets today's date and fresh loaders."""
        self.today = date.today()
        self.renew_loaders()

    def renew_loaders(self) -> None:
        """Forget what the loaders read: each mutation's answer shows what is true after it."""
        self.loaders = Loaders(self.session_factory, self.viewer)

    def mark_replayed(self) -> None:
        """Tell the client its response is the stored one of an earlier request."""
        if self.response is not None:
            self.response.headers["Idempotent-Replayed"] = "true"

    @property
    def viewer(self) -> Viewer:
        """What the principal may see: the one visibility rule's input."""
        return self.principal.viewer


Info = StrawberryInfo[Context, None]

"""What every resolver gets: the session factory, the principal, and this request's loaders."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry.types import Info as StrawberryInfo

from hub.auth.principal import ANONYMOUS, Principal
from hub.errors import Unauthenticated
from hub.visibility import Viewer
from schema.loaders import Loaders


@dataclass
class Context:
    """Per-request context; loaders are new for each request so nothing leaks between them.

    ``principal`` is who the request acts for, checked once from its token; ``refused`` is
    the reason its token was refused, if it was (the operation is then refused whole).
    ``today`` is the default of every "as of" argument, fixed once per request; ``caller``
    keys the cost budget; ``gateway`` is true for the federation gateway (it showed the shared
    secret); ``request`` is read by the gateway's inline tracing (it asks by header);
    ``rate_limit`` is what the cost limiter found for this operation.
    """

    session_factory: async_sessionmaker[AsyncSession]
    principal: Principal = ANONYMOUS
    refused: Unauthenticated | None = None
    caller: str = "unknown"
    gateway: bool = False
    request: Any = None
    today: date = field(default_factory=date.today)
    loaders: Loaders = field(init=False)
    rate_limit: Any = None

    def __post_init__(self) -> None:
        self.loaders = Loaders(self.session_factory, self.viewer)

    @property
    def viewer(self) -> Viewer:
        """What the principal may see: the one visibility rule's input."""
        return self.principal.viewer


Info = StrawberryInfo[Context, None]

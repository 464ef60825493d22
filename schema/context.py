"""What every resolver gets: the session factory and this request's dataloaders."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry.types import Info as StrawberryInfo

from schema.loaders import Loaders


@dataclass
class Context:
    """Per-request context; loaders are new for each request so nothing leaks between them."""

    session_factory: async_sessionmaker[AsyncSession]
    loaders: Loaders = field(init=False)

    def __post_init__(self) -> None:
        self.loaders = Loaders(self.session_factory)


Info = StrawberryInfo[Context, None]

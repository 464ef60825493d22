"""Settings read from ``HUB_``-prefixed environment variables.

The app factory takes a ``Settings`` instance, so tests and tools pass their own values
instead of patching the environment.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


class Settings(BaseSettings):
    """Every knob the hub reads; each is documented in the README."""

    model_config = SettingsConfigDict(env_prefix="HUB_", extra="forbid", frozen=True)

    database_url: str = Field(
        default="sqlite+aiosqlite:///./p2c-hub.db",
        description="SQLAlchemy async URL of the database the hub serves from.",
    )
    migration_database_url: str | None = Field(
        default=None,
        description="URL used by migrations instead of database_url (an owner role).",
    )
    host: str = Field(default="127.0.0.1", description="Interface the server binds to.")
    port: int = Field(default=8000, ge=1, le=65535, description="TCP port of the server.")
    log_level: LogLevel = Field(default="INFO", description="Lowest level that is logged.")
    debug: bool = Field(default=False, description="Starlette debug mode; never in production.")

    @property
    def effective_migration_url(self) -> str:
        """The URL migrations run with: the owner's when set, else the serving one."""
        return self.migration_database_url or self.database_url

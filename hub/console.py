"""What every console command shares: settings read with errors in words, and database work
in one transaction, as the operator at the console, with failures in one line."""

from __future__ import annotations

import asyncio
import getpass
from collections.abc import Awaitable, Callable
from typing import TypeVar

import click
from pydantic import ValidationError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from hub.audit.delivery import Sessions
from hub.audit.ledger import Trail, trail
from hub.db import create_engine, create_session_factory
from hub.errors import HubError
from hub.keys.vault import Vault
from hub.settings import Settings

T = TypeVar("T")


def read_settings() -> Settings:
    """The settings from the environment; invalid ones stop the command, named."""
    try:
        return Settings()
    except ValidationError as error:
        problems = "; ".join(_problem(item["loc"], item["msg"]) for item in error.errors())
        raise click.UsageError(f"invalid settings: {problems}") from None


def _problem(location: tuple[int | str, ...], message: str) -> str:
    """A settings error named by its environment variable (and the place inside it)."""
    if not location:
        return message.removeprefix("Value error, ")
    inside = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in location[1:])
    return f"HUB_{str(location[0]).upper()}{inside}: {message}"


def vault_of(settings: Settings) -> Vault:
    """What seals and opens the hub's keys and connectors' secrets, from the settings."""
    return Vault(settings.encryption_keys)


def shown_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def with_database(work: Callable[[Sessions], Awaitable[T]], *, read_only: bool = False) -> T:
    """Run ``work`` with sessions of the configured database; failures in one line.
    ``read_only`` sessions read a snapshot beside writers (on SQLite) instead of blocking them."""
    settings = read_settings()

    async def run() -> T:
        engine = create_engine(settings.database_url)
        try:
            return await work(create_session_factory(engine, read_only=read_only))
        finally:
            await engine.dispose()

    try:
        return asyncio.run(run())
    except HubError as error:
        raise click.ClickException(error.message) from None
    except (DBAPIError, OSError) as error:
        reason = getattr(error, "orig", None) or error
        raise click.ClickException(
            f"database {shown_url(settings.database_url)}: {reason}"
        ) from None


def in_transaction(work: Callable[[AsyncSession], Awaitable[T]], *, read_only: bool = False) -> T:
    """Run ``work`` in one transaction, as the operator at the console."""

    async def transaction(sessions: Sessions) -> T:
        async with sessions() as session:
            trail(session, Trail(operator=getpass.getuser()))
            result = await work(session)
            await session.commit()
            return result

    return with_database(transaction, read_only=read_only)

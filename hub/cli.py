"""The ``p2c-hub`` command: migrate the database and serve the hub."""

from __future__ import annotations

import click
import uvicorn
from pydantic import ValidationError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from hub.app import create_app
from hub.logs import configure_logging
from hub.migrate import upgrade
from hub.settings import Settings


def _settings() -> Settings:
    try:
        return Settings()
    except ValidationError as error:
        problems = "; ".join(
            f"HUB_{'_'.join(str(part) for part in item['loc']).upper()}: {item['msg']}"
            for item in error.errors()
        )
        raise click.UsageError(f"invalid settings: {problems}") from None


@click.group()
def main() -> None:
    """P2C Hub: the GraphQL partner-integration hub of the Partner2Connect coalition."""


@main.command()
def migrate() -> None:
    """Upgrade the database schema to the latest revision."""
    settings = _settings()
    url = settings.effective_migration_url
    shown = make_url(url).render_as_string(hide_password=True)
    try:
        upgrade(url)
    except (DBAPIError, OSError) as error:
        reason = getattr(error, "orig", None) or error
        raise click.ClickException(f"could not migrate {shown}: {reason}") from None
    click.echo(f"{shown} is migrated to the latest revision")


@main.command()
def serve() -> None:
    """Serve the hub over HTTP (GraphQL at /graphql)."""
    settings = _settings()
    configure_logging(settings.log_level)
    click.echo(
        f"P2C Hub serving on http://{settings.host}:{settings.port} "
        f"(GraphQL at http://{settings.host}:{settings.port}/graphql)"
    )
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_config=None,
        proxy_headers=False,
    )

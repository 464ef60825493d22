"""The ``p2c-hub`` command: serve, migrate, and load reference and demo data.

Every command reports failures in one line and exits non-zero; database work runs in one
transaction, so a command that fails leaves nothing half-written.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any, TypeVar

import click
import uvicorn
from pydantic import ValidationError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from hub.app import create_app, schema_sdl
from hub.countries.reference import read_reference
from hub.countries.service import country_count, load_reference
from hub.db import create_engine, create_session_factory
from hub.demo.load import database_is_empty, demo_loaded, load_demo
from hub.demo.plan import build_plan
from hub.errors import HubError
from hub.logs import configure_logging
from hub.migrate import upgrade
from hub.money.rates import RateFormat, parse_rates
from hub.money.service import load_rates
from hub.settings import Settings

T = TypeVar("T")


def _settings() -> Settings:
    try:
        return Settings()
    except ValidationError as error:
        problems = "; ".join(
            f"HUB_{'_'.join(str(part) for part in item['loc']).upper()}: {item['msg']}"
            for item in error.errors()
        )
        raise click.UsageError(f"invalid settings: {problems}") from None


def _shown(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def _in_transaction(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run ``work`` in one transaction on the configured database; failures in one line."""
    settings = _settings()

    async def run() -> T:
        engine = create_engine(settings.database_url)
        try:
            async with create_session_factory(engine)() as session:
                result = await work(session)
                await session.commit()
                return result
        finally:
            await engine.dispose()

    try:
        return asyncio.run(run())
    except HubError as error:
        raise click.ClickException(error.message) from None
    except (DBAPIError, OSError) as error:
        reason = getattr(error, "orig", None) or error
        raise click.ClickException(f"database {_shown(settings.database_url)}: {reason}") from None


@click.group()
def main() -> None:
    """P2C Hub: the GraphQL partner-integration hub of the Partner2Connect coalition.

    Settings come from HUB_* environment variables (see the README).
    """


@main.command()
def version() -> None:
    """Print the hub's version."""
    click.echo(package_version("p2c-hub"))


@main.command()
def migrate() -> None:
    """Upgrade the database schema to the latest revision."""
    settings = _settings()
    url = settings.effective_migration_url
    try:
        upgrade(url)
    except (DBAPIError, OSError) as error:
        reason = getattr(error, "orig", None) or error
        raise click.ClickException(f"could not migrate {_shown(url)}: {reason}") from None
    click.echo(f"{_shown(url)} is migrated to the latest revision")


class _Server(uvicorn.Server):
    """Says where it serves once it really does, not before it tried to bind."""

    async def startup(self, sockets: Any = None) -> None:
        await super().startup(sockets)
        if self.started:
            base = f"http://{self.config.host}:{self.config.port}"
            click.echo(f"P2C Hub serving on {base} (GraphQL at {base}/graphql)")


@main.command()
def serve() -> None:
    """Serve the hub over HTTP (GraphQL at /graphql)."""
    settings = _settings()
    configure_logging(settings.log_level)
    config = uvicorn.Config(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_config=None,
        proxy_headers=False,
    )
    _Server(config).run()


@main.group("schema")
def schema_group() -> None:
    """The GraphQL schema, the partners' contract."""


@schema_group.command("print")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write the SDL to this file (schema/schema.graphql in the repository).",
)
def schema_print(output: Path | None) -> None:
    """Print the schema as SDL, or write it to a file."""
    sdl = schema_sdl()
    if output is None:
        click.echo(sdl, nl=False)
    else:
        output.write_text(sdl, encoding="utf-8")
        click.echo(f"wrote {output}")


@main.group()
def countries() -> None:
    """Countries and their LDC, LLDC and SIDS membership."""


@countries.command("load")
@click.option(
    "--countries-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="An M49 country-codes CSV (default: the file bundled with the hub).",
)
@click.option(
    "--changes-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A CSV of dated LDC inclusions and graduations (default: the bundled one).",
)
def countries_load(countries_file: Path | None, changes_file: Path | None) -> None:
    """Load or refresh countries and their dated group membership; loading twice is harmless."""
    if (countries_file is None) != (changes_file is None):
        raise click.UsageError("give both --countries-file and --changes-file, or neither")
    try:
        if countries_file is not None and changes_file is not None:
            rows = read_reference(countries_file, changes_file)
        else:
            rows = read_reference()
    except HubError as error:
        raise click.ClickException(error.message) from None
    result = _in_transaction(lambda session: load_reference(session, *rows))
    click.echo(
        f"countries: {result.countries_added} added, {result.countries_updated} updated; "
        f"{result.memberships} group memberships, {result.changes} dated changes"
    )


@main.group()
def fx() -> None:
    """Exchange rates used to give money its US dollar value."""


@fx.command("load")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "rate_format",
    type=click.Choice([f.value for f in RateFormat]),
    required=True,
    help="imf: Date,Rate,Currency,...; fred: Date,Country,Exchange rate.",
)
def fx_load(file: Path, rate_format: str) -> None:
    """Load exchange rates from FILE; loading the same file twice changes nothing."""
    try:
        parsed = parse_rates(
            file.read_text(encoding="utf-8-sig"), RateFormat(rate_format), file.name
        )
    except HubError as error:
        raise click.ClickException(error.message) from None
    except UnicodeDecodeError:
        raise click.ClickException(f"{file.name} is not UTF-8 text") from None
    for conflict in parsed.conflicts:
        click.echo(f"warning: {conflict}", err=True)
    result = _in_transaction(lambda session: load_rates(session, parsed))
    for name, reason in sorted(result.refused.items()):
        click.echo(f"skipped {name}: {reason}", err=True)
    for name in result.inverted:
        click.echo(f"inverted {name}: it was quoted in US dollars per unit", err=True)
    for disagreement in result.disagreements:
        click.echo(f"warning: {disagreement}", err=True)
    click.echo(
        f"{result.source} rates: {result.added} added, {result.updated} updated, "
        f"{result.unchanged} unchanged"
    )


@main.command("demo-data")
@click.option("--seed", default=2030, show_default=True, help="Seed of the generator.")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database holds any data.")
def demo_data(seed: int, if_empty: bool) -> None:
    """Load the demo coalition (needs countries, and rates for USD values); harmless twice."""
    plan = build_plan(seed)
    max_rate_age = _settings().fx_max_rate_age

    async def work(session: AsyncSession) -> str:
        if if_empty and not await database_is_empty(session):
            return "the database holds data already: the demo was not loaded"
        if await demo_loaded(session):
            return "the demo coalition is loaded already: nothing changed"
        if not await country_count(session):
            raise HubError("load the countries first: p2c-hub countries load")
        with click.progressbar(length=len(plan.pledges), label="demo pledges") as bar:
            result = await load_demo(session, plan, bar.update, max_rate_age=max_rate_age)
        return f"demo coalition: {result.organisations} organisations, {result.pledges} pledges"

    click.echo(_in_transaction(work))

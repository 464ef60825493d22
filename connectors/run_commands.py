"""Console commands that run HTTP connectors: ``p2c-hub sync`` now, ``p2c-hub worker`` on
their schedules."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Sequence

import click

from connectors.cli import run_fields, table
from connectors.runner import Outcome, run_all, run_connector, work
from hub.audit.delivery import Sessions
from hub.console import read_settings, vault_of, with_database
from hub.db import engine_of
from hub.imports.runs import COUNTS, TRAFFIC
from hub.logs import configure_logging


def _shown(outcomes: Sequence[Outcome]) -> None:
    if not outcomes:
        click.echo("no HTTP connectors to run (p2c-hub connectors add --kind ...)")
        return
    rows: list[dict[str, object]] = [
        {**run_fields(o.run, o.connector), "error": o.error}
        if o.run
        else {"connector": o.connector, "status": "NOT RUN", "error": o.error}
        for o in outcomes
    ]
    click.echo(table(rows, ["connector", "status", *COUNTS, *TRAFFIC, "seconds", "error"]))
    failed = [f"{o.connector}: {o.error}" for o in outcomes if o.error]
    if failed:
        raise click.ClickException("; ".join(failed))


class _Bar:
    """One run's progress at the console: a bar once the source says how many records it
    holds, else a count; redrawn in place on a terminal, a line a page elsewhere (a log)."""

    WIDTH = 30

    def __init__(self, name: str) -> None:
        self.name, self.done = name, 0
        self.terminal = sys.stderr.isatty()

    def __call__(self, more: int, total: int | None) -> None:
        self.done += more
        if total:
            filled = min(self.WIDTH, self.done * self.WIDTH // total)
            shown = f"[{'#' * filled}{'-' * (self.WIDTH - filled)}] {self.done}/{total}"
        else:
            shown = f"{self.done} record(s)"
        line = f"{self.name}: {shown} committed"
        if self.terminal:
            click.echo(f"\r{line}", err=True, nl=False)
        else:
            click.echo(line, err=True)

    def end(self) -> None:
        if self.terminal and self.done:
            click.echo("", err=True)


@click.command("sync")
@click.argument("names", nargs=-1)
@click.option("--all", "run_every", is_flag=True, help="Every HTTP connector.")
@click.option("--full", is_flag=True, help="Ask for every record, not only what changed.")
def sync_command(names: tuple[str, ...], run_every: bool, full: bool) -> None:
    """Run HTTP connectors now (NAME..., or --all), with a progress bar, then each run's
    counts. A run stopped part-way goes on from its last committed page the next time;
    --full starts a new pass over everything instead. Exit status 1 if any run failed."""
    if bool(names) == run_every:
        raise click.UsageError("name the connectors to run, or give --all")
    sealing = vault_of(read_settings())

    async def run(sessions: Sessions) -> list[Outcome]:
        engine = engine_of(sessions)
        if run_every:
            return await run_all(engine, sessions, sealing, full=full)
        outcomes = []
        for name in names:
            bar = _Bar(name)
            outcomes.append(await run_connector(engine, sessions, sealing, name, bar, full=full))
            bar.end()
        return outcomes

    _shown(with_database(run))


@click.command("worker")
@click.option("--tick", type=float, default=5.0, show_default=True, help="Seconds between looks.")
def worker_command(tick: float) -> None:
    """Run each scheduled connector when its time comes, until SIGTERM or Ctrl-C; a
    connector that keeps failing waits longer after each failure and is logged, while the
    others go on."""
    settings = read_settings()
    configure_logging(settings.log_level)
    sealing = vault_of(settings)

    async def run(sessions: Sessions) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sign in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sign, stop.set)
        click.echo("worker: running scheduled connectors (SIGTERM or Ctrl-C stops)", err=True)
        await work(engine_of(sessions), sessions, sealing, stop, tick=tick)

    with_database(run)
    sys.stderr.write("worker: stopped\n")


COMMANDS = (sync_command, worker_command)

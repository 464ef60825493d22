"""Console commands of the connectors: ``connectors``, ``import iati`` and ``deadletters``.

Registered on ``p2c-hub`` where the console is composed (``hub.cli``).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import BinaryIO, TextIO

import click
import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from connectors.framework import BATCH_SIZE, Incoming, Stopped, digest_of, sync
from connectors.iati.importer import incoming, options_for
from connectors.iati.outcomes import Options
from connectors.letters import rereader
from hub.audit.delivery import Sessions
from hub.auth.principal import CONSOLE
from hub.console import in_transaction, read_settings, vault_of, with_database
from hub.db import engine_of
from hub.errors import InvalidInput, NotFound
from hub.imports import commands
from hub.imports.connectors import (
    HTTP_DEFAULTS,
    ConnectorConfig,
    HttpConfig,
    check_config,
    get_connector,
    list_connectors,
    only_connector,
)
from hub.imports.locks import connector_lock
from hub.imports.models import Connector, ConnectorKind, DeadLetter, SyncRun
from hub.imports.runs import COUNTS, TRAFFIC, Resume, open_letters, runs_of
from hub.organisations.service import find_organisation

MAX_DOWNLOAD = 2 * 1024**3
"""A URL's file is refused beyond this size (the largest IATI files are a few hundred MB)."""


def run_fields(run: SyncRun, connector: str) -> dict[str, object]:
    return {
        "id": run.id,
        "connector": connector,
        "source": run.source,
        "status": run.status.value,
        **{name: getattr(run, name) for name in COUNTS},
        "started": run.started_at.isoformat(),
        "seconds": (
            round((run.finished_at - run.started_at).total_seconds(), 1)
            if run.finished_at
            else None
        ),
        "resumedFrom": run.resumed_from,
        **{name: getattr(run, name) for name in TRAFFIC},
        "error": run.error,
    }


def table(rows: Sequence[dict[str, object]], columns: Sequence[str]) -> str:
    """Rows as aligned columns with a header, numbers to the right."""
    cells = [
        [str(row.get(c, "") if row.get(c) is not None else "") for c in columns] for row in rows
    ]
    widths = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(columns)]

    def line(values: Sequence[str]) -> str:
        return "  ".join(
            v.rjust(w) if v.isdigit() else v.ljust(w) for v, w in zip(values, widths, strict=True)
        ).rstrip()

    return "\n".join([line(columns), *(line(r) for r in cells)])


@click.group("connectors")
def connectors_group() -> None:
    """Connectors: who they act for, what they select, and their runs."""


def _read_secret(env: str | None, stdin: bool) -> str | None:
    """The connector's secret from an environment variable or standard input, never from
    the command line (which other users of the host can read)."""
    if env and stdin:
        raise click.UsageError("give the secret once: --secret-env or --secret-stdin")
    if stdin:
        return sys.stdin.readline().strip() or None
    if env:
        value = os.environ.get(env)
        if not value:
            raise click.UsageError(f"the environment variable {env} holds no secret")
        return value
    return None


@connectors_group.command("add")
@click.argument("name")
@click.option("--member", required=True, help="The member it acts for: id or IATI identifier.")
@click.option(
    "--kind",
    type=click.Choice([kind.value for kind in ConnectorKind]),
    default=ConnectorKind.IATI_FILE.value,
    show_default=True,
    help="Where its records come from.",
)
@click.option("--activity", "activity_ids", multiple=True, help="Select this activity id.")
@click.option("--reporting-org", "reporting_orgs", multiple=True, help="Select this reporter.")
@click.option("--sector", "sectors", multiple=True, help="Select this DAC 5-digit sector.")
@click.option("--tag", "tags", multiple=True, help="Select this tag, as vocabulary:code.")
@click.option(
    "--also-reports-as",
    "identifiers",
    multiple=True,
    help="Another IATI organisation identifier the member publishes under.",
)
@click.option("--publish", is_flag=True, help="Let it publish the SMART-complete pledges.")
@click.option("--url", help="HTTP kinds: the API's base URL.")
@click.option("--token-url", help="OAuth 2.0: the token endpoint.")
@click.option("--client-id", help="OAuth 2.0: the connector's client id at the partner.")
@click.option("--audience", help="OAuth 2.0: the audience the partner's tokens are for.")
@click.option("--resource", help="OAuth 2.0: the resource indicator (RFC 8707).")
@click.option("--scope", help="OAuth 2.0: the scope to ask for.")
@click.option("--key-header", help="An API key's header (IATI: Ocp-Apim-Subscription-Key).")
@click.option("--secret-env", help="The environment variable holding the secret or API key.")
@click.option("--secret-stdin", is_flag=True, help="Read the secret or API key from stdin.")
@click.option("--query", help="Datastore: a Solr query; World Bank: extra parameters.")
@click.option("--mapping", "mapping_file", type=click.File("r"), help="JSON_API: the mapping.")
@click.option("--page-size", type=int, default=HTTP_DEFAULTS.page_size, show_default=True)
@click.option("--concurrency", type=int, default=HTTP_DEFAULTS.concurrency, show_default=True,
              help="Requests at once.")  # fmt: skip
@click.option("--timeout", type=float, default=HTTP_DEFAULTS.timeout, show_default=True,
              help="Seconds a request may take.")  # fmt: skip
@click.option("--attempts", type=int, default=HTTP_DEFAULTS.attempts, show_default=True,
              help="Attempts at a request before the run fails.")  # fmt: skip
@click.option("--retry-seconds", type=float, default=HTTP_DEFAULTS.retry_seconds,
              show_default=True, help="Seconds a request may spend in retries.")  # fmt: skip
@click.option("--max-bytes", type=int, default=HTTP_DEFAULTS.max_bytes, show_default=True,
              help="The largest answer read, after gzip.")  # fmt: skip
@click.option("--every", type=click.IntRange(min=60), help="Run on a schedule, every N seconds.")
@click.option("--no-check", is_flag=True, help="Save without asking the source (offline).")
def connectors_add(
    name: str,
    member: str,
    kind: str,
    activity_ids: tuple[str, ...],
    reporting_orgs: tuple[str, ...],
    sectors: tuple[str, ...],
    tags: tuple[str, ...],
    identifiers: tuple[str, ...],
    publish: bool,
    url: str | None,
    token_url: str | None,
    client_id: str | None,
    audience: str | None,
    resource: str | None,
    scope: str | None,
    key_header: str | None,
    secret_env: str | None,
    secret_stdin: bool,
    query: str | None,
    mapping_file: TextIO | None,
    page_size: int,
    concurrency: int,
    timeout: float,
    attempts: int,
    retry_seconds: float,
    max_bytes: int,
    every: int | None,
    no_check: bool,
) -> None:
    """Add a connector acting for a member (the secretariat's decision: it writes as them).

    HTTP kinds (IATI_DATASTORE, WORLD_BANK, JSON_API) are checked before they are saved:
    the mapping must compile and the source must answer with the credentials given.
    """
    http = None
    if url is not None:
        http = HttpConfig(
            url=url,
            token_url=token_url,
            client_id=client_id,
            audience=audience,
            resource=resource,
            scope=scope,
            key_header=key_header,
            query=query,
            page_size=page_size,
            concurrency=concurrency,
            timeout=timeout,
            attempts=attempts,
            retry_seconds=retry_seconds,
            max_bytes=max_bytes,
        )
    mapping = _mapping(mapping_file)
    config = ConnectorConfig(
        activity_ids, reporting_orgs, sectors, tags, identifiers, publish, http, mapping
    )
    from connectors.checks import check_mapping, check_source  # HTTP and OAuth: only here

    secret = _read_secret(secret_env, secret_stdin)
    sealing = vault_of(read_settings())

    async def work(session: AsyncSession) -> Connector:
        chosen = ConnectorKind(kind)
        check_config(chosen, config, secret is not None)
        if no_check:
            check_mapping(chosen, config)
        else:
            await check_source(chosen, config, secret)
        organisation = await find_organisation(session, member, field="member")
        return await commands.add(session, CONSOLE, sealing, name, chosen, organisation.id,
                                  config, secret=secret, every_seconds=every)  # fmt: skip

    connector = in_transaction(work)
    click.echo(f"connector {connector.name} added, acting for member {connector.member_id}")


def _mapping(file: TextIO | None) -> dict[str, object] | None:
    if file is None:
        return None
    try:
        loaded = json.load(file)
    except ValueError as error:
        raise click.BadParameter(f"not JSON: {error}", param_hint="--mapping") from None
    if not isinstance(loaded, dict):
        raise click.BadParameter("a JSON object, please", param_hint="--mapping")
    return loaded


@connectors_group.command("show")
@click.argument("name")
def connectors_show(name: str) -> None:
    """One connector as JSON: its configuration, schedule, cursor and latest run (never its
    secret: only whether it has one)."""

    async def work(session: AsyncSession) -> dict[str, object]:
        connector = await get_connector(session, name)
        latest = await runs_of(session, connector.id, 1)
        return {
            **_connector_fields(connector),
            "hasSecret": connector.secret is not None,
            "cursor": json.loads(connector.cursor) if connector.cursor else None,
            "watermark": connector.watermark,
            "latestRun": run_fields(latest[0], name) if latest else None,
        }

    click.echo(json.dumps(in_transaction(work, read_only=True), indent=2))


@connectors_group.command("remove")
@click.argument("name")
def connectors_remove(name: str) -> None:
    """Remove a connector that brought no record (its runs and dead letters go with it)."""

    async def work(session: AsyncSession) -> None:
        await commands.remove(session, CONSOLE, name)

    in_transaction(work)
    click.echo(f"connector {name} removed")


def _connector_fields(connector: Connector) -> dict[str, object]:
    return {
        "name": connector.name,
        "kind": connector.kind.value,
        "member": connector.member_id,
        "config": json.loads(connector.config),
        "every": connector.every_seconds,
        "failures": connector.failures,
        "nextRun": connector.next_run_at.isoformat() if connector.next_run_at else None,
    }


@connectors_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print them as JSON.")
def connectors_list(as_json: bool) -> None:
    """Every connector."""

    async def work(session: AsyncSession) -> list[dict[str, object]]:
        return [_connector_fields(c) for c in await list_connectors(session)]

    found = in_transaction(work, read_only=True)
    if as_json:
        click.echo(json.dumps(found, indent=2))
        return
    rows = [{**c, "config": json.dumps(c["config"], sort_keys=True)} for c in found]
    click.echo(table(rows, ["name", "kind", "member", "every", "failures", "nextRun", "config"]))


@connectors_group.command("runs")
@click.argument("name", required=False)
@click.option("--limit", default=20, show_default=True, help="How many, newest first.")
@click.option("--json", "as_json", is_flag=True, help="Print them as JSON.")
def connectors_runs(name: str | None, limit: int, as_json: bool) -> None:
    """The latest sync runs, of one connector or all, with their counts."""

    async def work(session: AsyncSession) -> list[dict[str, object]]:
        names = {c.id: c.name for c in await list_connectors(session)}
        connector_id = (await get_connector(session, name)).id if name else None
        return [
            run_fields(r, names[r.connector_id])
            for r in await runs_of(session, connector_id, limit)
        ]

    rows = in_transaction(work, read_only=True)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    click.echo(table(rows, ["id", "connector", "status", *COUNTS, *TRAFFIC, "seconds", "source"]))


@click.group("import")
def import_group() -> None:
    """Import records from files or URLs through a connector."""


@contextmanager
def _opened(source: str) -> Iterator[tuple[BinaryIO, str, int]]:
    """The source's bytes as a file, its name for runs (an absolute path, or the URL) and
    its size; a URL is downloaded first, whole, so its digest names what was read."""
    if source.startswith(("https://", "http://")):
        with tempfile.TemporaryFile() as spool:
            try:
                with httpx.stream("GET", source, follow_redirects=True, timeout=60) as response:
                    response.raise_for_status()
                    for chunk in response.iter_bytes():
                        spool.write(chunk)
                        if spool.tell() > MAX_DOWNLOAD:
                            raise click.ClickException(
                                f"larger than {MAX_DOWNLOAD // 1024**2} MB, refused"
                            )
            except httpx.HTTPError as error:
                raise click.ClickException(f"{error}") from None
            size = spool.tell()
            spool.seek(0)
            yield spool, source, size
        return
    path = Path(source)
    if not path.is_file():
        raise click.ClickException("no such file")
    with path.open("rb") as stream:
        yield stream, str(path.resolve()), path.stat().st_size


@dataclass(frozen=True, slots=True)
class _Imported:
    """A source's run, or why it could not be read at all (a missing file, a failed
    download): then there is no run."""

    source: str
    run: SyncRun | None
    error: str | None


@import_group.command("iati")
@click.argument("sources", nargs=-1, required=True)
@click.option("--connector", "connector_name", help="The connector to import through.")
@click.option(
    "--batch-size",
    type=click.IntRange(1, 10_000),
    default=BATCH_SIZE,
    show_default=True,
    help="Activities committed together with the run's marker.",
)
def import_iati(sources: tuple[str, ...], connector_name: str | None, batch_size: int) -> None:
    """Import IATI activity files (paths or URLs) as the connector's member's pledges.

    Each file is a sync run; a run killed part-way resumes where it stopped when the same
    file is imported again. A summary table follows; records that could not be taken are
    dead letters (p2c-hub deadletters list).
    """

    async def work(sessions: Sessions) -> tuple[str, list[_Imported]]:
        async with sessions() as session:
            connector = await _connector(session, connector_name, ConnectorKind.IATI_FILE)
            options = await options_for(session, connector)
        done = []
        for source in sources:
            done.append(await _import_one(sessions, connector, source, options, batch_size))
        return connector.name, done

    name, done = with_database(work)
    unread: dict[str, object] = {"status": "UNREAD"}
    rows = [
        run_fields(item.run, name) if item.run else {**unread, "source": item.source}
        for item in done
    ]
    click.echo(table(rows, ["source", "status", *COUNTS, "seconds"]))
    letters = sum(item.run.rejected for item in done if item.run)
    if letters:
        click.echo(f"{letters} record(s) could not be taken: p2c-hub deadletters list")
    failed = [f"{item.source}: {item.error}" for item in done if item.error]
    if failed:
        raise click.ClickException("; ".join(failed))


async def _connector(session: AsyncSession, name: str | None, kind: ConnectorKind) -> Connector:
    connector = await get_connector(session, name) if name else await only_connector(session, kind)
    if connector.kind is not kind:
        raise InvalidInput(
            f"connector {connector.name} is {connector.kind.value}: run it with p2c-hub sync",
            field=("connector",),
        )
    return connector


async def _import_one(
    sessions: Sessions, connector: Connector, source: str, options: Options, batch_size: int
) -> _Imported:
    try:
        return await _read_and_sync(sessions, connector, source, options, batch_size)
    except click.ClickException as unread:
        return _Imported(source, None, unread.message)


async def _read_and_sync(
    sessions: Sessions, connector: Connector, source: str, options: Options, batch_size: int
) -> _Imported:
    with _opened(source) as (stream, name, size):
        digest = digest_of(stream)
        label = Path(name).name if not name.startswith("http") else name
        with click.progressbar(length=size, label=label, file=sys.stderr) as bar:

            def moved(_: int) -> None:
                bar.update(stream.tell() - bar.pos)

            try:
                async with connector_lock(engine_of(sessions), connector.id, connector.name):
                    run = await sync(
                        sessions,
                        connector,
                        name,
                        digest,
                        lambda resume: incoming(stream, label, options, resume.position),
                        moved,
                        batch_size=batch_size,
                        exclusive=True,
                    )
            except Stopped as stopped:
                return _Imported(name, stopped.run, stopped.run.error)
        return _Imported(name, run, None)


@click.group("deadletters")
def deadletters_group() -> None:
    """Records a run could not take: list them, and take them again after a fix."""


def _letter_fields(letter: DeadLetter, connector: str) -> dict[str, object]:
    return {
        "id": letter.id,
        "connector": connector,
        "run": letter.sync_run_id,
        "source": letter.source,
        "externalId": letter.external_id,
        "place": letter.place,
        "reason": letter.reason,
        "attempts": letter.attempts,
        "payloadBytes": len(letter.payload.encode()) if letter.payload else 0,
    }


@deadletters_group.command("list")
@click.option("--connector", "connector_name", help="Only this connector's.")
@click.option("--json", "as_json", is_flag=True, help="Print them as JSON, with payloads.")
def deadletters_list(connector_name: str | None, as_json: bool) -> None:
    """Dead letters still open, oldest first."""

    async def work(session: AsyncSession) -> list[dict[str, object]]:
        names = {c.id: c.name for c in await list_connectors(session)}
        connector_id = (await get_connector(session, connector_name)).id if connector_name else None
        return [
            {**_letter_fields(letter, names[letter.connector_id]), "payload": letter.payload}
            for letter in await open_letters(session, connector_id)
        ]

    rows = in_transaction(work, read_only=True)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo("no open dead letters")
        return
    click.echo(table(rows, ["id", "connector", "run", "externalId", "place", "attempts", "reason"]))


def _given(records: list[Incoming], _: Resume) -> list[Incoming]:
    return records


@deadletters_group.command("retry")
@click.argument("ids", nargs=-1, type=int)
@click.option("--connector", "connector_name", help="Only this connector's.")
def deadletters_retry(ids: tuple[int, ...], connector_name: str | None) -> None:
    """Take open dead letters again (all, or those named) through today's mapping: each
    one taken is resolved; one still refused stays, with today's reason."""

    async def work(sessions: Sessions) -> list[tuple[str, SyncRun]]:
        async with sessions() as session:
            letters = await open_letters(session, ids=ids)
            wanted = await get_connector(session, connector_name) if connector_name else None
            connectors = {c.id: c for c in await list_connectors(session)}
            by_connector: dict[int, list[DeadLetter]] = {}
            for letter in letters:
                if wanted is None or letter.connector_id == wanted.id:
                    by_connector.setdefault(letter.connector_id, []).append(letter)
                elif ids:
                    owner = connectors[letter.connector_id].name
                    raise NotFound(
                        f"dead letter {letter.id} is connector {owner}'s, not {wanted.name}'s",
                        field=("deadLetter",),
                    )
            readers = {cid: await rereader(session, connectors[cid]) for cid in by_connector}
        runs = []
        for cid, waiting in by_connector.items():
            again = [readers[cid](letter) for letter in waiting]
            connector = connectors[cid]
            async with connector_lock(engine_of(sessions), cid, connector.name):
                run = await sync(sessions, connector, None, None, partial(_given, again),
                                 exclusive=True)  # fmt: skip
            runs.append((connectors[cid].name, run))
        return runs

    runs = with_database(work)
    if not runs:
        click.echo("no open dead letters")
        return
    rows = [{**run_fields(run, name), "still open": run.rejected} for name, run in runs]
    click.echo(table(rows, ["connector", "fetched", "created", "updated", "unchanged",
                             "unclaimed", "skipped", "still open"]))  # fmt: skip


COMMANDS = (connectors_group, import_group, deadletters_group)
"""What ``p2c-hub`` adds of the connectors."""

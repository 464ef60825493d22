"""The ``p2c-hub`` command: serve, migrate, and load reference and demo data.

Every command reports failures in one line and exits non-zero; database work runs in one
transaction, so a command that fails leaves nothing half-written.
"""

from __future__ import annotations

import json
import signal
import sys
from collections.abc import Awaitable, Callable
from contextlib import suppress
from datetime import timedelta
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any, TypeVar

import click
import httpx
import uvicorn
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from hub.audit import sequencer
from hub.audit.delivery import Sessions, deliver_pending, targets
from hub.audit.export import Exported, export
from hub.audit.heads import sign_head
from hub.audit.ledger import changes_between, record, record_change, snapshot
from hub.audit.models import TreeHead
from hub.audit.notes import verifier_key
from hub.audit.tree import tree_size
from hub.audit.verify import Kept, Verdict, kept_heads, verify
from hub.auth.clients import (
    Credentials,
    create_client,
    list_clients,
    revoke_client,
    rotate_secret,
)
from hub.auth.issuers import MAX_LIFETIME_SECONDS
from hub.auth.models import OAuthClient
from hub.auth.principal import CONSOLE
from hub.auth.scopes import ClientKind, split_scopes
from hub.console import in_transaction, read_settings, shown_url, vault_of, with_database
from hub.countries.reference import read_reference
from hub.countries.service import ReferenceLoad, country_count, load_reference
from hub.db import one_snapshot
from hub.demo.load import database_is_empty, demo_loaded, load_demo
from hub.demo.plan import build_plan
from hub.errors import HubError
from hub.keys.models import KeyPurpose, ServerKey
from hub.keys.rotation import is_published, signing_key
from hub.keys.service import (
    add_audit_key,
    audit_public_key,
    ensure_audit_key,
    ensure_token_key,
    keys_for,
    log_name,
    reseal_keys,
    retire_token_key,
    rotate_token_key,
    token_keys,
)
from hub.keys.vault import generate_encryption_key
from hub.logs import configure_logging
from hub.money.rates import RateFormat, parse_rates
from hub.money.service import RateLoad, load_rates
from hub.organisations import commands as organisation_commands
from hub.organisations.models import Organisation, OrganisationType
from hub.organisations.service import OrganisationDraft, find_organisation
from hub.types import utcnow

T = TypeVar("T")


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
    from hub.migrate import upgrade  # Alembic is a third of the console's start: only here

    settings = read_settings()
    url = settings.effective_migration_url
    try:
        upgrade(url)
    except (DBAPIError, OSError) as error:
        reason = getattr(error, "orig", None) or error
        raise click.ClickException(f"could not migrate {shown_url(url)}: {reason}") from None
    click.echo(f"{shown_url(url)} is migrated to the latest revision")


SHUTDOWN_GRACE_SECONDS = 10
"""How long a stopping server waits for open requests and sockets (a subscription) to end."""


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
    from hub.app import (
        create_app,
    )  # the app (and its schema) loads only for the commands that serve

    settings = read_settings()
    configure_logging(settings.log_level)
    signal.signal(signal.SIGUSR1, signal.SIG_IGN)  # until the hub listens for it (a tree head)
    config = uvicorn.Config(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_config=None,
        proxy_headers=False,
        timeout_graceful_shutdown=SHUTDOWN_GRACE_SECONDS,
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
    from hub.app import schema_sdl

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

    async def work(session: AsyncSession) -> ReferenceLoad:
        loaded = await load_reference(session, *rows)
        source = "bundled" if countries_file is None else countries_file.name
        counts = {
            "added": loaded.countries_added,
            "updated": loaded.countries_updated,
            "group_rows_replaced": loaded.rows_replaced,
        }
        _record_import(session, "countries.load", "CountryReference", source, counts)
        return loaded

    result = in_transaction(work)
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

    async def work(session: AsyncSession) -> RateLoad:
        loaded = await load_rates(session, parsed)
        counts = {"added": loaded.added, "updated": loaded.updated}
        _record_import(session, "rates.load", "ExchangeRateFile", file.name, counts)
        return loaded

    result = in_transaction(work)
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
    max_rate_age = read_settings().fx_max_rate_age

    async def work(session: AsyncSession) -> str:
        if if_empty and not await database_is_empty(session):
            return "the database holds data already: the demo was not loaded"
        if await demo_loaded(session):
            return "the demo coalition is loaded already: nothing changed"
        if not await country_count(session):
            raise HubError("load the countries first: p2c-hub countries load")
        with click.progressbar(length=len(plan.pledges), label="demo pledges") as bar:
            result = await load_demo(session, plan, bar.update, max_rate_age=max_rate_age)
        counts = {"organisations": result.organisations, "pledges": result.pledges}
        _record_import(session, "demo.load", "DemoCoalition", str(seed), counts)
        return f"demo coalition: {result.organisations} organisations, {result.pledges} pledges"

    click.echo(in_transaction(work))


def _record_import(
    session: AsyncSession, action: str, entity: str, source: str, counts: dict[str, int]
) -> None:
    """The console's event of an import, with its counts; none when nothing changed."""
    if any(counts.values()):
        changes = {name: {"before": None, "after": count} for name, count in counts.items()}
        record_change(session, CONSOLE, action, entity, source, changes)


@main.group()
def clients() -> None:
    """OAuth clients: the credentials of partners, the secretariat, auditors and connectors."""


def _client_fields(client: OAuthClient) -> dict[str, object]:
    return {
        "client_id": client.client_id,
        "name": client.name,
        "kind": client.kind.value,
        "member_id": client.member_id,
        "scopes": client.scopes,
        "created_at": client.created_at.isoformat(),
        "secret_set_at": client.secret_set_at.isoformat(),
        "revoked_at": client.revoked_at.isoformat() if client.revoked_at else None,
    }


def _show_credentials(credentials: Credentials, as_json: bool) -> None:
    fields = {**_client_fields(credentials.client), "client_secret": credentials.secret}
    if as_json:
        click.echo(json.dumps(fields, indent=2))
        return
    for name in ("client_id", "client_secret", "kind", "member_id", "scopes"):
        click.echo(f"{name}: {fields[name]}")
    click.echo(
        "Store the secret now: the hub keeps only its digest and cannot show it again.", err=True
    )


@clients.command("create")
@click.option(
    "--kind",
    type=click.Choice([kind.value for kind in ClientKind]),
    required=True,
    help="Whom the client acts for.",
)
@click.option(
    "--member",
    help="The member a PARTNER or CONNECTOR client acts for: its hub id or IATI identifier.",
)
@click.option(
    "--scopes",
    required=True,
    help="Space- or comma-separated scopes, within what the kind may hold.",
)
@click.option("--name", required=True, help="What the client is, for whoever reads lists and logs.")
@click.option("--json", "as_json", is_flag=True, help="Print the credentials as JSON.")
def clients_create(kind: str, member: str | None, scopes: str, name: str, as_json: bool) -> None:
    """Create a client; its secret is printed once."""

    async def work(session: AsyncSession) -> Credentials:
        made = await create_client(
            session,
            name=name,
            kind=ClientKind(kind),
            scopes=split_scopes(scopes),
            member=member,
            now=utcnow(),
        )
        await record(session, CONSOLE, "client.create", made.client)
        return made

    _show_credentials(in_transaction(work), as_json)


@clients.command("list")
@click.option("--all", "include_revoked", is_flag=True, help="Include revoked clients.")
@click.option("--json", "as_json", is_flag=True, help="Print the clients as JSON.")
def clients_list(include_revoked: bool, as_json: bool) -> None:
    """List clients (never their secrets)."""
    found = in_transaction(lambda session: list_clients(session, include_revoked=include_revoked))
    if as_json:
        click.echo(json.dumps([_client_fields(client) for client in found], indent=2))
        return
    for client in found:
        member = f" member {client.member_id}" if client.member_id is not None else ""
        revoked = f" REVOKED {client.revoked_at:%Y-%m-%d}" if client.revoked_at else ""
        click.echo(
            f"{client.client_id}  {client.kind.value}{member}  [{client.scopes}]  "
            f"{client.name}{revoked}"
        )
    if not found:
        click.echo("no clients", err=True)


@clients.command("revoke")
@click.argument("client_id")
def clients_revoke(client_id: str) -> None:
    """Revoke a client: no more tokens, and the tokens it holds are refused at once."""

    async def work(session: AsyncSession) -> OAuthClient:
        before = await _client_as_it_is(session, client_id)
        revoked = await revoke_client(session, client_id, utcnow())
        await record(session, CONSOLE, "client.revoke", revoked, before)
        return revoked

    client = in_transaction(work)
    click.echo(f"revoked {client.client_id} ({client.name})")


@clients.command("rotate-secret")
@click.argument("client_id")
@click.option("--json", "as_json", is_flag=True, help="Print the credentials as JSON.")
def clients_rotate_secret(client_id: str, as_json: bool) -> None:
    """Give a client a new secret, printed once; the old secret stops working at once."""

    async def work(session: AsyncSession) -> Credentials:
        before = await _client_as_it_is(session, client_id)
        rotated = await rotate_secret(session, client_id, utcnow())
        await record(session, CONSOLE, "client.rotate_secret", rotated.client, before)
        return rotated

    _show_credentials(in_transaction(work), as_json)


async def _client_as_it_is(session: AsyncSession, client_id: str) -> dict[str, Any] | None:
    """The client's fields before a change, for the audit ledger (None: the service refuses)."""
    found = await session.scalar(select(OAuthClient).where(OAuthClient.client_id == client_id))
    return snapshot(found) if found is not None else None


@main.group()
def members() -> None:
    """Organisations and membership, for the secretariat at the console."""


def _organisation_options(required: bool) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        options = [
            click.option("--name", required=required, help="The organisation's name."),
            click.option(
                "--type",
                "organisation_type",
                type=click.Choice([kind.value for kind in OrganisationType]),
                required=required,
                help="Its P2C constituency.",
            ),
            click.option("--country", help="ISO 3166-1 alpha-3 code of its headquarters."),
            click.option("--iati", help="Its IATI organisation identifier."),
            click.option("--website", help="Its http(s) website."),
        ]
        for option in reversed(options):
            command = option(command)
        return command

    return decorate


def _show_organisation(organisation: Organisation) -> None:
    click.echo(
        f"{organisation.id}  {organisation.name}  {organisation.organisation_type.value}  "
        f"{organisation.membership_status.value}"
    )


@members.command("add")
@_organisation_options(required=True)
@click.option("--approve", is_flag=True, help="Admit it as a member at once.")
def members_add(
    name: str,
    organisation_type: str,
    country: str | None,
    iati: str | None,
    website: str | None,
    approve: bool,
) -> None:
    """Record an organisation (a member only once approved)."""

    async def work(session: AsyncSession) -> Organisation:
        draft = OrganisationDraft(name, OrganisationType(organisation_type), country, iati, website)
        organisation = await organisation_commands.add(session, CONSOLE, draft)
        if approve:
            await organisation_commands.approve(session, CONSOLE, organisation.id)
        return organisation

    _show_organisation(in_transaction(work))


@members.command("approve")
@click.argument("organisation")
def members_approve(organisation: str) -> None:
    """Admit an organisation, named by its hub id or IATI identifier, as a member."""

    async def work(session: AsyncSession) -> Organisation:
        found = await find_organisation(session, organisation, field="organisation")
        return await organisation_commands.approve(session, CONSOLE, found.id)

    _show_organisation(in_transaction(work))


@members.command("update")
@click.argument("organisation")
@_organisation_options(required=False)
def members_update(
    organisation: str,
    name: str | None,
    organisation_type: str | None,
    country: str | None,
    iati: str | None,
    website: str | None,
) -> None:
    """Correct what is recorded about an organisation; options not given stay as they are."""

    async def work(session: AsyncSession) -> Organisation:
        found = await find_organisation(session, organisation, field="organisation")
        draft = OrganisationDraft(
            name=name if name is not None else found.name,
            organisation_type=OrganisationType(organisation_type or found.organisation_type),
            headquarters_country=country if country is not None else found.headquarters_country,
            iati_identifier=iati if iati is not None else found.iati_identifier,
            website=website if website is not None else found.website,
        )
        return await organisation_commands.correct(session, CONSOLE, found.id, draft)

    _show_organisation(in_transaction(work))


@main.group()
def keys() -> None:
    """The hub's signing keys, sealed with HUB_KEY_ENCRYPTION_KEYS."""


@keys.command("generate-encryption-key")
def keys_generate_encryption_key() -> None:
    """Print a new key-encryption key for HUB_KEY_ENCRYPTION_KEYS (nothing is stored)."""
    click.echo(generate_encryption_key())


def _keys_audited(
    action: str, work: Callable[[AsyncSession], Awaitable[T]]
) -> Callable[[AsyncSession], Awaitable[T]]:
    """``work`` on the hub's keys, with an event for each key it made or changed."""

    async def audited(session: AsyncSession) -> T:
        before = {key.kid: snapshot(key) for key in await session.scalars(select(ServerKey))}
        result = await work(session)
        await session.flush()
        for key in await session.scalars(select(ServerKey)):
            was = before.get(key.kid)
            if was is None or changes_between(was, snapshot(key)):
                await record(session, CONSOLE, action, key, was)
        return result

    return audited


@keys.command("init")
def keys_init() -> None:
    """Make the first token-signing key and the first audit key (which signs the audit log's
    tree heads) if the hub has none in service; harmless twice."""
    settings = read_settings()

    async def first_keys(session: AsyncSession) -> tuple[ServerKey | None, ServerKey | None]:
        now, vault = utcnow(), vault_of(settings)
        token = await ensure_token_key(session, vault, now)
        return token, await ensure_audit_key(session, vault, now, settings.audit_log_name)

    token, audit = in_transaction(_keys_audited("key.init", first_keys))
    if token is None:
        click.echo("a token-signing key is in service already")
    else:
        click.echo(f"signing key {token.kid} made; it signs from now")
    if audit is None:
        click.echo("an audit key is in service already")
    else:
        click.echo(f"audit key {audit.kid} made; it signs tree heads from now")


@keys.command("rotate")
@click.option(
    "--now",
    "at_once",
    is_flag=True,
    help="Sign with the new key at once (after a compromise; verifiers refetch the JWKS "
    "when they meet its kid).",
)
def keys_rotate(at_once: bool) -> None:
    """Publish a new signing key; it signs once every JWKS cache has seen it, and the old
    key stays published until the last token it signed has expired."""
    settings = read_settings()
    publish_ahead = timedelta(seconds=0 if at_once else settings.jwks_max_age_seconds)
    keep_after = timedelta(seconds=MAX_LIFETIME_SECONDS + settings.token_leeway_seconds)
    key = in_transaction(
        _keys_audited(
            "key.rotate",
            lambda session: rotate_token_key(
                session,
                vault_of(settings),
                utcnow(),
                publish_ahead=publish_ahead,
                keep_after=keep_after,
            ),
        )
    )
    click.echo(f"signing key {key.kid} published; it signs from {key.signs_from.isoformat()}")


@keys.command("retire")
@click.argument("kid")
def keys_retire(kid: str) -> None:
    """Withdraw a signing key from the JWKS at once: tokens it signed are refused from the
    next key-set refresh of each process (HUB_JWKS_MAX_AGE_SECONDS at the most)."""
    key = in_transaction(
        _keys_audited("key.retire", lambda session: retire_token_key(session, kid, utcnow()))
    )
    click.echo(f"signing key {key.kid} retired")
    remaining = in_transaction(token_keys)
    if signing_key(remaining, utcnow()) is None:
        click.echo("no key signs now: run p2c-hub keys rotate --now", err=True)


@keys.command("reseal")
def keys_reseal() -> None:
    """Seal every private key again with the first of HUB_KEY_ENCRYPTION_KEYS; after it, the
    other encryption keys can be dropped from the list."""
    settings = read_settings()
    count = in_transaction(
        _keys_audited("key.reseal", lambda session: reseal_keys(session, vault_of(settings)))
    )
    click.echo(f"{count} keys sealed with the first key-encryption key")


@keys.command("list")
def keys_list() -> None:
    """List the token-signing keys, with when each signs and retires, and the audit keys."""

    async def every_key(session: AsyncSession) -> list[ServerKey]:
        return [
            *await keys_for(session, KeyPurpose.TOKEN_SIGNING),
            *await keys_for(session, KeyPurpose.AUDIT_SIGNING),
        ]

    found: list[ServerKey] = in_transaction(every_key)
    now = utcnow()
    signing = {
        purpose: signing_key([key for key in found if key.purpose is purpose], now)
        for purpose in KeyPurpose
    }
    for key in found:
        current = signing[key.purpose]
        if current is not None and key.kid == current.kid:
            state = "signing"
        elif not is_published(key, now):
            state = "retired"
        elif key.signs_from > now:
            state = "next"
        else:
            state = "published"
        retires = key.retires_at.isoformat() if key.retires_at else "-"
        click.echo(
            f"{key.kid}  {key.algorithm}  {state:9}  signs from {key.signs_from.isoformat()}"
            f"  retires {retires}"
        )
    if not found:
        click.echo("no signing keys: run p2c-hub keys init", err=True)


@main.group()
def audit() -> None:
    """The audit ledger: sequence it, sign its tree heads, export it, verify it
    (docs/audit.md)."""


@audit.command("sequence")
def audit_sequence() -> None:
    """Number the committed events not yet in the log now (serve does it every half second)."""
    click.echo(f"{with_database(sequencer.sequence_all)} events appended to the log")


@audit.command("verify")
@click.option(
    "--kept",
    "kept_files",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A file of heads kept outside the database (an export target's, an export); "
    "HUB_AUDIT_HEADS_FILE is read too when it is set.",
)
def audit_verify(kept_files: tuple[Path, ...]) -> None:
    """Recompute the log, its tree and its heads from the database, and check the heads kept
    outside it; exit 0 only when everything holds."""
    settings = read_settings()
    files = [(path, "--kept") for path in kept_files]
    if settings.audit_heads_file is not None and settings.audit_heads_file.exists():
        files.append((settings.audit_heads_file, "HUB_AUDIT_HEADS_FILE"))
    kept = Kept()
    for path, given in files:
        try:
            with path.open(encoding="utf-8", newline="\n") as lines:  # LF ends a line, only
                kept_heads(lines, str(path), into=kept)
        except (OSError, UnicodeDecodeError, ValueError) as error:
            raise click.BadParameter(str(error), param_hint=given) from None
    verdict: Verdict = in_transaction(lambda session: verify(session, kept), read_only=True)
    if verdict.problem is not None:
        click.echo(f"the audit log does not hold: {verdict.problem}", err=True)
        raise SystemExit(1)
    click.echo(
        f"the audit log holds: {verdict.leaves} leaves checked, {verdict.heads} heads and "
        f"{verdict.kept} kept heads checked, {verdict.waiting} events waiting to be sequenced"
    )


@audit.command("head")
def audit_head() -> None:
    """Sequence what is waiting, sign a tree head of the log now (unless the newest head has
    its size already) and send what the export targets lack, as serve does on its schedule."""
    settings = read_settings()

    async def signed(sessions: Sessions) -> tuple[TreeHead | None, int]:
        await sequencer.sequence_all(sessions)
        async with sessions() as session:
            head = await sign_head(session, vault_of(settings), utcnow())
            await session.commit()
        if head is None:
            return None, 0
        async with httpx.AsyncClient(follow_redirects=False) as client:
            return head, await deliver_pending(sessions, targets(settings, client))

    head, sent = with_database(signed)
    if head is None:
        raise click.ClickException("the hub has no audit key: run p2c-hub keys init")
    click.echo(f"tree head {head.id}: {head.tree_size} leaves, root {head.root_hash}")
    click.echo(f"{sent} heads sent to the export targets")


@audit.command("public-key")
def audit_public_key_command() -> None:
    """Print the verifier key of each audit key (C2SP vkey), oldest first: what auditors
    check tree heads with."""
    found = in_transaction(lambda session: keys_for(session, KeyPurpose.AUDIT_SIGNING))
    if not found:
        raise click.ClickException("the hub has no audit key: run p2c-hub keys init")
    for key in found:
        click.echo(verifier_key(*audit_public_key(key)))


@audit.command("rotate-key")
def audit_rotate_key() -> None:
    """Make a new audit key that signs from now; the old ones stay, so the heads they signed
    can still be checked (give auditors the new verifier key)."""
    settings = read_settings()
    key = in_transaction(
        _keys_audited(
            "key.rotate",
            lambda session: add_audit_key(
                session, vault_of(settings), utcnow(), settings.audit_log_name
            ),
        )
    )
    click.echo(f"audit key {key.kid} made; it signs tree heads from now")
    click.echo(verifier_key(*audit_public_key(key)))


@audit.command("export")
@click.option(
    "--to",
    "target",
    required=True,
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="The file to write; it is replaced only once the export is complete.",
)
def audit_export(target: Path) -> None:
    """Write the log's events and every signed tree head as JSON lines, from one snapshot,
    for an auditor's tools (tools/verify_audit.py)."""
    settings = read_settings()
    if not target.parent.is_dir():
        raise click.BadParameter(f"{target.parent} is not a directory", param_hint="--to")
    partial = target.with_name(f".{target.name}.partial")

    async def written(session: AsyncSession) -> Exported:
        await one_snapshot(session)  # before the first read: the count and the export agree
        origin = await log_name(session, settings.audit_log_name)
        events = await tree_size(session)
        try:
            with (
                partial.open("wb") as out,
                click.progressbar(length=events, label="events", file=sys.stderr) as bar,
            ):
                return await export(session, out, origin, utcnow(), bar.update)
        except OSError as error:  # the file's, not the database's
            raise click.ClickException(f"{partial}: {error.strerror or error}") from None

    try:
        done: Exported = in_transaction(written, read_only=True)
        partial.replace(target)
    except OSError as error:
        raise click.ClickException(f"{target}: {error.strerror or error}") from None
    finally:
        with suppress(OSError):
            partial.unlink(missing_ok=True)
    click.echo(f"{done.events} events and {done.heads} tree heads written to {target}")


def _add_connector_commands() -> None:
    """The console is where the app is composed: the connectors' commands join it here."""
    from connectors.cli import COMMANDS
    from connectors.run_commands import COMMANDS as RUN_COMMANDS

    for command in (*COMMANDS, *RUN_COMMANDS):
        main.add_command(command)


_add_connector_commands()

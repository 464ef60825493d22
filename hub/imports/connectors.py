"""Connectors as the secretariat configures them, and the principal each acts as."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth.principal import Principal
from hub.auth.scopes import MEMBER_WRITES, ClientKind, Scope
from hub.errors import Conflict, InvalidInput, NotFound
from hub.imports.models import (
    HTTP_KINDS,
    Connector,
    ConnectorKind,
    DeadLetter,
    ReviewEntry,
    SourceRecord,
    SyncRun,
)
from hub.imports.runs import settle_earlier_runs
from hub.imports.schedule import set_schedule
from hub.integrity import flush
from hub.organisations.matching import organisation_by_iati
from hub.organisations.models import Organisation
from hub.organisations.service import require_member

NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,99}")
DAC_SECTOR = re.compile(r"\d{5}")


@dataclass(frozen=True, slots=True)
class HttpConfig:
    """How to reach an HTTP source: its base ``url``; OAuth 2.0 client credentials (a
    ``token_url``, ``client_id``, and the ``audience`` or ``resource`` and ``scope`` the
    partner's authorization server wants) or an API key sent in ``key_header``; ``query``
    narrows what is asked for (a Solr query for the IATI Datastore, extra parameters for the
    World Bank). The secret (client secret or API key) is never here: it is sealed apart."""

    url: str
    token_url: str | None = None
    client_id: str | None = None
    audience: str | None = None
    resource: str | None = None
    scope: str | None = None
    key_header: str | None = None
    query: str | None = None
    page_size: int = 100
    concurrency: int = 2
    timeout: float = 30.0
    attempts: int = 6
    retry_seconds: float = 300.0
    max_bytes: int = 64 * 1024 * 1024

    @classmethod
    def from_mapping(cls, stored: Mapping[str, Any]) -> HttpConfig:
        """As stored; a setting this version does not know (a later one wrote it) is left
        unread rather than making the connector unreadable."""
        known = {f.name for f in fields(cls)}
        return cls(**{name: value for name, value in stored.items() if name in known})


HTTP_DEFAULTS = HttpConfig(url="")
"""The defaults of every HTTP setting, for the console's and GraphQL's own defaults."""
HTTP_SETTINGS = tuple(f.name for f in fields(HttpConfig))


@dataclass(frozen=True, slots=True)
class ConnectorConfig:
    """Which records are P2C commitments and how to map them.

    A record is selected when any list names it: its activity id, its reporting
    organisation, one of its DAC 5-digit sectors, or one of its tags (``vocabulary:code``);
    nothing listed selects nothing (IATI kinds). ``identifiers`` are IATI organisation
    identifiers the member also reports as, beside its own. ``publish``: the secretariat let
    this connector publish the SMART-complete pledges it imports. ``http``: where an HTTP
    kind reads from; ``mapping``: a JSON API's field mapping (``connectors.jsonapi``).
    """

    activity_ids: tuple[str, ...] = ()
    reporting_orgs: tuple[str, ...] = ()
    sectors: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    identifiers: tuple[str, ...] = ()
    publish: bool = False
    http: HttpConfig | None = None
    mapping: Mapping[str, Any] | None = field(default=None, hash=False)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> ConnectorConfig:
        stored = json.loads(text)

        def codes(name: str) -> tuple[str, ...]:
            return tuple(str(value) for value in stored.get(name, ()))

        http = stored.get("http")
        return cls(
            activity_ids=codes("activity_ids"),
            reporting_orgs=codes("reporting_orgs"),
            sectors=codes("sectors"),
            tags=codes("tags"),
            identifiers=codes("identifiers"),
            publish=bool(stored.get("publish", False)),
            http=HttpConfig.from_mapping(http) if http else None,
            mapping=stored.get("mapping"),
        )


def check_config(kind: ConnectorKind, config: ConnectorConfig, has_secret: bool) -> None:
    """Refuse a configuration that can select nothing, names malformed codes, or lacks what
    its kind needs to reach its source (what needs the network or the mapping's compiler
    is checked by the connectors before saving)."""
    if kind in HTTP_KINDS:
        _check_http(kind, config.http, has_secret)
    elif config.http is not None:
        raise InvalidInput(f"a {kind.value} connector reads no HTTP API", field=("http",))
    uses_secret = config.http is not None and bool(config.http.token_url or config.http.key_header)
    if has_secret and not uses_secret:
        raise InvalidInput(
            "this connector sends no secret (no token endpoint, no API key header): "
            "none is kept for nothing",
            field=("secret",),
        )
    if kind is ConnectorKind.JSON_API and not config.mapping:
        raise InvalidInput(
            "a JSON_API connector needs a field mapping", code="BAD_MAPPING", field=("mapping",)
        )
    if kind is not ConnectorKind.JSON_API and config.mapping:
        raise InvalidInput(f"a {kind.value} connector takes no mapping", field=("mapping",))
    iati = kind in {ConnectorKind.IATI_FILE, ConnectorKind.IATI_DATASTORE}
    if iati and not (config.activity_ids or config.reporting_orgs or config.sectors or config.tags):
        raise InvalidInput(
            "say which records are P2C commitments: activity ids, reporting organisations, "
            "DAC sectors (such as 22020 and 22040) or tags",
            code="EMPTY_SELECTION",
            field=("selection",),
        )
    for sector in config.sectors:
        if not DAC_SECTOR.fullmatch(sector):
            raise InvalidInput(
                f"{sector!r} is not a DAC 5-digit sector code, such as 22040",
                field=("selection", "sectors"),
            )
    for tag in config.tags:
        if tag.count(":") != 1 or not all(tag.split(":")):
            raise InvalidInput(
                f"{tag!r} is not a tag as vocabulary:code, such as 99:P2C",
                field=("selection", "tags"),
            )
    for value in (*config.activity_ids, *config.reporting_orgs, *config.identifiers):
        if not value.strip() or any(c.isspace() for c in value):
            raise InvalidInput(f"{value!r} is not an IATI identifier", field=("selection",))


def _url(value: str | None, name: str) -> None:
    parts = urlsplit(value or "")
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise InvalidInput(f"{value!r} is not an http(s) URL", field=("http", name))


def _check_http(kind: ConnectorKind, http: HttpConfig | None, has_secret: bool) -> None:
    """What an HTTP kind needs to reach its source, and limits that keep a run sane."""
    if http is None:
        raise InvalidInput(f"a {kind.value} connector needs its API's URL", field=("http", "url"))
    _url(http.url, "url")
    if http.token_url is not None:
        _url(http.token_url, "tokenUrl")
        if not http.client_id:
            raise InvalidInput("OAuth 2.0 needs a client id", field=("http", "clientId"))
        if http.key_header:
            raise InvalidInput(
                "a connector authenticates with OAuth 2.0 or an API key, not both",
                field=("http", "keyHeader"),
            )
    elif http.client_id or http.audience or http.resource or http.scope:
        raise InvalidInput(
            "a client id, audience, resource or scope needs the token endpoint's URL",
            field=("http", "tokenUrl"),
        )
    if kind is ConnectorKind.JSON_API and http.token_url is None:
        raise InvalidInput(
            "an operator's JSON API is read with OAuth 2.0 client credentials: give the token "
            "endpoint's URL and the client id",
            field=("http", "tokenUrl"),
        )
    if kind is ConnectorKind.IATI_DATASTORE and not http.key_header:
        raise InvalidInput(
            "the IATI Datastore wants its API key in a header: Ocp-Apim-Subscription-Key",
            field=("http", "keyHeader"),
        )
    if (http.token_url or http.key_header) and not has_secret:
        what = "client secret" if http.token_url else "API key"
        raise InvalidInput(f"give the connector's {what}", field=("secret",))
    limits = (
        ("pageSize", http.page_size, 1, 1000),
        ("concurrency", http.concurrency, 1, 16),
        ("timeout", http.timeout, 0.1, 600),
        ("attempts", http.attempts, 1, 20),
        ("retrySeconds", http.retry_seconds, 1, 3600),
        ("maxBytes", http.max_bytes, 1024, 2 * 1024**3),
    )
    for name, value, low, high in limits:
        if not low <= value <= high:
            raise InvalidInput(f"{name} is {value}: from {low} to {high}", field=("http", name))


async def add_connector(
    session: AsyncSession,
    name: str,
    kind: ConnectorKind,
    member_id: int,
    config: ConnectorConfig,
    *,
    sealed_secret: str | None = None,
    every_seconds: int | None = None,
) -> Connector:
    """Record a connector acting for a member; names are unique, lower case.
    ``sealed_secret``: its client secret or API key, sealed by the hub's vault;
    ``every_seconds``: how often the worker runs it (None: only when asked)."""
    if not NAME.fullmatch(name):
        raise InvalidInput(
            "a connector's name is lower-case letters, digits, '.', '_' and '-' (at most 100)",
            field=("name",),
        )
    check_config(kind, config, sealed_secret is not None)
    await require_member(session, member_id, field="member")
    for identifier in config.identifiers:
        owner = await organisation_by_iati(session, identifier)
        if owner is not None and owner.id != member_id:
            raise Conflict(
                f"{identifier} is the IATI identifier of {owner.name} (organisation {owner.id}):"
                " a connector reports only as its own member",
                code="IDENTIFIER_OF_ANOTHER",
                field=("identifiers",),
            )
    if await session.scalar(select(Connector.id).where(Connector.name == name)) is not None:
        raise Conflict(f"a connector named {name} exists", code="DUPLICATE", field=("name",))
    connector = Connector(
        name=name,
        kind=kind,
        member_id=member_id,
        config=config.to_json(),
        secret=sealed_secret,
        failures=0,
    )
    session.add(connector)
    await flush(session)
    if every_seconds is not None:
        await set_schedule(session, connector, every_seconds)
    return connector


async def get_connector(session: AsyncSession, name: str) -> Connector:
    """The connector with this name, or ``NotFound`` listing the names there are."""
    connector = await session.scalar(select(Connector).where(Connector.name == name))
    if connector is None:
        names = ", ".join(c.name for c in await list_connectors(session)) or "none yet"
        raise NotFound(f"no connector named {name} (the connectors: {names})", field=("connector",))
    return connector


async def remove_connector(session: AsyncSession, name: str) -> Connector:
    """Remove a connector with its runs and dead letters; one whose records became pledges
    or wait for linking stays (its provenance is part of the record): ``IN_USE``."""
    connector = await get_connector(session, name)
    kept = await session.scalar(
        select(func.count())
        .select_from(SourceRecord)
        .where(SourceRecord.connector_id == connector.id)
    )
    if kept:
        raise Conflict(
            f"connector {name} brought {kept} source record(s), which name it as their "
            "provenance: it stays (stop its schedule instead)",
            code="IN_USE",
            field=("connector",),
        )
    await settle_earlier_runs(session, connector)  # never from under a run
    await session.execute(delete(DeadLetter).where(DeadLetter.connector_id == connector.id))
    await session.execute(
        delete(ReviewEntry).where(
            ReviewEntry.sync_run_id.in_(
                select(SyncRun.id).where(SyncRun.connector_id == connector.id)
            )
        )
    )
    await session.execute(delete(SyncRun).where(SyncRun.connector_id == connector.id))
    await session.delete(connector)
    await flush(session)
    return connector


async def list_connectors(session: AsyncSession) -> Sequence[Connector]:
    """Every connector, by name."""
    return list(await session.scalars(select(Connector).order_by(Connector.name)))


async def only_connector(session: AsyncSession, kind: ConnectorKind) -> Connector:
    """The one connector of ``kind``, for commands that may leave it unnamed."""
    found = list(await session.scalars(select(Connector).where(Connector.kind == kind)))
    if len(found) != 1:
        names = ", ".join(sorted(c.name for c in found)) or "none yet"
        raise InvalidInput(
            f"name the connector with --connector (the {kind.value} connectors: {names})",
            field=("connector",),
        )
    return found[0]


def principal_for(connector: Connector) -> Principal:
    """Who a connector's writes are made by: a CONNECTOR acting for its member, with what a
    member may write (and publish, when granted)."""
    config = ConnectorConfig.from_json(connector.config)
    scopes = MEMBER_WRITES | ({Scope.PLEDGES_PUBLISH} if config.publish else set())
    return Principal(
        kind=ClientKind.CONNECTOR,
        client_id=f"connector:{connector.name}",
        member_id=connector.member_id,
        scopes=frozenset(scopes),
    )


async def member_identifiers(session: AsyncSession, connector: Connector) -> frozenset[str]:
    """The IATI organisation identifiers the connector's member reports as."""
    own = await session.scalar(
        select(Organisation.iati_identifier).where(Organisation.id == connector.member_id)
    )
    also = ConnectorConfig.from_json(connector.config).identifiers
    return frozenset({*also, *([own] if own else [])})

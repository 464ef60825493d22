"""Connectors as the secretariat configures them, and the principal each acts as."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth.principal import Principal
from hub.auth.scopes import MEMBER_WRITES, ClientKind, Scope
from hub.errors import Conflict, InvalidInput, NotFound
from hub.imports.models import Connector, ConnectorKind
from hub.integrity import flush
from hub.organisations.models import Organisation
from hub.organisations.service import organisation_by_iati, require_member

NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,99}")
DAC_SECTOR = re.compile(r"\d{5}")


@dataclass(frozen=True, slots=True)
class ConnectorConfig:
    """Which records are P2C commitments and how to map them.

    A record is selected when any list names it: its activity id, its reporting
    organisation, one of its DAC 5-digit sectors, or one of its tags (``vocabulary:code``);
    nothing listed selects nothing. ``identifiers`` are IATI organisation identifiers the
    member also reports as, beside its own. ``publish``: the secretariat let this connector
    publish the SMART-complete pledges it imports.
    """

    activity_ids: tuple[str, ...] = ()
    reporting_orgs: tuple[str, ...] = ()
    sectors: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    identifiers: tuple[str, ...] = ()
    publish: bool = False

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> ConnectorConfig:
        stored = json.loads(text)

        def codes(name: str) -> tuple[str, ...]:
            return tuple(str(value) for value in stored.get(name, ()))

        return cls(
            activity_ids=codes("activity_ids"),
            reporting_orgs=codes("reporting_orgs"),
            sectors=codes("sectors"),
            tags=codes("tags"),
            identifiers=codes("identifiers"),
            publish=bool(stored.get("publish", False)),
        )


def check_config(config: ConnectorConfig) -> None:
    """Refuse a configuration that can select nothing or names malformed codes."""
    if not (config.activity_ids or config.reporting_orgs or config.sectors or config.tags):
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


async def add_connector(
    session: AsyncSession,
    name: str,
    kind: ConnectorKind,
    member_id: int,
    config: ConnectorConfig,
) -> Connector:
    """Record a connector acting for a member; names are unique, lower case."""
    if not NAME.fullmatch(name):
        raise InvalidInput(
            "a connector's name is lower-case letters, digits, '.', '_' and '-' (at most 100)",
            field=("name",),
        )
    check_config(config)
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
    connector = Connector(name=name, kind=kind, member_id=member_id, config=config.to_json())
    session.add(connector)
    await flush(session)
    return connector


async def get_connector(session: AsyncSession, name: str) -> Connector:
    """The connector with this name, or ``NotFound`` listing the names there are."""
    connector = await session.scalar(select(Connector).where(Connector.name == name))
    if connector is None:
        names = ", ".join(c.name for c in await list_connectors(session)) or "none yet"
        raise NotFound(f"no connector named {name} (the connectors: {names})", field=("connector",))
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

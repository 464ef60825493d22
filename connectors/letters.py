"""Dead letters read again from their payloads, with today's parser and mapping, for
``p2c-hub deadletters retry``: an IATI activity's XML, a World Bank project's or an
operator's record's JSON."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping

from sqlalchemy.ext.asyncio import AsyncSession

from connectors import jsonapi, worldbank
from connectors.framework import Incoming, Reject, Work
from connectors.iati.importer import SOURCE as IATI_SOURCE
from connectors.iati.importer import options_for, record_of
from connectors.iati.parse import activities
from connectors.iati.records import ParsedActivity
from hub.countries.service import alpha3_by_alpha2
from hub.imports.connectors import ConnectorConfig
from hub.imports.models import Connector, ConnectorKind, DeadLetter
from hub.organisations.models import Organisation

Reread = Callable[[DeadLetter], Incoming]


async def json_source(session: AsyncSession, connector: Connector) -> tuple[str, str]:
    """The source a JSON API connector's records are keyed by, and the identifier its
    member reports as."""
    member = await session.get_one(Organisation, connector.member_id)
    return f"{jsonapi.SOURCE}:{connector.name}", member.iati_identifier or f"member:{member.id}"


async def rereader(session: AsyncSession, connector: Connector) -> Reread:
    """How the connector's dead letters are read again."""
    if connector.kind in {ConnectorKind.IATI_FILE, ConnectorKind.IATI_DATASTORE}:
        options = await options_for(session, connector)

        def activity(letter: DeadLetter) -> Incoming:
            text = letter.payload or ""
            parsed = next(iter(activities(text.encode())), None) if text else None
            if isinstance(parsed, ParsedActivity):
                again = record_of(parsed, "", options, place=letter.place)
                return _again(letter, again.source, again.external_id, again.work)
            return _again(letter, IATI_SOURCE, letter.external_id, _unread(letter, "activity"))

        return activity
    countries = await alpha3_by_alpha2(session)
    if connector.kind is ConnectorKind.WORLD_BANK:

        def project(letter: DeadLetter) -> Incoming:
            loaded = _loaded(letter)
            if not isinstance(loaded, Mapping) or letter.external_id is None:
                return _again(letter, worldbank.SOURCE, letter.external_id,
                              _unread(letter, "project"))  # fmt: skip
            work = worldbank.project_work(letter.external_id, loaded, countries, letter.place)
            return _again(letter, worldbank.SOURCE, letter.external_id, work)

        return project
    config = ConnectorConfig.from_json(connector.config)
    assert config.mapping is not None  # a JSON_API connector has one
    mapping = jsonapi.compile_mapping(config.mapping)
    source, reporting_org = await json_source(session, connector)

    def record(letter: DeadLetter) -> Incoming:
        loaded = _loaded(letter)
        if loaded is None:
            return _again(letter, source, letter.external_id, _unread(letter, "record"))
        key, work = jsonapi.record_work(
            loaded, mapping, countries, source=source, reporting_org=reporting_org,
            place=letter.place,
        )  # fmt: skip
        return _again(letter, source, key, work)

    return record


def _loaded(letter: DeadLetter) -> object:
    try:
        return json.loads(letter.payload) if letter.payload else None
    except ValueError:
        return None


def _unread(letter: DeadLetter, what: str) -> Reject:
    """A letter with no payload (a source unreadable from some place on) keeps its reason."""
    return Reject(
        letter.reason if letter.payload is None else f"UNREADABLE: the payload is no {what}"
    )


def _again(letter: DeadLetter, source: str, external_id: str | None, work: Work) -> Incoming:
    return Incoming(0, source, letter.place, external_id, letter.payload, work, letter.id)

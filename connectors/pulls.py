"""Paging through each HTTP source: what to ask for, page after page, as records and
checkpoints for the framework.

A pass over a source starts at its first page, asking only for what changed since the
connector's watermark (where the API can say so), and ends at its last page; each page's
:class:`~connectors.framework.Checkpoint` carries the cursor of the page after it (JSON in
the source's own terms: a ``cursorMark``, an offset, a next link), so a run that stops goes
on where the last committed page left off, with the same query. The next page is fetched
while this one is written, within the connector's limit of requests in flight.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from contextlib import aclosing
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl

from connectors import jsonapi, worldbank
from connectors.errors import Malformed, SourceError
from connectors.framework import Checkpoint, Incoming, Reject
from connectors.http import HttpSource
from connectors.iati.importer import SOURCE as IATI_SOURCE
from connectors.iati.importer import record_of
from connectors.iati.outcomes import Options
from connectors.iati.parse import activities
from connectors.iati.records import ParsedActivity
from hub.imports.connectors import HttpConfig
from hub.imports.runs import Resume

Item = Incoming | Checkpoint
DATASTORE_FIELDS = "iati_identifier,last_updated_datetime,iati_xml"


LOOKBACK = timedelta(hours=24)
"""A pass's next watermark is never later than a day before the pass began: a record whose
source stamps its change late (IATI's last-updated-datetime is the publisher's own) is still
asked for. ``p2c-hub sync --full`` asks for everything."""


@dataclass(frozen=True, slots=True)
class Pass:
    """Where a pass stands: the watermark it asks from, the next page's request, how many
    records came before it, the latest change seen so far, and when it began."""

    since: str | None
    page: Any
    started: str
    position: int = 0
    latest: str | None = None

    def to_json(self) -> str:
        fields = {"since": self.since, "page": self.page, "started": self.started}
        return json.dumps({**fields, "position": self.position, "latest": self.latest})

    @classmethod
    def resumed(cls, resume: Resume, watermark: str | None, first: Any) -> Pass:
        """The unfinished pass a run goes on with, or a new one from ``watermark``."""
        now = _stamp(datetime.now(UTC))
        if resume.cursor is None:
            return cls(watermark, first, now)
        stored = json.loads(resume.cursor)
        return cls(stored["since"], stored["page"], stored.get("started", now),
                   stored["position"], stored.get("latest"))  # fmt: skip

    def checkpoint(self, after: Any, position: int, latest: str | None) -> Checkpoint:
        """The end of a page: the pass goes on at ``after``; or it ended (None), and the
        next pass asks from the next watermark."""
        if after is not None:
            going_on = replace(self, page=after, position=position, latest=latest)
            return Checkpoint(going_on.to_json())
        return Checkpoint(None, self._next_watermark(latest))

    def _next_watermark(self, latest: str | None) -> str | None:
        seen, started, since = _instant(latest), _instant(self.started), _instant(self.since)
        if seen is None or started is None:
            return self.since
        bound = min(seen, started - LOOKBACK)
        return self.since if since is not None and bound < since else _stamp(bound)


def _stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _later(a: str | None, b: str | None) -> str | None:
    """The later of two ISO 8601 instants (UTC unless they say), in UTC; one that does not
    read as an instant is passed over."""
    instants = [i for i in (_instant(a), _instant(b)) if i is not None]
    return _stamp(max(instants)) if instants else None


def _instant(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


async def _pages(
    first: Any, fetch: Callable[[Any], Awaitable[tuple[Any, Any]]]
) -> AsyncGenerator[tuple[Any, Any]]:
    """``(page, next request)`` from ``first`` until the next request is None; the next page
    is asked for while the caller works on this one."""
    pending = asyncio.ensure_future(fetch(first))
    try:
        while True:
            page, after = await pending
            if after is not None:
                pending = asyncio.ensure_future(fetch(after))
            yield page, after
            if after is None:
                return
    finally:
        if not pending.done():
            pending.cancel()


# The IATI Datastore: Solr, deep paging with cursorMark over ``sort=id asc``.


def datastore_query(http: HttpConfig, options: Options, since: str | None) -> str:
    """The Solr query: the configured one, else the connector's selection; and what changed
    since the watermark."""
    selection = options.selection
    clauses = [
        f"{field}:({' OR '.join(_quoted(value) for value in sorted(values))})"
        for field, values in (
            ("iati_identifier", selection.activity_ids),
            ("reporting_org_ref", selection.reporting_orgs),
            ("sector_code", selection.sectors),
            ("tag_code", {code for _, code in selection.tags}),  # its vocabulary: the mapping's
        )
        if values
    ]
    query = http.query or " OR ".join(clauses) or "*:*"
    if since is None:
        return query
    return f"({query}) AND last_updated_datetime:[{since} TO *]"


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _solr_page(body: bytes) -> tuple[list[Mapping[str, Any]], str, int | None]:
    try:
        page = json.loads(body)
        docs, mark = page["response"]["docs"], page["nextCursorMark"]
        found = page["response"].get("numFound")
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise Malformed(f"not a Solr answer with docs and nextCursorMark ({error})") from None
    if not isinstance(docs, list) or not isinstance(mark, str):
        raise Malformed("not a Solr answer: docs is no list or nextCursorMark no string")
    return docs, mark, found if isinstance(found, int) else None


async def datastore(
    http: HttpSource, options: Options, resume: Resume, watermark: str | None
) -> AsyncGenerator[Item]:
    """Every selected activity the Datastore holds, as the IATI mapping reads it."""
    config = http.config
    at = Pass.resumed(resume, watermark, "*")
    url = config.url.rstrip("/") + "/datastore/activity/select"
    query = datastore_query(config, options, at.since)
    number = 0

    async def fetch(mark: str) -> tuple[list[Mapping[str, Any]], str | None]:
        params = {"q": query, "fl": DATASTORE_FIELDS, "rows": str(config.page_size),
                  "sort": "id asc", "cursorMark": mark, "wt": "json"}  # fmt: skip
        docs, after, found = await http.get(url, params, _solr_page, f"page at cursorMark {mark}")
        http.total = found
        return docs, (after if after != mark else None)

    position, latest = at.position, at.latest
    async with aclosing(_pages(at.page, fetch)) as pages:
        async for docs, after in pages:
            number += 1
            for doc in docs:
                position += 1
                latest = _later(latest, _text(doc.get("last_updated_datetime")))
                yield _activity(doc, position, f"{url} page {number}", options)
            yield at.checkpoint(after, position, latest)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _activity(doc: Mapping[str, Any], position: int, page: str, options: Options) -> Incoming:
    identifier = _text(doc.get("iati_identifier"))
    xml = _text(doc.get("iati_xml"))
    place = f"{page}, activity {identifier or position}"
    if xml is None:
        reason = "UNREADABLE: the document carries no iati_xml (ask for it with fl)"
        return Incoming(position, IATI_SOURCE, place, identifier, json.dumps(doc), Reject(reason))
    parsed = next(iter(activities(xml.encode())), None)
    if not isinstance(parsed, ParsedActivity):
        why = parsed.message if parsed is not None else "no iati-activity element"
        return Incoming(position, IATI_SOURCE, place, identifier, xml, Reject(f"UNREADABLE: {why}"))
    return replace(record_of(parsed, "", options, place=place), position=position)


# The World Bank Projects API: ``rows`` and ``os`` (an offset).


async def world_bank(
    http: HttpSource, countries: Mapping[str, str], resume: Resume
) -> AsyncGenerator[Item]:
    """Every project the API lists for the connector's query, as the member's pledges."""
    config = http.config
    at = Pass.resumed(resume, None, 0)
    url = config.url.rstrip("/") + "/api/v2/projects"
    extra = dict(parse_qsl(config.query or "", keep_blank_values=True))

    async def fetch(offset: int) -> tuple[worldbank.WorldBankPage, int | None]:
        params = {**extra, "format": "json", "rows": str(config.page_size), "os": str(offset)}
        page = await http.get(url, params, worldbank.parse_page, f"page at os={offset}")
        http.total = page.total
        after = offset + len(page.projects)
        return page, (after if page.projects and after < page.total else None)

    position = at.position
    async with aclosing(_pages(at.page, fetch)) as pages:
        async for page, after in pages:
            for project_id, project in page.projects:
                position += 1
                place = f"{url} os={position - 1}, project {project_id}"
                work = worldbank.project_work(project_id, project, countries, place)
                payload = json.dumps(project, sort_keys=True)
                yield Incoming(position, worldbank.SOURCE, place, project_id, payload, work)
            yield at.checkpoint(after, position, None)


# An operator's JSON API, through the connector's field mapping.


async def json_api(
    http: HttpSource,
    mapping: jsonapi.JsonMapping,
    countries: Mapping[str, str],
    resume: Resume,
    watermark: str | None,
    *,
    source: str,
    reporting_org: str,
) -> AsyncGenerator[Item]:
    """Every record of the operator's API changed since the watermark."""
    config = http.config
    params = dict(parse_qsl(config.query or "", keep_blank_values=True))
    first_params = {**params, **({mapping.since_param: watermark} if mapping.since_param and
                                 watermark else {})}  # fmt: skip
    at = Pass.resumed(resume, watermark, [config.url, first_params])

    asked: set[str] = set()

    async def fetch(request: list[Any]) -> tuple[tuple[list[Any], str], list[Any] | None]:
        page_url, page_params = request
        key = json.dumps([page_url, sorted(page_params.items())])
        if key in asked:
            raise SourceError(f"the API's next page is {page_url} again: its paging never ends")
        asked.add(key)
        body = await http.get(page_url, page_params, _json, f"page {page_url}")
        records = jsonapi.page_records(body, mapping)
        after = jsonapi.next_request(body, mapping, page_url)
        if after is None:
            return (records, page_url), None
        next_url, next_params = after  # a next link is whole; a cursor keeps the query
        return (records, page_url), [
            next_url,
            {**page_params, **next_params} if next_params else {},
        ]

    position, latest = at.position, at.latest
    async with aclosing(_pages(at.page, fetch)) as pages:
        async for (records, page_url), after in pages:
            for item in records:
                position += 1
                place = f"{page_url} record {position}"
                updated = jsonapi.record_updated(item, mapping)
                if updated is not None:
                    latest = _later(latest, updated.isoformat())
                key, work = jsonapi.record_work(
                    item, mapping, countries, source=source, reporting_org=reporting_org,
                    place=place,
                )  # fmt: skip
                yield Incoming(position, source, place, key, json.dumps(item, sort_keys=True), work)
            yield at.checkpoint(after, position, latest)


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError as error:
        raise Malformed(f"not JSON ({error})") from None

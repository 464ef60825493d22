"""The connector administrators' root fields (scope ``connectors:admin``): connectors, their
sync runs, the dead letters runs left and the review queue, which the members administrators
(``members:admin``), who resolve it, read too. Their types are nodes that only such callers
see; to anyone else ``node`` answers null, as for audit events."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Annotated

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from hub.authorization import holds_any_scope, require_any_scope
from hub.imports.connectors import HTTP_SETTINGS, ConnectorConfig, HttpConfig
from hub.imports.models import Connector as ConnectorModel
from hub.imports.models import DeadLetter as LetterModel
from hub.imports.models import ReviewEntry as ReviewModel
from hub.imports.models import SyncRun as RunModel
from hub.imports.queries import (
    CONNECTORS_ADMIN,
    REVIEW_READERS,
    candidate_ids,
    connector_page,
    letter_page,
    review_page,
    run_page,
)
from schema.context import Info
from schema.enums import ConnectorKind, LetterStatus, ReviewStatus, RunStatus
from schema.organisations import Organisation
from schema.pagination import (
    After,
    Before,
    First,
    Last,
    build_connection,
    fingerprint,
    key_of,
    node_key,
    slice_of,
)
from schema.pledges import Pledge


def _admin(info: Info) -> None:
    require_any_scope(info.context.principal, CONNECTORS_ADMIN)


def _sees_imports(info: Info) -> bool:
    return holds_any_scope(info.context.principal, CONNECTORS_ADMIN)


def _sees_review(info: Info) -> bool:
    return holds_any_scope(info.context.principal, REVIEW_READERS)


def _keys(node_ids: Iterable[str]) -> list[int]:
    return [key if (key := node_key(i)) is not None else -1 for i in node_ids]


@strawberry.type(
    description="How an HTTP connector reaches its source. Its secret (a client secret or an "
    "API key) is never here: it is sealed apart, and only `Connector.hasSecret` says it is set."
)
class HttpSource:
    url: str = strawberry.field(description="The API's base URL.")
    token_url: str | None = strawberry.field(
        description="OAuth 2.0 client credentials: the token endpoint; null for an API key or an "
        "open API."
    )
    client_id: str | None = strawberry.field(
        description="OAuth 2.0: the connector's client id at the partner."
    )
    audience: str | None = strawberry.field(
        description="OAuth 2.0: the audience the partner's tokens are asked for."
    )
    resource: str | None = strawberry.field(
        description="OAuth 2.0: the resource indicator (RFC 8707) the tokens are asked for."
    )
    scope: str | None = strawberry.field(description="OAuth 2.0: the scope asked for.")
    key_header: str | None = strawberry.field(
        description="The header an API key is sent in (the IATI Datastore's: "
        "Ocp-Apim-Subscription-Key); null without a key."
    )
    query: str | None = strawberry.field(
        description="What is asked for: a Solr query for the IATI Datastore, extra query "
        "parameters for the World Bank."
    )
    page_size: int = strawberry.field(description="Records asked for per page.")
    concurrency: int = strawberry.field(description="Requests of a run in flight at once.")
    timeout: float = strawberry.field(description="Seconds one request may take.")

    attempts: int = strawberry.field(
        description="Attempts at one request before the run fails (retries included)."
    )
    retry_seconds: float = strawberry.field(
        description="Seconds one request may spend in retries, waits included."
    )
    max_bytes: int = strawberry.field(description="The largest answer read, after gzip.")

    @classmethod
    def from_config(cls, http: HttpConfig) -> HttpSource:
        return cls(**{name: getattr(http, name) for name in HTTP_SETTINGS})


@strawberry.type(
    description="A configured connector: the member it imports for, which records, and, for "
    "HTTP kinds, its source and schedule (never its secret)."
)
class Connector(relay.Node):
    key: relay.NodeID[int]
    name: str = strawberry.field(description="Its unique name, such as iati-alpha.")
    kind: ConnectorKind = strawberry.field(description="Where its records come from.")
    activity_ids: list[str] = strawberry.field(description="Activity ids it selects.")
    reporting_orgs: list[str] = strawberry.field(
        description="Reporting organisations (IATI identifiers) whose activities it selects."
    )
    sectors: list[str] = strawberry.field(description="DAC 5-digit sectors it selects.")
    tags: list[str] = strawberry.field(description="Tags it selects, as vocabulary:code.")
    identifiers: list[str] = strawberry.field(
        description="IATI organisation identifiers its member also reports as."
    )
    publish: bool = strawberry.field(
        description="Whether it publishes the SMART-complete pledges it imports (else it "
        "submits them to the secretariat)."
    )
    http: HttpSource | None = strawberry.field(
        description="Where an HTTP kind reads from (IATI_DATASTORE, WORLD_BANK, JSON_API); null "
        "for IATI_FILE."
    )
    mapping: JSON | None = strawberry.field(
        description="A JSON_API connector's field mapping, as given; null for other kinds."
    )
    has_secret: bool = strawberry.field(
        description="Whether it holds a secret (a client secret or an API key), sealed at rest. "
        "The secret itself is never shown."
    )
    every_seconds: int | None = strawberry.field(
        description="How often the worker runs it, in seconds; null: only when asked."
    )
    next_run_at: datetime | None = strawberry.field(
        description="When the worker runs it next; null without a schedule."
    )
    failures_in_a_row: int = strawberry.field(
        description="Runs that failed in a row: the worker waits longer after each; 0 after a "
        "success."
    )
    watermark: str | None = strawberry.field(
        description="Records changed since this instant are what its next pass asks for; null "
        "before its first complete pass."
    )
    cursor: str | None = strawberry.field(
        description="Where an unfinished pass over its source goes on, as stored (JSON, in the "
        "source's own terms); null when no pass is under way."
    )
    created_at: datetime = strawberry.field(description="When it was configured.")
    updated_at: datetime = strawberry.field(description="When its configuration last changed.")
    member_id: strawberry.Private[int]

    @classmethod
    def from_model(cls, connector: ConnectorModel) -> Connector:
        config = ConnectorConfig.from_json(connector.config)
        mapping = JSON(dict(config.mapping)) if config.mapping is not None else None
        return cls(
            key=connector.id,
            name=connector.name,
            kind=connector.kind,
            activity_ids=list(config.activity_ids),
            reporting_orgs=list(config.reporting_orgs),
            sectors=list(config.sectors),
            tags=list(config.tags),
            identifiers=list(config.identifiers),
            publish=config.publish,
            http=HttpSource.from_config(config.http) if config.http is not None else None,
            mapping=mapping,
            has_secret=connector.secret is not None,
            every_seconds=connector.every_seconds,
            next_run_at=connector.next_run_at,
            failures_in_a_row=connector.failures,
            watermark=connector.watermark,
            cursor=connector.cursor,
            created_at=connector.created_at,
            updated_at=connector.updated_at,
            member_id=connector.member_id,
        )

    @classmethod
    async def load(cls, info: Info, connector_id: int) -> Connector:
        """The connector a run or a letter belongs to (it always exists)."""
        connector = await info.context.loaders.connector.load(connector_id)
        if connector is None:
            raise LookupError(f"connector {connector_id} is referred to but missing")
        return cls.from_model(connector)

    @classmethod
    async def load_nodes(cls, info: Info, node_ids: Iterable[str]) -> list[Connector | None]:
        """Connectors by id, for a caller with connectors:admin; hidden from every other."""
        keys = _keys(node_ids)
        if not _sees_imports(info):
            return [None for _ in keys]
        found = await info.context.loaders.connector.load_many(keys)
        return [cls.from_model(c) if c is not None else None for c in found]

    @strawberry.field(description="The member it imports pledges for (their lead).")
    async def member(self, info: Info) -> Organisation:
        return await Organisation.load(info, self.member_id)


@strawberry.type(description="One run of a connector over its sources, with what it did.")
class SyncRun(relay.Node):
    key: relay.NodeID[int]
    run_id: int = strawberry.field(
        description="The run's number (as AuditActor.syncRunId names it)."
    )
    status: RunStatus = strawberry.field(description="Where it stands.")
    started_at: datetime = strawberry.field(description="When it started.")
    finished_at: datetime | None = strawberry.field(
        description="When it ended; null while it runs."
    )
    source: str | None = strawberry.field(description="What it reads: a file's path or a URL.")
    source_digest: str | None = strawberry.field(
        description="SHA-256 of the bytes it read, in hex."
    )
    position: int = strawberry.field(
        description="Its marker: the last record whose batch was committed."
    )
    fetched: int = strawberry.field(description="Records read.")
    created: int = strawberry.field(description="Pledges (or unclaimed records) created.")
    updated: int = strawberry.field(description="Pledges (or unclaimed records) updated.")
    unchanged: int = strawberry.field(description="Records read again unchanged.")
    rejected: int = strawberry.field(description="Records kept as dead letters.")
    unclaimed: int = strawberry.field(
        description="Records another organisation reports: kept for linking, never pledges."
    )
    skipped: int = strawberry.field(description="Records its selection does not name.")
    requests: int = strawberry.field(
        description="HTTP requests it made (pages and tokens), retries included; 0 for files."
    )
    retries: int = strawberry.field(
        description="Requests it made again after a fault (an error status, a timeout, a body "
        "cut short)."
    )
    error: str | None = strawberry.field(description="Why it failed or was interrupted.")
    connector_id: strawberry.Private[int]
    resumed_from_id: strawberry.Private[int | None]

    @classmethod
    def from_model(cls, run: RunModel) -> SyncRun:
        return cls(
            key=run.id,
            run_id=run.id,
            status=run.status,
            started_at=run.started_at,
            finished_at=run.finished_at,
            source=run.source,
            source_digest=run.source_digest,
            position=run.position,
            fetched=run.fetched,
            created=run.created,
            updated=run.updated,
            unchanged=run.unchanged,
            rejected=run.rejected,
            unclaimed=run.unclaimed,
            skipped=run.skipped,
            requests=run.requests,
            retries=run.retries,
            error=run.error,
            connector_id=run.connector_id,
            resumed_from_id=run.resumed_from,
        )

    @classmethod
    async def load(cls, info: Info, run_id: int) -> SyncRun:
        """The run a letter or a review item refers to (it always exists)."""
        run = await info.context.loaders.sync_run.load(run_id)
        if run is None:
            raise LookupError(f"sync run {run_id} is referred to but missing")
        return cls.from_model(run)

    @classmethod
    async def load_nodes(cls, info: Info, node_ids: Iterable[str]) -> list[SyncRun | None]:
        """Runs by id, for a caller with connectors:admin; hidden from every other."""
        keys = _keys(node_ids)
        if not _sees_imports(info):
            return [None for _ in keys]
        found = await info.context.loaders.sync_run.load_many(keys)
        return [cls.from_model(run) if run is not None else None for run in found]

    @strawberry.field(description="Seconds from its start to its end; null while it runs.")
    def duration_seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()

    @strawberry.field(description="The connector that ran.")
    async def connector(self, info: Info) -> Connector:
        return await Connector.load(info, self.connector_id)

    @strawberry.field(
        description="The interrupted run whose position it resumed after; null when it "
        "started at the beginning."
    )
    async def resumed_from(self, info: Info) -> SyncRun | None:
        if self.resumed_from_id is None:
            return None
        return await SyncRun.load(info, self.resumed_from_id)


@strawberry.type(description="A record a run could not map or write: why, where, and its payload.")
class DeadLetter(relay.Node):
    key: relay.NodeID[int]
    letter_id: int = strawberry.field(
        description="The letter's number (p2c-hub deadletters retry takes it)."
    )
    status: LetterStatus = strawberry.field(description="Whether it still waits.")
    source: str = strawberry.field(description="The source, such as iati.")
    external_id: str | None = strawberry.field(
        description="The record's id in the source, when it could be read."
    )
    place: str = strawberry.field(
        description="Where the record was: its file or URL and its position there."
    )
    reason: str = strawberry.field(description="Why it was not taken.")
    payload: str | None = strawberry.field(
        description="The record as the source gave it (for IATI, its XML)."
    )
    attempts: int = strawberry.field(description="How many runs tried it.")
    created_at: datetime = strawberry.field(description="When it was first kept.")
    updated_at: datetime = strawberry.field(description="When it last changed.")
    resolved_at: datetime | None = strawberry.field(description="When a later run took the record.")
    connector_id: strawberry.Private[int]
    run_id: strawberry.Private[int]
    resolved_by_id: strawberry.Private[int | None]

    @classmethod
    def from_model(cls, letter: LetterModel) -> DeadLetter:
        return cls(
            key=letter.id,
            letter_id=letter.id,
            status=letter.status,
            source=letter.source,
            external_id=letter.external_id,
            place=letter.place,
            reason=letter.reason,
            payload=letter.payload,
            attempts=letter.attempts,
            created_at=letter.created_at,
            updated_at=letter.updated_at,
            resolved_at=letter.resolved_at,
            connector_id=letter.connector_id,
            run_id=letter.sync_run_id,
            resolved_by_id=letter.resolved_by_run_id,
        )

    @classmethod
    async def load_nodes(cls, info: Info, node_ids: Iterable[str]) -> list[DeadLetter | None]:
        """Letters by id, for a caller with connectors:admin; hidden from every other."""
        keys = _keys(node_ids)
        if not _sees_imports(info):
            return [None for _ in keys]
        found = await info.context.loaders.dead_letter.load_many(keys)
        return [cls.from_model(letter) if letter is not None else None for letter in found]

    @strawberry.field(description="The connector whose run kept it.")
    async def connector(self, info: Info) -> Connector:
        return await Connector.load(info, self.connector_id)

    @strawberry.field(description="The run that kept it.")
    async def run(self, info: Info) -> SyncRun:
        return await SyncRun.load(info, self.run_id)

    @strawberry.field(description="The run that took the record; null while it waits.")
    async def resolved_by(self, info: Info) -> SyncRun | None:
        if self.resolved_by_id is None:
            return None
        return await SyncRun.load(info, self.resolved_by_id)


@strawberry.type(
    description="Something an import would not guess (an organisation without an identifier, "
    "a region that is no country group, an organisation it may or may not know), for a person "
    "to look at and resolve (`resolveReviewItem`)."
)
class ReviewItem(relay.Node):
    key: relay.NodeID[int]
    subject: str = strawberry.field(
        description="What it is about: ORGANISATION (named without an identifier), "
        "ORGANISATION_TYPE (unknown, and no constituency fits), ORGANISATION_MATCH (its name is "
        "that of organisations the hub knows, which it may or may not be), COUNTRY, REGION or "
        "INDICATOR."
    )
    code: str = strawberry.field(
        description="The source's code for it (an organisation's identifier, a region's code), "
        "or its name when it has none."
    )
    names: str = strawberry.field(description="Its name, as the source wrote it.")
    reason: str = strawberry.field(description="Why a person has to look at it.")
    status: ReviewStatus = strawberry.field(description="Whether it still waits.")
    source: str = strawberry.field(description="The source of the record, such as iati.")
    external_id: str = strawberry.field(description="The record's id in the source.")
    created_at: datetime = strawberry.field(description="When an import first raised it.")
    resolved_at: datetime | None = strawberry.field(
        description="When a person resolved it; null while it waits."
    )
    resolved_by: str | None = strawberry.field(
        description="Who resolved it, as the audit trail names actors (the client's kind and "
        "id, the operator at the console); null while it waits."
    )
    resolution: str | None = strawberry.field(
        description="What was decided, in words; null while it waits."
    )
    pledge_id: strawberry.Private[int | None]
    run_id: strawberry.Private[int]
    organisation_id: strawberry.Private[int | None]
    candidate_ids: strawberry.Private[list[int]]

    @classmethod
    def from_model(cls, entry: ReviewModel) -> ReviewItem:
        return cls(
            key=entry.id,
            subject=entry.subject,
            code=entry.code,
            names=entry.names,
            reason=entry.reason,
            status=entry.status,
            source=entry.source,
            external_id=entry.external_id,
            created_at=entry.created_at,
            resolved_at=entry.resolved_at,
            resolved_by=entry.resolved_by,
            resolution=entry.resolution,
            pledge_id=entry.pledge_id,
            run_id=entry.sync_run_id,
            organisation_id=entry.organisation_id,
            candidate_ids=candidate_ids(entry),
        )

    @classmethod
    async def load_nodes(cls, info: Info, node_ids: Iterable[str]) -> list[ReviewItem | None]:
        """Review items by id, for a caller with connectors:admin or members:admin; hidden
        from every other."""
        keys = _keys(node_ids)
        if not _sees_review(info):
            return [None for _ in keys]
        found = await info.context.loaders.review_entry.load_many(keys)
        return [cls.from_model(entry) if entry is not None else None for entry in found]

    @strawberry.field(
        description="The pledge the record became; null when it is gone or not visible."
    )
    async def pledge(self, info: Info) -> Pledge | None:
        if self.pledge_id is None:
            return None
        return await Pledge.load(info, self.pledge_id)

    @strawberry.field(description="The run that raised it.")
    async def run(self, info: Info) -> SyncRun:
        return await SyncRun.load(info, self.run_id)

    @strawberry.field(
        description="The organisations an ORGANISATION_MATCH item might mean, by id; empty for "
        "other subjects."
    )
    async def candidates(self, info: Info) -> list[Organisation]:
        found = await info.context.loaders.organisation.load_many(self.candidate_ids)
        return [Organisation.from_model(o) for o in found if o is not None]

    @strawberry.field(
        description="The organisation it was resolved to (chosen or created); null while it "
        "waits, or when it is not about an organisation."
    )
    async def organisation(self, info: Info) -> Organisation | None:
        if self.organisation_id is None:
            return None
        return await Organisation.load(info, self.organisation_id)


@strawberry.type(description="A page of connectors.")
class ConnectorConnection(relay.Connection[Connector]):
    total_count: int = strawberry.field(description="How many there are, on all pages.")


@strawberry.type(description="A page of sync runs.")
class SyncRunConnection(relay.Connection[SyncRun]):
    total_count: int = strawberry.field(description="How many there are, on all pages.")


@strawberry.type(description="A page of dead letters.")
class DeadLetterConnection(relay.Connection[DeadLetter]):
    total_count: int = strawberry.field(description="How many there are, on all pages.")


@strawberry.type(description="A page of the review queue.")
class ReviewItemConnection(relay.Connection[ReviewItem]):
    total_count: int = strawberry.field(description="How many there are, on all pages.")


ConnectorArgument = Annotated[
    relay.GlobalID | None, strawberry.argument(description="One connector's only.")
]


def _connector_key(connector: relay.GlobalID | None) -> int | None:
    return key_of(connector, "Connector", ("connector",)) if connector is not None else None


@strawberry.type
class ImportQueries:
    @strawberry.field(description="The connectors, by name (scope connectors:admin).")
    async def connectors(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> ConnectorConnection:
        _admin(info)
        kind = "connectors"
        request = slice_of(kind, first, after, last, before)
        async with info.context.session_factory() as session:
            page, span = await connector_page(session, request)
        return build_connection(
            ConnectorConnection, page, span, kind=kind, to_node=Connector.from_model
        )

    @strawberry.field(
        description="Sync runs, newest first (scope connectors:admin): each criterion given "
        "narrows them."
    )
    async def sync_runs(
        self,
        info: Info,
        connector: ConnectorArgument = None,
        status: Annotated[
            RunStatus | None, strawberry.argument(description="In this status only.")
        ] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> SyncRunConnection:
        _admin(info)
        connector_id = _connector_key(connector)
        kind = f"sync-runs/{fingerprint(connector_id, status)}"
        request = slice_of(kind, first, after, last, before)
        async with info.context.session_factory() as session:
            page, span = await run_page(session, request, connector_id=connector_id, status=status)
        return build_connection(
            SyncRunConnection, page, span, kind=kind, to_node=SyncRun.from_model
        )

    @strawberry.field(
        description="Dead letters, oldest first (scope connectors:admin): the open ones unless "
        "told otherwise."
    )
    async def dead_letters(
        self,
        info: Info,
        connector: ConnectorArgument = None,
        status: Annotated[
            LetterStatus | None,
            strawberry.argument(description="In this status only; null for every status."),
        ] = LetterStatus.OPEN,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> DeadLetterConnection:
        _admin(info)
        connector_id = _connector_key(connector)
        kind = f"dead-letters/{fingerprint(connector_id, status)}"
        request = slice_of(kind, first, after, last, before)
        async with info.context.session_factory() as session:
            page, span = await letter_page(
                session, request, connector_id=connector_id, status=status
            )
        return build_connection(
            DeadLetterConnection, page, span, kind=kind, to_node=DeadLetter.from_model
        )

    @strawberry.field(
        description="What imports left for a person to look at, oldest first (scope "
        "connectors:admin or members:admin): the open items unless told otherwise."
    )
    async def review_queue(
        self,
        info: Info,
        status: Annotated[
            ReviewStatus | None,
            strawberry.argument(description="In this status only; null for every status."),
        ] = ReviewStatus.OPEN,
        subject: Annotated[
            str | None,
            strawberry.argument(
                description="About this only: ORGANISATION_MATCH, ORGANISATION, REGION…"
            ),
        ] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> ReviewItemConnection:
        require_any_scope(info.context.principal, REVIEW_READERS)
        kind = f"review-queue/{fingerprint(status, subject)}"
        request = slice_of(kind, first, after, last, before)
        async with info.context.session_factory() as session:
            page, span = await review_page(session, request, status=status, subject=subject)
        return build_connection(
            ReviewItemConnection, page, span, kind=kind, to_node=ReviewItem.from_model
        )

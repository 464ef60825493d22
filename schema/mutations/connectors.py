"""Connector mutations, for connector administrators (scope connectors:admin): add a
connector, set or stop its schedule, remove it.

Adding one is checked as the console checks it (``p2c-hub connectors add``): its form, then
its source (the context's ``check_source``: the token endpoint gives a token, the API a
page, the mapping compiles), before anything is written; then its secret is sealed with the
hub's key-encryption keys. The secret is write-only: no answer, message or audit event
holds it (the event says only that one was set).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import relay
from strawberry.scalars import JSON

from hub.auth.principal import Principal
from hub.authorization import require_any_scope
from hub.errors import HubError, InvalidInput
from hub.imports import commands
from hub.imports.connectors import (
    HTTP_DEFAULTS,
    HTTP_SETTINGS,
    ConnectorConfig,
    HttpConfig,
    check_config,
)
from hub.imports.models import Connector as ConnectorModel
from hub.imports.queries import CONNECTORS_ADMIN
from schema.context import Info
from schema.enums import ConnectorKind
from schema.imports import Connector
from schema.mutations.errors import ConnectorUserError, user_errors
from schema.pagination import key_of
from schema.writes import in_savepoint

RENAMED = {"every": "everySeconds", "organisationId": "member", "connector": "name"}
"""The hub's names of inputs that GraphQL names otherwise."""


@strawberry.input(
    description="Which IATI records are P2C commitments: a record is selected when any list "
    "names it. An IATI_FILE or IATI_DATASTORE connector must name something."
)
class ConnectorSelectionInput:
    activity_ids: list[str] = strawberry.field(
        default_factory=list, description="IATI activity identifiers."
    )
    reporting_orgs: list[str] = strawberry.field(
        default_factory=list,
        description="Reporting organisations (IATI organisation identifiers): every activity "
        "they publish.",
    )
    sectors: list[str] = strawberry.field(
        default_factory=list,
        description="DAC 5-digit sectors, such as 22020 (telecommunications) and 22040 (ICT).",
    )
    tags: list[str] = strawberry.field(
        default_factory=list,
        description="Tags as vocabulary:code, such as 99:P2C (no vocabulary: vocabulary 1).",
    )


@strawberry.input(
    description="How an HTTP connector reaches its source: OAuth 2.0 client credentials "
    "(tokenUrl and clientId, with the audience, resource and scope the partner wants), an API "
    "key sent in keyHeader, or neither for an open API. The secret goes in "
    "`AddConnectorInput.secret`, never here."
)
class HttpSourceInput:
    url: str = strawberry.field(description="The API's base URL, http(s).")
    token_url: str | None = strawberry.field(
        default=None, description="OAuth 2.0: the token endpoint's URL."
    )
    client_id: str | None = strawberry.field(
        default=None, description="OAuth 2.0: the connector's client id at the partner."
    )
    audience: str | None = strawberry.field(
        default=None, description="OAuth 2.0: the audience to ask tokens for."
    )
    resource: str | None = strawberry.field(
        default=None, description="OAuth 2.0: the resource indicator (RFC 8707) to ask for."
    )
    scope: str | None = strawberry.field(default=None, description="OAuth 2.0: the scope.")
    key_header: str | None = strawberry.field(
        default=None,
        description="The header an API key is sent in (the IATI Datastore wants "
        "Ocp-Apim-Subscription-Key).",
    )
    query: str | None = strawberry.field(
        default=None,
        description="What to ask for: a Solr query (IATI Datastore), extra query parameters "
        "(World Bank).",
    )
    page_size: int = strawberry.field(
        default=HTTP_DEFAULTS.page_size, description="Records per page, 1 to 1000."
    )
    concurrency: int = strawberry.field(
        default=HTTP_DEFAULTS.concurrency,
        description="Requests of a run in flight at once, 1 to 16 (the next page is asked for "
        "while one is written: more than 2 gains nothing yet).",
    )
    timeout: float = strawberry.field(
        default=HTTP_DEFAULTS.timeout, description="Seconds one request may take, 0.1 to 600."
    )
    attempts: int = strawberry.field(
        default=HTTP_DEFAULTS.attempts,
        description="Attempts at one request before the run fails, 1 to 20.",
    )
    retry_seconds: float = strawberry.field(
        default=HTTP_DEFAULTS.retry_seconds,
        description="Seconds one request may spend in retries, 1 to 3600.",
    )
    max_bytes: int = strawberry.field(
        default=HTTP_DEFAULTS.max_bytes,
        description="The largest answer read, after gzip: 1 KiB to 2 GiB.",
    )


@strawberry.input(description="A connector to add, acting for a member.")
class AddConnectorInput:
    name: str = strawberry.field(
        description="Its unique name: lower-case letters, digits, '.', '_' and '-' (at most 100)."
    )
    kind: ConnectorKind = strawberry.field(description="Where its records come from.")
    member: relay.GlobalID = strawberry.field(
        description="The member it acts for (an Organisation's id): it writes as them."
    )
    selection: ConnectorSelectionInput | None = strawberry.field(
        default=None, description="Which IATI records it takes; null selects nothing."
    )
    identifiers: list[str] = strawberry.field(
        default_factory=list,
        description="IATI organisation identifiers the member also reports as, besides its own "
        "(another organisation's is refused).",
    )
    publish: bool = strawberry.field(
        default=False,
        description="Whether it publishes the SMART-complete pledges it imports (else it "
        "submits them to the secretariat).",
    )
    http: HttpSourceInput | None = strawberry.field(
        default=None,
        description="Where an HTTP kind (IATI_DATASTORE, WORLD_BANK, JSON_API) reads from; "
        "null for IATI_FILE.",
    )
    mapping: JSON | None = strawberry.field(
        default=None,
        description="A JSON_API connector's field mapping: a JSON object (docs/connectors.md). "
        "It must compile.",
    )
    secret: str | None = strawberry.field(
        default=None,
        description="Write-only: the client secret (OAuth 2.0) or the API key. Sealed at rest; "
        "never returned, logged or put in the audit trail.",
    )
    every_seconds: int | None = strawberry.field(
        default=None,
        description="HTTP kinds: run every this many seconds (at least 60); null: only when asked.",
    )


@strawberry.type(description="The connector a mutation changed, or why it changed nothing.")
class ConnectorPayload:
    connector: Connector | None = strawberry.field(
        description="The connector as it is now; null on error."
    )
    user_errors: list[ConnectorUserError] = strawberry.field(
        description="Why nothing was written; empty on success."
    )


@strawberry.type(description="The connector a mutation removed, or why it removed nothing.")
class RemoveConnectorPayload:
    removed_connector_id: relay.GlobalID | None = strawberry.field(
        description="The id the removed connector had; null on error."
    )
    user_errors: list[ConnectorUserError] = strawberry.field(
        description="Why nothing was removed; empty on success."
    )


def _config(given: AddConnectorInput) -> ConnectorConfig:
    selection = given.selection or ConnectorSelectionInput()
    if given.mapping is not None and not isinstance(given.mapping, Mapping):
        raise InvalidInput(
            "a field mapping is a JSON object", code="BAD_MAPPING", field=("mapping",)
        )
    http = given.http
    return ConnectorConfig(
        activity_ids=tuple(selection.activity_ids),
        reporting_orgs=tuple(selection.reporting_orgs),
        sectors=tuple(selection.sectors),
        tags=tuple(selection.tags),
        identifiers=tuple(given.identifiers),
        publish=given.publish,
        http=HttpConfig(**{name: getattr(http, name) for name in HTTP_SETTINGS})
        if http is not None
        else None,
        mapping=dict(given.mapping) if given.mapping is not None else None,
    )


def _errors(
    error: HubError, arguments: tuple[str, ...], secret: str | None = None
) -> list[ConnectorUserError]:
    """The user errors for a refusal, under GraphQL's names, never quoting the secret."""
    found = user_errors(error, ConnectorUserError, arguments)
    for problem in found:
        path = problem.field
        if path:
            at = 1 if path[0] == "input" and len(path) > 1 else 0
            path[at] = RENAMED.get(path[at], path[at])
        if secret:
            problem.message = problem.message.replace(secret, "(secret)")
    return found


def _payload(
    done: ConnectorModel | HubError, arguments: tuple[str, ...], secret: str | None = None
) -> ConnectorPayload:
    if isinstance(done, HubError):
        return ConnectorPayload(connector=None, user_errors=_errors(done, arguments, secret))
    return ConnectorPayload(connector=Connector.from_model(done), user_errors=[])


def _admin(info: Info) -> None:
    require_any_scope(info.context.principal, CONNECTORS_ADMIN)


Name = Annotated[str, strawberry.argument(description="The connector's name.")]


@strawberry.type
class ConnectorMutations:
    @strawberry.mutation(
        description="Add a connector acting for a member (scope connectors:admin). Checked "
        "before it is saved: its form, then its source (an HTTP kind's token endpoint must "
        "give a token and its API a page: UNREACHABLE; a JSON_API mapping must compile: "
        "BAD_MAPPING). The secret is sealed and never shown again."
    )
    async def add_connector(
        self,
        info: Info,
        input: Annotated[AddConnectorInput, strawberry.argument(description="The connector.")],
    ) -> ConnectorPayload | None:
        _admin(info)
        arguments = ("input",)
        secret = input.secret if input.secret and input.secret.strip() else None
        try:
            config = _config(input)
            member_id = key_of(input.member, "Organisation", ("member",))
            check_config(input.kind, config, secret is not None)
            await info.context.check_source(input.kind, config, secret)
        except HubError as refused:
            return _payload(refused, arguments, secret)
        vault = info.context.vault

        async def work(session: AsyncSession, principal: Principal) -> ConnectorModel:
            return await commands.add(session, principal, vault, input.name, input.kind,
                                      member_id, config, secret=secret,
                                      every_seconds=input.every_seconds)  # fmt: skip

        return _payload(await in_savepoint(info, work), arguments, secret)

    @strawberry.mutation(
        description="Run an HTTP connector on a schedule, or stop it (scope connectors:admin). "
        "A connector without a schedule runs first as soon as the worker looks; a new interval "
        "never puts off a run already planned sooner."
    )
    async def set_connector_schedule(
        self,
        info: Info,
        name: Name,
        every_seconds: Annotated[
            int | None,
            strawberry.argument(
                description="Run every this many seconds (at least 60); null stops the "
                "schedule (a run under way finishes)."
            ),
        ],
    ) -> ConnectorPayload | None:
        _admin(info)

        async def work(session: AsyncSession, principal: Principal) -> ConnectorModel:
            return await commands.schedule(session, principal, name, every_seconds)

        return _payload(await in_savepoint(info, work), ("name", "everySeconds"))

    @strawberry.mutation(
        description="Remove a connector with its runs and dead letters (scope "
        "connectors:admin). One that brought records stays, as they name it as their "
        "provenance (IN_USE): stop its schedule instead."
    )
    async def remove_connector(self, info: Info, name: Name) -> RemoveConnectorPayload | None:
        _admin(info)

        async def work(session: AsyncSession, principal: Principal) -> int:
            return (await commands.remove(session, principal, name)).id

        done = await in_savepoint(info, work)
        if isinstance(done, HubError):
            errors = _errors(done, ("name",))
            return RemoveConnectorPayload(removed_connector_id=None, user_errors=errors)
        removed = relay.GlobalID("Connector", str(done))
        return RemoveConnectorPayload(removed_connector_id=removed, user_errors=[])

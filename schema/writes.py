"""How a mutation request writes: one transaction for the whole request, one savepoint per
mutation, and the idempotency key stored with the writes.

A mutation operation runs in one database transaction. Each mutation field runs in a
savepoint: a mutation refused with ``userErrors`` rolls back to it, so nothing it began
stays. The payloads' nested fields read through the same session (loaders included, one at
a time, fresh for each mutation), so they show what the mutation wrote. At the end the
response is stored under the request's ``Idempotency-Key``, if it has one, and everything
commits together. An internal error, or a write that collided with another request's
(``TRY_AGAIN``), rolls the whole request back, the key included, and the answer then holds
no data: nothing of it was written, and a retry runs afresh.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from graphql import GraphQLError, SourceLocation
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from hub.audit.ledger import Trail, trail
from hub.auth.principal import Principal
from hub.authorization import require_scope
from hub.errors import Conflict, Forbidden, HubError, Unauthenticated
from hub.idempotency import check_key, claim, remember, request_digest
from hub.integrity import is_contention
from hub.lifecycle import Action, Entity
from hub.types import utcnow
from schema.context import Info
from schema.errors import to_graphql_error

T = TypeVar("T")

TRY_AGAIN = "TRY_AGAIN"


class SharedSession:
    """The request's one write session, lent to one user at a time."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self._lock = asyncio.Lock()

    @asynccontextmanager
    async def __call__(self) -> AsyncIterator[AsyncSession]:
        async with self._lock:
            yield self.session


def refuses_the_request(error: HubError) -> bool:
    """Errors about the credentials rather than the input: the operation's top-level errors."""
    return isinstance(error, Unauthenticated) or (
        isinstance(error, Forbidden) and error.code == "MISSING_SCOPE"
    )


async def perform(
    info: Info,
    entity: Entity,
    action: Action,
    work: Callable[[AsyncSession, Principal], Awaitable[T]],
) -> T | HubError:
    """Run one mutation's ``work`` in a savepoint of the request's transaction: its result, or
    the ``HubError`` that refused it (the savepoint rolled back).

    The caller's token is checked for ``action`` before the arguments are looked at;
    refusals of the credentials, and collisions with other writers, are raised: they fail
    the field (and the request), not its input.
    """
    require_scope(info.context.principal, entity, action)
    return await in_savepoint(info, work)


async def in_savepoint(
    info: Info, work: Callable[[AsyncSession, Principal], Awaitable[T]]
) -> T | HubError:
    """:func:`perform` without the lifecycle's scope check, for writes that are no step of
    a record's lifecycle (connectors): the caller checks the scope before."""
    context = info.context
    shared = context.writes
    if shared is None:
        raise RuntimeError("a mutation ran outside MutationTransaction")
    context.renew_loaders()
    async with shared() as session:
        try:
            savepoint = await session.begin_nested()
        except DBAPIError as error:
            raise _collided(error) from error
        try:
            result = await work(session, context.principal)
            await session.flush()
        except HubError as error:
            await savepoint.rollback()
            if refuses_the_request(error):
                raise
            return error
        except DBAPIError as error:
            await savepoint.rollback()
            raise _collided(error) from error
        except BaseException:
            await savepoint.rollback()
            raise
        await savepoint.commit()
        return result


def _collided(error: DBAPIError) -> Exception:
    if not is_contention(error):
        return error
    return Conflict(
        "this request collided with another writing the same records and nothing of it was "
        "written; send it again",
        code=TRY_AGAIN,
    )


def _rolls_back(result: Any) -> bool:
    """Whether the request must leave nothing: an internal error or a collision."""
    for error in result.errors or ():
        original = error.original_error
        if isinstance(original, HubError):
            if original.code == TRY_AGAIN:
                return True
        elif original is not None and not isinstance(original, GraphQLError):
            return True
    return False


def _stored(result: Any) -> dict[str, Any]:
    errors = [to_graphql_error(error).formatted for error in result.errors or ()]
    return {"data": result.data, "errors": errors} if errors else {"data": result.data}


def _replayed(stored: dict[str, Any]) -> ExecutionResult:
    errors = []
    for item in stored.get("errors", ()):
        error = GraphQLError(
            item["message"], path=item.get("path"), extensions=item.get("extensions")
        )
        locations = item.get("locations")
        if locations:
            error.locations = [
                SourceLocation(place["line"], place["column"]) for place in locations
            ]
        errors.append(error)
    return ExecutionResult(data=stored.get("data"), errors=errors or None)


class MutationTransaction(SchemaExtension):
    """Gives a mutation operation its transaction and honours its ``Idempotency-Key``."""

    async def on_execute(self) -> AsyncIterator[None]:
        execution = self.execution_context
        context = execution.context
        if execution.operation_type is not OperationType.MUTATION or execution.result:
            yield
            return
        async with context.session_factory() as session:
            context.use_writes(SharedSession(session))
            key = context.idempotency_key if not context.principal.anonymous else None
            request = context.request
            request_id = request.scope.get("state", {}).get("request_id") if request else None
            trail(session, Trail(request_id=request_id, idempotency_key=key))
            try:
                if key is not None:
                    digest = request_digest(
                        execution.query or "", execution.operation_name, execution.variables or {}
                    )
                    stored = await claim(session, context.caller, check_key(key), digest, utcnow())
                    if stored is not None:
                        await session.rollback()
                        execution.result = _replayed(stored)
                        context.mark_replayed()
                        yield
                        return
            except HubError as error:
                await session.rollback()
                refusal = GraphQLError(error.message, original_error=error)  # see schema.errors
                execution.result = ExecutionResult(data=None, errors=[refusal])
                yield
                return
            try:
                yield
            except BaseException:
                await session.rollback()
                raise
            result = execution.result
            if result is None or _rolls_back(result):
                await session.rollback()
                if result is not None:
                    result.data = None
                return
            if key is not None:
                await remember(session, context.caller, key, _stored(result))
            await session.commit()

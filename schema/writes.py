"""How a mutation request writes: one transaction for the whole request, one savepoint per
mutation, and the idempotency key stored with the writes.

A mutation operation runs in one database transaction. Each mutation field runs in a
savepoint: a mutation refused with ``userErrors`` rolls back to it, so nothing it began
stays. The payloads' nested fields read through the same session (loaders included, one at
a time), so they show what the mutation wrote. At the end the response is stored under the
request's ``Idempotency-Key``, if it has one, and everything commits together; an internal
error rolls everything back, the key included, so a retry runs afresh.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from graphql import GraphQLError
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from hub.auth.principal import Principal
from hub.errors import Forbidden, HubError, Unauthenticated
from hub.idempotency import check_key, claim, remember, request_digest
from hub.types import utcnow
from schema.context import Info
from schema.errors import to_graphql_error

T = TypeVar("T")


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
    info: Info, work: Callable[[AsyncSession, Principal], Awaitable[T]]
) -> T | HubError:
    """Run one mutation's ``work`` in a savepoint of the request's transaction: its result, or
    the ``HubError`` that refused it (the savepoint rolled back). Refusals of the credentials
    are raised: they fail the field, not its input."""
    shared = info.context.writes
    if shared is None:
        raise RuntimeError("a mutation ran outside MutationTransaction")
    async with shared() as session:
        savepoint = await session.begin_nested()
        try:
            result = await work(session, info.context.principal)
            await session.flush()
        except HubError as error:
            await savepoint.rollback()
            if refuses_the_request(error):
                raise
            return error
        except BaseException:
            await savepoint.rollback()
            raise
        await savepoint.commit()
        return result


def _is_internal(result: Any) -> bool:
    return any(
        error.original_error is not None
        and not isinstance(error.original_error, (HubError, GraphQLError))
        for error in result.errors or ()
    )


def _stored(result: Any) -> dict[str, Any]:
    errors = [to_graphql_error(error).formatted for error in result.errors or ()]
    return {"data": result.data, "errors": errors} if errors else {"data": result.data}


def _replayed(stored: dict[str, Any]) -> ExecutionResult:
    errors = [
        GraphQLError(item["message"], path=item.get("path"), extensions=item.get("extensions"))
        for item in stored.get("errors", ())
    ]
    return ExecutionResult(data=stored.get("data"), errors=errors or None)


def _refusal(error: HubError) -> ExecutionResult:
    extensions = {"code": error.code, "field": list(error.field)}
    return ExecutionResult(data=None, errors=[GraphQLError(error.message, extensions=extensions)])


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
                execution.result = _refusal(error)
                yield
                return
            try:
                yield
            except BaseException:
                await session.rollback()
                raise
            result = execution.result
            if result is None or _is_internal(result):
                await session.rollback()
                return
            if key is not None:
                await remember(session, context.caller, key, _stored(result))
            await session.commit()

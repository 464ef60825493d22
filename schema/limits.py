"""Operation limits applied before anything runs: root fields, cost, and the caller's budget.

Depth, aliases and tokens use Strawberry's own limiters (``build_schema``); each refusal
names the limit and the value that broke it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import strawberry
from graphql import (
    ExecutionResult,
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    StringValueNode,
    ValidationRule,
    Visitor,
    visit,
)
from sqlalchemy.ext.asyncio import AsyncConnection
from strawberry.extensions import ParserCache, SchemaExtension
from strawberry.types.graphql import OperationType

from hub.budget import CostBudget
from hub.types import utcnow
from schema.context import Info
from schema.cost import MAX_LIST, Cost, CostError, operation_cost


@dataclass(frozen=True, slots=True)
class LimitSettings:
    """The limits of one deployment (from ``hub.settings``)."""

    max_cost: int
    budget: CostBudget | None = None
    max_root_fields: int = 10
    client_budget: CostBudget | None = None

    def budget_of(self, principal: Any) -> CostBudget | None:
        """The anonymous callers' budget, or the clients' for a request with a token."""
        if principal is not None and not principal.anonymous:
            return self.client_budget
        return self.budget


@dataclass(frozen=True, slots=True)
class RateLimitState:
    cost: int
    limit: int
    remaining: int
    reset_at: datetime


def root_field_rule(limit: int) -> type[ValidationRule]:
    """A validation rule refusing operations with more than ``limit`` root fields."""

    class RootFieldLimit(ValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            count = self.count(node.selection_set, set())
            if count > limit:
                self.report_error(
                    GraphQLError(
                        f"the operation has {count} root fields; the limit is {limit}",
                        node,
                        extensions={"code": "ROOT_FIELD_LIMIT", "value": count, "limit": limit},
                    )
                )

        def count(self, selection_set: SelectionSetNode, seen: set[str]) -> int:
            total = 0
            for selection in selection_set.selections:
                if isinstance(selection, FieldNode):
                    total += 1
                elif isinstance(selection, InlineFragmentNode):
                    total += self.count(selection.selection_set, seen)
                elif isinstance(selection, FragmentSpreadNode):
                    name = selection.name.value
                    fragment = self.context.get_fragment(name)
                    if fragment is not None and name not in seen:
                        total += self.count(fragment.selection_set, seen | {name})
            return total

    return RootFieldLimit


PER_CALLER_FIELDS = frozenset({"rateLimit", "_service"})
"""Fields whose answer is the caller's own: a response with them is never shared by caches."""


def keep_private(context: Any) -> None:
    """Mark the request so the HTTP cache layer sends ``Cache-Control: no-store``."""
    request = getattr(context, "request", None)
    if request is not None:
        request.scope.setdefault("state", {})["hub_private"] = True


def _refusal(message: str, extensions: dict[str, Any]) -> ExecutionResult:
    return ExecutionResult(data=None, errors=[GraphQLError(message, extensions=extensions)])


async def charge(
    settings: LimitSettings,
    principal: Any,
    caller: str,
    costed: Cost,
    connection: AsyncConnection | None = None,
) -> ExecutionResult | RateLimitState | None:
    """Refuse an operation over the limits, else charge the caller's budget (through
    ``connection``, when given): the refusal, where the budget stands once charged, or None
    for a deployment without a budget."""
    cost = costed.total
    if costed.oversized:
        return _refusal(costed.oversized[0], {"code": "TOO_MANY_IDS", "limit": MAX_LIST})
    if cost > settings.max_cost:
        return _refusal(
            f"the operation costs {cost}; the limit is {settings.max_cost}",
            {"code": "COST_LIMIT_EXCEEDED", "cost": cost, "limit": settings.max_cost},
        )
    budget = settings.budget_of(principal)
    if budget is None:
        return None
    state = await budget.spend(caller, cost, utcnow(), connection)
    if not state.granted:
        return _refusal(
            f"this operation costs {cost}, more than the {state.remaining} left of "
            f"the hourly budget of {state.limit}; it resets at "
            f"{state.reset_at.isoformat()}",
            {
                "code": "BUDGET_EXCEEDED",
                "cost": cost,
                "limit": state.limit,
                "remaining": state.remaining,
                "resetAt": state.reset_at.isoformat(),
            },
        )
    return RateLimitState(cost, state.limit, state.remaining, state.reset_at)


def cost_limiter(settings: LimitSettings) -> Callable[[], SchemaExtension]:
    """A factory of the extension that costs each operation and charges the caller."""

    class CostLimit(SchemaExtension):
        async def on_execute(self) -> AsyncIterator[None]:
            context = self.execution_context
            if context.result:  # refused already: it costs nothing
                yield
                return
            try:
                costed = operation_cost(
                    context.schema._schema,
                    context.graphql_document,  # type: ignore[arg-type]
                    context.operation_name,
                    context.variables,
                )
            except CostError:
                yield
                return
            if costed.fields & PER_CALLER_FIELDS:
                keep_private(context.context)
            outcome = await charge(
                settings,
                getattr(context.context, "principal", None),
                getattr(context.context, "caller", "unknown"),
                costed,
            )
            if isinstance(outcome, ExecutionResult):
                context.result = outcome
            elif outcome is not None:
                context.context.rate_limit = outcome
            yield

    return CostLimit


def unstorable(text: str) -> bool:
    """Whether text holds what no database stores: a NUL, or half of a UTF-16 surrogate pair
    (JSON can carry both, as \\u0000 and a lone \\ud800)."""
    return any(c == "\x00" or "\ud800" <= c <= "\udfff" for c in text)


def unstorable_at(value: Any, path: str) -> str | None:
    if isinstance(value, str):
        return path if unstorable(value) else None
    items = (
        value.items()
        if isinstance(value, dict)
        else enumerate(value)
        if isinstance(value, list)
        else ()
    )
    for key, item in items:
        found = unstorable_at(item, f"{path}.{key}")
        if found is not None:
            return found
    return None


class _FindsUnstorableText(Visitor):
    found = False

    def enter_string_value(self, node: StringValueNode, *_: Any) -> None:
        self.found = self.found or unstorable(node.value)


class RefuseUnstorableText(SchemaExtension):
    """Text no database can store is the caller's mistake, refused before anything runs."""

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        where = unstorable_at(context.variables or {}, "variables")
        query = context.query
        # a literal can only hold such text through a \u escape, or raw in the request's JSON:
        # most documents need no walk
        suspect = query is None or "\\u" in query or unstorable(query)
        if where is None and suspect and context.graphql_document is not None:
            finder = _FindsUnstorableText()
            visit(context.graphql_document, finder)
            where = "the document" if finder.found else None
        if where is not None:
            context.result = _refusal(
                f"text in {where} holds a NUL character or a lone UTF-16 surrogate, which "
                "cannot be stored",
                {"code": "INVALID_TEXT", "field": where.split(".")[1:]},
            )
        yield


class ParseOnce(ParserCache):
    """Strawberry's cache of parsed documents, but a document that does not parse is left to
    Strawberry's own parse, which reports it as the caller's error: raised from here, it
    would escape a WebSocket operation's error handling (a traceback, and a bare complete)."""

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        with suppress(Exception):  # parsed again just after, and the error then reported
            context.graphql_document = self.cached_parse_document(
                context.query, **context.parse_options
            )
        yield


class TransportRules(SchemaExtension):
    """Subscriptions need the WebSocket; mutations need HTTP, where a request is one
    transaction and may carry an ``Idempotency-Key`` (a WebSocket reads only)."""

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        request = getattr(context.context, "request", None)
        over_socket = request is not None and request.scope["type"] == "websocket"
        if request is None or context.result:
            pass
        elif context.operation_type is OperationType.SUBSCRIPTION and not over_socket:
            context.result = _refusal(
                "subscriptions are served over a WebSocket at /graphql, with the "
                "graphql-transport-ws protocol",
                {"code": "WEBSOCKET_REQUIRED"},
            )
        elif context.operation_type is OperationType.MUTATION and over_socket:
            context.result = _refusal(
                "mutations are sent as HTTP POST requests to /graphql; the WebSocket serves "
                "subscriptions and queries",
                {"code": "HTTP_REQUIRED"},
            )
        yield


class RefusedSubscriptionsEnd(SchemaExtension):
    """Strawberry honours a refusal given as a result (by the extensions above) for queries
    and mutations only: a refused subscription is ended here with that refusal (last in the
    list, so that every refusal is known)."""

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        result = context.result
        if context.operation_type is OperationType.SUBSCRIPTION and result and result.errors:
            raise result.errors[0]
        yield


class _FindsSdl(Visitor):
    found = False

    def enter_field(self, node: FieldNode, *_: Any) -> None:
        if node.name.value == "_service":
            self.found = True


class GatewayOnlySdl(SchemaExtension):
    """With introspection off, ``_service { sdl }`` answers the federation gateway only."""

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        finder = _FindsSdl()
        if context.graphql_document is not None:
            visit(context.graphql_document, finder)  # fragments and aliases included
        if finder.found and not getattr(context.context, "gateway", False):
            context.result = _refusal(
                "introspection is off: the schema is given to the federation gateway only",
                {"code": "INTROSPECTION_DISABLED"},
            )
        yield


@strawberry.type(description="What the current operation costs and what is left of the budget.")
class RateLimit:
    cost: int = strawberry.field(description="The cost of this operation (see the README).")
    limit: int = strawberry.field(description="The caller's budget of cost per hour.")
    remaining: int = strawberry.field(description="What is left of it after this operation.")
    reset_at: datetime = strawberry.field(description="When the budget starts afresh.")


@strawberry.type
class RateLimitQueries:
    @strawberry.field(description="The cost of this operation and the caller's hourly budget.")
    def rate_limit(self, info: Info) -> RateLimit | None:
        state = info.context.rate_limit
        if state is None:
            return None
        return RateLimit(
            cost=state.cost, limit=state.limit, remaining=state.remaining, reset_at=state.reset_at
        )

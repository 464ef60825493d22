"""The one place where errors become GraphQL errors.

A ``HubError`` is the caller's to fix: its message, ``code`` and ``field`` go out in the
error's ``extensions``. GraphQL's own errors (syntax, validation, limits) pass unchanged.
Anything else is a bug: the caller gets a reference id, and the log gets the traceback
under the same id.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import structlog
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from hub.errors import HubError

log = structlog.get_logger("hub.graphql")


SUGGESTION = re.compile(r" ?Did you mean [^?]*\?")

LIMIT_CODES = (
    (re.compile(r"exceeds maximum operation depth"), "DEPTH_LIMIT"),
    (re.compile(r"aliases found\. Allowed"), "ALIAS_LIMIT"),
    (re.compile(r"more than \d+ tokens"), "TOKEN_LIMIT"),
    (re.compile(r"cannot represent a GlobalID"), "INVALID_ID"),
)
"""Strawberry's own limiters and scalars say what was wrong; these give their errors a code."""


def to_graphql_error(error: GraphQLError, *, suggestions: bool = False) -> GraphQLError:
    """The error the caller sees for ``error``; "Did you mean …?" hints only if asked for."""
    original = error.original_error
    if original is None or isinstance(original, GraphQLError):
        message = error.message if suggestions else SUGGESTION.sub("", error.message)
        code = next((c for pattern, c in LIMIT_CODES if pattern.search(message)), None)
        if message == error.message and (code is None or error.extensions):
            return error
        return GraphQLError(
            message,
            nodes=error.nodes,
            path=error.path,
            extensions=error.extensions or ({"code": code} if code else None),
        )
    if isinstance(original, HubError):
        return GraphQLError(
            original.message,
            nodes=error.nodes,
            path=error.path,
            original_error=original,
            extensions={"code": original.code, "field": list(original.field)},
        )
    error_id = uuid.uuid4().hex
    log.error(
        "graphql.unexpected_error",
        error_id=error_id,
        path=error.path,
        exc_info=(type(original), original, original.__traceback__),
    )
    return GraphQLError(
        f"Internal error; quote reference {error_id} when reporting it.",
        nodes=error.nodes,
        path=error.path,
        extensions={"code": "INTERNAL_ERROR", "errorId": error_id},
    )


def error_policy(*, suggestions: bool) -> Callable[[], SchemaExtension]:
    """A factory of the extension applying ``to_graphql_error`` to every error of a result."""

    def apply(result: Any) -> None:
        if result is not None and getattr(result, "errors", None):
            result.errors = [
                to_graphql_error(error, suggestions=suggestions) for error in result.errors
            ]

    class ErrorPolicy(SchemaExtension):
        def on_operation(self) -> Iterator[None]:
            yield
            apply(self.execution_context.result)

        def on_stream_result(self, result: Any) -> Iterator[None]:
            apply(result)  # each event of a subscription, before it is sent
            yield

    return ErrorPolicy

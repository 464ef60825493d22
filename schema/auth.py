"""Refusing an operation whose token was refused, before anything else runs.

A request with a bad token is not served as anonymous: the caller meant to be someone, and
answering with less than it expects would hide the fault.
"""

from __future__ import annotations

from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension


class RefuseUnauthenticated(SchemaExtension):
    """The whole operation fails with ``UNAUTHENTICATED`` when the token was refused."""

    def on_operation(self) -> Iterator[None]:
        refused = getattr(self.execution_context.context, "refused", None)
        if refused is not None:
            raise GraphQLError(refused.message, extensions={"code": refused.code})
        yield

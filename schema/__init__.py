"""The Strawberry GraphQL schema: types, queries and loaders over ``hub`` services."""

from __future__ import annotations

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaxAliasesLimiter, QueryDepthLimiter
from strawberry.types import ExecutionContext

from schema.errors import ErrorPolicy
from schema.organisations import MemberQueries
from schema.pledges import PledgeQueries

__all__ = ["build_schema"]


@strawberry.type(description="The P2C pledge graph: members, their pledges and endorsements.")
class Query(MemberQueries, PledgeQueries):
    pass


class HubSchema(strawberry.Schema):
    """Strawberry's schema minus its own error logging: ``ErrorPolicy`` logs what is a bug."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        return None


def build_schema() -> HubSchema:
    """The hub's schema with its error policy and basic operation limits."""
    return HubSchema(
        query=Query,
        extensions=[
            ErrorPolicy,
            lambda: QueryDepthLimiter(max_depth=10),
            lambda: MaxAliasesLimiter(max_alias_count=30),
        ],
    )

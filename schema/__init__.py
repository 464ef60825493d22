"""The Strawberry GraphQL schema: types, queries and loaders over ``hub`` services."""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    MaxAliasesLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.types import ExecutionContext

from schema.countries import CountryQueries
from schema.debug import QueryStats
from schema.errors import ErrorPolicy
from schema.nodes import NodeQueries
from schema.organisations import OrganisationQueries
from schema.pledges import PledgeQueries
from schema.stats import StatsQueries

__all__ = ["build_schema"]


@strawberry.type(description="The P2C pledge graph as the public sees it.")
class Query(NodeQueries, PledgeQueries, OrganisationQueries, CountryQueries, StatsQueries):
    pass


class HubSchema(strawberry.Schema):
    """Strawberry's schema minus its own error logging: ``ErrorPolicy`` logs what is a bug."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        return None


def build_schema(*, debug: bool = False) -> HubSchema:
    """The hub's schema with its error policy, operation limits and document caches; with
    ``debug``, responses also carry the SQL statement count and database time."""
    extensions: list[Any] = [
        ErrorPolicy,
        lambda: QueryDepthLimiter(max_depth=12),
        lambda: MaxAliasesLimiter(max_alias_count=30),
        lambda: ParserCache(maxsize=256),
        lambda: ValidationCache(maxsize=256),
    ]
    if debug:
        extensions.append(QueryStats)
    return HubSchema(query=Query, extensions=extensions)

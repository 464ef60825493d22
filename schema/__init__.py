"""The Strawberry GraphQL schema: types, queries and loaders over ``hub`` services."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import strawberry
from graphql import ASTValidationRule, GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.extensions.tracing import ApolloFederationTracingExtension
from strawberry.federation.schema import FederationAny
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext, Info

from hub.budget import CostBudget
from hub.errors import InvalidInput
from schema.audit import AuditQueries
from schema.auth import RefuseUnauthenticated
from schema.countries import Country, CountryQueries
from schema.debug import QueryStats
from schema.errors import error_policy
from schema.imports import ImportQueries
from schema.limits import (
    GatewayOnlySdl,
    LimitSettings,
    ParseOnce,
    RateLimitQueries,
    RefusedSubscriptionsEnd,
    RefuseUnstorableText,
    TransportRules,
    cost_limiter,
    root_field_rule,
)
from schema.mutations import Mutation
from schema.nodes import NodeQueries
from schema.organisations import Organisation, OrganisationQueries
from schema.persisted import QueryStore, persisted_queries
from schema.pledges import Pledge, PledgeQueries
from schema.stats import StatsQueries
from schema.subscriptions import Subscription
from schema.viewer import ViewerQueries
from schema.writes import MutationTransaction

__all__ = ["SchemaOptions", "build_schema", "validation_rules"]


@strawberry.type(
    description="The P2C pledge graph, as the caller may see it: the public graph without a "
    "token, and with a partner's token its own member's drafts and invitations too."
)
class Query(
    NodeQueries,
    PledgeQueries,
    OrganisationQueries,
    CountryQueries,
    StatsQueries,
    RateLimitQueries,
    ViewerQueries,
    AuditQueries,
    ImportQueries,
):
    pass


class HubSchema(strawberry.federation.Schema):
    """Strawberry's federation schema with the hub's checks of gateway input; its own error
    logging is off, since the error policy logs what is a bug."""

    def entities_resolver(
        self, info: Info, representations: list[FederationAny]
    ) -> list[FederationAny]:
        """Refuse malformed representations as the caller's mistake, not as a bug."""
        for index, representation in enumerate(representations):
            if (
                not isinstance(representation, dict)
                or representation.get("__typename") not in ENTITY_TYPES
                or not isinstance(representation.get("id"), str)
                or set(representation) != {"__typename", "id"}
            ):
                raise InvalidInput(
                    f"representation {index} must be {{__typename, id}} of "
                    f"{', '.join(ENTITY_TYPES)}",
                    code="INVALID_REPRESENTATION",
                    field=("representations", str(index)),
                )
        return super().entities_resolver(info, representations)

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        return None


ENTITY_TYPES = ("Pledge", "Organisation", "Country")


@dataclass(frozen=True, slots=True)
class SchemaOptions:
    """How a deployment's schema behaves; the defaults are the README's."""

    debug: bool = False
    max_depth: int = 12
    max_aliases: int = 30
    max_tokens: int = 2_000
    max_root_fields: int = 10
    max_cost: int = 50_000
    budget: CostBudget | None = None
    client_budget: CostBudget | None = None
    field_suggestions: bool = False
    introspection: bool = True
    tracing: bool = False
    query_store: QueryStore = field(default_factory=QueryStore)

    def limits(self) -> LimitSettings:
        """The operation limits these options set."""
        return LimitSettings(self.max_cost, self.budget, self.max_root_fields, self.client_budget)


def validation_rules(options: SchemaOptions) -> list[type[ASTValidationRule]]:
    """The operation limits checked with validation: depth, aliases and root fields. Made
    once, so that Strawberry's ValidationCache, whose key holds the rules, can hit."""
    return [
        *QueryDepthLimiter(max_depth=options.max_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=options.max_aliases).validation_rules,
        root_field_rule(options.max_root_fields),
    ]


def build_schema(options: SchemaOptions | None = None) -> HubSchema:
    """The hub's schema with its error policy, operation limits and document caches; with
    ``debug``, responses also carry the SQL statement count and database time."""
    options = options or SchemaOptions()
    limits = options.limits()
    rules = validation_rules(options)
    extensions: list[Any] = [
        error_policy(suggestions=options.field_suggestions),
        RefuseUnauthenticated,
        persisted_queries(options.query_store),
        lambda: MaxTokensLimiter(max_token_count=options.max_tokens),
        lambda: AddValidationRules(rules),
        lambda: ParseOnce(maxsize=256),
        lambda: ValidationCache(maxsize=256),
    ]
    if not options.introspection:
        extensions += [DisableIntrospection, GatewayOnlySdl]
    extensions += [
        TransportRules,
        RefuseUnstorableText,
        cost_limiter(limits),
        MutationTransaction,
        RefusedSubscriptionsEnd,
    ]
    if options.tracing:
        extensions.append(ApolloFederationTracingExtension)
    if options.debug:
        extensions.append(QueryStats)
    config = StrawberryConfig(disable_field_suggestions=not options.field_suggestions)
    return HubSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[Pledge, Organisation, Country],
        extensions=extensions,
        config=config,
        federation_version="2.11",
    )

"""The compiled fast path: an anonymous read of the public pledge graph answered by one SQL
statement that builds the whole response (``hub.public_json``), instead of resolvers and
loaders field by field.

A document is parsed, validated (with the operation limits: tokens, depth, aliases, root
fields) and planned once, and its plan kept per document text. A request then costs the
coercion of its variables, its cost charged to the caller's budget as on the ordinary path,
and one statement. Whatever a plan does not cover (a field or argument it does not render, a
token, a directive, a mutation, an error of any kind) goes to the ordinary resolvers, which
remain the reference; ``tests/schema/test_fastpath.py`` runs every public query both ways.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from graphql import (
    ASTValidationRule,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    get_named_type,
    parse,
    specified_rules,
    validate,
)
from graphql.execution.values import get_argument_values, get_variable_values
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine
from strawberry.types.arguments import convert_arguments

from hub import public_json
from hub.db import autocommit
from hub.errors import HubError
from hub.pagination import Slice
from hub.pledges.queries import PledgeFilter, PledgeOrder
from hub.public_json import Listing, Selected, Stats, Unsupported
from hub.stats import StatsGroupBy as HubStatsGroupBy
from schema import HubSchema, SchemaOptions, validation_rules
from schema.cost import Cost, operation_cost, size_variables
from schema.enums import SortDirection
from schema.limits import (
    LimitSettings,
    RateLimitState,
    charge,
    unstorable,
    unstorable_at,
)
from schema.pagination import fingerprint, node_key, slice_of
from schema.pledges import pledge_filter

PLANS = 512
"""Documents whose plan (or whose want of one) is kept, most recently used first."""


class _Recent:
    """What was made for the last ``PLANS`` keys, the least recently used forgotten first."""

    def __init__(self) -> None:
        self._kept: OrderedDict[Hashable, Any] = OrderedDict()

    def get(self, key: Hashable, make: Callable[..., Any], *arguments: Any) -> Any:
        """The value kept for ``key``, made by ``make(*arguments)`` if there is none."""
        if key in self._kept:
            self._kept.move_to_end(key)
            return self._kept[key]
        made = self._kept[key] = make(*arguments)
        if len(self._kept) > PLANS:
            self._kept.popitem(last=False)
        return made


@dataclass(frozen=True, slots=True)
class _Root:
    """A root field of a planned operation, and the SQL of its JSON."""

    key: str
    node: FieldNode
    json: str
    listing: Listing | None = None
    wanted: str | None = None
    stats: Stats | None = None


@dataclass(frozen=True, slots=True)
class Plan:
    """A validated operation the fast path answers, and the SQL of each of its root fields."""

    document: DocumentNode
    operation: OperationDefinitionNode
    roots: tuple[_Root, ...]
    sizes: tuple[str, ...]
    costs: _Recent = field(default_factory=_Recent)

    def cost(
        self, operation_name: str | None, variables: Mapping[str, Any], schema: GraphQLSchema
    ) -> Cost:
        """The operation's cost, computed once for each value of its size variables."""
        key = json.dumps([variables.get(name) for name in self.sizes])
        cost: Cost = self.costs.get(
            key, operation_cost, schema, self.document, operation_name, variables
        )
        return cost


class _Planner:
    """From a validated operation to the fields ``hub.public_json`` renders."""

    def __init__(self, schema: GraphQLSchema, document: DocumentNode) -> None:
        self.schema = schema
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }

    def fields(self, selection_set: SelectionSetNode | None, as_type: str) -> list[FieldNode]:
        """The field nodes of a selection set on an object of type ``as_type``, fragments
        that apply to it flattened, in order; a response key twice (other than the same
        plain field repeated) is not planned."""
        if selection_set is None:
            raise Unsupported("a composite field without a selection")
        target = self.schema.get_type(as_type)
        applies = {as_type, *(i.name for i in getattr(target, "interfaces", ()))}
        found: dict[str, FieldNode] = {}
        for selection in selection_set.selections:
            if selection.directives:
                raise Unsupported("directives")
            if isinstance(selection, FieldNode):
                _merge(found, selection)
                continue
            if isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner = selection.selection_set
            else:
                assert isinstance(selection, FragmentSpreadNode)
                fragment = self.fragments[selection.name.value]
                condition, inner = fragment.type_condition, fragment.selection_set
            if condition is None or condition.name.value in applies:
                for node in self.fields(inner, as_type):
                    _merge(found, node)
        return list(found.values())

    def selected(
        self, type_name: str, selection_set: SelectionSetNode | None
    ) -> tuple[Selected, ...]:
        """What a selection on an object of ``type_name`` asks for, without arguments."""
        parent = self.schema.get_type(type_name)
        assert isinstance(parent, GraphQLObjectType)
        chosen = []
        for node in self.fields(selection_set, type_name):
            if node.arguments:
                raise Unsupported(f"arguments of {type_name}.{node.name.value}")
            key, name = (node.alias or node.name).value, node.name.value
            if name == "__typename":
                chosen.append(Selected(key, name))
                continue
            definition = parent.fields.get(name)
            if definition is None:
                raise Unsupported(f"{type_name}.{name}")
            inner = get_named_type(definition.type)
            children: tuple[Selected, ...] = ()
            if node.selection_set is not None:
                children = self.selected(inner.name, node.selection_set)
            chosen.append(Selected(key, name, children))
        return tuple(chosen)


def _merge(found: dict[str, FieldNode], node: FieldNode) -> None:
    """Add ``node`` under its response key; the same plain field twice is one (GraphQL merges
    it), anything else twice under one key is not planned."""
    key = (node.alias or node.name).value
    seen = found.setdefault(key, node)
    plain = not node.arguments and node.selection_set is None
    if seen is not node and not (
        plain
        and seen.name.value == node.name.value
        and not seen.arguments
        and seen.selection_set is None
    ):
        raise Unsupported(f"{key} selected twice")


ROOT_ARGUMENTS = {
    "pledges": {"filter", "orderBy", "first", "after"},
    "node": {"id"},
    "pledgeStats": {"groupBy", "filter"},
}
"""What each root field the fast path answers may be given (``last``/``before`` are not)."""


class FastPath:
    """Plans per document, and answers of anonymous requests by one statement each."""

    @classmethod
    def of(cls, schema: HubSchema, options: SchemaOptions, engine: AsyncEngine) -> FastPath:
        """The fast path of a schema built with ``options``, under the same limits."""
        return cls(schema, engine, options.limits(), validation_rules(options), options.max_tokens)

    def __init__(
        self,
        schema: HubSchema,
        engine: AsyncEngine,
        limits: LimitSettings,
        rules: list[type[ASTValidationRule]],
        max_tokens: int,
    ) -> None:
        self.strawberry = schema
        self.schema: GraphQLSchema = schema._schema
        self.engine = engine
        self.limits = limits
        self.max_tokens = max_tokens
        self.rules = [*specified_rules, *rules]
        self._plans = _Recent()
        self._ctes = _Recent()
        self.answered = 0
        """Requests the fast path answered (the rest went to the resolvers)."""

    def plan(self, query: str, operation_name: str | None) -> Plan | None:
        """The document's plan, made once; None when the fast path does not answer it."""
        plan: Plan | None = self._plans.get(
            (query, operation_name), self._make_plan, query, operation_name
        )
        return plan

    def _make_plan(self, query: str, operation_name: str | None) -> Plan | None:
        if "\\u" in query or unstorable(query):
            return None  # RefuseUnstorableText looks into these
        try:
            document = parse(query, max_tokens=self.max_tokens)
        except GraphQLError:
            return None
        if validate(self.schema, document, self.rules):
            return None
        operations = [
            d
            for d in document.definitions
            if isinstance(d, OperationDefinitionNode)
            and (operation_name is None or (d.name is not None and d.name.value == operation_name))
        ]
        if len(operations) != 1 or operations[0].operation is not OperationType.QUERY:
            return None
        operation = operations[0]
        planner = _Planner(self.schema, document)
        try:
            query_type = self.schema.query_type
            assert query_type is not None
            roots = tuple(
                self._root(planner, index, node)
                for index, node in enumerate(planner.fields(operation.selection_set, "Query"))
            )
        except Unsupported:
            return None
        return Plan(document, operation, roots, size_variables(document))

    @staticmethod
    def _root(planner: _Planner, index: int, node: FieldNode) -> _Root:
        key, name = (node.alias or node.name).value, node.name.value
        given = {argument.name.value for argument in node.arguments or ()}
        if name == "__typename":
            return _Root(key, node, "'Query'")
        if name not in ROOT_ARGUMENTS or not given <= ROOT_ARGUMENTS[name]:
            raise Unsupported(f"Query.{name} with {sorted(given)}")
        if name == "pledges":
            listing = public_json.listing_json(
                index, planner.selected("PledgeConnection", node.selection_set)
            )
            return _Root(key, node, listing.json, listing=listing)
        if name == "pledgeStats":
            stats = public_json.stats_json(
                index, planner.selected("PledgeStats", node.selection_set)
            )
            return _Root(key, node, stats.json, stats=stats)
        wanted, json = public_json.pledge_by_id_json(
            index, planner.selected("Pledge", _only(planner, node, "Pledge"))
        )
        return _Root(key, node, json, wanted=wanted)

    async def answer(self, payload: Any, caller: str) -> bytes | None:
        """The response body for an anonymous request's JSON ``payload``, or None when the
        ordinary path is to answer it (and report whatever is wrong with it)."""
        if not isinstance(payload, dict) or set(payload) - {"query", "variables", "operationName"}:
            return None
        query, variables = payload.get("query"), payload.get("variables") or {}
        operation_name = payload.get("operationName")
        if (
            not isinstance(query, str)
            or not isinstance(variables, dict)
            or not isinstance(operation_name, str | None)
        ):
            return None
        plan = self.plan(query, operation_name)
        if plan is None or unstorable_at(variables, "variables") is not None:
            return None
        try:
            statement = self._statement(plan, variables)
        except (Unsupported, HubError, GraphQLError, ValueError, TypeError):
            return None
        costed = plan.cost(operation_name, variables, self.schema)  # a plan has one operation
        try:
            async with autocommit(self.engine) as connection:  # one checkout for both
                outcome = await charge(self.limits, None, caller, costed, connection)
                if outcome is not None and not isinstance(outcome, RateLimitState):
                    return None  # refused: the ordinary path says why, and charges nothing
                data = await public_json.run(connection, statement)
        except (SQLAlchemyError, OSError):
            return None  # the ordinary path meets it too, and reports it with an error id
        self.answered += 1
        return b'{"data":' + data.encode() + b"}"

    def _arguments(self, node: FieldNode, coerced: Any) -> dict[str, Any]:
        """A root field's arguments as its resolver would get them (Strawberry's inputs,
        enums and ids), by their Python names."""
        name = node.name.value
        field = self.strawberry.get_field_for_type(name, "Query")
        query_type = self.schema.query_type
        if field is None or query_type is None:  # __typename
            return {}
        return convert_arguments(
            get_argument_values(query_type.fields[name], node, coerced),
            field.arguments,
            scalar_registry=self.strawberry.schema_converter.scalar_registry,
            config=self.strawberry.config,
        )

    def _statement(self, plan: Plan, variables: Mapping[str, Any]) -> Any:
        coerced = get_variable_values(
            self.schema, plan.operation.variable_definitions or (), dict(variables)
        )
        if isinstance(coerced, list):
            raise Unsupported("variables that do not coerce")
        ctes: list[Any] = []
        roots: list[tuple[str, str]] = []
        for root in plan.roots:
            json = root.json
            arguments = self._arguments(root.node, coerced)
            if root.listing is not None:
                listing = root.listing
                criteria, order, kind, window = _listing_request(arguments)
                start = window.after + 1 if window.after is not None else 0
                assert window.first is not None
                ctes.append(
                    self._ctes.get(
                        (listing.matched, repr(criteria), order),
                        public_json.matched_cte,
                        listing,
                        criteria,
                        order,
                    )
                )
                ctes.append(public_json.bounds_cte(listing, kind, start, window.first))
            elif root.wanted is not None:
                ctes.append(public_json.wanted_cte(root.wanted, _pledge_key(arguments["id"])))
            elif root.stats is not None:
                group_by = HubStatsGroupBy(arguments["group_by"].value)
                criteria = pledge_filter(arguments.get("filter"), date.today())
                stats = root.stats
                ctes += self._ctes.get(
                    (stats.matching, repr(criteria), group_by),
                    public_json.stats_ctes,
                    stats,
                    criteria,
                    group_by,
                )
                if group_by is HubStatsGroupBy.MEMBER_TYPE:
                    json = root.stats.json_by_member_type
            roots.append((root.key, json))
        return public_json.statement(roots, ctes)


def _only(planner: _Planner, node: FieldNode, type_name: str) -> SelectionSetNode:
    """``node``'s selection as it applies to an object of ``type_name`` (fragments on other
    types dropped), as one selection set."""
    return SelectionSetNode(selections=tuple(planner.fields(node.selection_set, type_name)))


def _pledge_key(global_id: Any) -> int:
    key = node_key(global_id.node_id) if global_id.type_name == "Pledge" else None
    if key is None:
        raise Unsupported("an id of another type")
    return key


def _listing_request(arguments: Mapping[str, Any]) -> tuple[PledgeFilter, PledgeOrder, str, Slice]:
    """A listing's filter, order, cursor kind and slice, checked as the resolver checks them."""
    given, order_by = arguments.get("filter"), arguments.get("order_by")
    kind = f"pledges/{fingerprint(given, order_by)}"
    window = slice_of(kind, arguments.get("first"), arguments.get("after"), None, None)
    if window.first is None:
        raise Unsupported("a page from the end")
    order = PledgeOrder()
    if order_by is not None:
        order = PledgeOrder(order_by.field, order_by.direction is SortDirection.DESC)
    return pledge_filter(given, date.today()), order, kind, window

"""The cost of an operation, computed from its document before it runs.

cost(field) = weight(field) x (product of the list sizes above it), summed over every field;
a field's list size multiplies everything below it. Weights: 1 for a field returning an object,
0 for a scalar or enum, more for aggregates (``WEIGHTS``), ``MUTATION_WEIGHT`` for each
mutation and ``SUBSCRIPTION_WEIGHT`` for each subscription. List sizes: ``first`` or ``last``
of a connection (its ``edges`` are that list, not another), the number of ``ids`` of
``nodes``, of ``representations`` of ``_entities``, and ``UNBOUNDED_LIST`` for other lists (a
pledge's endorsements, say).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    ArgumentNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLList,
    GraphQLNamedType,
    GraphQLSchema,
    InlineFragmentNode,
    ListValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValueNode,
    VariableNode,
    Visitor,
    get_named_type,
    get_nullable_type,
    is_composite_type,
    visit,
)
from graphql.execution.values import VariableValues, get_argument_values, get_variable_values

WEIGHTS = {
    ("Query", "pledgeStats"): 100,
    ("Pledge", "flowTotals"): 2,
    ("Organisation", "totals"): 2,
    ("Country", "totals"): 2,
}
"""Fields that cost more than one object: aggregates over many rows."""

MUTATION_WEIGHT = 50
"""What each mutation costs before what it selects: a write is dearer than a read."""

SUBSCRIPTION_WEIGHT = 100
"""What each subscription costs when it starts, before what each of its events selects."""

UNBOUNDED_LIST = 10
"""The size counted for a list that takes no size argument."""

MAX_LIST = 100
"""The largest size any list argument may ask for (larger requests are refused anyway)."""


class CostError(Exception):
    """The document cannot be costed (an unknown operation); GraphQL itself will say why."""


def _size(parent: str, field_name: str, return_type: Any, arguments: Mapping[str, Any]) -> int:
    if parent.endswith("Connection") and field_name == "edges":
        return 1  # the connection's first/last counted these already
    if get_named_type(return_type).name.endswith("Connection"):
        requested = arguments.get("first") or arguments.get("last") or MAX_LIST
        return max(1, min(int(requested), MAX_LIST))  # out-of-range sizes are refused later
    if field_name == "nodes":
        return max(1, min(len(arguments.get("ids") or []), MAX_LIST))
    if field_name == "_entities":
        return max(1, min(len(arguments.get("representations") or []), MAX_LIST))
    if isinstance(get_nullable_type(return_type), GraphQLList):
        return UNBOUNDED_LIST
    return 1


class _Coster:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: VariableValues | None,
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.oversized: list[str] = []
        self.names: set[str] = set()

    def selections(self, parent: GraphQLNamedType, selection_set: SelectionSetNode | None) -> int:
        if selection_set is None:
            return 0
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self.field(parent, selection)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                target = self.schema.get_type(condition.name.value) if condition else parent
                total += self.selections(target or parent, selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments.get(selection.name.value)
                if fragment is not None:
                    target = self.schema.get_type(fragment.type_condition.name.value)
                    total += self.selections(target or parent, fragment.selection_set)
        return total

    def field(self, parent: GraphQLNamedType, node: FieldNode) -> int:
        self.names.add(node.name.value)
        fields = getattr(parent, "fields", {})
        definition = fields.get(node.name.value)
        if definition is None:
            return 0
        try:
            arguments = get_argument_values(definition, node, self.variables)
        except Exception:  # invalid arguments: validation reports them, cost stays finite
            arguments = {}
        named = get_named_type(definition.type)
        default = 1 if is_composite_type(named) else 0
        weight = WEIGHTS.get((parent.name, node.name.value), default)
        if parent is self.schema.mutation_type:
            weight = MUTATION_WEIGHT
        elif parent is self.schema.subscription_type:
            weight = SUBSCRIPTION_WEIGHT
        size = _size(parent.name, node.name.value, definition.type, arguments)
        asked = len(arguments.get("representations") or arguments.get("ids") or [])
        if node.name.value in ("_entities", "nodes") and asked > MAX_LIST:
            self.oversized.append(f"{node.name.value} has {asked} items; the limit is {MAX_LIST}")
        return weight + size * self.selections(named, node.selection_set)


@dataclass(frozen=True, slots=True)
class Cost:
    """An operation's cost, and the id lists that ask for more than ``MAX_LIST`` items."""

    total: int
    oversized: list[str]
    fields: set[str]


def operation_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
) -> Cost:
    """The cost of the operation ``operation_name`` (or the only one) of ``document``."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    chosen = [
        o
        for o in operations
        if operation_name is None or (o.name and o.name.value == operation_name)
    ]
    if len(chosen) != 1:
        raise CostError("no single operation to cost")
    root = schema.get_root_type(chosen[0].operation)
    if root is None:
        raise CostError("the schema has no root type for this operation")
    coerced = get_variable_values(
        schema, chosen[0].variable_definitions or (), dict(variables or {})
    )
    values = coerced if isinstance(coerced, VariableValues) else None
    coster = _Coster(schema, fragments, values)
    total = coster.selections(root, chosen[0].selection_set)
    return Cost(total, coster.oversized, coster.names)


SIZE_ARGUMENTS = frozenset({"first", "last", "ids", "representations"})
"""The arguments that set a list's size, and so the cost of what is under it."""


def size_variables(document: DocumentNode) -> tuple[str, ...]:
    """The variables a document's cost depends on: those its size arguments use. With valid
    variables, the same values of these give the same cost."""
    found: set[str] = set()

    class Finder(Visitor):
        def enter_argument(self, node: ArgumentNode, *_: Any) -> None:
            if node.name.value in SIZE_ARGUMENTS:
                found.update(v.name.value for v in _variables_in(node.value))

    visit(document, Finder())
    return tuple(sorted(found))


def _variables_in(value: ValueNode) -> list[VariableNode]:
    if isinstance(value, VariableNode):
        return [value]
    if isinstance(value, ListValueNode):
        return [v for item in value.values for v in _variables_in(item)]
    return []

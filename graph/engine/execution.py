"""Strawberry's execution context with a fast path for the fields a job page is made of.

A page of 20 jobs selecting a dozen fields resolves some 250 plain attributes of scalar or enum
type. graphql-core builds a resolve-info object, looks at arguments and walks the non-null
wrapper for every one of them; here such a field is read and coerced directly, and anything
unusual (a null in a non-null field, a value the scalar refuses, a resolver, arguments,
middleware) goes through graphql-core's general path, which raises its usual located errors.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from operator import attrgetter
from typing import Any
from weakref import WeakKeyDictionary

from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInt,
    GraphQLLeafType,
    GraphQLNonNull,
    GraphQLObjectType,
    is_leaf_type,
    specified_scalar_types,
)
from graphql.pyutils import Undefined
from strawberry.resolvers import is_default_resolver
from strawberry.schema.name_converter import NameConverter
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types.field import StrawberryField

from graph.context import RequestContext

# How a plain leaf's value is checked on the fast path: passed through when it already has
# the output's exact Python type (String, ID, Boolean; Int within 32 bits), looked up for an
# enum member; anything else (and any value that fails its check) goes through the leaf
# type's own coercion.
_GENERIC, _EXACT, _INT, _ENUM = range(4)
_EXACT_TYPES: dict[str, type] = {"String": str, "ID": str, "Boolean": bool}
_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1


@dataclass(frozen=True, slots=True)
class _Leaf:
    """A plain leaf field: read straight off the source, coerced as cheaply as its type allows."""

    read: Callable[[Any], Any]
    leaf_type: GraphQLLeafType
    non_null: bool
    kind: int
    exact: type | None = None
    names: Mapping[Any, str] | None = None

    def coerce(self, value: Any) -> Any:
        """The output value; None or Undefined when it needs the general path."""
        kind = self.kind
        if kind == _EXACT and type(value) is self.exact:
            return value
        if kind == _INT and type(value) is int and _INT_MIN <= value <= _INT_MAX:
            return value
        if kind == _ENUM and self.names is not None:
            name = self.names.get(value)
            if name is not None:
                return name
        if isinstance(value, Exception):
            return None
        return self.leaf_type.coerce_output_value(value)


_PLAIN_LEAVES: WeakKeyDictionary[GraphQLObjectType, dict[str, _Leaf | None]] = WeakKeyDictionary()


def _reader(field: GraphQLField) -> Callable[[Any], Any]:
    """Strawberry's default resolver calls `getattr(source, python_name)` through two frames;
    the attribute is read directly when that is all it would do."""
    definition = field.extensions.get("strawberry-definition")
    if (
        isinstance(definition, StrawberryField)
        and definition.is_basic_field
        and definition.default_resolver is getattr
    ):
        return attrgetter(definition.python_name)
    resolve = field.resolve
    assert resolve is not None
    return lambda source: resolve(source, None)


def _enum_names(kind: GraphQLLeafType) -> Mapping[Any, str] | None:
    """Each member of a Strawberry enum by its GraphQL name (the name Strawberry's coercion
    finds by comparing values)."""
    wrapped = getattr(kind, "wrapped_cls", None)
    if not isinstance(kind, GraphQLEnumType) or not (
        isinstance(wrapped, type) and issubclass(wrapped, Enum)
    ):
        return None
    by_value = {value.value: name for name, value in kind.values.items()}
    return {member: by_value[member.value] for member in wrapped if member.value in by_value}


def _plain_leaf(parent_type: GraphQLObjectType, name: str) -> _Leaf | None:
    fields = _PLAIN_LEAVES.get(parent_type)
    if fields is None:
        fields = _PLAIN_LEAVES[parent_type] = {}
    if name in fields:
        return fields[name]
    leaf: _Leaf | None = None
    field = parent_type.fields.get(name)
    # Strawberry's default resolver only reads the attribute (its public check for the mark).
    if field is not None and field.resolve is not None and is_default_resolver(field.resolve):
        kind = field.type
        non_null = isinstance(kind, GraphQLNonNull)
        if non_null:
            kind = kind.of_type
        if is_leaf_type(kind):
            read = _reader(field)
            standard = specified_scalar_types.get(kind.name) is kind
            exact = _EXACT_TYPES.get(kind.name) if standard else None
            names = _enum_names(kind)
            if exact is not None:
                leaf = _Leaf(read, kind, non_null, _EXACT, exact=exact)
            elif kind is GraphQLInt:
                leaf = _Leaf(read, kind, non_null, _INT)
            elif names is not None:
                leaf = _Leaf(read, kind, non_null, _ENUM, names=names)
            else:
                leaf = _Leaf(read, kind, non_null, _GENERIC)
    fields[name] = leaf
    return leaf


def _complete_plain(plan: list[tuple[str, _Leaf]], source: Any) -> dict[str, Any] | None:
    """An object of plain leaves, completed field by field (`_Leaf.coerce` inlined for the
    common cases: this loop runs for every field of every job of a page); None when a field
    needs graphql-core's general path (a null in a non-null field, a value its type refuses,
    an error), which then reports it, located."""
    results: dict[str, Any] = {}
    try:
        for response_name, leaf in plan:
            value = leaf.read(source)
            if value is None:
                if leaf.non_null:
                    return None
                results[response_name] = None
                continue
            kind = leaf.kind
            if kind == _EXACT and type(value) is leaf.exact:
                results[response_name] = value
                continue
            if kind == _ENUM:
                name = leaf.names.get(value)  # type: ignore[union-attr]
                if name is not None:
                    results[response_name] = name
                    continue
            if kind == _GENERIC and not isinstance(value, Exception):
                # A custom scalar (DateTime, JSON, Long) or Float: its own coercion.
                coerced = leaf.leaf_type.coerce_output_value(value)
            else:
                coerced = leaf.coerce(value)
            if coerced is None or coerced is Undefined:
                return None
            results[response_name] = coerced
    except Exception:  # the general path reports it, located
        return None
    return results


class MarkedExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's execution context, which marks the request's context as executed (the
    HTTP status of a response with errors depends on it)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # graphql-core builds this only once the operation and its variables passed.
        if isinstance(self.context_value, RequestContext):
            self.context_value.executed = True


class JobgraphExecutionContext(MarkedExecutionContext):
    """Plain scalar and enum fields without a resolve-info object each; an object whose
    selected fields are all such fields (a job in a page, `pageInfo`) in one tight loop, and a
    list of such objects (a page's jobs) item after item in one more."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # graphql-core memoizes each object type's grouped field set for the operation, so
        # the 20 jobs of a page share one; its plan is made once (the set is kept alive here).
        self._plans: dict[int, tuple[Any, list[tuple[str, _Leaf]] | None]] = {}

    def _without_middleware(self) -> bool:
        # Strawberry always passes a manager; it wraps resolvers only when an extension
        # implements `resolve`, and then every field takes the general path.
        manager = self.middleware_manager
        return manager is None or not manager.middlewares

    def _plan(
        self, parent_type: GraphQLObjectType, grouped_field_set: Any
    ) -> list[tuple[str, _Leaf]] | None:
        known = self._plans.get(id(grouped_field_set))
        if known is not None and known[0] is grouped_field_set:
            return known[1]
        plan: list[tuple[str, _Leaf]] | None = []
        for response_name, field_details_list in grouped_field_set.items():
            node = field_details_list[0].node
            leaf = None if node.arguments else _plain_leaf(parent_type, node.name.value)
            if leaf is None or plan is None:
                plan = None
                break
            plan.append((response_name, leaf))
        if not self._without_middleware():
            plan = None
        self._plans[id(grouped_field_set)] = (grouped_field_set, plan)
        return plan

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Any,
        grouped_field_set: Any,
        position_context: Any,
    ) -> Any:
        plan = self._plan(parent_type, grouped_field_set)
        if plan:
            results = _complete_plain(plan, source_value)
            if results is not None:
                return results
        return super().execute_fields(
            parent_type, source_value, path, grouped_field_set, position_context
        )

    def complete_iterable_value(
        self,
        item_type: Any,
        field_details_list: Any,
        info: Any,
        path: Any,
        items: Any,
        position_context: Any,
    ) -> Any:
        # A page's list of jobs: each item completed by its plan right here, not through
        # graphql-core's five frames per item; any item the plan cannot complete sends the
        # whole list the general way (the plan has no side effects to undo).
        fast = self._plain_items(item_type, field_details_list, path, items)
        if fast is not None:
            object_type, non_null, plan = fast
            is_type_of = object_type.is_type_of
            is_awaitable = self.is_awaitable
            results: list[Any] = []
            for item in items:
                if item is None and not non_null:
                    results.append(None)
                    continue
                if (
                    item is None
                    or is_awaitable(item)
                    or (is_type_of is not None and is_type_of(item, info) is not True)
                ):
                    break
                completed = _complete_plain(plan, item)
                if completed is None:
                    break
                results.append(completed)
            else:
                return results
        return super().complete_iterable_value(
            item_type, field_details_list, info, path, items, position_context
        )

    def _plain_items(
        self, item_type: Any, field_details_list: Any, path: Any, items: Any
    ) -> tuple[GraphQLObjectType, bool, list[tuple[str, _Leaf]]] | None:
        """The object type, whether items are non-null, and the plan of a list whose items
        are objects of plain leaves only (no @stream, no @defer below)."""
        if type(items) is not list:
            return None
        non_null = isinstance(item_type, GraphQLNonNull)
        object_type = item_type.of_type if non_null else item_type
        if not isinstance(object_type, GraphQLObjectType) or not self._without_middleware():
            return None
        if self.get_stream_usage(field_details_list, path) is not None:
            return None
        grouped_field_set, new_defer_usages, _ = self.collect_subfields(
            object_type, field_details_list
        )
        if new_defer_usages:
            return None
        plan = self._plan(object_type, grouped_field_set)
        return (object_type, non_null, plan) if plan else None

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: Any,
        path: Any,
        position_context: Any,
    ) -> Any:
        node = field_details_list[0].node
        if not node.arguments and self._without_middleware():
            leaf = _plain_leaf(parent_type, node.name.value)
            if leaf is not None:
                try:
                    value = leaf.read(source)
                    if value is None:
                        if not leaf.non_null:
                            return None
                    else:
                        coerced = leaf.coerce(value)
                        if coerced is not None and coerced is not Undefined:
                            return coerced
                except Exception:  # the general path below reports it
                    pass
        return super().execute_field(
            parent_type, source, field_details_list, path, position_context
        )


class CachedNameConverter(NameConverter):
    """Strawberry camel-cases each argument's name again on every call of a field with
    arguments (a regex per name, per request); the names are few and never change."""

    def __init__(self, auto_camel_case: bool = True) -> None:
        super().__init__(auto_camel_case)
        self._names: dict[str, str] = {}

    def apply_naming_config(self, name: str) -> str:
        converted = self._names.get(name)
        if converted is None:
            converted = self._names[name] = super().apply_naming_config(name)
        return converted

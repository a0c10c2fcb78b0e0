"""Strawberry's execution context with a fast path for the fields a job page is made of.

A page of 20 jobs selecting a dozen fields resolves some 250 plain attributes of scalar or enum
type. graphql-core builds a resolve-info object, looks at arguments and walks the non-null
wrapper for every one of them; here such a field is read and coerced directly, and anything
unusual (a null in a non-null field, a value the scalar refuses, a resolver, arguments,
middleware) goes through graphql-core's general path, which raises its usual located errors.
"""

from __future__ import annotations

from typing import Any
from weakref import WeakKeyDictionary

from graphql import (
    GraphQLLeafType,
    GraphQLNonNull,
    GraphQLObjectType,
    is_leaf_type,
)
from graphql.pyutils import Undefined
from strawberry.schema.name_converter import NameConverter
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

# (resolver, leaf type, non-null) of a plain leaf field; None for every other field.
_PlainLeaf = tuple[Any, GraphQLLeafType, bool] | None
_PLAIN_LEAVES: WeakKeyDictionary[GraphQLObjectType, dict[str, _PlainLeaf]] = WeakKeyDictionary()


def _plain_leaf(parent_type: GraphQLObjectType, name: str) -> _PlainLeaf:
    fields = _PLAIN_LEAVES.get(parent_type)
    if fields is None:
        fields = _PLAIN_LEAVES[parent_type] = {}
    if name in fields:
        return fields[name]
    leaf: _PlainLeaf = None
    field = parent_type.fields.get(name)
    # Strawberry marks the resolver of a field that only reads an attribute as `_is_default`.
    if field is not None and getattr(field.resolve, "_is_default", False):
        kind = field.type
        non_null = isinstance(kind, GraphQLNonNull)
        if non_null:
            kind = kind.of_type
        if is_leaf_type(kind):
            leaf = (field.resolve, kind, non_null)
    fields[name] = leaf
    return leaf


class JobgraphExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """Plain scalar and enum fields without a resolve-info object each; an object whose
    selected fields are all such fields (a job in a page, `pageInfo`) in one tight loop."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # graphql-core memoizes each object type's grouped field set for the operation, so
        # the 20 jobs of a page share one; its plan is made once (the set is kept alive here).
        self._plans: dict[int, tuple[Any, list[tuple[str, Any, GraphQLLeafType, bool]] | None]] = {}

    def _without_middleware(self) -> bool:
        # Strawberry always passes a manager; it wraps resolvers only when an extension
        # implements `resolve`, and then every field takes the general path.
        manager = self.middleware_manager
        return manager is None or not manager.middlewares

    def _plan(
        self, parent_type: GraphQLObjectType, grouped_field_set: Any
    ) -> list[tuple[str, Any, GraphQLLeafType, bool]] | None:
        known = self._plans.get(id(grouped_field_set))
        if known is not None and known[0] is grouped_field_set:
            return known[1]
        plan: list[tuple[str, Any, GraphQLLeafType, bool]] | None = []
        for response_name, field_details_list in grouped_field_set.items():
            node = field_details_list[0].node
            leaf = None if node.arguments else _plain_leaf(parent_type, node.name.value)
            if leaf is None or plan is None:
                plan = None
                break
            plan.append((response_name, *leaf))
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
            results: dict[str, Any] = {}
            try:
                for response_name, resolve, leaf_type, non_null in plan:
                    value = resolve(source_value, None)
                    if value is None:
                        if non_null:
                            break
                        results[response_name] = None
                        continue
                    if isinstance(value, Exception):
                        break
                    coerced = leaf_type.coerce_output_value(value)
                    if coerced is None or coerced is Undefined:
                        break
                    results[response_name] = coerced
                else:
                    return results
            except Exception:  # the general path below reports it, located
                pass
        return super().execute_fields(
            parent_type, source_value, path, grouped_field_set, position_context
        )

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
                resolve, leaf_type, non_null = leaf
                try:
                    value = resolve(source, None)
                    if value is None:
                        if not non_null:
                            return None
                    elif not isinstance(value, Exception):
                        coerced = leaf_type.coerce_output_value(value)
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

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
    """Plain scalar and enum fields without a resolve-info object each."""

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: Any,
        path: Any,
        position_context: Any,
    ) -> Any:
        node = field_details_list[0].node
        if not node.arguments and self.middleware_manager is None:
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

"""Every reach into Strawberry's private API, one small function each, saying what it needs.

Strawberry (0.341) offers no public way to these three things; keeping each behind one
function means a Strawberry release that moves them breaks one place, and the pin in
pyproject.toml can be widened by changing this module alone (`.ci/newest-strawberry` tells
when). Everything else uses Strawberry's public API.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLResolveInfo, GraphQLSchema
from strawberry.schema.base import BaseSchema
from strawberry.types import ExecutionContext, Info


def core_schema(schema: BaseSchema) -> GraphQLSchema:
    """The graphql-core schema a Strawberry schema executes against.

    Needed to parse, validate, measure and execute documents with graphql-core directly (the
    fast path, demand control, the GraphiQL examples); Strawberry keeps it as `_schema`.
    """
    graphql_schema: GraphQLSchema = schema._schema  # type: ignore[attr-defined]
    return graphql_schema


def provided_operation_name(context: ExecutionContext) -> str | None:
    """The operation name the caller sent, or None when it sent none.

    The public `operation_name` falls back to the document's first operation, which hides
    that a document of several operations came without a name (a request error for us).
    """
    name: str | None = context._provided_operation_name
    return name


def core_resolve_info(info: Info[Any, Any]) -> GraphQLResolveInfo[Any]:
    """graphql-core's resolve info behind Strawberry's `Info`.

    Needed where the public `info.selected_fields` is too slow (it converts the whole
    selected subtree and its arguments): the fast path reads field nodes and fragments.
    """
    raw: GraphQLResolveInfo[Any] = info._raw_info
    return raw

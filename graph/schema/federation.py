"""Apollo Federation v2: jobgraph as a subgraph of a company supergraph.

`Job` and each provider's job type are entities keyed by `id` (see graph/schema/types.py and
graph/providers/); the served schema is Strawberry's federation schema
(graph.schema.build.JobgraphSubgraphSchema). The public SDL in `schema.graphql` stays plain
GraphQL: this module prints a schema with its federation directives left out.
"""

from __future__ import annotations

import copy

import strawberry
from strawberry.federation.schema_directives import FederationDirective
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.base import StrawberryObjectDefinition

from graph.strawberry_private import core_schema

_BACKREF = GraphQLCoreConverter.DEFINITION_BACKREF


def print_public_sdl(schema: strawberry.Schema) -> str:
    """`schema`'s SDL without federation directives (`@key`), for plain GraphQL clients.

    Strawberry prints a type's directives from its definition, which every schema shares;
    this gives only `schema`'s own GraphQL types a copy without them, so build `schema` for
    printing alone.
    """
    for graphql_type in core_schema(schema).type_map.values():
        definition = (graphql_type.extensions or {}).get(_BACKREF)
        if not isinstance(definition, StrawberryObjectDefinition) or not definition.directives:
            continue
        kept = [d for d in definition.directives if not isinstance(d, FederationDirective)]
        if len(kept) == len(definition.directives):
            continue
        public = copy.copy(definition)
        public.directives = kept
        graphql_type.extensions = {**graphql_type.extensions, _BACKREF: public}
    return schema.as_str()

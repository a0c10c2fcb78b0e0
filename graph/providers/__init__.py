"""One module per provider: its GraphQL job type (and nested types), its `Query` field and its
GraphiQL example. The registry (`resolvers.providers.registry`, a row's `graph`) names each
module; the schema and GraphiQL find them there, so nothing else names a provider."""

from __future__ import annotations

import orjson

# The page size of the GraphiQL examples.
EXAMPLE_PAGE_SIZE = 5


def quoted(value: str) -> str:
    """A GraphQL string literal."""
    return orjson.dumps(value).decode()

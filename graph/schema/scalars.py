"""Scalars beyond GraphQL's built-ins, registered through the schema's `scalar_map`."""

from __future__ import annotations

from typing import NewType

import strawberry
from strawberry.types.scalar import ScalarDefinition

# A 64-bit integer: GraphQL's Int is 32-bit, and some providers' ids and epoch millis are longer.
Long = NewType("Long", int)

SCALAR_MAP: dict[object, ScalarDefinition] = {
    Long: strawberry.scalar(
        name="Long",
        description="A 64-bit integer, serialized as a JSON number (GraphQL's Int is 32-bit).",
        serialize=int,
        parse_value=int,
    ),
}

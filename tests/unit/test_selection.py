"""Which fields a query selects below a connection: the same names on either path."""

from __future__ import annotations

from typing import Any

import strawberry

from graph.engine.selection import names_from_syntax
from graph.schema.selection import field_names_below

SEEN: list[tuple[set[str], set[str]]] = []


@strawberry.type
class Item:
    id: str = "1"
    name: str = "n"
    status: str = "s"


@strawberry.type
class Page:
    total_count: int = 1
    nodes: list[Item] = strawberry.field(default_factory=lambda: [Item()])


@strawberry.type
class Query:
    @strawberry.field
    def page(self, info: strawberry.Info, first: int) -> Page:
        SEEN.append((field_names_below(info), names_from_syntax(info)))
        return Page()


QUERY = """
query($n: Int!) {
  page(first: $n) { nodes { id } ...Counted }
  page(first: $n) { ... on Page { nodes { name } } }
}
fragment Counted on Page { totalCount }
"""


async def names_below(schema: Any) -> tuple[set[str], set[str]]:
    SEEN.clear()
    result = await schema.execute(QUERY, variable_values={"n": 2})
    assert result.errors is None, result.errors
    assert len(SEEN) == 1
    return SEEN[0]


async def test_the_general_path_reads_the_public_selected_fields_and_agrees_with_the_syntax() -> (
    None
):
    public, syntax = await names_below(strawberry.Schema(Query))
    assert public == syntax == {"nodes", "totalCount"}


async def test_the_fast_path_reads_the_syntax_tree() -> None:
    schema = strawberry.Schema(Query)
    schema.fast_path = True  # type: ignore[attr-defined]
    fast, syntax = await names_below(schema)
    assert fast == syntax == {"nodes", "totalCount"}

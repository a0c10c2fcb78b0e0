"""Plain scalar and enum fields resolved on the fast path answer exactly as graphql-core's
general path does, errors included."""

from __future__ import annotations

from enum import Enum
from typing import Any

import strawberry
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from graph.execution import JobgraphExecutionContext


@strawberry.enum
class Colour(Enum):
    RED = "red"


@strawberry.type
class Item:
    name: str
    note: str | None
    size: int
    colour: Colour


@strawberry.type
class Query:
    @strawberry.field
    def items(self) -> list[Item]:
        return [
            Item(name="a", note=None, size=1, colour=Colour.RED),
            Item(name=None, note="n", size=2, colour=Colour.RED),  # type: ignore[arg-type]
            Item(name="c", note=None, size="x", colour=Colour.RED),  # type: ignore[arg-type]
        ]


def run(query: str, *, fast: bool) -> Any:
    schema = strawberry.Schema(
        query=Query, execution_context_class=JobgraphExecutionContext if fast else None
    )
    result = schema.execute_sync(query)
    errors = sorted((e.message, tuple(e.path or ())) for e in result.errors or [])
    return result.data, errors


def test_values_nulls_enums_and_errors_match_the_general_path() -> None:
    query = "{ items { name note size colour alias: name } }"
    assert run(query, fast=True) == run(query, fast=False)


def test_a_null_in_a_non_null_field_is_still_an_error_at_its_path() -> None:
    data, errors = run("{ items { name } }", fast=True)
    assert data is None  # the list of non-null items is nulled up to the root
    assert errors[0][1] == ("items", 1, "name")
    assert "Cannot return null for non-nullable field" in errors[0][0]


def test_objects_of_plain_fields_skip_the_general_path(monkeypatch: Any) -> None:
    general = StrawberryGraphQLCoreExecutionContext.execute_fields
    calls: list[str] = []

    def counted(self: Any, parent_type: Any, *args: Any) -> Any:
        calls.append(parent_type.name)
        return general(self, parent_type, *args)

    monkeypatch.setattr(StrawberryGraphQLCoreExecutionContext, "execute_fields", counted)
    data, errors = run("{ items { note colour } }", fast=True)
    assert errors == [] and len(data["items"]) == 3
    assert calls == ["Query"]  # the three items took the fast path


class Upper(SchemaExtension):
    def resolve(self, _next: Any, root: Any, info: Any, *args: Any, **kwargs: Any) -> Any:
        value = _next(root, info, *args, **kwargs)
        return value.upper() if isinstance(value, str) else value


def test_an_extension_that_wraps_resolvers_still_sees_every_field() -> None:
    schema = strawberry.Schema(
        query=Query, extensions=[Upper], execution_context_class=JobgraphExecutionContext
    )
    result = schema.execute_sync("{ items { note } }")
    assert result.data == {"items": [{"note": None}, {"note": "N"}, {"note": None}]}

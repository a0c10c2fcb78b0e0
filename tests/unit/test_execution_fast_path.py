"""Plain scalar and enum fields resolved on the fast path answer exactly as graphql-core's
general path does, errors included."""

from __future__ import annotations

from enum import Enum
from typing import Any

import strawberry
from strawberry.extensions import SchemaExtension
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from graph.engine.execution import JobgraphExecutionContext


@strawberry.enum
class Colour(Enum):
    RED = "red"


@strawberry.interface
class Named:
    name: str


@strawberry.type
class Item(Named):  # an interface's implementation: Strawberry checks each value's type
    note: str | None
    size: int
    colour: Colour


@strawberry.type
class Other:
    name: str


def good_items() -> list[Item]:
    return [Item(name=n, note=None, size=i, colour=Colour.RED) for i, n in enumerate("abc")]


@strawberry.type
class Query:
    @strawberry.field
    def items(self) -> list[Item]:
        return [
            Item(name="a", note=None, size=1, colour=Colour.RED),
            Item(name=None, note="n", size=2, colour=Colour.RED),  # type: ignore[arg-type]
            Item(name="c", note=None, size="x", colour=Colour.RED),  # type: ignore[arg-type]
        ]

    @strawberry.field
    def good(self) -> list[Item]:
        return good_items()

    @strawberry.field
    def with_gaps(self) -> list[Item | None]:
        return [None, *good_items(), None]

    @strawberry.field
    def null_item(self) -> list[Item]:
        return [*good_items(), None]  # type: ignore[list-item]

    @strawberry.field
    def wrong_type(self) -> list[Item]:
        return [*good_items(), Other(name="x")]  # type: ignore[list-item]


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


@strawberry.type
class Mixed:
    text: str
    flag: bool
    count: int
    ident: strawberry.ID
    colour: Colour


@strawberry.type
class MixedQuery:
    @strawberry.field
    def mixed(self) -> list[Mixed]:
        # Values whose Python type is not the output's own: each must be coerced (or refused)
        # exactly as graphql-core does, not passed through.
        return [
            Mixed(text="t", flag=True, count=7, ident=strawberry.ID("i"), colour=Colour.RED),
            Mixed(text=5, flag=1, count=True, ident=12, colour="RED"),  # type: ignore[arg-type]
            Mixed(text=Colour.RED, flag=False, count=2**31, ident="x", colour=Colour.RED),  # type: ignore[arg-type]
            Mixed(text="u", flag=False, count=3.0, ident="y", colour="BLUE"),  # type: ignore[arg-type]
        ]


def run_mixed(query: str, *, fast: bool, config: StrawberryConfig | None = None) -> Any:
    schema = strawberry.Schema(
        query=MixedQuery,
        config=config,
        execution_context_class=JobgraphExecutionContext if fast else None,
    )
    result = schema.execute_sync(query)
    errors = sorted((e.message, tuple(e.path or ())) for e in result.errors or [])
    return result.data, errors


def test_values_not_of_the_outputs_own_type_are_coerced_or_refused_as_in_the_general_path() -> None:
    for selection in ("text", "flag", "count", "ident", "colour", "text flag count ident colour"):
        query = f"{{ mixed {{ {selection} }} }}"
        assert run_mixed(query, fast=True) == run_mixed(query, fast=False), selection


def test_a_configured_default_resolver_is_still_used() -> None:
    def shout(source: Any, name: str) -> Any:
        value = getattr(source, name)
        return value.upper() if isinstance(value, str) else value

    config = StrawberryConfig(default_resolver=shout)
    data, errors = run_mixed("{ mixed { text } }", fast=True, config=config)
    assert (data, errors) == run_mixed("{ mixed { text } }", fast=False, config=config)
    assert data["mixed"][0] == {"text": "T"}


def test_lists_of_plain_objects_match_the_general_path_nulls_and_wrong_types_included() -> None:
    for field in ("good", "withGaps", "nullItem", "wrongType", "items"):
        query = f"{{ {field} {{ name note size colour }} }}"
        assert run(query, fast=True) == run(query, fast=False), field
    data, errors = run("{ wrongType { name } }", fast=True)
    assert data is None and "Expected value of type 'Item'" in errors[0][0]


def test_a_list_of_plain_objects_skips_graphql_cores_per_item_completion(monkeypatch: Any) -> None:
    general = StrawberryGraphQLCoreExecutionContext.complete_list_item_value
    items: list[int] = []

    def counted(self: Any, *args: Any) -> Any:
        items.append(1)
        return general(self, *args)

    monkeypatch.setattr(StrawberryGraphQLCoreExecutionContext, "complete_list_item_value", counted)
    data, errors = run("{ good { name size colour } }", fast=True)
    assert errors == [] and [item["name"] for item in data["good"]] == ["a", "b", "c"]
    assert items == []
    run("{ nullItem { name } }", fast=True)  # an item the plan cannot complete: the general way
    assert len(items) == 4


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

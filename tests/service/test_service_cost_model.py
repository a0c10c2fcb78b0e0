"""The cost model on its own (a pure function of schema, document and variables): page sizes
multiply down nested connections; fragments count where they are spread."""

from __future__ import annotations

from typing import Any

from graphql import build_schema, parse

from graph.limits import count_tokens, measure_operations

SCHEMA = build_schema(
    """
    type Query { teams(first: Int, last: Int): [Team!]! team: Team }
    type Team { name: String members(first: Int): [Member!]! }
    type Member { name: String roles(first: Int): [String!]! }
    """
)
MAX_PAGE = 100


def cost(query: str, variables: dict[str, Any] | None = None) -> int:
    return measure_operations(SCHEMA, parse(query), None, variables, MAX_PAGE).cost


def depth(query: str) -> int:
    return measure_operations(SCHEMA, parse(query), None, None, MAX_PAGE).depth


def test_each_field_without_a_page_costs_one() -> None:
    assert cost("{ team { name } }") == 2


def test_page_sizes_multiply_down_nested_connections() -> None:
    # teams: 1 + 10 * (name 1 + members (1 + 5 * (name 1 + roles (1 + 2 * 0))))
    query = "{ teams(first: 10) { name members(first: 5) { name roles(first: 2) } } }"
    assert cost(query) == 1 + 10 * (1 + 1 + 5 * (1 + 1))


def test_a_connection_without_first_or_last_counts_max_page_size() -> None:
    assert cost("{ teams { name } }") == 1 + MAX_PAGE * 1


def test_first_and_last_together_count_the_larger() -> None:
    assert cost("{ teams(first: 3, last: 7) { name } }") == 1 + 7


def test_a_page_size_above_the_maximum_counts_as_the_maximum() -> None:
    assert cost("{ teams(first: 100000) { name } }") == 1 + MAX_PAGE


def test_page_sizes_come_from_variables_and_their_defaults() -> None:
    query = "query($n: Int = 4, $m: Int) { teams(first: $n) { members(first: $m) { name } } }"
    assert cost(query, {"m": 3}) == 1 + 4 * (1 + 3 * 1)


def test_a_fragment_counts_under_each_connection_that_spreads_it() -> None:
    query = """
      { teams(first: 10) { ...T } team { ...T } }
      fragment T on Team { name members(first: 2) { name } }
    """
    fragment = 1 + (1 + 2 * 1)
    assert cost(query) == (1 + 10 * fragment) + (1 + fragment)


def test_a_cyclic_fragment_is_measured_without_looping() -> None:
    query = "{ team { ...A } } fragment A on Team { name ...B } fragment B on Team { ...A }"
    assert cost(query) == 2


def test_depth_counts_fields_not_fragments_and_skips_introspection() -> None:
    assert depth("{ team { ... on Team { members(first: 1) { name } } } }") == 3
    assert depth("{ __schema { types { fields { type { ofType { name } } } } } }") == 0


def test_tokens_are_counted_without_comments_and_stop_past_the_limit() -> None:
    assert count_tokens("# a comment\n{ team { name } }", 100) == 6
    assert count_tokens("{ " + "a " * 10_000 + "}", 50) == 51


def test_entity_lookups_cost_one_selection_per_representation() -> None:
    schema = build_schema(
        """
        scalar _Any
        union _Entity = Job
        type Job { id: ID! name: String }
        type Query { _entities(representations: [_Any!]!): [_Entity]! }
        """
    )
    query = "query($r: [_Any!]!) { _entities(representations: $r) { ... on Job { id name } } }"
    refs = [{"__typename": "Job", "id": str(i)} for i in range(40)]
    measured = measure_operations(schema, parse(query), None, {"r": refs}, MAX_PAGE).cost
    assert measured == 1 + 40 * 2

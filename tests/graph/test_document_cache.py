"""Query texts are parsed and validated once per process; what a request is told stays the same,
and the per-request limits still see every operation with its own variables."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import GraphQLError

from graph.engine.documents import DocumentCache
from tests.conftest import Gateway

PAGE = (
    "query Page($n: Int) { edgeImpulseJobs(organizationId: 1, projectId: 4211, first: $n) "
    "{ nodes { id name status } } }"
)


@pytest.fixture
def gateway_settings() -> dict[str, Any]:
    return {"server": {"max_cost": 60}}


async def test_a_repeated_query_gets_the_same_answer(gateway: Gateway) -> None:
    first = await gateway.data(PAGE, {"n": 3})
    again = await gateway.data(PAGE, {"n": 3})
    assert first == again
    assert len(first["edgeImpulseJobs"]["nodes"]) == 3


async def test_a_cached_query_is_still_refused_when_its_variables_exceed_the_cost_limit(
    gateway: Gateway,
) -> None:
    await gateway.data(PAGE, {"n": 2})
    gateway.reset_counts()
    body = await gateway.post(PAGE, {"n": 100})
    assert [e["extensions"]["code"] for e in body["errors"]] == ["QUERY_TOO_COMPLEX"]
    assert gateway.upstream_calls("edge_impulse") == 0


async def test_an_invalid_query_gets_the_same_errors_every_time(gateway: Gateway) -> None:
    query = "{ workflowJobs(first: 1) { nodes { noSuchField } } }"
    first = await gateway.post(query)
    again = await gateway.post(query)
    assert first["errors"] and first == again
    assert "noSuchField" in first["errors"][0]["message"]


async def test_a_syntax_error_is_reported_every_time(gateway: Gateway) -> None:
    for _ in range(2):
        body = await gateway.post("{ workflowJobs(first: 1 { nodes { id } } }")
        assert "Syntax Error" in body["errors"][0]["message"]


def test_the_cache_keeps_only_the_most_recently_used_texts() -> None:
    cache = DocumentCache(max_documents=2)
    first = cache.parse("{ a }", {})
    cache.parse("{ b }", {})
    assert cache.parse("{ a }", {}) is first  # used again: now the most recent
    cache.parse("{ c }", {})
    assert len(cache) == 2
    assert cache.parse("{ a }", {}) is first


def test_a_syntax_error_is_not_cached() -> None:
    cache = DocumentCache()
    with pytest.raises(GraphQLError):
        cache.parse("{ a", {})
    assert len(cache) == 0


def test_the_cache_holds_a_bounded_amount_of_query_text() -> None:
    cache = DocumentCache(max_text=16 * 40)
    texts = [f"{{ field{i:02} {'x ' * 10}}}" for i in range(30)]
    for text in texts:
        cache.parse(text, {})
    assert len(cache) * len(texts[0]) <= 16 * 40
    long_text = "{ " + "x " * 40 + "}"
    first = cache.parse(long_text, {})
    assert cache.parse(long_text, {}) is not first  # too long to keep

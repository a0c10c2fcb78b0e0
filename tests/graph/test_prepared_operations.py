"""An operation that passed every check before skips Strawberry's per-operation hooks (the fast
lane, graph/engine/prepared.py): callers get exactly the answer the full path gives, and nothing the
full path would refuse is ever let through."""

from __future__ import annotations

from typing import Any

import pytest
from strawberry.types.graphql import OperationType

from graph.engine.execution import MarkedExecutionContext
from graph.engine.prepared import FastLane
from graph.http.app import SCHEMA
from tests.conftest import Gateway

PAGE = (
    "query Page($n: Int) { edgeImpulseJobs(organizationId: 1, projectId: 4211, first: $n) "
    "{ pageInfo { hasNextPage endCursor } nodes { id name status createdAt } } }"
)
TWO_OPERATIONS = (
    "query A { workflowJobs(first: 2) { nodes { id } } } query B { sources { name provider } }"
)
FRAGMENTS = """
query Mixed($p: String!) {
  orangeJobs(projectId: $p, first: 3) { totalCount edges { cursor node { ...Common } } }
  jobs(first: 4, filter: {status: [SUCCEEDED, FAILED]}) {
    totalCount nodes { __typename ...Common ... on MetafoldJob { state } }
  }
}
fragment Common on Job { id provider status createdAt }
"""


def lane(gateway: Gateway) -> FastLane:
    fast_lane = gateway.client.app[SCHEMA].fast_lane
    assert fast_lane is not None
    return fast_lane


def prepared(
    gateway: Gateway, query: str, variables: dict[str, Any] | None = None, name: str | None = None
) -> bool:
    return lane(gateway).prepared(query, name, variables, {OperationType.QUERY}) is not None


async def post_named(
    gateway: Gateway, query: str, name: str | None, variables: dict[str, Any] | None = None
) -> tuple[int, dict[str, Any]]:
    response = await gateway.client.post(
        "/graphql", json={"query": query, "operationName": name, "variables": variables}
    )
    body: dict[str, Any] = await response.json()
    return response.status, body


@pytest.fixture
def gateway_settings() -> dict[str, Any]:
    # Set here: these tests are about the fast path, also when the suite runs without it.
    return {"server": {"max_cost": 200, "fast_path": True}}


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        (PAGE, {"n": 5}),
        ("{ workflowJobs(first: 3) { totalCount nodes { id name } } }", None),
        (FRAGMENTS, {"p": "3f2b8c1e-6a4d-4e8b-9c27-5d1f0a7e4b93"}),
        ("{ sources { name healthy } }", None),
        ('{ node(id: "not-an-id") { id } }', None),  # a coded error, same both ways
        ('{ workflowJobs(first: 2, after: "garbage") { nodes { id } } }', None),
    ],
)
async def test_a_repeated_operation_takes_the_fast_lane_and_gets_the_same_answer(
    gateway: Gateway, query: str, variables: dict[str, Any] | None
) -> None:
    assert not prepared(gateway, query, variables)
    first = await gateway.post(query, variables)
    assert prepared(gateway, query, variables)
    assert await gateway.post(query, variables) == first
    assert await gateway.post(query, variables) == first


async def test_other_variables_are_checked_and_answered_on_their_own(gateway: Gateway) -> None:
    three = await gateway.data(PAGE, {"n": 3})
    two = await gateway.data(PAGE, {"n": 2})
    assert len(three["edgeImpulseJobs"]["nodes"]) == 3
    assert three["edgeImpulseJobs"]["nodes"][:2] == two["edgeImpulseJobs"]["nodes"]
    wrong_type = await gateway.post(PAGE, {"n": -1})
    assert [e["extensions"]["code"] for e in wrong_type["errors"]] == ["BAD_USER_INPUT"]
    assert await gateway.post(PAGE, {"n": -1}) == wrong_type  # refused again
    over_limit = await gateway.post(PAGE, {"n": 100})
    assert [e["extensions"]["code"] for e in over_limit["errors"]] == ["QUERY_TOO_COMPLEX"]
    assert not prepared(gateway, PAGE, {"n": 100})


async def test_an_invalid_or_unparsable_query_never_takes_the_fast_lane(gateway: Gateway) -> None:
    invalid = "{ workflowJobs(first: 1) { nodes { noSuchField } } }"
    unparsable = "{ workflowJobs(first: 1 { nodes { id } } }"
    for query in (invalid, unparsable):
        answers = [await gateway.post(query) for _ in range(3)]
        assert answers[0]["errors"] and answers[0] == answers[1] == answers[2]
        assert not prepared(gateway, query)


async def test_each_operation_of_a_document_is_remembered_by_its_name(gateway: Gateway) -> None:
    for _ in range(2):
        status_a, a = await post_named(gateway, TWO_OPERATIONS, "A")
        status_b, b = await post_named(gateway, TWO_OPERATIONS, "B")
        assert (status_a, status_b) == (200, 200)
        assert set(a["data"]) == {"workflowJobs"} and set(b["data"]) == {"sources"}
    assert prepared(gateway, TWO_OPERATIONS, name="A")
    assert prepared(gateway, TWO_OPERATIONS, name="B")
    # Without a name the operation is ambiguous: refused every time (as the spec asks; plain
    # Strawberry runs the first one), never remembered.
    for _ in range(2):
        status, body = await post_named(gateway, TWO_OPERATIONS, None)
        assert (status, body["data"]) == (200, None)
        assert body["errors"][0]["message"] == (
            "Must provide operation name if query contains multiple operations."
        )
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert not prepared(gateway, TWO_OPERATIONS)


class TestWithTheFastPathOff:
    """`[server] fast_path = false`: every operation the general way, answered the same."""

    @pytest.fixture
    def gateway_settings(self) -> dict[str, Any]:
        return {"server": {"max_cost": 200, "fast_path": False}}

    async def test_a_repeated_operation_never_takes_the_fast_lane(self, gateway: Gateway) -> None:
        first = await gateway.post(PAGE, {"n": 5})
        assert len(first["data"]["edgeImpulseJobs"]["nodes"]) == 5
        assert await gateway.post(PAGE, {"n": 5}) == first
        assert not prepared(gateway, PAGE, {"n": 5})

    async def test_strawberrys_own_execution_context_runs_each_operation(
        self, gateway: Gateway
    ) -> None:
        schema = gateway.client.app[SCHEMA]
        assert schema.execution_context_class is MarkedExecutionContext
        assert await gateway.data("{ workflowJobs(first: 2) { nodes { id } } }")

    async def test_a_document_of_two_operations_still_needs_a_name(self, gateway: Gateway) -> None:
        status, body = await post_named(gateway, TWO_OPERATIONS, None)
        assert (status, body["data"]) == (200, None)
        assert body["errors"][0]["message"] == (
            "Must provide operation name if query contains multiple operations."
        )
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"

    async def test_the_cost_limit_still_refuses_an_expensive_page(self, gateway: Gateway) -> None:
        over_limit = await gateway.post(PAGE, {"n": 100})
        assert [e["extensions"]["code"] for e in over_limit["errors"]] == ["QUERY_TOO_COMPLEX"]


class TestWithoutIntrospection:
    @pytest.fixture
    def gateway_settings(self) -> dict[str, Any]:
        return {"server": {"introspection": False, "fast_path": True}}

    async def test_introspection_is_refused_every_time(self, gateway: Gateway) -> None:
        query = "{ __schema { queryType { name } } }"
        for _ in range(3):
            body = await gateway.post(query)
            assert body["errors"] and "introspection" in body["errors"][0]["message"].lower()
        assert not prepared(gateway, query)


class TestWithTokens:
    """A remembered operation is still checked against each caller's own sources."""

    @pytest.fixture
    def gateway_settings(self) -> dict[str, Any]:
        return {
            "server": {"fast_path": True},
            "auth": {
                "mode": "token",
                "tokens": [
                    {"name": "all", "token_env": "TOKEN_ALL"},
                    {"name": "wf-only", "token_env": "TOKEN_WF", "sources": ["wf"]},
                ],
            },
        }

    @pytest.fixture
    def extra_environ(self) -> dict[str, str]:
        return {"TOKEN_ALL": "secret-all-0123456789", "TOKEN_WF": "secret-wf-0123456789"}

    async def test_a_remembered_operation_still_answers_each_caller_by_its_own_rights(
        self, gateway: Gateway
    ) -> None:
        query = "{ edgeImpulseJobs(organizationId: 1, projectId: 4211, first: 2) { nodes { id } } }"
        allowed = await gateway.post(query, Authorization="Bearer secret-all-0123456789")
        assert len(allowed["data"]["edgeImpulseJobs"]["nodes"]) == 2
        assert prepared(gateway, query)
        refused = await gateway.post(query, Authorization="Bearer secret-wf-0123456789")
        assert [e["extensions"]["code"] for e in refused["errors"]] == ["FORBIDDEN"]


async def test_a_prepared_text_in_a_malformed_request_is_refused_as_before(
    gateway: Gateway,
) -> None:
    await gateway.data(PAGE, {"n": 2})
    assert prepared(gateway, PAGE, {"n": 2})
    bad_variables = await gateway.client.post("/graphql", json={"query": PAGE, "variables": [2]})
    assert bad_variables.status == 400
    assert "variables" in (await bad_variables.json())["errors"][0]["message"]
    bad_name = await gateway.client.post(
        "/graphql", json={"query": PAGE, "variables": {"n": 2}, "operationName": 7}
    )
    assert bad_name.status == 400
    assert (await bad_name.json())["errors"] == [
        {
            "message": "`operationName` must be a string or null, not a number",
            "extensions": {"code": "BAD_USER_INPUT"},
        }
    ]


async def test_a_prepared_operation_is_answered_as_json_with_the_same_headers(
    gateway: Gateway,
) -> None:
    replies = []
    for _ in range(2):
        response = await gateway.client.post(
            "/graphql", json={"query": PAGE, "variables": {"n": 2}}
        )
        replies.append((response.status, response.content_type, await response.json()))
    assert replies[0] == replies[1]
    assert replies[0][:2] == (200, "application/json")

"""`[rate_limits] cost_per_minute`: a second bucket per principal, charged with each
operation's cost estimate (the one `max_cost` limits) before it runs; a caller that cannot pay
gets HTTP 429 with `Retry-After` and RATE_LIMITED, before any upstream call."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from aiohttp import ClientResponse

from graph.engine.prepared import MAX_COSTS
from graph.limits import QueryLimitSettings
from graph.schema.build import build_schema
from resolvers.config import ServerConfig
from tests.conftest import Gateway

# workflowJobs 1 + first (2) x (nodes 1 + id 1) = 5
QUERY = "{ workflowJobs(first: 2) { nodes { id } } }"
COST = 5
BUDGET = 12  # two such queries, not three
EXPENSIVE = "{ workflowJobs(first: 20) { nodes { id name status } } }"  # 1 + 20 x 4 = 81


@pytest.fixture
def gateway_settings() -> dict[str, Any]:
    return {
        "auth": {
            "mode": "token",
            "tokens": [
                {"name": "alpha", "token_env": "TEST_TOKEN_ALPHA"},
                {"name": "beta", "token_env": "TEST_TOKEN_BETA"},
            ],
        },
        "rate_limits": {"cost_per_minute": BUDGET},
    }


@pytest.fixture
def extra_environ() -> dict[str, str]:
    return {"TEST_TOKEN_ALPHA": "alpha-caller-token", "TEST_TOKEN_BETA": "beta-caller-token"}


async def ask(
    gateway: Gateway, body: dict[str, Any], token: str = "alpha-caller-token"
) -> ClientResponse:
    return await gateway.client.post(
        "/graphql", json=body, headers={"Authorization": f"Bearer {token}"}
    )


async def test_a_caller_over_its_cost_per_minute_gets_429_before_any_upstream_call(
    gateway: Gateway,
) -> None:
    for _ in range(BUDGET // COST):
        response = await ask(gateway, {"query": QUERY})
        assert response.status == 200, await response.text()
        assert "errors" not in await response.json()
    gateway.reset_counts()
    response = await ask(gateway, {"query": QUERY})
    body = await response.json()
    assert response.status == 429
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert body["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    assert f"may cost {COST}" in body["errors"][0]["message"]
    assert "data" not in body
    assert gateway.upstream_calls("workflow") == 0


async def test_each_principal_has_its_own_cost_bucket(gateway: Gateway) -> None:
    for _ in range(BUDGET // COST + 1):
        await ask(gateway, {"query": QUERY})
    assert (await ask(gateway, {"query": QUERY})).status == 429
    response = await ask(gateway, {"query": QUERY}, token="beta-caller-token")
    assert response.status == 200, await response.text()


async def test_a_refused_operation_takes_nothing_from_the_bucket(gateway: Gateway) -> None:
    cheap = "{ workflowJobs(first: 1) { nodes { id } } }"  # 1 + 1 x 2 = 3
    assert (await ask(gateway, {"query": QUERY})).status == 200  # 7 left
    assert (await ask(gateway, {"query": QUERY})).status == 200  # 2 left
    assert (await ask(gateway, {"query": QUERY})).status == 429
    assert (await ask(gateway, {"query": cheap})).status == 429
    response = await ask(gateway, {"query": "{ workflowJobs(first: 0) { totalCount } }"})
    assert response.status == 200, await response.text()  # costs 1 + 0 x 1 = 1


async def test_an_operation_costing_more_than_the_whole_budget_is_too_complex(
    gateway: Gateway,
) -> None:
    gateway.reset_counts()
    response = await ask(gateway, {"query": EXPENSIVE})
    body = await response.json()
    assert response.status == 400
    assert body["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert "per minute" in body["errors"][0]["message"]
    assert gateway.upstream_calls("workflow") == 0
    # It took nothing: the whole budget is still there.
    for _ in range(BUDGET // COST):
        assert (await ask(gateway, {"query": QUERY})).status == 200


async def test_variables_set_the_cost(gateway: Gateway) -> None:
    query = "query($n: Int!) { workflowJobs(first: $n) { nodes { id } } }"
    big = await ask(gateway, {"query": query, "variables": {"n": 10}})  # 1 + 10 x 2 = 21
    assert big.status == 400
    small = await ask(gateway, {"query": query, "variables": {"n": 2}})
    assert small.status == 200


async def test_a_persisted_query_by_hash_and_a_get_are_charged_too(gateway: Gateway) -> None:
    sha = hashlib.sha256(QUERY.encode()).hexdigest()
    extensions = {"persistedQuery": {"version": 1, "sha256Hash": sha}}
    assert (await ask(gateway, {"query": QUERY, "extensions": extensions})).status == 200
    assert (await ask(gateway, {"extensions": extensions})).status == 200
    gateway.reset_counts()
    response = await gateway.client.get(
        "/graphql",
        params={"extensions": json.dumps(extensions)},
        headers={"Authorization": "Bearer alpha-caller-token"},
    )
    assert response.status == 429
    assert (await response.json())["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    assert gateway.upstream_calls("workflow") == 0


class TestWithoutCostLimit:
    @pytest.fixture
    def gateway_settings(self) -> dict[str, Any]:
        return {"rate_limits": {"requests_per_minute": 100}}

    async def test_costs_are_not_limited_when_cost_per_minute_is_off(
        self, gateway: Gateway
    ) -> None:
        for _ in range(5):
            response = await gateway.client.post("/graphql", json={"query": EXPENSIVE})
            assert response.status == 200, await response.text()


def test_cost_estimates_are_remembered_per_operation_and_variables_within_a_bound() -> None:
    schema = build_schema(limits=QueryLimitSettings.from_server(ServerConfig()))
    lane = schema.fast_lane
    assert lane is not None
    query = "query($n: Int!) { workflowJobs(first: $n) { nodes { id } } }"
    for n in range(MAX_COSTS + 50):  # a page above max_page_size (100) is priced as 100
        assert lane.cost(schema._schema, query, None, {"n": n}) == 1 + min(n, 100) * 2
    assert lane.cost(schema._schema, query, None, {"n": 7}) == 15
    assert lane.cost(schema._schema, QUERY, None, None) == COST
    assert len(lane._costs) <= MAX_COSTS
    assert lane.cost(schema._schema, "{ workflowJobs(", None, None) is None  # a syntax error

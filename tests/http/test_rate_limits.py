"""`[rate_limits] requests_per_minute`: a token bucket per principal; over it, HTTP 429 with
`Retry-After` and a RATE_LIMITED error, before any upstream call."""

from __future__ import annotations

from typing import Any

import pytest

from graph.http.ratelimit import MemoryBucketStore
from tests.conftest import Gateway

QUERY = "{ workflowJobs(first: 2) { nodes { id } } }"


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
        "rate_limits": {"requests_per_minute": 3},
    }


@pytest.fixture
def extra_environ() -> dict[str, str]:
    return {"TEST_TOKEN_ALPHA": "alpha-caller-token", "TEST_TOKEN_BETA": "beta-caller-token"}


async def ask(gateway: Gateway, token: str) -> Any:
    return await gateway.client.post(
        "/graphql", json={"query": QUERY}, headers={"Authorization": f"Bearer {token}"}
    )


async def test_a_caller_over_its_requests_per_minute_gets_429_before_any_upstream_call(
    gateway: Gateway,
) -> None:
    for _ in range(3):
        response = await ask(gateway, "alpha-caller-token")
        assert response.status == 200, await response.text()
    gateway.reset_counts()
    response = await ask(gateway, "alpha-caller-token")
    body = await response.json()
    assert response.status == 429
    assert 1 <= int(response.headers["Retry-After"]) <= 20
    assert body["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    assert "data" not in body
    assert gateway.upstream_calls("workflow") == 0


async def test_each_principal_has_its_own_bucket(gateway: Gateway) -> None:
    for _ in range(4):
        await ask(gateway, "alpha-caller-token")
    assert (await ask(gateway, "alpha-caller-token")).status == 429
    response = await ask(gateway, "beta-caller-token")
    assert response.status == 200, await response.text()


async def test_probes_are_not_rate_limited(gateway: Gateway) -> None:
    for _ in range(5):
        await ask(gateway, "alpha-caller-token")
    assert (await gateway.client.get("/healthz")).status == 200


async def test_memory_store_refills_at_its_rate_and_takes_nothing_when_refused() -> None:
    now = [100.0]
    store = MemoryBucketStore(clock=lambda: now[0])
    assert await store.take("k", 2, capacity=2, refill_per_s=0.5) == 0.0
    assert await store.take("k", 1, capacity=2, refill_per_s=0.5) == 2.0
    now[0] += 1.0  # half a token back; the refused take took nothing
    assert await store.take("k", 1, capacity=2, refill_per_s=0.5) == 1.0
    now[0] += 1.0
    assert await store.take("k", 1, capacity=2, refill_per_s=0.5) == 0.0
    now[0] += 100.0  # refill stops at capacity
    assert await store.take("k", 3, capacity=2, refill_per_s=0.5) == 2.0

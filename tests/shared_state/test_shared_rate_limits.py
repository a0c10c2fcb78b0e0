"""`[cache] backend = "redis"`: the per-caller rate limit is one bucket for every replica.

Two gateway apps (two replicas) over the same simulators and one real redis-server: a caller
allowed 3 requests a minute gets its 4th refused on either replica, before any upstream call.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp.test_utils import TestClient

from graph.http.app import build_app
from resolvers.config import parse_config
from simulators import SimulatorSuite
from tests.shared_state.conftest import RedisServer

QUERY = "{ workflowJobs(first: 2) { nodes { id } } }"
TOKEN = "alpha-caller-token"


def replica_config(suite: SimulatorSuite, sim_root: str, redis_url: str) -> Any:
    return parse_config(
        {
            "sources": suite.demo_sources(sim_root),
            "auth": {"mode": "token", "tokens": [{"name": "alpha", "token_env": "TEST_TOKEN"}]},
            "rate_limits": {"requests_per_minute": 3},
            "cache": {"backend": "redis", "redis_url": redis_url},
        },
        environ={},
    )


async def test_replicas_sharing_redis_share_each_callers_bucket(
    suite: SimulatorSuite,
    sim_root: str,
    redis_server: RedisServer,
    aiohttp_client: Callable[..., Any],
) -> None:
    environ = {**suite.demo_environ(), "TEST_TOKEN": TOKEN}
    config = replica_config(suite, sim_root, redis_server.url)
    replicas: list[TestClient] = [
        await aiohttp_client(build_app(config, environ)) for _ in range(2)
    ]
    headers = {"Authorization": f"Bearer {TOKEN}"}
    for number in range(3):
        response = await replicas[number % 2].post(
            "/graphql", json={"query": QUERY}, headers=headers
        )
        assert response.status == 200, await response.text()
    before = suite.sim("workflow").log.count("list")
    for replica in replicas:
        response = await replica.post("/graphql", json={"query": QUERY}, headers=headers)
        body = await response.json()
        assert response.status == 429
        assert body["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
        assert int(response.headers["Retry-After"]) >= 1
    assert suite.sim("workflow").log.count("list") == before


async def test_replicas_keep_limiting_when_redis_is_down(
    suite: SimulatorSuite,
    sim_root: str,
    redis_server: RedisServer,
    aiohttp_client: Callable[..., Any],
) -> None:
    environ = {**suite.demo_environ(), "TEST_TOKEN": TOKEN}
    replica: TestClient = await aiohttp_client(
        build_app(replica_config(suite, sim_root, redis_server.url), environ)
    )
    redis_server.kill()
    headers = {"Authorization": f"Bearer {TOKEN}"}
    statuses = []
    for _ in range(4):
        response = await replica.post("/graphql", json={"query": QUERY}, headers=headers)
        statuses.append(response.status)
    # Served without Redis (never a 5xx), and still limited by the in-process fallback.
    assert statuses == [200, 200, 200, 429]

"""`[rate_limits] cost_per_minute` with `[cache] backend = "redis"`: each caller's cost bucket
is one for every replica, like its request bucket."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp.test_utils import TestClient

from graph.http.app import build_app
from resolvers.config import parse_config
from simulators import SimulatorSuite
from tests.shared_state.conftest import RedisServer

QUERY = "{ workflowJobs(first: 2) { nodes { id } } }"  # costs 5
TOKEN = "alpha-caller-token"


async def test_replicas_sharing_redis_share_each_callers_cost_bucket(
    suite: SimulatorSuite,
    sim_root: str,
    redis_server: RedisServer,
    aiohttp_client: Callable[..., Any],
) -> None:
    config = parse_config(
        {
            "sources": suite.demo_sources(sim_root),
            "auth": {"mode": "token", "tokens": [{"name": "alpha", "token_env": "TEST_TOKEN"}]},
            "rate_limits": {"cost_per_minute": 12},
            "cache": {"backend": "redis", "redis_url": redis_server.url},
        },
        environ={},
    )
    environ = {**suite.demo_environ(), "TEST_TOKEN": TOKEN}
    replicas: list[TestClient] = [
        await aiohttp_client(build_app(config, environ)) for _ in range(2)
    ]
    headers = {"Authorization": f"Bearer {TOKEN}"}
    statuses = []
    for number in range(3):
        response = await replicas[number % 2].post(
            "/graphql", json={"query": QUERY}, headers=headers
        )
        statuses.append(response.status)
    assert statuses == [200, 200, 429]

"""Redis down or hung: every replica keeps serving (the shared cache bypassed, limits in
process), counts each failed Redis call in /metrics and names Redis in /readyz, which stays
ready. Never a 5xx."""

from __future__ import annotations

import signal
import struct
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis.asyncio as aioredis
from aiohttp.test_utils import TestClient

from graph.http.app import build_app
from resolvers.config import parse_config
from simulators import SimulatorSuite
from tests.shared_state.conftest import (
    TOKENS,
    RedisServer,
    Replicas,
    ask,
    metafold_lists,
)

AUTH = {"Authorization": f"Bearer {TOKENS['TOKEN_ALPHA']}"}


@pytest.fixture
def hung_redis(redis_server: RedisServer) -> Iterator[RedisServer]:
    """The redis-server stopped (SIGSTOP): connections stay open, nothing answers."""
    redis_server.process.send_signal(signal.SIGSTOP)
    try:
        yield redis_server
    finally:
        redis_server.process.send_signal(signal.SIGCONT)


async def redis_errors(replica: TestClient) -> dict[str, float]:
    response = await replica.get("/metrics", headers=AUTH)
    assert response.status == 200
    counts: dict[str, float] = {}
    for line in (await response.text()).splitlines():
        if line.startswith("jobgraph_redis_errors_total{"):
            labels, value = line.rsplit(" ", 1)
            counts[labels.split('"')[1]] = float(value)
    return counts


async def test_readyz_names_a_reachable_redis(replicas: Replicas) -> None:
    response = await replicas[0].get("/readyz")
    body = await response.json()
    assert response.status == 200
    assert body["redis"] == {"status": "ok"}


async def test_with_redis_down_replicas_serve_from_upstream_and_count_it(
    suite: SimulatorSuite, replicas: Replicas, redis_server: RedisServer
) -> None:
    redis_server.kill()
    for replica in replicas:
        body = await ask(replica)
        assert "errors" not in body
        assert body["data"]["metafoldJobs"]["nodes"]
    # The cache is bypassed: each replica asked the upstream itself.
    assert metafold_lists(suite) == 2
    assert (await redis_errors(replicas[0])).get("lookup", 0) >= 1


async def test_with_redis_down_readyz_names_it_degraded_and_stays_ready(
    replicas: Replicas, redis_server: RedisServer
) -> None:
    redis_server.kill()
    response = await replicas[0].get("/readyz")
    body = await response.json()
    assert response.status == 200
    assert body["status"] == "ready"
    assert body["redis"]["status"] == "degraded"
    assert body["redis"]["error"] == "ConnectionError"
    assert "127.0.0.1" not in str(body["redis"])


async def test_with_redis_hung_replicas_still_answer_within_redis_timeouts(
    suite: SimulatorSuite, replicas: Replicas, hung_redis: RedisServer
) -> None:
    for replica in replicas:
        body = await ask(replica)
        assert "errors" not in body
    assert metafold_lists(suite) == 2
    errors = await redis_errors(replicas[1])
    assert errors.get("lookup", 0) >= 1
    assert errors.get("bucket", 0) == 0  # no [rate_limits] configured: no bucket is asked
    response = await replicas[1].get("/readyz")
    body = await response.json()
    assert response.status == 200
    assert body["redis"] == {"status": "degraded", "error": "TimeoutError"}


async def test_rate_limits_fall_back_in_process_and_are_counted(
    suite: SimulatorSuite, redis_server: RedisServer, aiohttp_client: Callable[..., Any]
) -> None:
    config = parse_config(
        {
            "sources": suite.demo_sources("http://127.0.0.1:9"),
            "auth": {"mode": "token", "tokens": [{"name": "alpha", "token_env": "TOKEN_ALPHA"}]},
            "rate_limits": {"requests_per_minute": 2},
            "cache": {"backend": "redis", "redis_url": redis_server.url},
        },
        environ={},
    )
    replica: TestClient = await aiohttp_client(
        build_app(config, {**suite.demo_environ(), **TOKENS})
    )
    redis_server.kill()
    statuses = []
    for _ in range(3):
        response = await replica.post("/graphql", json={"query": "{ __typename }"}, headers=AUTH)
        statuses.append(response.status)
    assert statuses == [200, 200, 429]
    assert (await redis_errors(replica)).get("bucket", 0) >= 1


async def test_once_redis_answers_again_replicas_share_the_cache_again(
    suite: SimulatorSuite, replicas: Replicas, redis_server: RedisServer
) -> None:
    redis_server.process.send_signal(signal.SIGSTOP)
    try:
        assert "errors" not in await ask(replicas[0])
    finally:
        redis_server.process.send_signal(signal.SIGCONT)
    # A /readyz ping that Redis answers ends the pause each replica gives it after a failure.
    for replica in replicas:
        body = await (await replica.get("/readyz")).json()
        assert body["redis"] == {"status": "ok"}
    before = metafold_lists(suite)
    assert "errors" not in await ask(replicas[0])
    assert "errors" not in await ask(replicas[1])
    assert metafold_lists(suite) == before + 1


async def test_an_unreadable_cached_value_is_skipped_and_counted(
    suite: SimulatorSuite, replicas: Replicas, redis_server: RedisServer
) -> None:
    assert "errors" not in await ask(replicas[0])
    client = aioredis.Redis.from_url(redis_server.url)
    try:
        for key in await client.keys("jobgraph:resp:*"):
            # A well-formed head, then a body flagged compressed that is not.
            await client.set(key, struct.pack(">HI", 200, 2) + b"[]" + b"\x01not zlib")
    finally:
        await client.aclose()
    assert "errors" not in await ask(replicas[1])
    assert metafold_lists(suite) == 2
    assert (await redis_errors(replicas[1])).get("lookup", 0) >= 1

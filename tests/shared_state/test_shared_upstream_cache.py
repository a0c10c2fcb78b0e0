"""`[cache] backend = "redis"`: replicas share upstream responses, each source's 429
cool-down and one fetch for a response several of them want at once.

Each test runs two gateway apps (two replicas) over the same simulators and one real
redis-server; the simulators count the upstream requests.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import redis.asyncio as aioredis

from resolvers.shared_state import StoredResponse
from simulators import SimulatorSuite
from tests.shared_state.conftest import (
    PROJECT,
    TOKENS,
    RedisServer,
    Replicas,
    ask,
    metafold_lists,
)


async def test_a_page_one_replica_fetched_costs_the_other_no_upstream_request(
    suite: SimulatorSuite, replicas: Replicas
) -> None:
    first = await ask(replicas[0])
    second = await ask(replicas[1])
    assert second == first
    assert "errors" not in first
    assert metafold_lists(suite) == 1


async def test_a_walk_alternating_replicas_costs_one_upstream_request(
    suite: SimulatorSuite, replicas: Replicas
) -> None:
    ids: list[str] = []
    after = None
    for page in range(10):
        body = await ask(replicas[page % 2], after)
        connection = body["data"]["metafoldJobs"]
        ids.extend(node["nativeId"] for node in connection["nodes"])
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]
    assert ids == [str(job["id"]) for job in suite.jobs("metafold", PROJECT)]
    assert metafold_lists(suite) == 1


async def test_replicas_never_serve_one_callers_cached_answer_to_another(
    suite: SimulatorSuite, replicas: Replicas
) -> None:
    await ask(replicas[0], token=TOKENS["TOKEN_ALPHA"])
    await ask(replicas[1], token=TOKENS["TOKEN_BETA"])
    assert metafold_lists(suite) == 2
    await ask(replicas[1], token=TOKENS["TOKEN_ALPHA"])
    assert metafold_lists(suite) == 2


async def test_failed_responses_are_not_shared(suite: SimulatorSuite, replicas: Replicas) -> None:
    suite.sim("metafold").faults.add("status", status=404)
    failed = await ask(replicas[0])
    assert failed["errors"][0]["extensions"]["code"] == "UPSTREAM_NOT_FOUND"
    assert "errors" not in await ask(replicas[1])
    assert metafold_lists(suite) == 2


async def test_redis_holds_no_credential_url_or_caller_name(
    suite: SimulatorSuite, replicas: Replicas, redis_server: RedisServer
) -> None:
    await ask(replicas[0])
    client = aioredis.Redis.from_url(redis_server.url)
    try:
        stored = b""
        for key in await client.keys("*"):
            stored += key + b"\n" + (await client.dump(key) or b"") + b"\n"
    finally:
        await client.aclose()
    assert b"resp:" in stored
    assert b"lock:" not in stored  # released as soon as the response was stored
    for secret in [*suite.demo_environ().values(), *TOKENS.values()]:
        assert secret.encode() not in stored
    assert b"1031" not in stored.split(b"\n")[0]


async def test_a_429_on_one_replica_holds_off_every_replica(
    suite: SimulatorSuite, replicas: Replicas
) -> None:
    suite.sim("metafold").faults.add("rate_limit", retry_after=30)
    throttled = await ask(replicas[0])
    assert throttled["errors"][0]["extensions"]["code"] == "UPSTREAM_RATE_LIMITED"
    assert metafold_lists(suite) == 1
    held_off = await ask(replicas[1])
    error = held_off["errors"][0]["extensions"]
    assert error["code"] == "UPSTREAM_RATE_LIMITED"
    assert 0 < error["retryAfter"] <= 30
    assert metafold_lists(suite) == 1


@pytest.mark.parametrize("mf_settings", [{"cache_ttl_s": 0}])
async def test_the_cool_down_is_shared_with_the_cache_off(
    suite: SimulatorSuite, replicas: Replicas
) -> None:
    suite.sim("metafold").faults.add("rate_limit", retry_after=30)
    await ask(replicas[0])
    held_off = await ask(replicas[1])
    assert held_off["errors"][0]["extensions"]["code"] == "UPSTREAM_RATE_LIMITED"
    assert metafold_lists(suite) == 1


async def test_replicas_asking_at_once_make_one_upstream_request(
    suite: SimulatorSuite, replicas: Replicas
) -> None:
    suite.sim("metafold").faults.set_latency(400)
    answers = await asyncio.gather(*(ask(replicas[n % 2]) for n in range(6)))
    assert all(answer == answers[0] for answer in answers)
    assert "errors" not in answers[0]
    assert metafold_lists(suite) == 1


async def test_when_the_fetching_replica_fails_a_waiting_one_fetches(
    suite: SimulatorSuite, replicas: Replicas
) -> None:
    suite.sim("metafold").faults.add("status", status=404, latency_ms=300)
    failed, served = await asyncio.gather(ask(replicas[0]), _after(0.1, ask(replicas[1])))
    assert failed["errors"][0]["extensions"]["code"] == "UPSTREAM_NOT_FOUND"
    assert "errors" not in served
    assert metafold_lists(suite) == 2


async def _after(seconds: float, call: Any) -> Any:
    await asyncio.sleep(seconds)
    return await call


@pytest.mark.parametrize("body", [b"", b'{"jobs": []}', b'{"name": "x"}' * 200])
def test_stored_responses_round_trip_compactly(body: bytes) -> None:
    stored = StoredResponse(200, (("X-Total-Count", "37"), ("Content-Type", "json")), body)
    encoded = stored.encode()
    assert StoredResponse.decode(encoded) == stored
    assert len(encoded) < len(body) + 64

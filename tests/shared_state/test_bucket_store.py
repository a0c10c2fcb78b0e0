"""RedisBucketStore: one token bucket shared by replicas through a real redis-server, and
an in-process bucket when that Redis is gone."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator

import pytest

from resolvers.shared_state import InProcessBucketStore, RedisBucketStore
from tests.shared_state.conftest import RedisServer

# Refills so slowly that no test run sees a token come back.
NO_REFILL = 1e-6


@pytest.fixture
async def two_replicas(redis_server: RedisServer) -> AsyncIterator[tuple[RedisBucketStore, ...]]:
    stores = (
        RedisBucketStore.from_url(redis_server.url),
        RedisBucketStore.from_url(redis_server.url),
    )
    yield stores
    for store in stores:
        await store.close()


async def test_two_replicas_take_from_one_shared_bucket(
    two_replicas: tuple[RedisBucketStore, RedisBucketStore],
) -> None:
    a, b = two_replicas
    assert await a.take("caller:dashboard", 2, 3, NO_REFILL) == 0.0
    assert await b.take("caller:dashboard", 1, 3, NO_REFILL) == 0.0
    assert await b.take("caller:dashboard", 1, 3, NO_REFILL) > 0.0
    assert await a.take("caller:dashboard", 1, 3, NO_REFILL) > 0.0
    assert a.fallbacks == b.fallbacks == 0


async def test_buckets_of_other_keys_are_separate(
    two_replicas: tuple[RedisBucketStore, RedisBucketStore],
) -> None:
    a, b = two_replicas
    assert await a.take("caller:one", 1, 1, NO_REFILL) == 0.0
    assert await b.take("caller:two", 1, 1, NO_REFILL) == 0.0
    assert await b.take("caller:one", 1, 1, NO_REFILL) > 0.0


async def test_a_refused_take_reports_the_wait_and_takes_nothing(
    two_replicas: tuple[RedisBucketStore, RedisBucketStore],
) -> None:
    a, b = two_replicas
    assert await a.take("k", 3, 4, 2.0) == 0.0
    # One token left, three asked: two missing at two per second.
    wait = await b.take("k", 3, 4, 2.0)
    assert 0.9 < wait <= 1.0
    assert await a.take("k", 1, 4, 2.0) == 0.0


async def test_more_than_the_capacity_is_never_granted(
    two_replicas: tuple[RedisBucketStore, RedisBucketStore],
) -> None:
    a, _ = two_replicas
    assert await a.take("k", 5, 4, 1.0) == math.inf
    assert await a.take("k", 4, 4, 1.0) == 0.0


async def test_a_bucket_refills_at_its_rate(
    two_replicas: tuple[RedisBucketStore, RedisBucketStore],
) -> None:
    a, b = two_replicas
    assert await a.take("k", 1, 1, 1000.0) == 0.0
    # A thousand tokens a second: the bucket is full again within a few milliseconds.
    for _ in range(200):
        if await b.take("k", 1, 1, 1000.0) == 0.0:
            break
    else:
        pytest.fail("the shared bucket never refilled")


async def test_redis_killed_mid_run_still_answers_from_process_memory(
    redis_server: RedisServer, two_replicas: tuple[RedisBucketStore, RedisBucketStore]
) -> None:
    a, _ = two_replicas
    assert await a.take("k", 1, 2, NO_REFILL) == 0.0
    redis_server.kill()
    # The in-process bucket is created full and still limits.
    assert await a.take("k", 2, 2, NO_REFILL) == 0.0
    assert await a.take("k", 1, 2, NO_REFILL) > 0.0
    assert a.fallbacks == 2
    assert not a.redis_ok
    assert a.last_error is not None
    assert "127.0.0.1" not in a.last_error


async def test_a_store_whose_redis_never_ran_answers_in_process() -> None:
    store = RedisBucketStore.from_url("redis://127.0.0.1:1/0")
    try:
        assert await store.take("k", 1, 1, NO_REFILL) == 0.0
        assert await store.take("k", 1, 1, NO_REFILL) > 0.0
        assert store.fallbacks == 2
    finally:
        await store.close()


async def test_the_in_process_store_keeps_the_same_contract() -> None:
    now = [100.0]
    store = InProcessBucketStore(clock=lambda: now[0])
    assert await store.take("k", 2, 2, 1.0) == 0.0
    assert await store.take("k", 1, 2, 1.0) == 1.0
    now[0] += 1.0
    assert await store.take("k", 1, 2, 1.0) == 0.0
    assert await store.take("k", 3, 2, 1.0) == math.inf

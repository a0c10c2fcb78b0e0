"""State that replicas share through Redis, each piece with an in-process fallback.

Redis is an optimisation, never a dependency of an answer: when it is down or slow the
store answers from process memory, counts the fallback and retries Redis after a pause."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import redis.asyncio as aioredis
from redis.exceptions import RedisError

Clock = Callable[[], float]

# A Redis that does not answer within this long is treated as down for this call.
REDIS_TIMEOUT_S = 0.25
# After a failure, Redis is left alone this long so a dead one costs nothing per request.
RETRY_AFTER_FAILURE_S = 1.0

# Token bucket, atomically: refill by Redis' own clock (one clock for every replica), then
# take `amount` or report the wait. Returned as a string: Lua numbers become integers.
_TAKE_SCRIPT = """
local amount = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local rate = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1])
local at = tonumber(state[2])
if tokens == nil or at == nil then
  tokens = capacity
  at = now
end
tokens = math.min(capacity, tokens + math.max(0, now - at) * rate)
local wait = 0
if tokens >= amount then
  tokens = tokens - amount
elseif rate > 0 and amount <= capacity then
  wait = (amount - tokens) / rate
else
  wait = -1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
if rate > 0 then
  redis.call('EXPIRE', KEYS[1], math.ceil(capacity / rate) + 1)
end
return tostring(wait)
"""


class InProcessBucketStore:
    """Token buckets in this process' memory: the fallback, and the store of one replica."""

    def __init__(self, clock: Clock = time.monotonic) -> None:
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}

    async def take(self, key: str, amount: float, capacity: float, refill_per_s: float) -> float:
        """Take `amount` tokens from bucket `key` (created full at `capacity`); return 0.0 when
        granted, else the seconds until `amount` would be available (nothing is taken then)."""
        now = self._clock()
        tokens, at = self._buckets.get(key, (capacity, now))
        tokens = min(capacity, tokens + max(0.0, now - at) * refill_per_s)
        if tokens >= amount:
            self._buckets[key] = (tokens - amount, now)
            return 0.0
        self._buckets[key] = (tokens, now)
        return _wait_for(amount - tokens, amount, capacity, refill_per_s)


def _wait_for(missing: float, amount: float, capacity: float, refill_per_s: float) -> float:
    # A request larger than the bucket, or a bucket that never refills, is never granted.
    if refill_per_s <= 0 or amount > capacity:
        return math.inf
    return missing / refill_per_s


class RedisBucketStore:
    """Token buckets in Redis, shared by every replica that uses the same Redis and prefix.

    While Redis is unreachable or slow, buckets live in this process (each replica then
    limits on its own); `fallbacks` counts the calls answered that way."""

    def __init__(
        self,
        client: aioredis.Redis,
        *,
        prefix: str = "jobgraph:bucket:",
        clock: Clock = time.monotonic,
    ) -> None:
        self._client = client
        self._prefix = prefix
        self._clock = clock
        self._script = client.register_script(_TAKE_SCRIPT)
        self._local = InProcessBucketStore(clock)
        self._skip_until = 0.0
        self.fallbacks = 0
        self.last_error: str | None = None

    @classmethod
    def from_url(cls, redis_url: str, **kwargs: object) -> RedisBucketStore:
        """A store on its own connection pool, with short timeouts (see REDIS_TIMEOUT_S)."""
        client = aioredis.Redis.from_url(
            redis_url,
            socket_timeout=REDIS_TIMEOUT_S,
            socket_connect_timeout=REDIS_TIMEOUT_S,
        )
        return cls(client, **kwargs)  # type: ignore[arg-type]

    @property
    def redis_ok(self) -> bool:
        """False while the store is answering from process memory."""
        return self._clock() >= self._skip_until

    async def take(self, key: str, amount: float, capacity: float, refill_per_s: float) -> float:
        """Take `amount` tokens from bucket `key` (created full at `capacity`); return 0.0 when
        granted, else the seconds until `amount` would be available (nothing is taken then)."""
        if self.redis_ok:
            try:
                raw = await self._script(
                    keys=[self._prefix + key], args=[amount, capacity, refill_per_s]
                )
            except (RedisError, OSError, TimeoutError) as exc:
                self._skip_until = self._clock() + RETRY_AFTER_FAILURE_S
                # The class name only: a connection error's text may carry the URL's password.
                self.last_error = type(exc).__name__
            else:
                self.last_error = None
                wait = float(raw)
                if wait < 0:
                    return _wait_for(amount, amount, capacity, refill_per_s)
                return wait
        self.fallbacks += 1
        return await self._local.take(key, amount, capacity, refill_per_s)

    async def close(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()

"""State that replicas share through Redis, each piece with an in-process fallback.

Redis is an optimisation, never a dependency of an answer: when it is down or slow the
store answers from process memory, counts the fallback and retries Redis after a pause."""

from __future__ import annotations

import asyncio
import hashlib
import math
import secrets
import struct
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
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
        on_error: Callable[[], None] | None = None,
    ) -> None:
        self._client = client
        self.on_error = on_error
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
                if self.on_error is not None:
                    self.on_error()
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


# One round trip for an upstream GET: the cached response (KEYS[1]), else the source's
# cool-down left (KEYS[2], ms), else try to take the single-flight lock (KEYS[3]) when asked.
# Returns {value or false, cool-down ms, 1 when this caller now holds the lock}.
_LOOKUP_SCRIPT = """
local value = redis.call('GET', KEYS[1])
if value then
  return {value, 0, 0}
end
local cooling = redis.call('PTTL', KEYS[2])
if cooling > 0 then
  return {false, cooling, 0}
end
if ARGV[1] == '' then
  return {false, 0, 0}
end
if redis.call('SET', KEYS[3], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return {false, 0, 1}
end
return {false, 0, 0}
"""

# Release a lock only while this caller still holds it (it may have expired and been retaken).
_RELEASE_SCRIPT = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""

# A cool-down only ever grows: a shorter one does not cut a longer one another replica set.
_COOL_DOWN_SCRIPT = """
local ms = tonumber(ARGV[1])
if redis.call('PTTL', KEYS[1]) < ms then
  redis.call('SET', KEYS[1], '1', 'PX', ms)
end
return 0
"""

# Bodies at least this long are stored zlib-compressed.
_COMPRESS_FROM = 512
_PLAIN, _ZLIB = b"\x00", b"\x01"
_HEADER = struct.Struct(">HI")


@dataclass(frozen=True, slots=True)
class StoredResponse:
    """An upstream response as the shared cache keeps it."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def encode(self) -> bytes:
        """Compact bytes: status, header length, headers as JSON pairs, flagged body."""
        head = orjson.dumps(self.headers)
        if len(self.body) >= _COMPRESS_FROM:
            flag, body = _ZLIB, zlib.compress(self.body, 1)
        else:
            flag, body = _PLAIN, self.body
        return _HEADER.pack(self.status, len(head)) + head + flag + body

    @classmethod
    def decode(cls, raw: bytes) -> StoredResponse:
        status, head_length = _HEADER.unpack_from(raw)
        start = _HEADER.size
        headers = tuple((str(k), str(v)) for k, v in orjson.loads(raw[start : start + head_length]))
        flag = raw[start + head_length : start + head_length + 1]
        body = raw[start + head_length + 1 :]
        if flag == _ZLIB:
            body = zlib.decompress(body)
        elif flag != _PLAIN:
            raise ValueError("unknown body encoding")
        return cls(status, headers, body)


@dataclass(frozen=True, slots=True)
class Lookup:
    """What Redis knows of one upstream GET before it is made.

    `response`: a replica's cached answer. `cooling_s`: the source is cooling down after a
    429. `lock`: this caller holds the single-flight lock (release it when done).
    `available`: False when Redis could not be asked (then nothing else is known)."""

    response: StoredResponse | None = None
    cooling_s: float = 0.0
    lock: str | None = None
    available: bool = True


UNAVAILABLE = Lookup(available=False)


class RedisUpstreamState:
    """The upstream side of what replicas share: cached responses, each source's 429
    cool-down and the single-flight locks, in one Redis.

    Keys hold a digest of (source, URL, credential digest, caller), never a credential or
    the URL itself. Every call is bounded by the client's timeouts; a failed one is counted
    (`errors`, and `on_error(operation)`), answered as if Redis had nothing, and Redis is
    left alone for RETRY_AFTER_FAILURE_S."""

    def __init__(
        self,
        client: aioredis.Redis,
        *,
        prefix: str = "jobgraph:",
        clock: Clock = time.monotonic,
        on_error: Callable[[str], None] | None = None,
    ) -> None:
        self._client = client
        self._prefix = prefix
        self._clock = clock
        self._lookup = client.register_script(_LOOKUP_SCRIPT)
        self._release = client.register_script(_RELEASE_SCRIPT)
        self._cool_down = client.register_script(_COOL_DOWN_SCRIPT)
        self._skip_until = 0.0
        self.on_error = on_error
        self.errors = 0
        self.last_error: str | None = None

    @classmethod
    def from_url(cls, redis_url: str, **kwargs: Any) -> RedisUpstreamState:
        """A state on its own connection pool, with short timeouts (see REDIS_TIMEOUT_S)."""
        client = aioredis.Redis.from_url(
            redis_url,
            socket_timeout=REDIS_TIMEOUT_S,
            socket_connect_timeout=REDIS_TIMEOUT_S,
        )
        return cls(client, **kwargs)

    @property
    def redis_ok(self) -> bool:
        """False while Redis is being left alone after a failure."""
        return self._clock() >= self._skip_until

    def _failed(self, operation: str, exc: BaseException) -> None:
        self._skip_until = self._clock() + RETRY_AFTER_FAILURE_S
        # The class name only: a connection error's text may carry the URL's password.
        self.last_error = type(exc).__name__
        self.errors += 1
        if self.on_error is not None:
            self.on_error(operation)

    def _keys(self, source: str, entry: str) -> list[str]:
        digest = hashlib.sha256(entry.encode()).hexdigest()[:40]
        return [
            f"{self._prefix}resp:{digest}",
            f"{self._prefix}cool:{source}",
            f"{self._prefix}lock:{digest}",
        ]

    async def lookup(self, source: str, entry: str, *, lock_s: float | None) -> Lookup:
        """The cached response for `entry` (a cache key's text), else the source's cool-down,
        else (with `lock_s`) an attempt to take the single-flight lock for that long."""
        if not self.redis_ok:
            return UNAVAILABLE
        token = secrets.token_hex(8) if lock_s is not None else ""
        lock_ms = max(1, int((lock_s or 0) * 1000))
        try:
            raw, cooling_ms, locked = await self._lookup(
                keys=self._keys(source, entry), args=[token, lock_ms]
            )
            response = StoredResponse.decode(raw) if raw else None
        except (RedisError, OSError, TimeoutError, ValueError, struct.error, zlib.error) as exc:
            self._failed("lookup", exc)
            return UNAVAILABLE
        self.last_error = None
        return Lookup(response, int(cooling_ms) / 1000, token if locked else None)

    async def wait_for(
        self, source: str, entry: str, *, lock_s: float, wait_s: float, poll_s: float = 0.02
    ) -> Lookup:
        """Wait (at most `wait_s`) while another replica holds `entry`'s lock: until its
        response is cached, the source cools down, or the lock is free and now ours. After
        `wait_s`, or when Redis fails, an empty Lookup: the caller fetches for itself."""
        waited_until = self._clock() + wait_s
        while self._clock() < waited_until:
            await asyncio.sleep(poll_s)
            found = await self.lookup(source, entry, lock_s=lock_s)
            if not found.available:
                return found
            if found.response is not None or found.cooling_s > 0 or found.lock is not None:
                return found
        return Lookup()

    async def store(
        self, source: str, entry: str, response: StoredResponse, ttl_s: float, lock: str | None
    ) -> None:
        """Cache `response` for `ttl_s` and release `lock` (when held), in one round trip."""
        value_key, _, lock_key = self._keys(source, entry)
        if not self.redis_ok:
            return
        try:
            async with self._client.pipeline(transaction=False) as pipe:
                pipe.set(value_key, response.encode(), px=max(1, int(ttl_s * 1000)))
                if lock is not None:
                    await self._release(keys=[lock_key], args=[lock], client=pipe)
                await pipe.execute()
        except (RedisError, OSError, TimeoutError) as exc:
            self._failed("store", exc)

    async def release(self, source: str, entry: str, lock: str) -> None:
        """Give up `entry`'s lock without a value (the fetch failed): a waiter takes over."""
        if not self.redis_ok:
            return
        try:
            await self._release(keys=[self._keys(source, entry)[2]], args=[lock])
        except (RedisError, OSError, TimeoutError) as exc:
            self._failed("release", exc)

    async def cool_down(self, source: str, seconds: float) -> None:
        """Every replica holds off `source` for `seconds` (an upstream 429)."""
        if not self.redis_ok or seconds <= 0:
            return
        try:
            await self._cool_down(
                keys=[f"{self._prefix}cool:{source}"], args=[max(1, int(seconds * 1000))]
            )
        except (RedisError, OSError, TimeoutError) as exc:
            self._failed("cool_down", exc)

    async def ping(self) -> str | None:
        """None when Redis answers now, else the error's class name (for `/readyz`)."""
        try:
            await self._client.ping()
        except (RedisError, OSError, TimeoutError) as exc:
            self._failed("ping", exc)
            return self.last_error
        self._skip_until = 0.0
        self.last_error = None
        return None

    async def close(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()

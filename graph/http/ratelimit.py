"""Per-caller rate limits: a token bucket per principal, checked before anything executes.

The limiter reaches bucket state only through `BucketStore.take`, so the in-process
`MemoryBucketStore` (the default) can be swapped for a shared one without touching it.
"""

from __future__ import annotations

import math
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from graph.http.auth import GRAPHQL_PATH, PRINCIPAL, is_open
from graph.http.responses import error_response
from graph.strawberry_private import core_schema
from resolvers.config import RateLimitConfig
from resolvers.errors import ErrorCode


class BucketStore(Protocol):
    async def take(self, key: str, amount: float, capacity: float, refill_per_s: float) -> float:
        """Take `amount` tokens from bucket `key` (created full at `capacity`); return 0.0 when
        granted, else the seconds until `amount` would be available (nothing is taken then)."""
        ...


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


class MemoryBucketStore:
    """Buckets in this process's memory (one gateway process)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}

    async def take(self, key: str, amount: float, capacity: float, refill_per_s: float) -> float:
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(capacity, now)
        bucket.tokens = min(capacity, bucket.tokens + (now - bucket.updated) * refill_per_s)
        bucket.updated = now
        if bucket.tokens >= amount:
            bucket.tokens -= amount
            return 0.0
        if refill_per_s <= 0:
            return math.inf
        return (amount - bucket.tokens) / refill_per_s


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a caller may not run an operation now: RATE_LIMITED with the seconds to wait, or
    QUERY_TOO_COMPLEX for a cost no bucket can ever pay."""

    message: str
    code: ErrorCode
    wait: float


class RateLimiter:
    """`requests_per_minute` and `cost_per_minute` per principal: for each, a bucket of that
    capacity refilled over a minute."""

    def __init__(self, config: RateLimitConfig, store: BucketStore | None = None) -> None:
        self.config = config
        self.store: BucketStore = store if store is not None else MemoryBucketStore()

    @property
    def enabled(self) -> bool:
        return self.config.requests_per_minute > 0

    async def wait_for_request(self, principal: str) -> float:
        """0.0 when the principal may make one more request, else the seconds to wait."""
        per_minute = self.config.requests_per_minute
        return await self.store.take(f"requests:{principal}", 1.0, per_minute, per_minute / 60.0)

    @property
    def charges_cost(self) -> bool:
        return self.config.cost_per_minute > 0

    async def wait_for_cost(self, principal: str, cost: float) -> float:
        """0.0 when the principal may spend `cost` now (it is then taken), else the seconds to
        wait; infinite for a cost above the whole per-minute budget."""
        per_minute = self.config.cost_per_minute
        if cost > per_minute:
            return math.inf
        return await self.store.take(f"cost:{principal}", cost, per_minute, per_minute / 60.0)

    async def refuse_request(self, principal: str) -> Refusal | None:
        """Takes one request from the caller's bucket; the refusal when it is empty."""
        wait = await self.wait_for_request(principal)
        if wait <= 0:
            return None
        per_minute = self.config.requests_per_minute
        message = f"rate limit of {per_minute:g} requests per minute exceeded"
        return Refusal(message, ErrorCode.RATE_LIMITED, wait)

    async def refuse_cost(self, principal: str, cost: int | None) -> Refusal | None:
        """Takes `cost` from the caller's cost bucket; the refusal when it cannot pay."""
        if not cost:
            return None
        wait = await self.wait_for_cost(principal, cost)
        if wait <= 0:
            return None
        per_minute = self.config.cost_per_minute
        if math.isinf(wait):
            message = (
                f"the operation may cost {cost}, more than the {per_minute:g} per minute this "
                "caller may spend (ask for smaller pages)"
            )
            return Refusal(message, ErrorCode.QUERY_TOO_COMPLEX, wait)
        message = (
            f"rate limit of {per_minute:g} cost per minute exceeded (this operation may cost "
            f"{cost})"
        )
        return Refusal(message, ErrorCode.RATE_LIMITED, wait)


def rate_limited(message: str, wait: float, media_type: str = "application/json") -> web.Response:
    """HTTP 429 with `Retry-After` (whole seconds, at least 1) and a RATE_LIMITED error."""
    retry_after = retry_after_s(wait)
    return error_response(
        429,
        f"{message}; retry in {retry_after} s",
        ErrorCode.RATE_LIMITED,
        {"Retry-After": str(retry_after)},
        media_type,
    )


def retry_after_s(wait: float) -> int:
    return max(1, math.ceil(min(wait, 86_400.0)))


def rate_limit_middleware(limiter: RateLimiter) -> Middleware:
    """Answers 429 + Retry-After with a RATE_LIMITED error for a caller over its limit."""

    @web.middleware
    async def limit(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not limiter.enabled or request.path != GRAPHQL_PATH or PRINCIPAL not in request:
            return await handler(request)
        if is_open(request):  # GraphiQL's page executes nothing
            return await handler(request)
        refusal = await limiter.refuse_request(request[PRINCIPAL].name)
        if refusal is not None:
            return rate_limited(refusal.message, refusal.wait)
        return await handler(request)

    return limit


class WebSocketLimits(SchemaExtension):
    """The caller's limits for each operation over a WebSocket, which shares one HTTP request
    (the upgrade) with every operation it carries: each `subscribe` is charged as a request,
    and its cost estimate to the cost bucket, before it runs. Refused operations get a
    RATE_LIMITED error (saying when to retry) as their `error` message. HTTP requests are charged
    by `rate_limit_middleware` and the view instead."""

    def __init__(self, limiter: RateLimiter) -> None:
        self.limiter = limiter

    async def on_validate(self) -> AsyncIterator[None]:
        execution = self.execution_context
        context: Any = execution.context
        request = getattr(context, "request", None)
        over_socket = request is not None and _is_upgrade(request)
        if over_socket and execution.pre_execution_errors is None and execution.query:
            refusal = await self._refusal(context.principal.name)
            if refusal is not None:
                execution.pre_execution_errors = [refusal]
        yield

    async def _refusal(self, principal: str) -> GraphQLError | None:
        limiter, execution = self.limiter, self.execution_context
        refusal = await limiter.refuse_request(principal) if limiter.enabled else None
        lane = getattr(execution.schema, "fast_lane", None)
        if refusal is None and limiter.charges_cost and lane is not None:
            schema = core_schema(execution.schema)
            assert execution.query is not None
            query, name, variables = execution.query, execution.operation_name, execution.variables
            refusal = await limiter.refuse_cost(
                principal, lane.cost(schema, query, name, variables)
            )
        if refusal is None:
            return None
        message = refusal.message
        if refusal.code is ErrorCode.RATE_LIMITED:
            message += f"; retry in {retry_after_s(refusal.wait)} s"
        return GraphQLError(message, extensions={"code": refusal.code.value})


def _is_upgrade(request: web.Request) -> bool:
    return request.headers.get("Upgrade", "").lower() == "websocket"

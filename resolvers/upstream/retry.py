"""Retries with backoff, and the 429 cool-down: a source that answered "too many requests"
is left alone (by every caller, and with a shared state by every replica) for as long as its
`Retry-After` says, or for a growing cool-down when it says nothing."""

from __future__ import annotations

import asyncio
import random

from opentelemetry import trace

from resolvers.errors import ErrorCode
from resolvers.shared_state import RedisUpstreamState
from resolvers.upstream.base import (
    AttemptFailed,
    Layer,
    SourceRuntime,
    Upstream,
    UpstreamRequest,
    UpstreamResponse,
)


class Retry(Layer):
    """Repeats a retryable failure after the policy's jittered backoff (or the upstream's
    `Retry-After`) while retries are left and the wait plus an attempt fits the deadline.

    A 429 starts the source's cool-down; one that does not say when to come back is not
    retried, and its caller is told how long the cool-down lasts."""

    def __init__(
        self,
        inner: Upstream,
        rng: random.Random,
        *,
        shared: RedisUpstreamState | None = None,
        traced: bool = False,
    ) -> None:
        super().__init__(inner)
        self.rng = rng
        self.shared = shared
        self.traced = traced

    async def send(self, request: UpstreamRequest) -> UpstreamResponse:
        runtime = request.source
        retry = 0
        try:
            while True:
                try:
                    response = await self.inner.send(request)
                    runtime.throttle.answered()
                    return response
                except AttemptFailed as failed:
                    if failed.error.upstream_status == 429:
                        _cool_down(runtime, failed)
                        if self.shared is not None:
                            await self.shared.cool_down(
                                runtime.config.name, runtime.throttle.remaining()
                            )
                    if not failed.retryable:
                        raise
                    delay = runtime.retry.delay_before_retry(
                        retry, request.deadline.remaining(), self.rng, failed.error.retry_after_s
                    )
                    if delay is None:
                        raise
                await asyncio.sleep(delay)
                retry += 1
        finally:
            if self.traced:
                trace.get_current_span().set_attribute("jobgraph.retries", retry)


def _cool_down(runtime: SourceRuntime, failed: AttemptFailed) -> None:
    error = failed.error
    cool = runtime.throttle.throttled(error.retry_after_s)
    if error.retry_after_s is None:
        failed.retryable = False
        error.retry_after_s = round(cool, 3)
        error.extra["retryAfter"] = error.retry_after_s


class CoolDown(Layer):
    """While the source cools down after a 429, callers are told when to come back instead
    of being sent on (it sits outside the breaker: a cool-down is no verdict on the upstream)."""

    async def send(self, request: UpstreamRequest) -> UpstreamResponse:
        runtime = request.source
        cooling = runtime.throttle.remaining()
        if cooling > 0:
            raise runtime.error(
                f"rate limited by the upstream; try again in {cooling:.1f}s",
                ErrorCode.UPSTREAM_RATE_LIMITED,
                status=429,
                retry_after=round(cooling, 3),
            )
        return await self.inner.send(request)

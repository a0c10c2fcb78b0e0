"""The one place that orders the upstream layers."""

from __future__ import annotations

import random

from opentelemetry.trace import Tracer

from resolvers.shared_state import RedisUpstreamState
from resolvers.upstream.base import Upstream, UpstreamObserver
from resolvers.upstream.breaker import Breaker
from resolvers.upstream.cache import Cached, CacheHits, SharedState
from resolvers.upstream.deadline import AttemptDeadline
from resolvers.upstream.limit import ConcurrencyLimit
from resolvers.upstream.observe import Measured
from resolvers.upstream.retry import CoolDown, Retry
from resolvers.upstream.send import AiohttpSend, HttpErrors
from resolvers.upstream.traced import Traced


def build_upstream(
    *,
    rng: random.Random,
    observer: UpstreamObserver | None = None,
    shared: RedisUpstreamState | None = None,
    tracer: Tracer | None = None,
) -> Upstream:
    """The stack, innermost first; it opens one aiohttp `ClientSession` (call it inside the
    running loop, and `aclose()` it where it was built)."""
    traced = tracer is not None
    hits = CacheHits(observer, traced=traced)
    upstream: Upstream = AiohttpSend(traced=traced)
    upstream = ConcurrencyLimit(upstream)
    upstream = AttemptDeadline(upstream)
    if observer is not None:
        upstream = Measured(upstream, observer)
    upstream = HttpErrors(upstream)
    upstream = Retry(upstream, rng, shared=shared, traced=traced)
    upstream = Breaker(upstream)
    upstream = CoolDown(upstream)
    if shared is not None:
        upstream = SharedState(upstream, shared, hits)
    upstream = Cached(upstream, hits)
    if tracer is not None:
        upstream = Traced(upstream, tracer)
    return upstream

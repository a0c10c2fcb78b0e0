"""The caching layers: the in-process response cache with single flight, and the state
replicas share through Redis. A fresh read (`UpstreamRequest.fresh`) passes both by."""

from __future__ import annotations

import asyncio
from functools import partial

from opentelemetry import trace

from resolvers.resilience import CacheKey
from resolvers.shared_state import RedisUpstreamState
from resolvers.upstream.base import (
    Layer,
    Upstream,
    UpstreamObserver,
    UpstreamRequest,
    UpstreamResponse,
    consume_exception,
)


class CacheHits:
    """Where a response answered from a cache is reported: metrics and the request's span."""

    def __init__(self, observer: UpstreamObserver | None, *, traced: bool) -> None:
        self.observer = observer
        self.traced = traced

    def hit(self, source: str) -> None:
        if self.observer is not None:
            self.observer.cache_hit(source)
        if self.traced:
            trace.get_current_span().set_attribute("jobgraph.cache_hit", True)


class Cached(Layer):
    """A source with `cache_ttl_s` answers from the in-process cache while a response is
    fresh; requests that ask at once for one response share one fetch, as they would share
    its cached answer a moment later."""

    def __init__(self, inner: Upstream, hits: CacheHits) -> None:
        super().__init__(inner)
        self.hits = hits
        self._flights: dict[CacheKey, asyncio.Future[UpstreamResponse]] = {}

    async def send(self, request: UpstreamRequest) -> UpstreamResponse:
        runtime = request.source
        # Built first, for every request: a bad path parameter is refused before any layer acts.
        key = request.key
        if runtime.cache is not None and not request.fresh:
            cached = runtime.cache.get(key)
            if cached is not None:
                self.hits.hit(runtime.config.name)
                return cached
        if request.fresh or runtime.config.cache_ttl_s <= 0:
            return await self._fetch(request)
        flight = self._flights.get(key)
        if flight is None:
            flight = asyncio.ensure_future(self._fetch(request))
            self._flights[key] = flight
            flight.add_done_callback(partial(self._landed, key))
        return await asyncio.shield(flight)

    async def _fetch(self, request: UpstreamRequest) -> UpstreamResponse:
        response = await self.inner.send(request)
        cache = request.source.cache
        if cache is not None and 200 <= response.status < 300:
            cache.put(request.key, response)
        return response

    def _landed(self, key: CacheKey, flight: asyncio.Future[UpstreamResponse]) -> None:
        if self._flights.get(key) is flight:
            del self._flights[key]
        consume_exception(flight)


class SharedState(Layer):
    """A GET through the state replicas share: another replica's cached response, its
    cool-down, or (when caching) one fetch for every replica that asks at once."""

    def __init__(self, inner: Upstream, shared: RedisUpstreamState, hits: CacheHits) -> None:
        super().__init__(inner)
        self.shared = shared
        self.hits = hits

    async def send(self, request: UpstreamRequest) -> UpstreamResponse:
        if request.fresh:
            return await self.inner.send(request)
        shared = self.shared
        runtime = request.source
        config = runtime.config
        caching = config.cache_ttl_s > 0
        entry = entry_text(request.key)
        lock_s = config.timeout_s if caching else None
        found = await shared.lookup(config.name, entry, lock_s=lock_s)
        if caching and found.available and not (found.response or found.lock or found.cooling_s):
            # Another replica is fetching this very response: wait (half the deadline at
            # most) for it to be cached rather than ask the upstream again.
            found = await shared.wait_for(
                config.name,
                entry,
                lock_s=config.timeout_s,
                wait_s=request.deadline.remaining() / 2,
            )
        if found.response is not None:
            self.hits.hit(config.name)
            return UpstreamResponse.from_stored(found.response)
        if found.cooling_s > 0:
            runtime.throttle.hold(found.cooling_s)
        try:
            response = await self.inner.send(request)
        except Exception:
            if found.lock is not None:
                await shared.release(config.name, entry, found.lock)
            raise
        if caching and 200 <= response.status < 300:
            stored = response.stored()
            await shared.store(config.name, entry, stored, config.cache_ttl_s, found.lock)
        elif found.lock is not None:
            await shared.release(config.name, entry, found.lock)
        return response


def entry_text(key: CacheKey) -> str:
    """A cache key as the shared state names it (hashed there, never stored as is)."""
    # A caller of None (no principal) never shares an entry with a caller named "".
    caller = "\x01" if key.caller is None else key.caller
    return "\0".join((key.source, key.url, key.credentials, caller))

"""Each source's concurrency limit (`max_concurrency`)."""

from __future__ import annotations

from resolvers.upstream.base import Layer, UpstreamRequest, UpstreamResponse


class ConcurrencyLimit(Layer):
    """At most `max_concurrency` requests of one source are on the wire at once; the others
    wait for a slot (within their deadline: this layer sits inside `AttemptDeadline`)."""

    async def send(self, request: UpstreamRequest) -> UpstreamResponse:
        async with request.source.semaphore:
            return await self.inner.send(request)

"""Metrics per attempt: one observer call for each request that went to the upstream."""

from __future__ import annotations

import time

from resolvers.upstream.base import (
    AttemptFailed,
    Layer,
    Upstream,
    UpstreamObserver,
    UpstreamRequest,
    UpstreamResponse,
)


class Measured(Layer):
    """Reports each attempt's outcome (the HTTP status, the error code of a failure without
    one, or "error" when it was cancelled) and how long it took, slot wait included."""

    def __init__(self, inner: Upstream, observer: UpstreamObserver) -> None:
        super().__init__(inner)
        self.observer = observer

    async def send(self, request: UpstreamRequest) -> UpstreamResponse:
        started = time.perf_counter()
        outcome = "error"
        try:
            response = await self.inner.send(request)
            outcome = str(response.status)
        except AttemptFailed as failed:
            outcome = failed.error.code.value.lower()
            raise
        finally:
            self.observer.upstream_request(
                request.source.config.name, outcome, time.perf_counter() - started
            )
        return response

"""The circuit breaker layer: a source that keeps failing is failed fast for a while."""

from __future__ import annotations

from resolvers.errors import ErrorCode
from resolvers.upstream.base import AttemptFailed, Layer, UpstreamRequest, UpstreamResponse


class Breaker(Layer):
    """Fails fast while the source's breaker is open; records each request's verdict (an
    upstream fault, any other answer, or none when cancelled). From here out a failed
    attempt is the caller's coded `UpstreamError`."""

    async def send(self, request: UpstreamRequest) -> UpstreamResponse:
        runtime = request.source
        breaker = runtime.breaker
        if not breaker.allow():
            raise runtime.error(
                "failing fast after repeated upstream failures "
                f"(circuit open, next try in {max(breaker.cooldown_left(), 0.1):.1f}s)",
                ErrorCode.UPSTREAM_UNAVAILABLE,
            )
        try:
            response = await self.inner.send(request)
        except AttemptFailed as failed:
            if failed.fault:
                breaker.record_failure()
            else:
                breaker.record_success()
            raise failed.error from None
        except BaseException:
            breaker.record_abandoned()
            raise
        breaker.record_success()
        return response

"""The request's deadline, enforced on each attempt: an attempt, its wait for a connection
slot included, gets what is left of the time the whole request may take."""

from __future__ import annotations

import asyncio

from resolvers.errors import ErrorCode
from resolvers.upstream.base import AttemptFailed, Layer, UpstreamRequest, UpstreamResponse


class AttemptDeadline(Layer):
    """An attempt still under way at the request's deadline fails as UPSTREAM_TIMEOUT; it is
    not retried (no time is left) and counts against the upstream."""

    async def send(self, request: UpstreamRequest) -> UpstreamResponse:
        try:
            async with asyncio.timeout(request.deadline.remaining()):
                return await self.inner.send(request)
        except TimeoutError:
            runtime = request.source
            raise AttemptFailed(
                runtime.error(
                    f"no answer within {runtime.config.timeout_s:g}s", ErrorCode.UPSTREAM_TIMEOUT
                ),
                retryable=False,
                fault=True,
            ) from None

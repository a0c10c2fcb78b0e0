"""The layers that speak HTTP: the aiohttp send (one pooled `ClientSession`, bodies bounded,
transport failures mapped to coded errors) and the mapping of an error status to an error."""

from __future__ import annotations

import aiohttp

from resolvers.errors import ErrorCode, UpstreamError, code_for_upstream_status
from resolvers.resilience import RETRYABLE_STATUSES, parse_retry_after
from resolvers.tracing import inject_traceparent
from resolvers.upstream.base import (
    AttemptFailed,
    Layer,
    SourceRuntime,
    UpstreamRequest,
    UpstreamResponse,
)


class AiohttpSend:
    """The innermost layer: one GET over the app's one aiohttp `ClientSession`.

    Any status comes back as a response; a body past the source's `max_body_bytes` or a
    transport failure raises `AttemptFailed`. `traced`: carry the current span's
    `traceparent` upstream."""

    def __init__(self, *, traced: bool = False) -> None:
        self.traced = traced
        connector = aiohttp.TCPConnector(limit=0, ttl_dns_cache=300)
        self._session = aiohttp.ClientSession(
            connector=connector, auto_decompress=True, skip_auto_headers=("User-Agent",)
        )

    async def aclose(self) -> None:
        await self._session.close()

    async def send(self, request: UpstreamRequest) -> UpstreamResponse:
        runtime = request.source
        config = runtime.config
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=config.connect_timeout_s)
        headers = runtime.headers
        if self.traced:
            headers = dict(headers)
            inject_traceparent(headers)
        try:
            async with self._session.get(
                request.url, headers=headers, timeout=timeout, allow_redirects=False
            ) as response:
                body = await _read_limited(runtime, response)
                return UpstreamResponse(response.status, response.headers, body)
        except aiohttp.ConnectionTimeoutError:
            raise AttemptFailed(
                runtime.error(
                    f"could not connect within {config.connect_timeout_s:g}s",
                    ErrorCode.UPSTREAM_TIMEOUT,
                ),
                retryable=True,
                fault=True,
            ) from None
        except aiohttp.ClientPayloadError:
            raise AttemptFailed(
                runtime.error(
                    "the response body was cut short", ErrorCode.UPSTREAM_INVALID_RESPONSE
                ),
                retryable=False,
                fault=True,
            ) from None
        except aiohttp.ClientError as exc:
            raise AttemptFailed(
                runtime.error(
                    f"connection failed ({type(exc).__name__})", ErrorCode.UPSTREAM_UNAVAILABLE
                ),
                retryable=True,
                fault=True,
            ) from None


async def _read_limited(runtime: SourceRuntime, response: aiohttp.ClientResponse) -> bytes:
    """The body, or an error as soon as it passes `max_body_bytes` (declared or counted)."""
    limit = runtime.config.max_body_bytes
    declared = response.content_length
    if declared is not None and declared > limit:
        response.close()
        raise _oversized(runtime, response.status, f"of {declared} bytes ", limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > limit:
            response.close()
            raise _oversized(runtime, response.status, "", limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _oversized(runtime: SourceRuntime, status: int, size: str, limit: int) -> AttemptFailed:
    error = runtime.error(
        f"response body {size}exceeds the {limit}-byte limit",
        ErrorCode.UPSTREAM_INVALID_RESPONSE,
        status=status,
    )
    return AttemptFailed(error, retryable=False, fault=False)


class HttpErrors(Layer):
    """An answer of 400 or above becomes `AttemptFailed`, with the provider's own message
    and code (never its raw body); 429 and the gateway statuses may be retried, and only a
    5xx counts against the upstream."""

    async def send(self, request: UpstreamRequest) -> UpstreamResponse:
        response = await self.inner.send(request)
        if response.status >= 400:
            raise AttemptFailed(
                http_error(request, response),
                retryable=response.status in RETRYABLE_STATUSES,
                fault=response.status >= 500,
            )
        return response


def http_error(request: UpstreamRequest, response: UpstreamResponse) -> UpstreamError:
    """The coded error for an error status, described by the provider's adapter."""
    try:
        message, provider_code = request.describe_error(response.status, response.body)
    except Exception:
        message, provider_code = f"HTTP {response.status}", None
    return request.source.error(
        message or f"HTTP {response.status}",
        code_for_upstream_status(response.status),
        status=response.status,
        provider_code=provider_code,
        retry_after=parse_retry_after(response.headers.get("Retry-After")),
    )

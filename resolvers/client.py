"""The one layer that speaks HTTP to upstreams.

`UpstreamClient` is app-wide: it owns the single aiohttp `ClientSession`, each source's
credentials, timeouts and concurrency limit, and turns every transport or HTTP failure into
a coded `UpstreamError`. `UpstreamSession` is per GraphQL operation: identical requests made
while answering one operation share one upstream call.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import quote

import aiohttp
import orjson
from yarl import URL

from resolvers.config import SourceConfig
from resolvers.errors import BadUserInput, ErrorCode, UpstreamError, code_for_upstream_status

# (safe message, provider's own error code) for a non-success body; never the raw body.
ErrorDescriber = Callable[[int, bytes], tuple[str, str | None]]

_FORBIDDEN_IN_SEGMENT = re.compile(r"[/\\?#%\x00-\x1f\x7f]")
_MAX_MESSAGE = 300


def check_path_segment(value: str, what: str) -> str:
    """Reject a user-supplied path parameter that could address another upstream path."""
    if not value or value in (".", "..") or _FORBIDDEN_IN_SEGMENT.search(value) or len(value) > 256:
        raise BadUserInput(f"{what} {value[:64]!r} is not a valid identifier")
    return value


class UpstreamObserver(Protocol):
    """Receives one call per upstream request (metrics, logs)."""

    def upstream_request(self, source: str, outcome: str, seconds: float) -> None: ...


@dataclass(frozen=True, slots=True)
class UpstreamResponse:
    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        return orjson.loads(self.body)


@dataclass(slots=True)
class SourceRuntime:
    """Per-source state that lives as long as the app."""

    config: SourceConfig
    headers: dict[str, str]
    secrets: list[str]
    semaphore: asyncio.Semaphore
    timeout: aiohttp.ClientTimeout
    extra: dict[str, Any] = field(default_factory=dict)


def _safe_message(message: str, secrets: Sequence[str]) -> str:
    message = " ".join(message.split())[:_MAX_MESSAGE]
    for secret in secrets:
        if secret:
            message = message.replace(secret, "[redacted]")
    return message


def _retry_after(headers: Mapping[str, str]) -> float | None:
    value = headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


class UpstreamClient:
    """App-wide HTTP client for every configured source."""

    def __init__(
        self,
        sources: Sequence[SourceConfig],
        environ: Mapping[str, str],
        observer: UpstreamObserver | None = None,
    ) -> None:
        self._session: aiohttp.ClientSession | None = None
        self._observer = observer
        self.sources: dict[str, SourceRuntime] = {}
        for source in sources:
            self.sources[source.name] = SourceRuntime(
                config=source,
                headers={"Accept": "application/json", **source.credential_headers(environ)},
                secrets=source.secrets(environ),
                semaphore=asyncio.Semaphore(source.max_concurrency),
                timeout=aiohttp.ClientTimeout(
                    total=source.timeout_s, sock_connect=source.connect_timeout_s
                ),
            )

    @property
    def secrets(self) -> list[str]:
        return [s for runtime in self.sources.values() for s in runtime.secrets]

    async def start(self) -> None:
        if self._session is None:
            connector = aiohttp.TCPConnector(limit=0, ttl_dns_cache=300)
            self._session = aiohttp.ClientSession(
                connector=connector, auto_decompress=True, skip_auto_headers=("User-Agent",)
            )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def url_for(self, source: str, path: str, path_params: Mapping[str, str]) -> URL:
        """The upstream URL: base_url + path with each parameter checked and percent-encoded."""
        runtime = self.sources[source]
        encoded = {
            key: quote(check_path_segment(value, key), safe="")
            for key, value in path_params.items()
        }
        return URL(runtime.config.base_url + path.format(**encoded), encoded=True)

    async def get(
        self,
        source: str,
        path: str,
        path_params: Mapping[str, str],
        params: Sequence[tuple[str, str]],
        describe_error: ErrorDescriber,
    ) -> UpstreamResponse:
        """GET a JSON resource; any failure becomes an UpstreamError naming the source."""
        runtime = self.sources[source]
        url = self.url_for(source, path, path_params)
        if params:
            query = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in params)
            url = URL(f"{url}?{query}", encoded=True)
        started = time.perf_counter()
        outcome = "error"
        try:
            async with runtime.semaphore:
                response = await self._send(runtime, url)
            outcome = str(response.status)
        except UpstreamError as exc:
            outcome = exc.code.value.lower()
            raise
        finally:
            if self._observer is not None:
                self._observer.upstream_request(source, outcome, time.perf_counter() - started)
        if response.status >= 400:
            raise self._http_error(runtime, response, describe_error)
        return response

    async def _send(self, runtime: SourceRuntime, url: URL) -> UpstreamResponse:
        if self._session is None:
            await self.start()
        assert self._session is not None
        config = runtime.config
        try:
            async with self._session.get(
                url, headers=runtime.headers, timeout=runtime.timeout, allow_redirects=False
            ) as response:
                body = await self._read_limited(response, config)
                return UpstreamResponse(response.status, response.headers, body)
        except TimeoutError:
            raise self._error(
                runtime, f"no answer within {config.timeout_s:g}s", ErrorCode.UPSTREAM_TIMEOUT
            ) from None
        except aiohttp.ClientPayloadError:
            raise self._error(
                runtime, "the response body was cut short", ErrorCode.UPSTREAM_INVALID_RESPONSE
            ) from None
        except aiohttp.ClientError as exc:
            raise self._error(
                runtime,
                f"connection failed ({type(exc).__name__})",
                ErrorCode.UPSTREAM_UNAVAILABLE,
            ) from None

    async def _read_limited(self, response: aiohttp.ClientResponse, config: SourceConfig) -> bytes:
        limit = config.max_body_bytes
        declared = response.content_length
        if declared is not None and declared > limit:
            response.close()
            raise UpstreamError(
                f"response body of {declared} bytes exceeds the {limit}-byte limit",
                code=ErrorCode.UPSTREAM_INVALID_RESPONSE,
                source=config.name,
                provider=config.provider.name,
                upstream_status=response.status,
            )
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.content.iter_chunked(64 * 1024):
            size += len(chunk)
            if size > limit:
                response.close()
                raise UpstreamError(
                    f"response body exceeds the {limit}-byte limit",
                    code=ErrorCode.UPSTREAM_INVALID_RESPONSE,
                    source=config.name,
                    provider=config.provider.name,
                    upstream_status=response.status,
                )
            chunks.append(chunk)
        return b"".join(chunks)

    def _error(
        self,
        runtime: SourceRuntime,
        message: str,
        code: ErrorCode,
        status: int | None = None,
        provider_code: str | None = None,
        retry_after: float | None = None,
    ) -> UpstreamError:
        config = runtime.config
        return UpstreamError(
            f"{config.name}: {_safe_message(message, runtime.secrets)}",
            code=code,
            source=config.name,
            provider=config.provider.name,
            upstream_status=status,
            upstream_code=provider_code,
            retry_after_s=retry_after,
        )

    def _http_error(
        self, runtime: SourceRuntime, response: UpstreamResponse, describe: ErrorDescriber
    ) -> UpstreamError:
        try:
            message, provider_code = describe(response.status, response.body)
        except Exception:
            message, provider_code = f"HTTP {response.status}", None
        return self._error(
            runtime,
            message or f"HTTP {response.status}",
            code_for_upstream_status(response.status),
            status=response.status,
            provider_code=provider_code,
            retry_after=_retry_after(response.headers),
        )


class UpstreamSession:
    """One GraphQL operation's view of the client: identical GETs are made once."""

    def __init__(self, client: UpstreamClient) -> None:
        self.client = client
        self.calls = 0
        self._inflight: dict[tuple[Any, ...], asyncio.Future[UpstreamResponse]] = {}

    def get(
        self,
        source: str,
        path: str,
        path_params: Mapping[str, str],
        params: Sequence[tuple[str, str]],
        describe_error: ErrorDescriber,
    ) -> Awaitable[UpstreamResponse]:
        key = (source, path, tuple(sorted(path_params.items())), tuple(params))
        future = self._inflight.get(key)
        if future is None:
            self.calls += 1
            future = asyncio.ensure_future(
                self.client.get(source, path, path_params, params, describe_error)
            )
            future.add_done_callback(_consume_exception)
            self._inflight[key] = future
        return asyncio.shield(future)


def _consume_exception(future: asyncio.Future[UpstreamResponse]) -> None:
    # Shared futures may fail after every waiter has gone; mark the error as seen.
    if not future.cancelled():
        future.exception()

"""The one layer that speaks HTTP to upstreams.

`UpstreamClient` is app-wide: it owns the single aiohttp `ClientSession` and, per source, the
credentials, concurrency limit, deadline, retry policy, circuit breaker and optional response
cache; it turns every transport or HTTP failure into a coded `UpstreamError`.
`UpstreamSession` is per GraphQL operation: identical requests made while answering one
operation share one upstream call.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import re
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Protocol
from urllib.parse import quote

import aiohttp
import orjson
from multidict import CIMultiDict, CIMultiDictProxy
from opentelemetry import trace
from opentelemetry.trace import SpanKind, StatusCode, Tracer
from yarl import URL

from resolvers.config import SourceConfig
from resolvers.errors import BadUserInput, ErrorCode, UpstreamError, code_for_upstream_status
from resolvers.resilience import (
    RETRYABLE_STATUSES,
    BreakerState,
    CacheKey,
    CircuitBreaker,
    Clock,
    Deadline,
    ResponseCache,
    RetryPolicy,
    Throttle,
    credential_identity,
    parse_retry_after,
)
from resolvers.shared_state import RedisUpstreamState, StoredResponse
from resolvers.tracing import inject_traceparent

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

    def cache_hit(self, source: str) -> None:
        """One upstream response answered from a cache instead of the network."""

    def breaker_state(self, source: str, state: str) -> None:
        """A source's circuit breaker is now "closed", "open" or "half_open"."""


@dataclass(frozen=True, slots=True)
class UpstreamResponse:
    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        return orjson.loads(self.body)

    def stored(self) -> StoredResponse:
        return StoredResponse(self.status, tuple(self.headers.items()), self.body)

    @classmethod
    def from_stored(cls, stored: StoredResponse) -> UpstreamResponse:
        return cls(stored.status, CIMultiDictProxy(CIMultiDict(stored.headers)), stored.body)


@dataclass(slots=True)
class SourceRuntime:
    """Per-source state that lives as long as the app."""

    config: SourceConfig
    headers: dict[str, str]
    secrets: list[str]
    semaphore: asyncio.Semaphore
    retry: RetryPolicy
    breaker: CircuitBreaker
    throttle: Throttle
    credentials: str
    cache: ResponseCache[UpstreamResponse] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class _AttemptFailed(Exception):
    """One attempt failed; `fault` says the upstream is at fault (counts for the breaker),
    `retryable` that repeating the GET is safe and may help."""

    def __init__(self, error: UpstreamError, *, retryable: bool, fault: bool) -> None:
        super().__init__(error.message)
        self.error = error
        self.retryable = retryable
        self.fault = fault


def _report_breaker(observer: UpstreamObserver, source: str, state: BreakerState) -> None:
    observer.breaker_state(source, state.value)


def safe_message(message: str, secrets: Sequence[str]) -> str:
    """A message fit for callers: one line, bounded, with every secret redacted."""
    message = " ".join(message.split())[:_MAX_MESSAGE]
    for secret in secrets:
        if secret:
            message = message.replace(secret, "[redacted]")
    return message


class UpstreamClient:
    """App-wide HTTP client for every configured source."""

    def __init__(
        self,
        sources: Sequence[SourceConfig],
        environ: Mapping[str, str],
        observer: UpstreamObserver | None = None,
        *,
        clock: Clock = time.monotonic,
        rng: random.Random | None = None,
        shared: RedisUpstreamState | None = None,
        tracer: Tracer | None = None,
    ) -> None:
        self._session: aiohttp.ClientSession | None = None
        self._observer = observer
        self._shared = shared
        self._tracer = tracer
        # Fetches under way for cached sources, shared by the operations that ask meanwhile.
        self._flights: dict[CacheKey, asyncio.Future[UpstreamResponse]] = {}
        self._clock = clock
        self._rng = rng or random.Random()
        self.sources: dict[str, SourceRuntime] = {}
        for source in sources:
            credentials = source.credential_headers(environ)
            cache: ResponseCache[UpstreamResponse] | None = None
            # With a shared state, responses are cached there only, one copy for every replica.
            if source.cache_ttl_s > 0 and shared is None:
                cache = ResponseCache(
                    source.cache_ttl_s, size_of=lambda r: len(r.body) + 512, clock=clock
                )
            self.sources[source.name] = SourceRuntime(
                config=source,
                headers={"Accept": "application/json", **credentials},
                secrets=source.secrets(environ),
                semaphore=asyncio.Semaphore(source.max_concurrency),
                retry=RetryPolicy(max_retries=source.max_retries),
                breaker=CircuitBreaker(
                    source.breaker_failures, source.breaker_cooldown_s, clock=clock
                ),
                throttle=Throttle(
                    source.throttle_cooldown_s, source.throttle_max_cooldown_s, clock=clock
                ),
                credentials=credential_identity(credentials),
                cache=cache,
            )
            if observer is not None:
                breaker = self.sources[source.name].breaker
                breaker.on_change = partial(_report_breaker, observer, source.name)
                observer.breaker_state(source.name, breaker.state.value)

    def breaker_states(self) -> dict[str, str]:
        """Each source's circuit breaker: "closed", "open" or "half_open"."""
        return {name: runtime.breaker.state.value for name, runtime in self.sources.items()}

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
        *,
        caller: str | None = None,
    ) -> UpstreamResponse:
        """GET a JSON resource; any failure becomes an UpstreamError naming the source.

        The whole call, retries included, ends within the source's `timeout_s`. `caller`
        names who asks (for the response cache, which never serves one caller's answer
        to another).
        """
        if self._tracer is None:
            return await self._get(source, path, path_params, params, describe_error, caller)
        config = self.sources[source].config
        attributes = {
            "jobgraph.source": source,
            "jobgraph.provider": config.provider.name,
            "http.request.method": "GET",
            # The template only: path parameters and the query may carry what callers typed.
            "url.template": _url_template(config.base_url, path),
        }
        with self._tracer.start_as_current_span(
            f"GET {source}",
            kind=SpanKind.CLIENT,
            attributes=attributes,
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            try:
                response = await self._get(
                    source, path, path_params, params, describe_error, caller
                )
            except UpstreamError as exc:
                if exc.upstream_status is not None:
                    span.set_attribute("http.response.status_code", exc.upstream_status)
                span.set_attribute("jobgraph.error_code", exc.code.value)
                span.set_status(StatusCode.ERROR, exc.code.value)
                raise
            span.set_attribute("http.response.status_code", response.status)
            return response

    async def _get(
        self,
        source: str,
        path: str,
        path_params: Mapping[str, str],
        params: Sequence[tuple[str, str]],
        describe_error: ErrorDescriber,
        caller: str | None,
    ) -> UpstreamResponse:
        runtime = self.sources[source]
        url = self.url_for(source, path, path_params)
        if params:
            query = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in params)
            url = URL(f"{url}?{query}", encoded=True)
        key = CacheKey(source, str(url), runtime.credentials, caller)
        if runtime.cache is not None and not _FRESH.get():
            cached = runtime.cache.get(key)
            if cached is not None:
                self._cache_hit(source)
                return cached
        deadline = Deadline(runtime.config.timeout_s, self._clock)
        if _FRESH.get():
            # The list as it is now: no cached, shared or joined response.
            return await self._get_fresh(runtime, key, url, describe_error, deadline)
        if runtime.config.cache_ttl_s <= 0:
            return await self._fetch(runtime, key, url, describe_error, deadline)
        # A cached source: operations asking at once for one response share one fetch, as
        # they would share its cached answer a moment later.
        flight = self._flights.get(key)
        if flight is None:
            flight = asyncio.ensure_future(self._fetch(runtime, key, url, describe_error, deadline))
            self._flights[key] = flight
            flight.add_done_callback(partial(self._landed, key))
        return await asyncio.shield(flight)

    def _landed(self, key: CacheKey, flight: asyncio.Future[UpstreamResponse]) -> None:
        if self._flights.get(key) is flight:
            del self._flights[key]
        _consume_exception(flight)

    async def _fetch(
        self,
        runtime: SourceRuntime,
        key: CacheKey,
        url: URL,
        describe_error: ErrorDescriber,
        deadline: Deadline,
    ) -> UpstreamResponse:
        if self._shared is None:
            return await self._get_fresh(runtime, key, url, describe_error, deadline)
        return await self._get_shared(self._shared, runtime, key, url, describe_error, deadline)

    async def _get_shared(
        self,
        shared: RedisUpstreamState,
        runtime: SourceRuntime,
        key: CacheKey,
        url: URL,
        describe_error: ErrorDescriber,
        deadline: Deadline,
    ) -> UpstreamResponse:
        """A GET through the state replicas share: another replica's cached response, its
        cool-down, or (when caching) one fetch for every replica that asks at once."""
        config = runtime.config
        caching = config.cache_ttl_s > 0
        entry = _entry_text(key)
        lock_s = config.timeout_s if caching else None
        found = await shared.lookup(config.name, entry, lock_s=lock_s)
        if caching and found.available and not (found.response or found.lock or found.cooling_s):
            # Another replica is fetching this very response: wait (half the deadline at
            # most) for it to be cached rather than ask the upstream again.
            found = await shared.wait_for(
                config.name, entry, lock_s=config.timeout_s, wait_s=deadline.remaining() / 2
            )
        if found.response is not None:
            self._cache_hit(config.name)
            return UpstreamResponse.from_stored(found.response)
        if found.cooling_s > 0:
            runtime.throttle.hold(found.cooling_s)
        try:
            response = await self._get_fresh(runtime, key, url, describe_error, deadline)
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

    def _cache_hit(self, source: str) -> None:
        if self._observer is not None:
            self._observer.cache_hit(source)
        if self._tracer is not None:
            trace.get_current_span().set_attribute("jobgraph.cache_hit", True)

    async def _get_fresh(
        self,
        runtime: SourceRuntime,
        key: CacheKey,
        url: URL,
        describe_error: ErrorDescriber,
        deadline: Deadline,
    ) -> UpstreamResponse:
        """A GET of the upstream itself, unless it is cooling down or its breaker is open."""
        cooling = runtime.throttle.remaining()
        if cooling > 0:
            raise self._error(
                runtime,
                f"rate limited by the upstream; try again in {cooling:.1f}s",
                ErrorCode.UPSTREAM_RATE_LIMITED,
                status=429,
                retry_after=round(cooling, 3),
            )
        breaker = runtime.breaker
        if not breaker.allow():
            raise self._error(
                runtime,
                "failing fast after repeated upstream failures "
                f"(circuit open, next try in {max(breaker.cooldown_left(), 0.1):.1f}s)",
                ErrorCode.UPSTREAM_UNAVAILABLE,
            )
        try:
            response = await self._get_with_retries(runtime, url, describe_error, deadline)
        except _AttemptFailed as failed:
            if failed.fault:
                breaker.record_failure()
            else:
                breaker.record_success()
            raise failed.error from None
        except BaseException:
            breaker.record_abandoned()
            raise
        breaker.record_success()
        if runtime.cache is not None and 200 <= response.status < 300:
            runtime.cache.put(key, response)
        return response

    async def _get_with_retries(
        self, runtime: SourceRuntime, url: URL, describe_error: ErrorDescriber, deadline: Deadline
    ) -> UpstreamResponse:
        retry = 0
        try:
            while True:
                try:
                    response = await self._attempt(runtime, url, deadline, describe_error)
                    runtime.throttle.answered()
                    return response
                except _AttemptFailed as failed:
                    if failed.error.upstream_status == 429:
                        self._cool_down(runtime, failed)
                        if self._shared is not None:
                            await self._shared.cool_down(
                                runtime.config.name, runtime.throttle.remaining()
                            )
                    if not failed.retryable:
                        raise
                    delay = runtime.retry.delay_before_retry(
                        retry, deadline.remaining(), self._rng, failed.error.retry_after_s
                    )
                    if delay is None:
                        raise
                await asyncio.sleep(delay)
                retry += 1
        finally:
            if self._tracer is not None:
                trace.get_current_span().set_attribute("jobgraph.retries", retry)

    def _cool_down(self, runtime: SourceRuntime, failed: _AttemptFailed) -> None:
        """Start the source's cool-down; a 429 that does not say when to return is not
        retried, and its caller is told how long the cool-down lasts."""
        error = failed.error
        cool = runtime.throttle.throttled(error.retry_after_s)
        if error.retry_after_s is None:
            failed.retryable = False
            error.retry_after_s = round(cool, 3)
            error.extra["retryAfter"] = error.retry_after_s

    async def _attempt(
        self,
        runtime: SourceRuntime,
        url: URL,
        deadline: Deadline,
        describe_error: ErrorDescriber,
    ) -> UpstreamResponse:
        """One GET, bounded by what is left of the deadline (waiting for a slot included)."""
        started = time.perf_counter()
        outcome = "error"
        try:
            try:
                async with asyncio.timeout(deadline.remaining()), runtime.semaphore:
                    response = await self._send(runtime, url)
            except TimeoutError:
                raise _AttemptFailed(
                    self._error(
                        runtime,
                        f"no answer within {runtime.config.timeout_s:g}s",
                        ErrorCode.UPSTREAM_TIMEOUT,
                    ),
                    retryable=False,
                    fault=True,
                ) from None
            outcome = str(response.status)
        except _AttemptFailed as failed:
            outcome = failed.error.code.value.lower()
            raise
        finally:
            if self._observer is not None:
                self._observer.upstream_request(
                    runtime.config.name, outcome, time.perf_counter() - started
                )
        if response.status >= 400:
            error = self._http_error(runtime, response, describe_error)
            raise _AttemptFailed(
                error,
                retryable=response.status in RETRYABLE_STATUSES,
                fault=response.status >= 500,
            )
        return response

    async def _send(self, runtime: SourceRuntime, url: URL) -> UpstreamResponse:
        if self._session is None:
            await self.start()
        assert self._session is not None
        config = runtime.config
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=config.connect_timeout_s)
        headers = runtime.headers
        if self._tracer is not None:
            headers = dict(headers)
            inject_traceparent(headers)
        try:
            async with self._session.get(
                url, headers=headers, timeout=timeout, allow_redirects=False
            ) as response:
                body = await self._read_limited(runtime, response)
                return UpstreamResponse(response.status, response.headers, body)
        except aiohttp.ConnectionTimeoutError:
            raise _AttemptFailed(
                self._error(
                    runtime,
                    f"could not connect within {config.connect_timeout_s:g}s",
                    ErrorCode.UPSTREAM_TIMEOUT,
                ),
                retryable=True,
                fault=True,
            ) from None
        except aiohttp.ClientPayloadError:
            raise _AttemptFailed(
                self._error(
                    runtime, "the response body was cut short", ErrorCode.UPSTREAM_INVALID_RESPONSE
                ),
                retryable=False,
                fault=True,
            ) from None
        except aiohttp.ClientError as exc:
            raise _AttemptFailed(
                self._error(
                    runtime,
                    f"connection failed ({type(exc).__name__})",
                    ErrorCode.UPSTREAM_UNAVAILABLE,
                ),
                retryable=True,
                fault=True,
            ) from None

    async def _read_limited(
        self, runtime: SourceRuntime, response: aiohttp.ClientResponse
    ) -> bytes:
        """The body, or an error as soon as it passes `max_body_bytes` (declared or counted)."""
        limit = runtime.config.max_body_bytes
        declared = response.content_length
        if declared is not None and declared > limit:
            response.close()
            raise self._oversized(runtime, response.status, f"of {declared} bytes ", limit)
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.content.iter_chunked(64 * 1024):
            size += len(chunk)
            if size > limit:
                response.close()
                raise self._oversized(runtime, response.status, "", limit)
            chunks.append(chunk)
        return b"".join(chunks)

    def _oversized(self, runtime: SourceRuntime, status: int, size: str, limit: int) -> Exception:
        error = self._error(
            runtime,
            f"response body {size}exceeds the {limit}-byte limit",
            ErrorCode.UPSTREAM_INVALID_RESPONSE,
            status=status,
        )
        return _AttemptFailed(error, retryable=False, fault=False)

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
            f"{config.name}: {safe_message(message, runtime.secrets)}",
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
            retry_after=parse_retry_after(response.headers.get("Retry-After")),
        )


def _url_template(base_url: str, path: str) -> str:
    # A base URL's user and password (if any) never reach a span.
    base = URL(base_url).with_user(None).with_query(None)
    return f"{str(base).rstrip('/')}{path}"


def _entry_text(key: CacheKey) -> str:
    # A caller of None (no principal) never shares an entry with a caller named "".
    caller = "\x01" if key.caller is None else key.caller
    return "\0".join((key.source, key.url, key.credentials, caller))


# Set (per task, see `fresh_reads`) where a read must show the list as it is now.
_FRESH: ContextVar[bool] = ContextVar("jobgraph_fresh_reads", default=False)


class UpstreamSession:
    """One GraphQL operation's view of the client: identical GETs are made once.

    `caller` identifies who the operation runs for; the client's response cache is
    partitioned by it.
    """

    def __init__(self, client: UpstreamClient, caller: str | None = None) -> None:
        self.client = client
        self.caller = caller
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
        future = None if _FRESH.get() else self._inflight.get(key)
        if future is None:
            self.calls += 1
            future = asyncio.ensure_future(
                self.client.get(
                    source, path, path_params, params, describe_error, caller=self.caller
                )
            )
            future.add_done_callback(_consume_exception)
            self._inflight[key] = future
        return asyncio.shield(future)


@contextlib.contextmanager
def fresh_reads() -> Iterator[None]:
    """Within it (in this task and the tasks it starts), GETs go to the upstream again even
    where this operation or the response cache already holds the same response: a read
    joined to one made moments ago must see the list as it is now, not as it was."""
    token = _FRESH.set(True)
    try:
        yield
    finally:
        _FRESH.reset(token)


def _consume_exception(future: asyncio.Future[UpstreamResponse]) -> None:
    # Shared futures may fail after every waiter has gone; mark the error as seen.
    if not future.cancelled():
        future.exception()

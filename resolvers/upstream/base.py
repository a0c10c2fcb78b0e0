"""The one interface every layer of the upstream stack implements, and what flows through it:
the request (with the per-source state it is made for), the response and a failed attempt."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import quote

import orjson
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from resolvers.config import SourceConfig
from resolvers.errors import BadUserInput, ErrorCode, UpstreamError
from resolvers.resilience import (
    CacheKey,
    CircuitBreaker,
    Clock,
    Deadline,
    ResponseCache,
    RetryPolicy,
    Throttle,
    credential_identity,
)
from resolvers.shared_state import StoredResponse

# (safe message, provider's own error code) for a non-success body; never the raw body.
ErrorDescriber = Callable[[int, bytes], tuple[str, str | None]]

_FORBIDDEN_IN_SEGMENT = re.compile(r"[/\\?#%\x00-\x1f\x7f]")
_MAX_MESSAGE = 300


def check_path_segment(value: str, what: str) -> str:
    """Reject a user-supplied path parameter that could address another upstream path."""
    if not value or value in (".", "..") or _FORBIDDEN_IN_SEGMENT.search(value) or len(value) > 256:
        raise BadUserInput(f"{what} {value[:64]!r} is not a valid identifier")
    return value


def safe_message(message: str, secrets: Sequence[str]) -> str:
    """A message fit for callers: one line, bounded, with every secret redacted."""
    message = " ".join(message.split())[:_MAX_MESSAGE]
    for secret in secrets:
        if secret:
            message = message.replace(secret, "[redacted]")
    return message


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
    """Per-source state that lives as long as the app; the layers read and update it."""

    config: SourceConfig
    headers: dict[str, str]
    secrets: list[str]
    semaphore: asyncio.Semaphore
    retry: RetryPolicy
    breaker: CircuitBreaker
    throttle: Throttle
    credentials: str
    cache: ResponseCache[UpstreamResponse] | None = None

    @classmethod
    def for_source(
        cls,
        source: SourceConfig,
        environ: Mapping[str, str],
        *,
        clock: Clock = time.monotonic,
        memory_cache: bool = True,
    ) -> SourceRuntime:
        """The state for one configured source; `memory_cache` False where responses are
        cached in a shared state instead (one copy for every replica)."""
        credentials = source.credential_headers(environ)
        cache: ResponseCache[UpstreamResponse] | None = None
        if source.cache_ttl_s > 0 and memory_cache:
            cache = ResponseCache(
                source.cache_ttl_s, size_of=lambda r: len(r.body) + 512, clock=clock
            )
        return cls(
            config=source,
            headers={"Accept": "application/json", **credentials},
            secrets=source.secrets(environ),
            semaphore=asyncio.Semaphore(source.max_concurrency),
            retry=RetryPolicy(max_retries=source.max_retries),
            breaker=CircuitBreaker(source.breaker_failures, source.breaker_cooldown_s, clock=clock),
            throttle=Throttle(
                source.throttle_cooldown_s, source.throttle_max_cooldown_s, clock=clock
            ),
            credentials=credential_identity(credentials),
            cache=cache,
        )

    def error(
        self,
        message: str,
        code: ErrorCode,
        status: int | None = None,
        provider_code: str | None = None,
        retry_after: float | None = None,
    ) -> UpstreamError:
        """A coded error naming this source, its message one line with secrets redacted."""
        config = self.config
        return UpstreamError(
            f"{config.name}: {safe_message(message, self.secrets)}",
            code=code,
            source=config.name,
            provider=config.provider.name,
            upstream_status=status,
            upstream_code=provider_code,
            retry_after_s=retry_after,
        )


@dataclass(slots=True)
class UpstreamRequest:
    """One logical GET of a source: every attempt, retries included, ends by `deadline`.

    `path` is the template (`/projects/{project}/jobs`); the URL is built, and its path
    parameters checked, the first time a layer asks for it. `fresh`: the answer must show
    the upstream as it is now (no cached, shared or joined response). Layers read it and
    never change it (it is a plain slotted class for speed: one is made per GET)."""

    source: SourceRuntime
    path: str
    path_params: Mapping[str, str]
    params: Sequence[tuple[str, str]]
    describe_error: ErrorDescriber
    deadline: Deadline
    caller: str | None = None
    fresh: bool = False
    _url: URL | None = field(default=None, init=False, repr=False, compare=False)
    _key: CacheKey | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def url(self) -> URL:
        """base_url + path with each parameter checked and percent-encoded, then the query."""
        if self._url is None:
            encoded = {
                key: quote(check_path_segment(value, key), safe="")
                for key, value in self.path_params.items()
            }
            url = URL(self.source.config.base_url + self.path.format(**encoded), encoded=True)
            if self.params:
                query = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in self.params)
                url = URL(f"{url}?{query}", encoded=True)
            self._url = url
        return self._url

    @property
    def key(self) -> CacheKey:
        """What a cached answer to this request answers (never another caller's)."""
        if self._key is None:
            source = self.source
            self._key = CacheKey(source.config.name, str(self.url), source.credentials, self.caller)
        return self._key


class Upstream(Protocol):
    """A layer of the stack: sends a request (usually through the layer it wraps)."""

    async def send(self, request: UpstreamRequest) -> UpstreamResponse:
        """The upstream's answer; a failure raises (see `AttemptFailed`)."""
        ...

    async def aclose(self) -> None:
        """Release what the layer holds (the innermost closes the connection pool)."""
        ...


class AttemptFailed(Exception):
    """One attempt failed; `fault` says the upstream is at fault (counts for the breaker),
    `retryable` that repeating the GET is safe and may help."""

    def __init__(self, error: UpstreamError, *, retryable: bool, fault: bool) -> None:
        super().__init__(error.message)
        self.error = error
        self.retryable = retryable
        self.fault = fault


class Layer:
    """A layer that wraps another: closing it closes the inner one."""

    def __init__(self, inner: Upstream) -> None:
        self.inner = inner

    async def aclose(self) -> None:
        await self.inner.aclose()


def consume_exception(future: asyncio.Future[Any]) -> None:
    """Mark a shared future's error as seen: it may fail after every waiter has gone."""
    if not future.cancelled():
        future.exception()

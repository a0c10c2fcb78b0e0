"""What adapters and resolvers call to reach upstreams: a thin facade over the layered
stack in `resolvers.upstream`.

`UpstreamClient` is app-wide: it holds each source's state (credentials, concurrency limit,
retry policy, circuit breaker, cool-down, optional response cache) and the stack, which
`start()` builds and `close()` closes (both in the app's `cleanup_ctx`).
`UpstreamSession` is per GraphQL operation: identical requests made while answering one
operation share one upstream call.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Awaitable, Hashable, Iterator, Mapping, Sequence
from contextvars import ContextVar
from functools import partial
from typing import Any

from opentelemetry.trace import Tracer

from resolvers.config import DEFAULT_SNAPSHOT_MAX_JOBS, SourceConfig
from resolvers.paging import PagingHints
from resolvers.resilience import BreakerState, Clock, Deadline
from resolvers.shared_state import RedisUpstreamState
from resolvers.snapshots import ListSnapshots, Snapshot
from resolvers.upstream.base import (
    ErrorDescriber,
    SourceRuntime,
    Upstream,
    UpstreamObserver,
    UpstreamRequest,
    UpstreamResponse,
    check_path_segment,
    consume_exception,
    safe_message,
)
from resolvers.upstream.stack import build_upstream

__all__ = [
    "ErrorDescriber",
    "SourceRuntime",
    "UpstreamClient",
    "UpstreamObserver",
    "UpstreamResponse",
    "UpstreamSession",
    "check_path_segment",
    "fresh_reads",
    "reading_fresh",
    "safe_message",
]


def _report_breaker(observer: UpstreamObserver, source: str, state: BreakerState) -> None:
    observer.breaker_state(source, state.value)


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
        snapshot_max_jobs: int = DEFAULT_SNAPSHOT_MAX_JOBS,
    ) -> None:
        self._observer = observer
        self._shared = shared
        self._tracer = tracer
        self._clock = clock
        self._rng = rng or random.Random()
        self._stack: Upstream | None = None
        self._hints: dict[str, PagingHints] = {}
        # Whole reads of lists, kept for sources with `max_staleness_s` above 0.
        self.snapshots = ListSnapshots(snapshot_max_jobs, clock)
        # With a shared state, responses are cached there only, one copy for every replica.
        self.sources: dict[str, SourceRuntime] = {
            source.name: SourceRuntime.for_source(
                source, environ, clock=clock, memory_cache=shared is None
            )
            for source in sources
        }
        if observer is not None:
            for name, runtime in self.sources.items():
                runtime.breaker.on_change = partial(_report_breaker, observer, name)
                observer.breaker_state(name, runtime.breaker.state.value)

    def hints(self, source: str) -> PagingHints:
        """What `source`'s upstream has shown of its paging so far (one object per source, for
        the app's life)."""
        hints = self._hints.get(source)
        if hints is None:
            hints = self._hints[source] = PagingHints()
        return hints

    def breaker_states(self) -> dict[str, str]:
        """Each source's circuit breaker: "closed", "open" or "half_open"."""
        return {name: runtime.breaker.state.value for name, runtime in self.sources.items()}

    async def start(self) -> Upstream:
        """Build the upstream stack (once); it holds the app's one aiohttp `ClientSession`.
        The app's `cleanup_ctx` starts and closes it: nothing else creates one."""
        if self._stack is None:
            self._stack = build_upstream(
                rng=self._rng, observer=self._observer, shared=self._shared, tracer=self._tracer
            )
        return self._stack

    async def close(self) -> None:
        """Close the stack; requests after this fail until `start` is called again."""
        stack, self._stack = self._stack, None
        if stack is not None:
            await stack.aclose()

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
        runtime = self.sources[source]
        request = UpstreamRequest(
            runtime,
            path,
            path_params,
            params,
            describe_error,
            Deadline(runtime.config.timeout_s, self._clock),
            caller=caller,
            fresh=_FRESH.get(),
        )
        if self._stack is None:
            raise RuntimeError("the upstream client is not started (UpstreamClient.start)")
        return await self._stack.send(request)


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
        # The snapshot of each list this operation read whole (`ProviderAdapter.snapshot`):
        # every read of a list within one operation sees the same one.
        self.snapshots: dict[Hashable, asyncio.Future[Snapshot]] = {}
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
            future.add_done_callback(consume_exception)
            self._inflight[key] = future
        return asyncio.shield(future)


def reading_fresh() -> bool:
    """Whether this task is within `fresh_reads`."""
    return _FRESH.get()


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

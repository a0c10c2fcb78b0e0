"""Reading one stream by position within one operation: windows from an upstream that sorts,
or one whole read sorted locally where it cannot (up to `scan_ceiling` jobs)."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable, Sequence

from resolvers.client import UpstreamSession
from resolvers.connection import SequenceReads
from resolvers.domain import CreatedOrder, time_key
from resolvers.errors import ErrorCode, JobgraphError, QueryTooComplex, UpstreamError
from resolvers.merge.keys import sorted_by_time
from resolvers.merge.plan import Stream
from resolvers.paging import PageWindow
from resolvers.providers.base import RawJob

# that typical projects are read in one round of parallel requests, since rounds add latency.
FIRST_SCAN_WINDOW = 500
# The least a whole read asks for after its first window (see `_scan_and_sort`).
FOLLOW_UP_WINDOW = 100


class StreamReader:
    """One stream's sequence by position, within one operation.

    Ordered streams read windows from the upstream, once each, with every run of equal
    creation times put in id order (`SequenceReads`: upstreams may return a run in any
    order); unordered ones are read whole once and sorted locally (ties in id order too).
    """

    def __init__(
        self,
        stream: Stream,
        order: CreatedOrder,
        http: UpstreamSession,
        scan_ceiling: int,
        *,
        snapshots: bool = True,
    ) -> None:
        self.stream = stream
        # False: read whole every time, whatever the source's max_staleness_s (pollers).
        self.snapshots = snapshots
        self.order = order
        self.http = http
        self.scan_ceiling = scan_ceiling
        self.known_length: int | None = None
        self._sorted: asyncio.Future[list[RawJob]] | None = None
        self._length: asyncio.Future[int] | None = None
        self._reads = SequenceReads(
            stream.adapter, http, stream.query, order, lazy=True, shared=snapshots
        )

    @property
    def in_memory(self) -> bool:
        return not self.stream.ordered

    async def read(self, start: int, stop: int) -> list[RawJob]:
        """The (unbuilt) jobs at positions [start, stop); fewer where the sequence ends."""
        if stop <= start:
            return []
        if self.in_memory:
            return (await self.sorted_jobs())[start:stop]
        stream = self.stream
        read = await self._reads.read(start, stop)
        total = read.result.trusted_total
        if stream.adapter.trusts_total(stream.query) and total is not None:
            self.known_length = total
        self._check_sorted(read.jobs)
        return read.jobs

    async def locate(self, low: int, width: int, before: Callable[[RawJob], bool]) -> int:
        """An ordered stream's position of a cut: how many of its jobs are `before` it, found
        from around `low` by reads of `width` jobs (`SequenceReads.locate`)."""
        return await self._reads.locate(low, width, before)

    async def length(self) -> int:
        """The sequence's length (a reported total, a probe, or the local scan)."""
        if self.in_memory:
            return len(await self.sorted_jobs())
        if self.known_length is not None:
            return self.known_length
        if self._length is None:
            self._length = asyncio.ensure_future(
                self.stream.adapter.length(self.http, self.stream.query, shared=self.snapshots)
            )
        self.known_length = await asyncio.shield(self._length)
        return self.known_length

    def sorted_jobs(self) -> Awaitable[list[RawJob]]:
        """An unordered stream's whole sequence, sorted by creation time (once per operation,
        or once per snapshot where the source allows `max_staleness_s`); its jobs are built
        only when read."""
        if self._sorted is None:
            self._sorted = asyncio.ensure_future(self._whole_sorted())
        return asyncio.shield(self._sorted)

    async def _whole_sorted(self) -> list[RawJob]:
        stream, order = self.stream, self.order
        snapshot = None
        if self.snapshots:
            snapshot = await stream.adapter.snapshot(self.http, stream.query, self._scan)
        if snapshot is None:
            return sorted_by_time(await self._scan(), order)
        return snapshot.in_order(order, lambda jobs: sorted_by_time(list(jobs), order))

    async def _scan(self) -> list[RawJob]:
        """The whole list in the upstream's order, each job once."""
        stream, adapter, ceiling = self.stream, self.stream.adapter, self.scan_ceiling
        jobs: list[RawJob] = []
        ids: set[str] = set()
        # Sized by the length last seen, one look-ahead item shows whether it has grown.
        seen = adapter.hints(self.http).scanned_lengths.get(stream.query)
        start, size = 0, FIRST_SCAN_WINDOW if seen is None else seen + 1
        while True:
            stop = min(start + size, ceiling + 1)
            window = PageWindow(start, stop)
            result = await adapter.fetch_raw_window(self.http, stream.query, window)
            fresh = _without_repeats(result.items, ids)
            jobs.extend(fresh)
            total = result.trusted_total if adapter.trusts_total(stream.query) else None
            if total is not None and total > ceiling:
                raise self._ceiling_error(total)
            if len(jobs) > ceiling:
                raise self._ceiling_error(None)
            # The fill follows short pages up, so a short window is the proven end.
            ended = len(result.items) < stop - start
            if ended or (total is not None and stop >= total):
                break
            start = stop
            # With a reported total the rest is known: fetch it in one (parallel) window. Jobs
            # created while the list is read push older ones to later positions (a later
            # window repeats some, dropped above), so the window asks for more than the total
            # left: a total that grows with every request is then caught up with.
            size = max(total - start, FOLLOW_UP_WINDOW) if total is not None else size * 2
        adapter.hints(self.http).remember_length(stream.query, len(jobs))
        return jobs

    def _ceiling_error(self, total: int | None) -> JobgraphError:
        stream = self.stream
        project = stream.query.project
        where = stream.source if project is None else f"{stream.source} project {project}"
        size = f"{total} jobs" if total is not None else f"more than {self.scan_ceiling} jobs"
        return QueryTooComplex(
            f"{where} has {size}; its upstream cannot sort by creation time, and ordering it "
            f"locally is limited to server.scan_ceiling = {self.scan_ceiling} jobs: narrow "
            "`sources` or `filter.providers`, or use the per-provider connection",
            source=stream.source,
            provider=stream.provider.name,
        )

    def _check_sorted(self, jobs: Sequence[RawJob]) -> None:
        # An upstream that claims a creation-time sort but breaks it would silently misorder
        # the merge: fail that source instead.
        keys = [time_key(job.created_at, self.order) for job in jobs]
        if any(later < earlier for earlier, later in itertools.pairwise(keys)):
            stream = self.stream
            raise UpstreamError(
                f"{stream.source}: jobs are not sorted by creation time as requested",
                code=ErrorCode.UPSTREAM_INVALID_RESPONSE,
                source=stream.source,
                provider=stream.provider.name,
            )


def _without_repeats(jobs: Sequence[RawJob], ids: set[str]) -> list[RawJob]:
    """The jobs whose ids are not in `ids` yet (first copy kept), adding them to it: the copies
    a list shifted by new jobs shows again in a later read."""
    fresh: list[RawJob] = []
    for raw in jobs:
        # A job listed without a readable id is kept: building it here would fail pages
        # that never reach it.
        native_id = raw.native_id
        if native_id is None or native_id not in ids:
            if native_id is not None:
                ids.add(native_id)
            fresh.append(raw)
    return fresh

"""The federated `jobs` listing: every readable (source, project) stream merged by creation time.

A page takes up to k+1 matching jobs from each stream (in bounded chunks, for filters only
applied locally), merges them, and emits the k smallest keys — never past the last key a
stream has scanned while it could still hold matches, so a sparse filter may give a short page
with `has_next`, never a wrong order.

A page first re-aligns each stream to its cursor's cut key (`JobMerge.resolve`): exactly, over
a list read whole; over a list the upstream sorts, by reads galloping from the old position
(`SequenceReads.locate`), the first of them shared with the page's first window. The key need
not exist any more: the streams are sorted by it.
"""

from __future__ import annotations

import asyncio
from bisect import bisect_left, bisect_right
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from resolvers.client import UpstreamSession
from resolvers.domain import Job, epoch_micros, micros_key, time_key
from resolvers.errors import BadUserInput, JobgraphError, QueryTooComplex, StaleCursor
from resolvers.merge.cut import Cut, Scan, ScanRules, cut_scans, scan_stream
from resolvers.merge.direction import BACKWARD, FORWARD, Direction
from resolvers.merge.keys import ABOVE_ALL, BELOW_ALL, END, CutKey, MergeKey
from resolvers.merge.marks import Boundary, EdgeMark, Mark, OffsetMark
from resolvers.merge.plan import MergePlan, Stream, StreamFailure
from resolvers.merge.reader import StreamReader
from resolvers.providers.base import RawJob
from resolvers.relay import CursorWindow, PageFlags, page_flags, returned_range, window_reach

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class MergedEdge:
    job: Job
    mark: EdgeMark


@dataclass(frozen=True, slots=True)
class MergedPage:
    """One page of the merged listing.

    `start_mark`/`end_mark` are the page's outer cursors: its first and last edges', or a
    bare boundary where a short page stopped scanning beyond its last edge.
    """

    edges: list[MergedEdge]
    has_next: bool
    has_previous: bool
    start: Boundary
    start_mark: Mark | None
    end_mark: Mark | None
    failures: list[StreamFailure]


@dataclass(frozen=True, slots=True)
class MergeArgs:
    """Relay arguments with their cursors decoded into marks."""

    first: int | None = None
    after: Mark | None = None
    last: int | None = None
    before: Mark | None = None


def _flagged(page: MergedPage, flags: PageFlags) -> MergedPage:
    return replace(page, has_previous=flags.has_previous, has_next=flags.has_next)


class JobMerge:
    """The merged listing of one `jobs` field within one operation."""

    def __init__(
        self,
        plan: MergePlan,
        http: UpstreamSession,
        cache: dict[Any, Any],
        *,
        scan_ceiling: int,
        max_page_size: int,
    ) -> None:
        self.plan = plan
        self.order = plan.order
        self.spec = plan.spec
        self.rules = ScanRules(plan.order, plan.spec)
        self.scan_ceiling = scan_ceiling
        self.max_page_size = max_page_size
        self.readers = [self._reader(stream, http, cache) for stream in plan.streams]
        # Failures met outside the page (totals), for the caller to report.
        self.late_failures: list[StreamFailure] = []
        self._total: asyncio.Future[int | None] | None = None

    def _reader(self, stream: Stream, http: UpstreamSession, cache: dict[Any, Any]) -> StreamReader:
        # Shared by every `jobs` field of the operation (aliases, fragments, repeats).
        key = ("merge-reader", stream.source, stream.query, self.order)
        reader = cache.get(key)
        if reader is None:
            reader = cache[key] = StreamReader(stream, self.order, http, self.scan_ceiling)
        assert isinstance(reader, StreamReader)
        return reader

    @property
    def streams(self) -> tuple[Stream, ...]:
        return self.plan.streams

    @property
    def local_filter_free(self) -> bool:
        return self.rules.local_filter_free

    # --- the page --------------------------------------------------------------------------

    async def page(self, args: MergeArgs) -> MergedPage:
        """The page the Relay arguments select; failing sources are left out and listed."""
        for name, value in (("first", args.first), ("last", args.last)):
            if value is not None and not 0 <= value <= self.max_page_size:
                raise BadUserInput(
                    f"`{name}` must be between 0 and {self.max_page_size}, got {value}"
                )
        # Jobs a page scans from its cursor (k, plus one to tell whether more follow).
        first = self.max_page_size if args.first is None else args.first
        k = args.last if args.first is None and args.last is not None else None
        reach = window_reach(first, args.last) if k is None else k
        span = reach + 1
        after = None if args.after is None else await self.resolve(args.after, "after", span=span)
        before = (
            None if args.before is None else await self.resolve(args.before, "before", span=span)
        )
        if (
            after is not None
            and before is not None
            and any(
                a > b and a != END for a, b in zip(after.positions, before.positions, strict=True)
            )
        ):
            raise BadUserInput("`before` must come after `after`")
        if k is not None:
            page = await self._directed_page(BACKWARD, after, before, k)
            window = CursorWindow(
                len(page.edges), more=page.has_previous, edges_from_before=page.has_next
            )
            return _flagged(page, page_flags(None, k, window))
        page = await self._directed_page(FORWARD, after, before, reach)
        window = CursorWindow(
            len(page.edges), more=page.has_next, edges_before_after=page.has_previous
        )
        start, stop = returned_range(len(page.edges), first, args.last)
        if (start, stop) != (0, len(page.edges)):
            kept = page.edges[start:stop]
            if kept:
                page_start = kept[0].mark.before()
            else:
                page_start = page.edges[start - 1].mark.after() if start else page.start
            page = replace(
                page,
                edges=kept,
                start=page_start,
                start_mark=kept[0].mark if kept else None,
                end_mark=kept[-1].mark if kept else None,
            )
        return _flagged(page, page_flags(first, args.last, window))

    async def _directed_page(
        self, direction: Direction, after: Boundary | None, before: Boundary | None, k: int
    ) -> MergedPage:
        """The k matching jobs nearest the page's origin (`after` forward, `before`
        backward), up to its other cursor."""
        # (start side, end side) read back as (behind, ahead): the same swap.
        near, far = direction.before_after(after, before)
        origin, down, failures = await self._origin(direction, near)
        bound = None if far is None else far.positions
        cut = await self._merge(direction, origin.positions, bound, k, skip=down)
        cut.failures[:0] = failures
        origin_behind = direction.behind(origin.matches_before, origin.matches_after)
        scanned = [self._edge(key, raw.job(), origin.positions, cut) for key, raw in cut.emitted]
        edges = direction.in_scan_order(scanned)
        # The cut beyond the page: a page's start where it was merged backward, a short
        # page's outer cursor in either direction.
        beyond: Boundary | None = None
        if cut.short or not direction.forward:
            behind = bool(edges) or origin_behind
            matches_before, matches_after = direction.before_after(behind, cut.unemitted)
            beyond = Boundary(
                cut.boundary,
                matches_before=matches_before,
                matches_after=matches_after,
                key=self._beyond_key(direction, cut, origin, far),
                held=self._held(cut),
            )
        near_mark: Mark | None = scanned[0].mark if scanned else None
        far_mark: Mark | None = beyond if cut.short else scanned[-1].mark if scanned else None
        start_mark, end_mark = direction.before_after(near_mark, far_mark)
        has_previous, has_next = direction.before_after(origin_behind, cut.more)
        start = origin if direction.forward else beyond
        assert start is not None
        return MergedPage(
            edges=edges,
            has_next=has_next,
            has_previous=has_previous,
            start=start,
            start_mark=start_mark,
            end_mark=end_mark,
            failures=cut.failures,
        )

    async def _origin(
        self, direction: Direction, mark: Boundary | None
    ) -> tuple[Boundary, frozenset[int], list[StreamFailure]]:
        """Where a page's merge starts, the streams it cannot read, and their failures: its
        cursor, or else the list's start forward and every stream's end backward."""
        failures: list[StreamFailure] = []
        if mark is not None:
            return mark, frozenset(), failures
        if direction.forward:
            return Boundary(self._zeros()), frozenset(), failures
        lengths = await self._gather(
            [(s, self.readers[s.index].length()) for s in self.streams], failures
        )
        # A source whose length is unknown keeps "its end" for the next page to retry.
        end = Boundary(tuple(END if n is None else n for _, n in lengths))
        return end, frozenset(s.index for s, n in lengths if n is None), failures

    def _held(self, cut: Cut) -> tuple[int, ...]:
        """The streams a cut did not read (failed ones), which keep their positions."""
        return tuple(s.index for s in self.streams if s.index not in cut.scans)

    def _beyond_key(
        self, direction: Direction, cut: Cut, origin: Boundary, far: Boundary | None
    ) -> CutKey | None:
        """The cut key of the cut beyond a page."""
        if cut.limit is None:
            # Every stream was scanned to the page's other cursor (or the list's far end).
            return None if far is None else far.key
        if cut.limit == direction.origin_key:
            return origin.key
        key = self._cut_key(cut, after=direction.forward)
        if key is None and direction.forward:
            # A forward page's end whose job has no readable id keeps its start's key.
            return origin.key
        return key

    def _cut_key(self, cut: Cut, *, after: bool) -> CutKey | None:
        """The cut key of a cut that lies beside a scanned job (None where it does not)."""
        limit = cut.limit
        if limit is None or limit in (BELOW_ALL, ABOVE_ALL) or limit[2] not in cut.scans:
            return None
        scan = cut.scans[limit[2]]
        raw = scan.jobs[limit[3] - scan.low]
        try:
            native_id = raw.identity()
        except JobgraphError:
            return None
        return CutKey(limit[2], epoch_micros(raw.created_at), native_id, after)

    @staticmethod
    def _edge(key: MergeKey, job: Job, origin: tuple[int, ...], cut: Cut) -> MergedEdge:
        """The edge of an emitted job: every scanned stream cut just after its key."""
        positions = list(origin)
        last = False
        for index, scan in cut.scans.items():
            taken = bisect_right(scan.keys, key)
            if index == key[2]:
                # The job's own stream stays exact: `EdgeMark.before` steps back from it.
                positions[index] = scan.low + taken
                last = scan.forward_position(taken) == END
            else:
                positions[index] = scan.forward_position(taken)
        held = tuple(i for i in range(len(positions)) if i not in cut.scans)
        created_us = epoch_micros(job.created_at)
        mark = EdgeMark(key[2], tuple(positions), last, job.native_id, created_us, held)
        return MergedEdge(job, mark)

    # --- the directional merge ---------------------------------------------------------------

    async def _merge(
        self,
        direction: Direction,
        origin: tuple[int, ...],
        bound: tuple[int, ...] | None,
        k: int,
        *,
        skip: frozenset[int] = frozenset(),
    ) -> Cut:
        """The k matching keys nearest `origin` in `direction` (and short of `bound`)."""
        failures: list[StreamFailure] = []
        calls = [
            (
                s,
                scan_stream(
                    self.readers[s.index],
                    self.rules,
                    direction,
                    origin[s.index],
                    None if bound is None else bound[s.index],
                    k + 1,
                ),
            )
            for s in self.streams
            if s.index not in skip
        ]
        outcomes = await self._gather(calls, failures)
        scans = {stream.index: scan for stream, scan in outcomes if scan is not None}
        while True:
            cut = cut_scans(direction, scans, origin, k, failures)
            if self._build(cut, scans, failures):
                return cut

    def _build(self, cut: Cut, scans: dict[int, Scan], failures: list[StreamFailure]) -> bool:
        """Build the cut's emitted jobs (only they are ever built where no filter needs the
        rest). A job whose payload does not parse fails its stream: False, with the stream left
        out of `scans`, so the caller cuts again without it."""
        for key, raw in cut.emitted:
            try:
                raw.job()
            except JobgraphError as exc:
                stream = self.streams[key[2]]
                failures.append(StreamFailure(stream.source, stream.provider, exc))
                del scans[stream.index]
                return False
        return True

    # --- totals, offsets and numbered pages ----------------------------------------------------

    def total(self) -> Awaitable[int | None]:
        """How many jobs match: known where no filter must be applied locally to an upstream
        that sorts (a filtered count there needs a full scan) unless that upstream applies the
        filter exactly itself, and every source answers."""
        if self._total is None:
            self._total = asyncio.ensure_future(self._count())
        return asyncio.shield(self._total)

    async def _count(self) -> int | None:
        if not self.local_filter_free and any(
            s.ordered and not s.pushdown.exact for s in self.streams
        ):
            return None
        failures: list[StreamFailure] = []
        counts = await self._gather([(s, self._stream_count(s)) for s in self.streams], failures)
        if failures:
            self.late_failures.extend(failures)
            return None
        return sum(count for _, count in counts if count is not None)

    async def _stream_count(self, stream: Stream) -> int:
        reader = self.readers[stream.index]
        if reader.in_memory:
            jobs = await reader.sorted_jobs()
            if self.local_filter_free:
                return len(jobs)
            return sum(1 for raw in jobs if self.spec.matches(raw.job()))
        return await reader.length()

    async def offset_of(self, boundary: Boundary) -> int:
        """How many matching jobs lie before `boundary` (meaningful where `total()` is known)."""
        offset = 0
        for stream, position in zip(self.streams, boundary.positions, strict=True):
            reader = self.readers[stream.index]
            if reader.in_memory:
                jobs = (await reader.sorted_jobs())[:position]
                if self.local_filter_free:
                    offset += len(jobs)
                else:
                    offset += sum(1 for raw in jobs if self.spec.matches(raw.job()))
            else:
                offset += min(position, await reader.length())
        return offset

    async def resolve(self, mark: Mark, argument: str, *, span: int = 1) -> Boundary:
        """The cut a decoded cursor stands for, used as `after` or as `before`, in the streams
        as they are now; `span` jobs are about to be scanned from it (one read does both)."""
        if isinstance(mark, OffsetMark):
            return await self._resolve_offset(mark.offset, argument)
        if isinstance(mark, EdgeMark):
            mark = mark.after() if argument == "after" else mark.before()
        key = mark.key
        if key is None:
            return mark
        direction = FORWARD if argument == "after" else BACKWARD
        aligned = [s for s in self.streams if s.index not in mark.held]
        calls = [
            self._align(s, mark.positions[s.index], key, direction, span=span) for s in aligned
        ]
        outcomes = await asyncio.gather(*calls, return_exceptions=True)
        positions = list(mark.positions)
        for stream, outcome in zip(aligned, outcomes, strict=True):
            if isinstance(outcome, int):
                positions[stream.index] = outcome
            elif isinstance(outcome, StaleCursor) or not isinstance(outcome, JobgraphError):
                raise outcome
            # Any other coded failure keeps the cursor's position: the scan reports it.
        return replace(mark, positions=tuple(positions))

    async def _align(
        self, stream: Stream, hint: int, key: CutKey, direction: Direction, *, span: int
    ) -> int:
        """Stream `stream`'s position of the cut `key` defines: how many of its jobs lie
        before it. Over a list read whole, exact; over one the upstream sorts, looked for from
        the cursor's old position `hint`, in one read with the `span` jobs to be scanned from
        there wherever it has not moved."""
        if hint >= END:
            return hint
        reader = self.readers[stream.index]
        index = stream.index
        if reader.in_memory:
            jobs = await reader.sorted_jobs()
            return bisect_left(jobs, True, key=lambda raw: not self._before_cut(raw, index, key))
        chunk, _ = self.rules.chunking(reader, span)
        # One job behind the cut, the chunk to be scanned ahead of it: as positions below it
        # and above it.
        below, above = direction.before_after(1, chunk)
        try:
            return await reader.locate(
                max(0, hint - below), below + above, lambda raw: self._before_cut(raw, index, key)
            )
        except StaleCursor as exc:
            raise StaleCursor(f"{stream.source}: {exc}") from None

    def _before_cut(self, raw: RawJob, stream: int, key: CutKey) -> bool:
        """Whether a job of `stream` lies before the cut: by creation time, then stream, then
        id (built only to break a tie in time within the key's stream)."""
        mine = time_key(raw.created_at, self.order)
        theirs = micros_key(key.created_us, self.order)
        if mine != theirs:
            return mine < theirs
        if stream != key.stream:
            return stream < key.stream
        native_id = raw.identity()
        return native_id < key.native_id or (native_id == key.native_id and key.after)

    async def _resolve_offset(self, offset: int, argument: str) -> Boundary:
        """The cut after the first `offset` merged jobs, merged from whichever end is nearer:
        at most min(offset, total - offset) jobs per stream, bounded by `scan_ceiling`."""
        total = await self.total()
        if total is None:
            raise BadUserInput(f"`{argument}` is a page cursor that no longer applies")
        offset = min(offset, total)
        if min(offset, total - offset) > self.scan_ceiling:
            raise QueryTooComplex(
                f"page cursors reach at most {self.scan_ceiling} jobs from either end "
                "(server.scan_ceiling); page on with `after` cursors instead"
            )
        if offset == 0:
            return Boundary(self._zeros(), matches_after=total > 0)
        if offset <= total - offset:
            cut = await self._merge(FORWARD, self._zeros(), None, offset)
        else:
            ends = tuple([await self.readers[s.index].length() for s in self.streams])
            cut = await self._merge(BACKWARD, ends, None, total - offset)
        if cut.failures:
            raise cut.failures[0].error
        return Boundary(cut.boundary, matches_before=True, matches_after=offset < total)

    # --- helpers -----------------------------------------------------------------------------

    def _zeros(self) -> tuple[int, ...]:
        return (0,) * len(self.streams)

    @staticmethod
    async def _gather(
        calls: Sequence[tuple[Stream, Awaitable[T]]], failures: list[StreamFailure]
    ) -> list[tuple[Stream, T | None]]:
        """Run one call per stream in parallel; a coded failure of a stream becomes a
        `StreamFailure` and a None result, anything else propagates (INTERNAL)."""
        outcomes = await asyncio.gather(*(call for _, call in calls), return_exceptions=True)
        results: list[tuple[Stream, T | None]] = []
        for (stream, _), outcome in zip(calls, outcomes, strict=True):
            if isinstance(outcome, JobgraphError):
                failures.append(StreamFailure(stream.source, stream.provider, outcome))
                results.append((stream, None))
            elif isinstance(outcome, BaseException):
                raise outcome
            else:
                results.append((stream, outcome))
        return results

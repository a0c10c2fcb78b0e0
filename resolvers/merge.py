"""The federated `jobs` listing: every readable (source, project) stream merged by creation time.

Each stream is one upstream sequence (`ProviderAdapter.pushdown`): where the upstream sorts by
creation time, positions are indices into its own sorted sequence; where it cannot (Edge
Impulse, workflow), the whole sequence is read once per operation, up to `scan_ceiling` jobs,
and sorted locally (ties in id order, since no upstream keeps one for them). Whole reads parse only
creation times up front (`RawJob`); a job is built when a page scans it.

Every job has a total merge key: (creation time, missing times last in both orders; the
stream's place in config order; its id). Within one operation a stream's jobs are in that
order, so a cut through the merged list is one position per stream (`Boundary`). A page takes
up to k+1 matching jobs from each stream (in bounded chunks, for filters only applied
locally), merges them, and emits the k smallest keys — never past the last key a stream has
scanned while it could still hold matches, so a sparse filter may give a short page with
`has_next`, never a wrong order.

Positions shift when jobs are created or deleted between two pages, so a cursor also records
the job its cut lies beside (`CutKey`: stream, creation time, id). A page first re-aligns each
stream to that key (`JobMerge.resolve`): exactly, over a list read whole; within
`REALIGN_REACH` positions of the old one, in one read shared with the page's first window,
over a list the upstream sorts. The key need not exist any more: the streams are sorted by it.
"""

from __future__ import annotations

import asyncio
import itertools
from bisect import bisect_left, bisect_right
from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from resolvers.client import UpstreamSession
from resolvers.config import SourceConfig
from resolvers.connection import NEAR_REACH, REALIGN_REACH, SequenceReads
from resolvers.domain import (
    CreatedOrder,
    Job,
    JobFilterSpec,
    JobStatus,
    Provider,
    epoch_micros,
    micros_key,
    time_key,
)
from resolvers.errors import (
    BadUserInput,
    ErrorCode,
    JobgraphError,
    QueryTooComplex,
    StaleCursor,
    UpstreamError,
)
from resolvers.paging import PageWindow
from resolvers.providers.base import ListQuery, ProviderAdapter, Pushdown, RawJob
from resolvers.relay import CursorWindow, PageFlags, page_flags, returned_range, window_reach

T = TypeVar("T")

# A locally filtered stream is scanned in at most this many chunks per page ...
SCAN_CHUNKS = 5
# ... of at least this many jobs each.
MIN_CHUNK = 50
# First window of a whole-sequence scan of unknown length (later windows double): large enough
# that typical projects are read in one round of parallel requests, since rounds add latency.
FIRST_SCAN_WINDOW = 500
# The least a whole read asks for after its first window (see `_scan_and_sort`).
FOLLOW_UP_WINDOW = 100
# Sequences whose last whole-read length an adapter remembers, to size the next read exactly.
REMEMBERED_LENGTHS = 1024

# (missing creation time, signed microseconds, stream index, position in stream): within one
# operation, positions in a stream are in (creation time, id) order.
MergeKey = tuple[int, int, int, int]

# Cursor position layouts (JSON lists, signed by the graph layer's CursorCodec); an edge whose
# job is its stream's last one has its own layout, so that paging on after it skips the
# finished stream. Layouts 0, 1 and 3 are cursors from before cut keys: still read, not
# re-aligned.
_BOUNDARY, _EDGE, _OFFSET, _LAST_EDGE, _KEYED_BOUNDARY, _KEYED_EDGE, _KEYED_LAST_EDGE = range(7)
# The longest id a cursor may carry (ids are upstream strings; cursors are bounded anyway).
_MAX_ID_CHARS = 512
# A stream position meaning "its end, whatever its length" (a source that failed to say).
END = 2**31 - 1
_BELOW_ALL: MergeKey = (-1, 0, 0, 0)
_ABOVE_ALL: MergeKey = (2, 0, 0, 0)


# --- streams ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Stream:
    """One upstream sequence taking part in the merge."""

    index: int
    source: str
    provider: Provider
    adapter: ProviderAdapter
    pushdown: Pushdown

    @property
    def query(self) -> ListQuery:
        return self.pushdown.query

    @property
    def ordered(self) -> bool:
        return self.pushdown.ordered


@dataclass(frozen=True, slots=True)
class StreamFailure:
    """A source that could not answer (or could not be planned) for this listing."""

    source: str
    provider: Provider
    error: JobgraphError


@dataclass(frozen=True, slots=True)
class MergePlan:
    """The streams of one `jobs` listing, in config order, and what failed while planning."""

    streams: tuple[Stream, ...]
    order: CreatedOrder
    spec: JobFilterSpec
    failures: tuple[StreamFailure, ...] = ()

    def binding_parts(self) -> tuple[Any, ...]:
        """What a cursor of this listing is bound to: the streams, the filter and the order."""
        spec = self.spec
        return (
            [[s.source, s.query.project, list(s.query.params)] for s in self.streams],
            self.order.value,
            None if spec.statuses is None else sorted(spec.statuses),
            None if spec.providers is None else sorted(spec.providers),
            spec.search,
            None if spec.created_after is None else spec.created_after.isoformat(),
            None if spec.created_before is None else spec.created_before.isoformat(),
        )


def plan_streams(
    sources: Sequence[SourceConfig],
    adapters: Mapping[str, ProviderAdapter],
    order: CreatedOrder,
    spec: JobFilterSpec,
) -> MergePlan:
    """One stream per (source, project) of `sources` (config order) that the filter leaves in.

    Providers the filter excludes, and pushdowns that can match nothing, are skipped up front;
    a project the adapter rejects becomes a failure of its source, not of the whole listing.
    """
    streams: list[Stream] = []
    failures: list[StreamFailure] = []
    for source in sources:
        if spec.providers is not None and source.provider not in spec.providers:
            continue
        adapter = adapters[source.name]
        projects: list[str | None] = list(source.projects) if adapter.has_projects else [None]
        for project in projects:
            try:
                pushdown = adapter.pushdown(project, order, spec)
            except JobgraphError as exc:
                failures.append(StreamFailure(source.name, source.provider, exc))
                continue
            if not pushdown.empty:
                streams.append(
                    Stream(len(streams), source.name, source.provider, adapter, pushdown)
                )
    return MergePlan(tuple(streams), order, spec, tuple(failures))


# --- merge keys --------------------------------------------------------------------------------


def merge_key(job: Job | RawJob, order: CreatedOrder, stream: int, position: int) -> MergeKey:
    missing, signed = time_key(job.created_at, order)
    return (missing, signed, stream, position)


def spec_is_local_free(spec: JobFilterSpec) -> bool:
    """Whether every job of every stream matches (the provider filter only skips streams)."""
    return (
        (spec.statuses is None or spec.statuses >= frozenset(JobStatus))
        and not spec.search
        and spec.created_after is None
        and spec.created_before is None
    )


# --- cursors -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CutKey:
    """The job a cut lies just after (`after`) or just before: its stream, creation time in
    epoch microseconds (None where it has none) and id. Every job of every stream is on one
    side of it, however the streams have changed since."""

    stream: int
    created_us: int | None
    native_id: str
    after: bool


@dataclass(frozen=True, slots=True)
class Boundary:
    """A cut through every stream: positions below `positions[i]` of stream i lie before it.

    The flags record what is known about matching jobs on either side (for `hasPreviousPage`
    and `hasNextPage` when paging resumes from here). `key`, where known, defines the cut when
    the positions have shifted since.
    """

    positions: tuple[int, ...]
    matches_before: bool = False
    matches_after: bool = False
    key: CutKey | None = None
    # Streams not read where the cut was made (they failed): they resume from their
    # positions, not from the key.
    held: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class EdgeMark:
    """The cursor of one emitted job: the cut just after it, the stream it came from, whether
    it was that stream's last job (known from a total or a short read), and its time and id."""

    stream: int
    positions: tuple[int, ...]
    last_of_stream: bool = False
    native_id: str | None = None
    created_us: int | None = None
    held: tuple[int, ...] = ()

    def _key(self, *, after: bool) -> CutKey | None:
        if self.native_id is None:
            return None
        return CutKey(self.stream, self.created_us, self.native_id, after)

    def after(self) -> Boundary:
        positions = list(self.positions)
        if self.last_of_stream:
            positions[self.stream] = END
        key = self._key(after=True)
        return Boundary(tuple(positions), matches_before=True, key=key, held=self.held)

    def before(self) -> Boundary:
        positions = list(self.positions)
        positions[self.stream] -= 1
        key = self._key(after=False)
        return Boundary(tuple(positions), matches_after=True, key=key, held=self.held)


@dataclass(frozen=True, slots=True)
class OffsetMark:
    """A numbered-page cursor: the cut after the first `offset` jobs of the merged list."""

    offset: int


Mark = Boundary | EdgeMark | OffsetMark


def mark_position(mark: Mark) -> list[Any]:
    """The JSON position a cursor carries for `mark`."""
    if isinstance(mark, EdgeMark):
        if mark.native_id is None:
            return [_LAST_EDGE if mark.last_of_stream else _EDGE, mark.stream, *mark.positions]
        kind = _KEYED_LAST_EDGE if mark.last_of_stream else _KEYED_EDGE
        held = list(mark.held)
        return [kind, mark.stream, mark.created_us, mark.native_id, held, *mark.positions]
    if isinstance(mark, OffsetMark):
        return [_OFFSET, mark.offset]
    flags: list[Any] = [int(mark.matches_before), int(mark.matches_after)]
    key = mark.key
    if key is None:
        return [_BOUNDARY, *flags, *mark.positions]
    cut = [key.stream, key.created_us, key.native_id, list(mark.held), int(key.after)]
    return [_KEYED_BOUNDARY, *flags, *cut, *mark.positions]


def mark_from_position(raw: Any, streams: int, argument: str) -> Mark:
    """The mark inside a decoded cursor position; anything else is BAD_USER_INPUT."""
    invalid = BadUserInput(f"`{argument}` is not a valid cursor")
    if not isinstance(raw, list) or not raw or type(raw[0]) is not int:
        raise invalid
    kind, rest = raw[0], raw[1:]
    native_id: str | None = None
    created_us: int | None = None
    held: tuple[int, ...] = ()
    if kind in (_KEYED_EDGE, _KEYED_LAST_EDGE, _KEYED_BOUNDARY):
        # The cut key's time and id sit before the positions: [.., created_us, id, ..].
        at = 1 if kind != _KEYED_BOUNDARY else 3
        if len(rest) < at + 3:
            raise invalid
        created_us, native_id, listed = rest[at], rest[at + 1], rest[at + 2]
        if not _valid_key(created_us, native_id) or not _valid_held(listed, streams):
            raise invalid
        held = tuple(listed)
        rest = [*rest[:at], *rest[at + 3 :]]
    if any(type(v) is not int or v < 0 for v in rest):
        raise invalid
    if kind == _OFFSET and len(rest) == 1:
        return OffsetMark(rest[0])
    if kind in (_EDGE, _LAST_EDGE, _KEYED_EDGE, _KEYED_LAST_EDGE) and len(rest) == streams + 1:
        stream, positions = rest[0], tuple(rest[1:])
        if stream < streams and 1 <= positions[stream] < END:
            last = kind in (_LAST_EDGE, _KEYED_LAST_EDGE)
            return EdgeMark(stream, positions, last, native_id, created_us, held)
    if kind == _BOUNDARY and len(rest) == streams + 2 and rest[0] <= 1 and rest[1] <= 1:
        return Boundary(tuple(rest[2:]), bool(rest[0]), bool(rest[1]))
    if kind == _KEYED_BOUNDARY and len(rest) == streams + 4 and max(rest[0], rest[1]) <= 1:
        stream, after = rest[2], rest[3]
        if stream < streams and after <= 1:
            assert native_id is not None
            key = CutKey(stream, created_us, native_id, bool(after))
            return Boundary(tuple(rest[4:]), bool(rest[0]), bool(rest[1]), key, held)
    raise invalid


def _valid_held(listed: Any, streams: int) -> bool:
    return (
        isinstance(listed, list)
        and len(listed) <= streams
        and all(type(i) is int and 0 <= i < streams for i in listed)
    )


def _valid_key(created_us: Any, native_id: Any) -> bool:
    return (
        (created_us is None or type(created_us) is int)
        and isinstance(native_id, str)
        and 0 < len(native_id) <= _MAX_ID_CHARS
    )


# --- reading one stream ------------------------------------------------------------------------


class StreamReader:
    """One stream's sequence by position, within one operation.

    Ordered streams read windows from the upstream, once each, with every run of equal
    creation times put in id order (`SequenceReads`: upstreams may return a run in any
    order); unordered ones are read whole once and sorted locally (ties in id order too).
    """

    def __init__(
        self, stream: Stream, order: CreatedOrder, http: UpstreamSession, scan_ceiling: int
    ) -> None:
        self.stream = stream
        self.order = order
        self.http = http
        self.scan_ceiling = scan_ceiling
        self.known_length: int | None = None
        self._sorted: asyncio.Future[list[RawJob]] | None = None
        self._length: asyncio.Future[int] | None = None
        self._reads = SequenceReads(stream.adapter, http, stream.query, order, lazy=True)

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

    async def length(self) -> int:
        """The sequence's length (a reported total, a probe, or the local scan)."""
        if self.in_memory:
            return len(await self.sorted_jobs())
        if self.known_length is not None:
            return self.known_length
        if self._length is None:
            self._length = asyncio.ensure_future(
                self.stream.adapter.length(self.http, self.stream.query)
            )
        self.known_length = await asyncio.shield(self._length)
        return self.known_length

    def sorted_jobs(self) -> Awaitable[list[RawJob]]:
        """An unordered stream's whole sequence, sorted by creation time (once per operation);
        its jobs are built only when read."""
        if self._sorted is None:
            self._sorted = asyncio.ensure_future(self._scan_and_sort())
        return asyncio.shield(self._sorted)

    async def _scan_and_sort(self) -> list[RawJob]:
        stream, adapter, ceiling = self.stream, self.stream.adapter, self.scan_ceiling
        jobs: list[RawJob] = []
        ids: set[str] = set()
        # Sized by the length last seen, one look-ahead item shows whether it has grown.
        seen = adapter.scanned_lengths.get(stream.query)
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
        remember_length(adapter, stream.query, len(jobs))
        return sorted_by_time(jobs, self.order)

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


def sorted_by_time(jobs: list[RawJob], order: CreatedOrder) -> list[RawJob]:
    """Jobs by creation time, equal times in id order: upstreams give no stable order among
    jobs created at one instant, and every read of a walk must sort them alike. Only jobs
    that tie are built to learn their ids."""
    by_time = sorted(jobs, key=lambda raw: time_key(raw.created_at, order))
    result: list[RawJob] = []
    for _, run in itertools.groupby(by_time, key=lambda raw: time_key(raw.created_at, order)):
        group = list(run)
        if len(group) > 1:
            group.sort(key=lambda raw: raw.identity())
        result.extend(group)
    return result


def remember_length(adapter: ProviderAdapter, query: ListQuery, length: int) -> None:
    """Record a whole read's length for the adapter's next read of `query` (bounded, oldest
    forgotten first)."""
    lengths = adapter.scanned_lengths
    lengths.pop(query, None)
    lengths[query] = length
    if len(lengths) > REMEMBERED_LENGTHS:
        del lengths[next(iter(lengths))]


# --- scanning and cutting ----------------------------------------------------------------------


@dataclass(slots=True)
class _Scan:
    """What one stream showed for one page: jobs with ascending keys at positions
    [low, low + len(keys)), which of them match, and whether the scan saw all it could."""

    low: int
    keys: list[MergeKey] = field(default_factory=list)
    jobs: list[RawJob] = field(default_factory=list)
    matched: list[int] = field(default_factory=list)
    # Nothing further in the scan's direction can match (its end, a bound, or a date limit).
    complete: bool = False
    # The scan reached the sequence's true end (forward): past its last key the stream is
    # finished, and a cursor records that as END so later pages need not ask it again.
    at_end: bool = False

    def forward_position(self, taken: int) -> int:
        """The stream position after `taken` of the scanned jobs (END once all are past)."""
        return END if self.at_end and taken == len(self.keys) else self.low + taken


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


@dataclass(slots=True)
class _Cut:
    """One directional merge: the jobs emitted (in scan direction) and where it stopped."""

    emitted: list[tuple[MergeKey, RawJob]]
    scans: dict[int, _Scan]
    # Forward: the cut after the page; backward: the cut before it.
    boundary: tuple[int, ...]
    # Stopped at a stream's scan horizon with fewer than k jobs.
    short: bool
    # Matching jobs lie, or may lie, beyond the cut in the scan's direction.
    more: bool
    # A matching job is known to lie beyond the cut.
    unemitted: bool
    failures: list[StreamFailure]
    # The key the cut lies beside (after it forward, before it backward), where it is a job's.
    limit: MergeKey | None = None


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
        return spec_is_local_free(self.spec)

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
            page = await self._backward_page(after, before, k)
            window = CursorWindow(
                len(page.edges), more=page.has_previous, edges_from_before=page.has_next
            )
            return _flagged(page, page_flags(None, k, window))
        page = await self._forward_page(after, before, reach)
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

    async def _forward_page(
        self, after: Boundary | None, before: Boundary | None, k: int
    ) -> MergedPage:
        start = after or Boundary(self._zeros())
        stop = None if before is None else before.positions
        cut = await self._merge_forward(start.positions, stop, k)
        edges = [self._edge(key, raw.job(), start.positions, cut) for key, raw in cut.emitted]
        end_mark: Mark | None = edges[-1].mark if edges else None
        if cut.short:
            end_mark = Boundary(
                cut.boundary,
                matches_before=bool(edges) or start.matches_before,
                matches_after=cut.unemitted,
                key=self._cut_key(cut, after=True) or start.key,
                held=self._held(cut),
            )
        return MergedPage(
            edges=edges,
            has_next=cut.more,
            has_previous=start.matches_before,
            start=start,
            start_mark=edges[0].mark if edges else None,
            end_mark=end_mark,
            failures=cut.failures,
        )

    async def _backward_page(
        self, after: Boundary | None, before: Boundary | None, k: int
    ) -> MergedPage:
        failures: list[StreamFailure] = []
        if before is None:
            lengths = await self._gather(
                [(s, self.readers[s.index].length()) for s in self.streams], failures
            )
            # A source whose length is unknown keeps "its end" for the next page to retry.
            end = Boundary(tuple(END if n is None else n for _, n in lengths))
            down = frozenset(s.index for s, n in lengths if n is None)
        else:
            end, down = before, frozenset()
        low = None if after is None else after.positions
        cut = await self._merge_backward(end.positions, low, k, skip=down)
        cut.failures[:0] = failures
        edges = [
            self._edge(key, raw.job(), end.positions, cut) for key, raw in reversed(cut.emitted)
        ]
        start = Boundary(
            cut.boundary,
            matches_before=cut.unemitted,
            matches_after=bool(edges) or end.matches_after,
            key=self._start_key(cut, after, end),
            held=self._held(cut),
        )
        start_mark: Mark | None = edges[0].mark if edges else None
        if cut.short:
            start_mark = start
        return MergedPage(
            edges=edges,
            has_next=end.matches_after,
            has_previous=cut.more,
            start=start,
            start_mark=start_mark,
            end_mark=edges[-1].mark if edges else None,
            failures=cut.failures,
        )

    def _held(self, cut: _Cut) -> tuple[int, ...]:
        """The streams a cut did not read (failed ones), which keep their positions."""
        return tuple(s.index for s in self.streams if s.index not in cut.scans)

    def _start_key(self, cut: _Cut, after: Boundary | None, end: Boundary) -> CutKey | None:
        """The cut key of a backward page's start."""
        if cut.limit is None:
            # Every stream was scanned down to the window's start.
            return None if after is None else after.key
        if cut.limit == _ABOVE_ALL:
            return end.key
        return self._cut_key(cut, after=False)

    def _cut_key(self, cut: _Cut, *, after: bool) -> CutKey | None:
        """The cut key of a cut that lies beside a scanned job (None where it does not)."""
        limit = cut.limit
        if limit is None or limit in (_BELOW_ALL, _ABOVE_ALL) or limit[2] not in cut.scans:
            return None
        scan = cut.scans[limit[2]]
        raw = scan.jobs[limit[3] - scan.low]
        try:
            native_id = raw.identity()
        except JobgraphError:
            return None
        return CutKey(limit[2], epoch_micros(raw.created_at), native_id, after)

    @staticmethod
    def _edge(key: MergeKey, job: Job, origin: tuple[int, ...], cut: _Cut) -> MergedEdge:
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

    # --- directional merges ------------------------------------------------------------------

    async def _merge_forward(
        self, low: tuple[int, ...], high: tuple[int, ...] | None, k: int
    ) -> _Cut:
        """The k smallest matching keys at or after `low` (and before `high`)."""
        failures: list[StreamFailure] = []
        calls = [
            (s, self._scan_forward(s, low[s.index], None if high is None else high[s.index], k + 1))
            for s in self.streams
        ]
        scans = self._scans(await self._gather(calls, failures))
        while True:
            cut = self._cut_forward(scans, low, k, failures)
            if self._build(cut, scans, failures):
                return cut

    def _cut_forward(
        self,
        scans: dict[int, _Scan],
        low: tuple[int, ...],
        k: int,
        failures: list[StreamFailure],
    ) -> _Cut:
        candidates = sorted(
            (scan.keys[m], scan.jobs[m]) for scan in scans.values() for m in scan.matched
        )
        # A stream that may still hold matches: nothing past its last scanned key is safe.
        horizons = [scan.keys[-1] for scan in scans.values() if not scan.complete]
        horizon = min(horizons) if horizons else None
        emitted = [c for c in candidates if horizon is None or c[0] <= horizon][:k]
        limit: MergeKey | None
        if k == 0:
            limit, short = _BELOW_ALL, False
        elif len(emitted) == k:
            limit, short = emitted[-1][0], False
        else:
            limit, short = horizon, horizon is not None
        boundary = list(low)
        for index, scan in scans.items():
            taken = len(scan.keys) if limit is None else bisect_right(scan.keys, limit)
            boundary[index] = scan.forward_position(taken)
        unemitted = len(candidates) > len(emitted)
        return _Cut(
            emitted=emitted,
            scans=scans,
            boundary=tuple(boundary),
            short=short,
            more=unemitted or bool(horizons),
            unemitted=unemitted,
            failures=failures,
            limit=limit,
        )

    async def _merge_backward(
        self,
        high: tuple[int, ...],
        low: tuple[int, ...] | None,
        k: int,
        *,
        skip: frozenset[int] = frozenset(),
    ) -> _Cut:
        """The k largest matching keys before `high` (and at or after `low`)."""
        failures: list[StreamFailure] = []
        calls = [
            (s, self._scan_backward(s, high[s.index], 0 if low is None else low[s.index], k + 1))
            for s in self.streams
            if s.index not in skip
        ]
        scans = self._scans(await self._gather(calls, failures))
        while True:
            cut = self._cut_backward(scans, high, k, failures)
            if self._build(cut, scans, failures):
                return cut

    def _cut_backward(
        self,
        scans: dict[int, _Scan],
        high: tuple[int, ...],
        k: int,
        failures: list[StreamFailure],
    ) -> _Cut:
        candidates = sorted(
            ((scan.keys[m], scan.jobs[m]) for scan in scans.values() for m in scan.matched),
            reverse=True,
        )
        horizons = [scan.keys[0] for scan in scans.values() if not scan.complete]
        horizon = max(horizons) if horizons else None
        emitted = [c for c in candidates if horizon is None or c[0] >= horizon][:k]
        limit: MergeKey | None
        if k == 0:
            limit, short = _ABOVE_ALL, False
        elif len(emitted) == k:
            limit, short = emitted[-1][0], False
        else:
            limit, short = horizon, horizon is not None
        boundary = list(high)
        for index, scan in scans.items():
            kept = 0 if limit is None else bisect_left(scan.keys, limit)
            boundary[index] = scan.low + kept
        unemitted = len(candidates) > len(emitted)
        return _Cut(
            emitted=emitted,
            scans=scans,
            boundary=tuple(boundary),
            short=short,
            more=unemitted or bool(horizons),
            unemitted=unemitted,
            failures=failures,
            limit=limit,
        )

    def _build(self, cut: _Cut, scans: dict[int, _Scan], failures: list[StreamFailure]) -> bool:
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

    @staticmethod
    def _scans(outcomes: list[tuple[Stream, _Scan | None]]) -> dict[int, _Scan]:
        return {stream.index: scan for stream, scan in outcomes if scan is not None}

    def _chunking(self, reader: StreamReader, want: int) -> tuple[int, int | None]:
        """(chunk size, most chunks per page) for scanning a stream for `want` matches."""
        if reader.in_memory:
            # Reads cost no requests, only the jobs they build: build no more than needed.
            return (want if self.local_filter_free else max(want, MIN_CHUNK)), None
        if self.local_filter_free or reader.stream.pushdown.exact:
            # Every job the upstream returns matches: one window of `want` jobs is all a page needs.
            return want, None
        return max(want, MIN_CHUNK), SCAN_CHUNKS

    async def _scan_forward(self, stream: Stream, start: int, stop: int | None, want: int) -> _Scan:
        """Jobs from `start` on (before `stop`) until `want` match, the end, or the budget."""
        reader = self.readers[stream.index]
        if start >= END:
            # Finished on an earlier page: nothing after it, and no request to learn that.
            return _Scan(low=END, complete=True, at_end=True)
        chunk, most = self._chunking(reader, want)
        scan = _Scan(low=start)
        position = start
        chunks = 0
        while most is None or chunks < most:
            if stop is not None and position >= stop:
                scan.complete = True
                return scan
            window_stop = position + chunk if stop is None else min(stop, position + chunk)
            jobs = await reader.read(position, window_stop)
            chunks += 1
            for job in jobs:
                if self._beyond(job, toward_end=True):
                    scan.complete = True
                    return scan
                scan.keys.append(merge_key(job, self.order, stream.index, position))
                scan.jobs.append(job)
                position += 1
                if self._matches(job):
                    scan.matched.append(len(scan.keys) - 1)
                    if len(scan.matched) >= want:
                        return scan
            if position < window_stop:
                scan.complete = scan.at_end = True
                return scan
        return scan

    async def _scan_backward(self, stream: Stream, start: int, stop: int, want: int) -> _Scan:
        """Jobs before `start` (down to `stop`) until `want` match, the start, or the budget."""
        reader = self.readers[stream.index]
        if start >= END:
            start = await reader.length()
        chunk, most = self._chunking(reader, want)
        # Collected newest position first, reversed into ascending order at the end.
        keys: list[MergeKey] = []
        jobs: list[RawJob] = []
        matches: list[bool] = []
        found = 0
        position = start
        complete = False
        chunks = 0
        while not complete and (most is None or chunks < most):
            if position <= stop:
                complete = True
                break
            begin = max(stop, position - chunk)
            window = await reader.read(begin, position)
            if len(window) < position - begin and not keys:
                # The sequence is shorter than the cursor remembers: resume from its end.
                start = position = min(begin + len(window), await reader.length())
                continue
            chunks += 1
            for offset in range(len(window) - 1, -1, -1):
                job = window[offset]
                if self._beyond(job, toward_end=False):
                    complete = True
                    break
                keys.append(merge_key(job, self.order, stream.index, begin + offset))
                jobs.append(job)
                matches.append(self._matches(job))
                found += matches[-1]
                if found >= want:
                    break
            else:
                position = begin
                continue
            break
        keys.reverse()
        jobs.reverse()
        matches.reverse()
        matched = [i for i, hit in enumerate(matches) if hit]
        return _Scan(start - len(keys), keys, jobs, matched, complete)

    def _matches(self, raw: RawJob) -> bool:
        """Whether a scanned job matches the filter (built only where the filter needs it)."""
        return self.local_filter_free or self.spec.matches(raw.job())

    def _beyond(self, job: RawJob, *, toward_end: bool) -> bool:
        """Whether neither `job` nor any job after it in the scan's direction can match the
        creation-time filter (streams are sorted by creation time, missing times last)."""
        spec = self.spec
        if spec.created_after is None and spec.created_before is None:
            return False
        created = job.created_at
        if created is None:
            # Missing times sit at the end: past the first one, no job has a time.
            return toward_end
        toward_older = toward_end == (self.order is CreatedOrder.DESC)
        if toward_older:
            return spec.created_after is not None and created <= spec.created_after
        return spec.created_before is not None and created >= spec.created_before

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
        forward = argument == "after"
        aligned = [s for s in self.streams if s.index not in mark.held]
        calls = [
            self._align(s, mark.positions[s.index], key, forward=forward, span=span)
            for s in aligned
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
        self, stream: Stream, hint: int, key: CutKey, *, forward: bool, span: int
    ) -> int:
        """Stream `stream`'s position of the cut `key` defines: how many of its jobs lie
        before it. Over a list read whole, exact; over one the upstream sorts, found within
        `REALIGN_REACH` of the cursor's old position `hint`, in one read with the `span` jobs
        to be scanned from there wherever it has not moved."""
        if hint >= END:
            return hint
        reader = self.readers[stream.index]
        index = stream.index
        if reader.in_memory:
            jobs = await reader.sorted_jobs()
            return bisect_left(jobs, True, key=lambda raw: not self._before_cut(raw, index, key))
        chunk, _ = self._chunking(reader, span)
        ahead, behind = (chunk, 1) if forward else (1, chunk)
        for reach in (0, NEAR_REACH, REALIGN_REACH):
            low = max(0, hint - behind - reach)
            high = hint + ahead + reach
            jobs = await reader.read(low, high)
            before = [self._before_cut(raw, index, key) for raw in jobs]
            bounded_left = low == 0 or (bool(before) and before[0])
            bounded_right = len(jobs) < high - low or (bool(before) and not before[-1])
            if bounded_left and bounded_right:
                # Sorted by the key's order, so the jobs before the cut come first.
                return low + sum(before)
        raise StaleCursor(
            f"{stream.source} changed under this cursor: its place moved more than "
            f"{REALIGN_REACH} jobs; start again from the first page"
        )

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
            cut = await self._merge_forward(self._zeros(), None, offset)
        else:
            ends = tuple([await self.readers[s.index].length() for s in self.streams])
            cut = await self._merge_backward(ends, None, total - offset)
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

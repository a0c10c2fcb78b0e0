"""Scanning streams and cutting their merge, in either direction (`Direction`).

A page scans up to k+1 matching jobs from each stream (in bounded chunks, for filters only
applied locally), merges them, and emits the k nearest keys — never past the farthest key a
stream has scanned while it could still hold matches, so a sparse filter may give a short page
with more to come, never a wrong order.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from resolvers.domain import CreatedOrder, JobFilterSpec
from resolvers.merge.direction import Direction
from resolvers.merge.keys import END, MergeKey, merge_key
from resolvers.merge.plan import StreamFailure, spec_is_local_free
from resolvers.merge.reader import StreamReader
from resolvers.providers.base import RawJob

# A locally filtered stream is scanned in at most this many chunks per page ...
SCAN_CHUNKS = 5
# ... of at least this many jobs each.
MIN_CHUNK = 50


@dataclass(slots=True)
class Scan:
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


@dataclass(slots=True)
class Cut:
    """One directional merge: the jobs emitted (in scan direction) and where it stopped."""

    emitted: list[tuple[MergeKey, RawJob]]
    scans: dict[int, Scan]
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


@dataclass(frozen=True, slots=True)
class ScanRules:
    """How a listing's filter and order shape a scan: which jobs match, where no more can,
    and how much to read at a time."""

    order: CreatedOrder
    spec: JobFilterSpec

    @property
    def local_filter_free(self) -> bool:
        return spec_is_local_free(self.spec)

    def matches(self, raw: RawJob) -> bool:
        """Whether a scanned job matches the filter (built only where the filter needs it)."""
        return self.local_filter_free or self.spec.matches(raw.job())

    def beyond(self, job: RawJob, direction: Direction) -> bool:
        """Whether neither `job` nor any job after it in the scan's direction can match the
        creation-time filter (streams are sorted by creation time, missing times last)."""
        spec = self.spec
        if spec.created_after is None and spec.created_before is None:
            return False
        created = job.created_at
        if created is None:
            # Missing times sit at the end: past the first one, no job has a time.
            return direction.forward
        toward_older = direction.forward == (self.order is CreatedOrder.DESC)
        if toward_older:
            return spec.created_after is not None and created <= spec.created_after
        return spec.created_before is not None and created >= spec.created_before

    def chunking(self, reader: StreamReader, want: int) -> tuple[int, int | None]:
        """(chunk size, most chunks per page) for scanning a stream for `want` matches."""
        if reader.in_memory:
            # Reads cost no requests, only the jobs they build: build no more than needed.
            return (want if self.local_filter_free else max(want, MIN_CHUNK)), None
        if self.local_filter_free or reader.stream.pushdown.exact:
            # Every job the upstream returns matches: one window of `want` jobs is all a page needs.
            return want, None
        return max(want, MIN_CHUNK), SCAN_CHUNKS


async def scan_stream(
    reader: StreamReader,
    rules: ScanRules,
    direction: Direction,
    start: int,
    stop: int | None,
    want: int,
) -> Scan:
    """A stream's jobs from `start` on in `direction` (toward `stop`, None for the sequence's
    far end) until `want` match, the far end, or the budget."""
    if start >= END:
        if direction.forward:
            # Finished on an earlier page: nothing after it, and no request to learn that.
            return Scan(low=END, complete=True, at_end=True)
        start = await reader.length()
    index = reader.stream.index
    chunk, most = rules.chunking(reader, want)
    # Collected in scan order, put in ascending order at the end.
    keys: list[MergeKey] = []
    jobs: list[RawJob] = []
    hits: list[bool] = []
    found = 0
    position = start
    chunks = 0
    complete = at_end = False
    while most is None or chunks < most:
        if direction.reached(position, stop):
            complete = True
            break
        low, high = direction.window(position, chunk, stop)
        window = await reader.read(low, high)
        short = len(window) < high - low
        if short and not direction.forward and not keys:
            # The sequence is shorter than the cursor remembers: resume from its end.
            start = position = min(low + len(window), await reader.length())
            continue
        chunks += 1
        stopped = False
        for offset in direction.offsets(len(window)):
            job = window[offset]
            if rules.beyond(job, direction):
                complete = stopped = True
                break
            keys.append(merge_key(job, rules.order, index, low + offset))
            jobs.append(job)
            hits.append(rules.matches(job))
            found += hits[-1]
            if hits[-1] and found >= want:
                stopped = True
                break
        if stopped:
            break
        if short and direction.forward:
            # The fill follows short pages up, so a short window is the sequence's end.
            complete = at_end = True
            break
        position = direction.next_position(low, high)
    keys = direction.in_scan_order(keys)
    jobs = direction.in_scan_order(jobs)
    hits = direction.in_scan_order(hits)
    low = start if direction.forward else start - len(keys)
    matched = [i for i, hit in enumerate(hits) if hit]
    return Scan(low, keys, jobs, matched, complete, at_end)


def cut_scans(
    direction: Direction,
    scans: dict[int, Scan],
    origin: tuple[int, ...],
    k: int,
    failures: list[StreamFailure],
) -> Cut:
    """The k matching jobs the scans from `origin` show nearest to it, and the cut beyond them."""
    candidates = direction.ordered(
        [(scan.keys[m], scan.jobs[m]) for scan in scans.values() for m in scan.matched]
    )
    # A stream that may still hold matches: nothing past its farthest scanned key is safe.
    horizons = [direction.farthest(scan.keys) for scan in scans.values() if not scan.complete]
    horizon = direction.nearest(horizons) if horizons else None
    emitted = [c for c in candidates if horizon is None or direction.within(c[0], horizon)][:k]
    limit: MergeKey | None
    if k == 0:
        limit, short = direction.origin_key, False
    elif len(emitted) == k:
        limit, short = emitted[-1][0], False
    else:
        limit, short = horizon, horizon is not None
    boundary = list(origin)
    for index, scan in scans.items():
        boundary[index] = scan.forward_position(direction.below_cut(scan.keys, limit))
    unemitted = len(candidates) > len(emitted)
    return Cut(
        emitted=emitted,
        scans=scans,
        boundary=tuple(boundary),
        short=short,
        more=unemitted or bool(horizons),
        unemitted=unemitted,
        failures=failures,
        limit=limit,
    )

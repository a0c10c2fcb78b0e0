"""Relay connection arguments over one upstream sequence: which window to fetch, what the page
then knows about its neighbours, and how an edge cursor finds its place again after the list
has changed under it.

An edge cursor carries an `Anchor`: the position, id and creation time of its job. Upstream
positions shift when jobs are created or deleted between two requests, so a page first checks
that its cursor's job is still where the cursor says; if not, it looks for it within
`REALIGN_REACH` positions either side: by id, or, where the list is ordered by creation time,
by (creation time, id), which also finds the place of a job deleted since. Jobs created at the
same instant may come back in any order, so in a list ordered by creation time each run of
equal times is put in id order before it is cut. What cannot be re-aligned exactly is a
STALE_CURSOR error, never a skipped or repeated job.

A list may also change between the requests of one read (a busy project): a read is then made
in steps joined by id, the reads of one view agree on every position they share (the newest
wins), and a cut through a sorted list is found by reads galloping from its old position,
with the list's measured pace per request (`SequenceReads.locate`), however far it moved.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from resolvers.client import UpstreamSession, fresh_reads
from resolvers.domain import CreatedOrder, Job, epoch_micros, micros_key, time_key
from resolvers.errors import BadUserInput, StaleCursor
from resolvers.paging import PageWindow, WindowOutOfReach, WindowResult
from resolvers.providers.base import ListQuery, ProviderAdapter, RawJob
from resolvers.relay import CursorWindow, page_flags, returned_range, window_reach

# How far either side of its old position a cursor's job is looked for (one window read).
REALIGN_REACH = 100
NEAR_REACH = 24
# Reads a cursor's place is looked for in, galloping from its old place (see `locate`).
LOCATE_READS = 16
# Times a page re-aligns and re-reads when the list changes again while it is read.
REALIGN_ATTEMPTS = 3
# Positions a sorted read takes past its end where they cost no request more (see _free_stop).
FREE_MARGIN = 3
# A window read again in steps joins each request to the last by this many jobs: enough to
# find the join after as many jobs were deleted before it (and `step - STEP_OVERLAP` created).
STEP_OVERLAP = 8
# Requests in a row of a stepped read that may bring no job more (they missed the join: the
# list moved further than the overlap, and the join is galloped after) before the read gives
# up with STALE_CURSOR.
STEP_MISSES = 8
_AHEAD, _BEHIND = "ahead", "behind"


@dataclass(frozen=True, slots=True)
class Anchor:
    """The job an edge cursor stands on: where it was, its id, and its creation time in
    microseconds since the epoch (None where the job has none)."""

    position: int
    native_id: str
    created_us: int | None = None

    @classmethod
    def of(cls, position: int, job: Job) -> Anchor:
        return cls(position, job.native_id, epoch_micros(job.created_at))


@dataclass(frozen=True, slots=True)
class ConnectionArgs:
    """Decoded Relay arguments: `after`/`before` are sequence positions (after may be -1,
    meaning "before the first item"); an anchor, where the cursor has one, re-aligns them."""

    first: int | None = None
    after: int | None = None
    last: int | None = None
    before: int | None = None
    after_anchor: Anchor | None = None
    before_anchor: Anchor | None = None

    def check(self, max_page_size: int) -> None:
        for name, value in (("first", self.first), ("last", self.last)):
            if value is not None and not 0 <= value <= max_page_size:
                raise BadUserInput(f"`{name}` must be between 0 and {max_page_size}, got {value}")
        if self.after is not None and self.before is not None and self.before <= self.after:
            raise BadUserInput("`before` must come after `after`")


@dataclass(frozen=True, slots=True)
class ConnectionPage:
    """A page of jobs starting at position `start`."""

    start: int
    jobs: list[Job]
    has_next: bool
    has_previous: bool
    total: int | None


def _order_key(raw: RawJob, order: CreatedOrder) -> tuple[int, int, str]:
    """Ascending in the list's order: creation time (missing last), then id."""
    return (*time_key(raw.created_at, order), _id(raw))


def _id(raw: RawJob) -> str:
    return raw.identity()


def _anchor_key(anchor: Anchor, order: CreatedOrder) -> tuple[int, int, str]:
    return (*micros_key(anchor.created_us, order), anchor.native_id)


@dataclass(slots=True)
class _Read:
    """A contiguous run of the sequence as read: jobs at [start, start + len(jobs))."""

    start: int
    jobs: list[RawJob]
    result: WindowResult[RawJob]
    # The view's count of requests when these positions were the upstream's: at its first
    # request, or at that of the read it was joined to (see `SequenceReads.pace`).
    epoch: int = 0

    @property
    def stop(self) -> int:
        return self.start + len(self.jobs)

    @property
    def ended(self) -> bool:
        """Whether the sequence ends right after these jobs."""
        return self.result.end is not None and self.result.end <= self.stop


@dataclass(slots=True)
class SequenceReads:
    """One page's (or, in the federated merge, one operation's) view of an upstream sequence:
    windows read once, and where it is ordered by creation time, ties put in id order."""

    adapter: ProviderAdapter
    http: UpstreamSession
    query: ListQuery
    order: CreatedOrder | None
    # Build jobs only when used (ties, ids looked for, the page): the merge reads ahead of
    # what it emits, and a job that does not parse fails only the page that uses it.
    lazy: bool = False
    # The federated merge's reads: lazy ones may come from a snapshot (`fetch_raw_window`).
    shared: bool = False
    reads: list[_Read] = field(default_factory=list)
    # A read of this view found the list moving between its requests: later ones are read in
    # steps at once, not first as one window that would only be read again.
    changing: bool = False
    # Requests this view has made, and how far the list moved per request as its last
    # stepped read measured (jobs created before a position push it on): a read's positions
    # lie about `pace` times the requests since its `epoch` behind the upstream's now.
    sent: int = 0
    pace: int = 0

    async def read(self, start: int, stop: int, *, fresh: bool = False) -> _Read:
        """The jobs at [start, stop) (fewer where the sequence ends), reusing earlier reads
        and joined to one it adjoins; `fresh`: read anew, in the list's positions now."""
        for done in reversed(self.reads):
            if fresh:
                break
            if done.start <= start and (stop <= done.stop or done.ended):
                offset = start - done.start
                jobs = done.jobs[offset : stop - done.start]
                return _Read(start, jobs, done.result, done.epoch)
        if self.order is None:
            epoch = self.sent
            result = await self._fetch(start, stop)
            read = _Read(start, list(result.items), result, epoch)
        else:
            read = await self._read_ordered(start, stop, fresh=fresh)
        self._keep(read)
        return read

    async def locate(self, low: int, width: int, before: Callable[[RawJob], bool]) -> int:
        """Where a cut through this sorted sequence lies now: how many jobs are `before` it.
        Reads of `width` jobs are made from `low`, near its old place (the first may be one
        made already), until one holds jobs either side of it (or the sequence's start or
        end), galloping toward it. Where the list moves as it is read (a busy project) the
        cut moves on meanwhile, by about `pace` a request: what earlier reads showed is
        moved on as much."""
        search = _PlaceSearch()
        frame: int | None = None
        for attempt in range(LOCATE_READS):
            read = await self.read(low, low + width, fresh=attempt > 0)
            if frame is not None:
                search.moved(self.pace * (read.epoch - frame))
            frame = read.epoch
            flags = [before(raw) for raw in read.jobs]
            bounded_left = low == 0 or (bool(flags) and flags[0])
            bounded_right = len(flags) < width or (bool(flags) and not flags[-1])
            if bounded_left and bounded_right:
                # Sorted by the cut's order, so the jobs before the cut come first.
                return low + sum(flags)
            if bounded_left:
                search.beyond(low + len(flags), width)
            else:
                search.behind(low, width)
            # The next read is a fresh one: its positions are those of its first request.
            search.moved(self.pace * (self.sent - frame))
            frame = self.sent
            placed = search.place(width)
            assert placed is not None
            low = placed
        raise StaleCursor(
            f"the list changed under this cursor: its place was not found in {LOCATE_READS} "
            "reads; start again from the first page"
        )

    def _keep(self, read: _Read) -> None:
        """Record a fresh read. An earlier one it contradicts (another job at a position both
        hold, or an end where the other holds jobs: the list moved between them) keeps only
        what lies before the contradiction, where they agree on a job before it (joined
        there, as a stepped read joins its requests); else it is dropped. Positions are what
        the newest read says."""
        kept: list[_Read] = []
        for done in self.reads:
            low, high = max(done.start, read.start), min(done.stop, read.stop)
            differs = next(
                (
                    p
                    for p in range(low, high)
                    if not _same_job(done.jobs[p - done.start], read.jobs[p - read.start])
                ),
                None,
            )
            if differs is None and done.ended and read.stop > done.stop:
                differs = done.stop
            if differs is None and read.ended and done.stop > read.stop:
                differs = read.stop
            if differs is None:
                kept.append(done)
            elif differs > low:
                # What it says of the list's end or total no longer holds.
                result = replace(done.result, total=None, end=None)
                jobs = done.jobs[: differs - done.start]
                kept.append(_Read(done.start, jobs, result, done.epoch))
        kept.append(read)
        self.reads = kept

    async def _read_ordered(self, start: int, stop: int, *, fresh: bool = False) -> _Read:
        # One job either side shows whether a run of equal creation times crosses the edge;
        # if one does, read on until it closes, so that the whole run is put in id order.
        # Either side a few more jobs are read where they cost no request more.
        assert self.order is not None
        margin = 1
        while True:
            low = max(0, start - margin)
            high = stop + margin
            if margin == 1:
                low, high = self._free_low(low, high), self._free_stop(low, high)
            result, epoch = await self._fetch_coherent(low, high, fresh=fresh)
            jobs = _ties_by_id(await self._consistent(low, list(result.items)))
            ended = len(jobs) < high - low
            # The run at each edge of [start, stop) reaches the end of what was read.
            first, last = start - low, min(stop, low + len(jobs)) - 1 - low
            open_left = low > 0 and 0 < first < len(jobs) and _same_time(jobs[0], jobs[first])
            open_right = (
                not ended and 0 <= last < len(jobs) - 1 and _same_time(jobs[last], jobs[-1])
            )
            if not (open_left or open_right) or margin >= REALIGN_REACH:
                # The margins themselves may hold part of a run: keep only [start, stop).
                return _Read(start, jobs[start - low : stop - low], result, epoch)
            margin *= 4

    def _free_low(self, low: int, stop: int) -> int:
        """`low`, moved back by up to `FREE_MARGIN` positions where the upstream requests the
        planner makes for [low, stop) stay as many (a run crossing the page's first edge
        then usually closes within the first read too). Only for a view's first read: later
        ones join earlier reads, and on a list that moves between requests every position
        they share is one more the reads must agree on."""
        if low == 0 or self.reads:
            return low
        cap = self.adapter.hints(self.http).learned_cap
        wider = max(0, low - FREE_MARGIN)
        planned = len(self.adapter.plan(PageWindow(low, stop), cap))
        return wider if len(self.adapter.plan(PageWindow(wider, stop), cap)) == planned else low

    def _free_stop(self, low: int, stop: int) -> int:
        """`stop`, moved on by up to `FREE_MARGIN` positions where the upstream requests the
        planner makes for [low, stop) stay as many (a run crossing the edge then usually
        closes within the first read)."""
        cap = self.adapter.hints(self.http).learned_cap
        wider = stop + FREE_MARGIN
        planned = len(self.adapter.plan(PageWindow(low, stop), cap))
        return wider if len(self.adapter.plan(PageWindow(low, wider), cap)) == planned else stop

    async def _fetch_coherent(
        self, start: int, stop: int, *, fresh: bool = False
    ) -> tuple[WindowResult[RawJob], int]:
        """The window as one snapshot of the list. Jobs created or deleted between the requests
        of a window (several, under a server cap), or since an earlier read this one adjoins,
        shift the jobs of one request against another's: they would overlap or leave a gap.
        Then the window is read again in steps, each request overlapping the last by a few
        jobs and joined to it by id (so positions are the first request's); once a view has
        seen that, it reads in steps at once. Returned with the positions' epoch (see
        `_Read`); `fresh`: joined to no earlier read."""
        known, epoch = (None, self.sent) if fresh else self._known(start)
        if self.changing:
            return await self._fetch_in_steps(start, stop, known, epoch), epoch
        result = await self._fetch(start, stop)
        # The job an adjoining read found here is still here (or one created at the same
        # instant is: ties come in any order, and `_consistent` settles their runs).
        joined = known is None or (
            bool(result.items) and result.items[0].created_at == known.created_at
        )
        if joined and _coherent(result, self.order):
            return result, epoch
        if known is None:
            epoch = self.sent
        return await self._fetch_in_steps(start, stop, known, epoch), epoch

    def _known(self, position: int) -> tuple[RawJob | None, int]:
        """The job an earlier read of this view found at `position`, if any, and that read's
        epoch (else the epoch a read made now has)."""
        for done in reversed(self.reads):
            if done.start <= position < done.stop:
                return done.jobs[position - done.start], done.epoch
        return None, self.sent

    async def _fetch_in_steps(
        self, start: int, stop: int, known: RawJob | None, epoch: int
    ) -> WindowResult[RawJob]:
        # One request a step: a learned server cap, else the window (at least some jobs more
        # than the overlap), halved where it still takes more than one request.
        step = self.adapter.hints(self.http).learned_cap or max(stop - start, STEP_OVERLAP * 4)
        # Later reads of this view join by steps at once: the list moves between requests.
        self.changing = True
        jobs: list[RawJob] = [] if known is None else [known]
        # Where the job after the last one read stood at the last request that found the
        # join, and how far the list moved per request then (jobs created before it push it
        # on): each request is placed where the join should be by now.
        position, rate = start + len(jobs), self.pace
        if known is not None:
            # The known job has moved on since its read's positions were the upstream's.
            position += self.pace * (self.sent - epoch)
        search = _PlaceSearch()
        requests = misses = since = 0
        paced = known is None
        ended = False
        result: WindowResult[RawJob] | None = None
        while len(jobs) < stop - start and not ended:
            if misses > STEP_MISSES:
                raise _changing()
            overlap = min(STEP_OVERLAP, step // 2)
            if not jobs:
                low = position
            else:
                search.moved(rate)
                placed = search.place(step)
                # Where the join should be by now, `overlap` jobs into the request.
                low = max(0, position + rate * (since + 1) - overlap) if placed is None else placed
            with fresh_reads():
                result = await self._fetch(low, low + step)
            requests += result.requests
            since += 1
            if not _coherent(result, self.order):
                if result.requests > 1 and step > 1:
                    # The step took more than one request (a cap not learnt, or a page
                    # scheme's alignment): ask for fewer at a time.
                    step = max(1, min(step // 2, result.largest_page or step))
                    misses += 1
                    continue
                raise _changing()
            items = list(result.items)
            ended = result.end is not None and result.end <= low + len(items)
            at = self._joint(items, jobs[-1]) if jobs else -1
            if at == _AHEAD and ended:
                # Everything left lies before the last job's place: the list ends with it.
                break
            if isinstance(at, str):
                # The last job read lies beyond this request, or before it.
                misses += 1
                if at == _AHEAD:
                    search.beyond(low + len(items), step)
                else:
                    search.behind(low - 1, step)
                ended = False
                continue
            found = low + at + 1
            if paced:
                rate = (found - position) // since
            # The first join to a job an earlier read found says nothing of the pace.
            paced, since = True, 0
            search = _PlaceSearch()
            fresh = _after_join(items, at, jobs)
            position = found + len(items) - (at + 1)
            if not fresh and not ended:
                misses += 1  # the list moved on by about the request: it asks further next
                continue
            had = len(jobs)
            jobs += fresh[: stop - start - len(jobs)]
            if not ended and len(jobs) < stop - start:
                # The next request joins before any run of equal times this one ends in: each
                # request may order a run differently, so the run is read again whole.
                kept = _without_open_run(jobs)
                position -= len(jobs) - len(kept)
                jobs = kept
            # No job more: the list moved on by about the request (it asks further next), or
            # a run of equal times is longer than a request (it cannot be read whole).
            misses = 0 if len(jobs) > had else misses + 1
        assert result is not None
        self.pace = rate
        end = start + len(jobs) if ended and len(jobs) < stop - start else None
        # Totals counted at different moments describe no one snapshot: none is kept.
        return WindowResult(
            PageWindow(start, stop), jobs, None, end, requests, result.observed_cap,
            result.largest_page,
        )  # fmt: skip

    def _joint(self, items: list[RawJob], last: RawJob) -> int | str:
        """Where `last` (the last job read) is among `items`: its index; where it has been
        deleted, the index of the last job before its place; else `_AHEAD` (it lies beyond
        them) or `_BEHIND`."""
        at = _index_of(items, last.identity())
        if at is not None:
            return at
        if self.order is None or not items:
            return _AHEAD if items else _BEHIND
        key = _order_key(last, self.order)
        keys = [_order_key(raw, self.order) for raw in items]
        if keys[-1] < key:
            return _AHEAD
        if keys[0] > key:
            return _BEHIND
        return sum(1 for k in keys if k < key) - 1

    async def _consistent(self, low: int, jobs: list[RawJob]) -> list[RawJob]:
        """`jobs` (from position `low`) with every run of equal creation times read in one
        request: each request may order a run differently, so a run split across two
        requests can show one job twice and another not at all."""
        for _ in range(len(jobs)):
            repeated = _first_repeat(jobs)
            if repeated is None:
                return jobs
            first = next(i for i, j in enumerate(jobs) if _same_time(j, repeated))
            last = max(i for i, j in enumerate(jobs) if _same_time(j, repeated))
            again = await self._fetch(low + first, low + last + 1)
            run = list(again.items)
            if len(run) != last + 1 - first or len({_id(j) for j in run}) != len(run):
                raise StaleCursor(
                    f"{len(run)} jobs created at one instant come back in a different order on "
                    "every request, and more of them than one request returns: they cannot be "
                    "paged exactly; page in smaller steps or in another order"
                )
            jobs[first : last + 1] = run
        return jobs

    async def _fetch(self, start: int, stop: int) -> WindowResult[RawJob]:
        window = PageWindow(start, stop)
        try:
            if self.lazy:
                raw = await self.adapter.fetch_raw_window(
                    self.http, self.query, window, shared=self.shared
                )
                self.sent += raw.requests
                return raw
            built = await self.adapter.fetch_window(self.http, self.query, window)
            self.sent += built.requests
        except WindowOutOfReach as exc:
            raise BadUserInput(
                f"cursor position is beyond what the upstream can page to: {exc}"
            ) from None
        return built.map(RawJob.of)


def _still_at(read: _Read, start: int, anchor: Anchor | None, position: int | None) -> bool:
    """Whether the anchor's job (where it still exists) is at `position` in this read."""
    if anchor is None or position is None or position < start:
        return True
    offset = position - start
    if offset >= len(read.jobs):
        return True
    job = read.jobs[offset]
    return _id(job) == anchor.native_id or not _exists_elsewhere(read, anchor)


def _exists_elsewhere(read: _Read, anchor: Anchor) -> bool:
    return any(_id(job) == anchor.native_id for job in read.jobs)


def _first_repeat(jobs: list[RawJob]) -> RawJob | None:
    """A job listed twice in a read sorted by creation time: both copies fall in one run of
    equal times, so only runs are looked at (and built)."""
    for _, grouped in itertools.groupby(jobs, key=lambda raw: raw.created_at):
        run = list(grouped)
        if len(run) < 2:
            continue
        seen: set[str] = set()
        for raw in run:
            if _id(raw) in seen:
                return raw
            seen.add(_id(raw))
    return None


def _coherent(result: WindowResult[RawJob], order: CreatedOrder | None) -> bool:
    """Whether a window's requests show one state of the list: the same total, and the order
    kept across the joins of a sorted list (no job twice in an unsorted one)."""
    if result.requests <= 1:
        return True
    if result.totals_differ:
        return False
    if order is None:
        return len({raw.identity() for raw in result.items}) == len(result.items)
    # A sorted list's copies pushed into a later request break its order, unless they tie in
    # time with what precedes them: those `_consistent` settles, reading their run again whole.
    keys = [time_key(raw.created_at, order) for raw in result.items]
    return all(a <= b for a, b in itertools.pairwise(keys))


def _index_of(jobs: list[RawJob], native_id: str) -> int | None:
    return next((i for i, raw in enumerate(jobs) if raw.identity() == native_id), None)


def _without_open_run(jobs: list[RawJob]) -> list[RawJob]:
    """`jobs` less the run of equal creation times it ends in (the first job always kept)."""
    last = jobs[-1].created_at
    keep = len(jobs)
    while keep > 1 and jobs[keep - 1].created_at == last:
        keep -= 1
    return jobs[:keep]


def _changing() -> StaleCursor:
    return StaleCursor(
        "the list keeps changing faster than it can be read exactly: jobs are created or "
        "deleted between the requests of one page; try again, or page in smaller steps"
    )


@dataclass(slots=True)
class _PlaceSearch:
    """Where to read next for a place in a sorted list (a cursor's cut, or the job a stepped
    read joins to) that the reads so far missed: past them it gallops on, doubling the
    distance while it keeps missing on that side; before them it gallops back; once it has
    seen both sides it halves the gap. Bounds move with the list (`moved`), so a place that
    keeps moving is caught up with in about as many reads as the logarithm of how far."""

    # The place lies at or after `lower`, at or before `upper` (positions as of now).
    lower: int | None = None
    upper: int | None = None
    jump: int = 0
    # The side of the last miss (True: the place lay beyond the jobs read).
    ahead: bool | None = None

    def moved(self, shift: int) -> None:
        """The list moved on by about `shift` positions since the bounds were found."""
        if self.lower is not None:
            self.lower = max(0, self.lower + shift)
        if self.upper is not None:
            self.upper = max(0, self.upper + shift)

    def beyond(self, position: int, size: int) -> None:
        """A read of `size` jobs missed the place: it lies at or after `position`."""
        self._gallop(ahead=True, size=size)
        self.lower = position
        if self.upper is not None and self.upper < position:
            self.upper = None

    def behind(self, position: int, size: int) -> None:
        """A read of `size` jobs missed the place: it lies at or before `position`."""
        self._gallop(ahead=False, size=size)
        self.upper = max(0, position)
        if self.lower is not None and self.lower > self.upper:
            self.lower = None

    def _gallop(self, *, ahead: bool, size: int) -> None:
        # The distance doubles while the reads keep missing on one side.
        self.jump = self.jump * 2 if self.ahead is ahead else size
        self.ahead = ahead

    def place(self, size: int) -> int | None:
        """Where the next read of `size` jobs starts; None before any miss."""
        lower, upper = self.lower, self.upper
        if lower is not None and upper is not None:
            return max(0, (lower + upper) // 2 - size // 2)
        if lower is not None:
            return lower + self.jump - size
        if upper is not None:
            return max(0, upper + 1 - self.jump)
        return None


def _after_join(items: list[RawJob], at: int, jobs: list[RawJob]) -> list[RawJob]:
    """The jobs of a request that follow the last job read (`jobs[-1]`, at index `at` or
    just before its place): each request may order a run of equal creation times
    differently, so that job's run is matched by id, not by place: its jobs read already
    are left out, and those the request shows before the join come first."""
    if not jobs or at < 0:
        return items[at + 1 :]
    created = jobs[-1].created_at
    tail = itertools.takewhile(lambda raw: raw.created_at == created, reversed(jobs))
    read = {_id(raw) for raw in tail}
    missed = [raw for raw in items[:at] if raw.created_at == created and _id(raw) not in read]
    later = [raw for raw in items[at + 1 :] if not (raw.created_at == created and _id(raw) in read)]
    return missed + later


def _same_job(a: RawJob, b: RawJob) -> bool:
    """Whether two reads show the same job (by the id the light parse read)."""
    if a is b:
        return True
    return a.native_id is not None and a.native_id == b.native_id


def _same_time(a: RawJob, b: RawJob) -> bool:
    return a.created_at == b.created_at


def _ties_by_id(jobs: list[RawJob]) -> list[RawJob]:
    """Each run of equal creation times in id order (upstreams give no stable order there);
    only jobs in runs are built."""
    ordered: list[RawJob] = []
    for _, run in itertools.groupby(jobs, key=lambda raw: raw.created_at):
        group = list(run)
        ordered.extend(sorted(group, key=_id) if len(group) > 1 else group)
    return ordered


async def _realign(
    sequence: SequenceReads, anchor: Anchor, *, as_after: bool, span: int = 0
) -> int:
    """Where the cut a cursor stands for lies now: used as `after`, the position of the last
    job at or before the anchor; as `before`, the position of the first job at or after it."""
    position = anchor.position
    here = await sequence.read(position, position + 1)
    if here.jobs and _id(here.jobs[0]) == anchor.native_id:
        return position
    # Already read with the page's first window (which holds some positions either side)?
    for done in sequence.reads:
        at = _index_of(done.jobs, anchor.native_id)
        if at is not None:
            return done.start + at
    # A near look first (one request on most upstreams), then the whole reach.
    for reach in (NEAR_REACH, REALIGN_REACH):
        # Wide enough to hold the page too, so that the page comes from the same read.
        low = max(0, position - reach - (0 if as_after else span))
        around = await sequence.read(low, position + reach + 1 + (span if as_after else 0))
        for offset, job in enumerate(around.jobs):
            if _id(job) == anchor.native_id:
                return low + offset
    order = sequence.order
    if order is not None and anchor.created_us is not None:
        # The anchor is gone: its place is where its (time, id) would sort.
        key = _anchor_key(anchor, order)
        keys = [_order_key(job, order) for job in around.jobs]
        before = sum(1 for k in keys if k < key)
        bounded_left = low == 0 or (bool(keys) and keys[0] < key)
        bounded_right = around.ended or (bool(keys) and keys[-1] > key)
        if bounded_left and bounded_right:
            return low + before - 1 if as_after else low + before
    raise StaleCursor(
        "the list changed under this cursor: its job is gone or moved more than "
        f"{REALIGN_REACH} places, and its place cannot be found exactly; start again from "
        "the first page"
    )


async def load_page(
    adapter: ProviderAdapter,
    http: UpstreamSession,
    query: ListQuery,
    args: ConnectionArgs,
    max_page_size: int,
) -> ConnectionPage:
    """The jobs the Relay arguments select, with as few upstream requests as the scheme allows;
    the page and its flags cut as `resolvers.relay` says."""
    args.check(max_page_size)
    sequence = SequenceReads(adapter, http, query, adapter.created_order(query))
    after, before = args.after, args.before
    anchors = [a for a in (args.after_anchor, args.before_anchor) if a is not None]
    if anchors:
        # One read covers the page and its cursors' jobs: where nothing moved, re-aligning
        # costs no request.
        plan = await _plan(adapter, http, query, args, after, before, max_page_size)
        start = min([plan.read_start, *(a.position for a in anchors)])
        stop = max([plan.read_stop, *(a.position + 1 for a in anchors)])
        await sequence.read(start, stop)
    span = (args.first if args.first is not None else args.last or max_page_size) + 1
    for _ in range(REALIGN_ATTEMPTS):
        if args.after_anchor is not None:
            after = await _realign(sequence, args.after_anchor, as_after=True, span=span)
        if args.before_anchor is not None:
            before = await _realign(sequence, args.before_anchor, as_after=False, span=span)
        if after is not None and before is not None and before <= after:
            # The two cursors' jobs met or crossed as the list changed: nothing lies between.
            before = after + 1
        plan = await _plan(adapter, http, query, args, after, before, max_page_size)
        # The page is read with the cursor's job, and it must still be where it was re-aligned
        # to: the list may change again between two requests of one page (a busy project).
        edge = plan.read_start
        if args.after_anchor is not None and after is not None and after >= 0:
            edge = min(edge, after)
        read = await sequence.read(edge, plan.read_stop)
        if _still_at(read, edge, args.after_anchor, after):
            read = await sequence.read(plan.read_start, plan.read_stop)
            break
        sequence.reads.clear()
    else:
        raise StaleCursor(
            "the list keeps changing under this cursor faster than a page can be read; "
            "start again from the first page"
        )
    trusted = adapter.trusts_total(query)
    total = read.result.trusted_total if trusted else None
    if plan.first is None:
        window = CursorWindow(
            plan.window_size,
            edges_before_after=plan.low > 0,
            edges_from_before=before is not None,
        )
        start, jobs = plan.read_start - plan.low, [raw.job() for raw in read.jobs]
    else:
        if total is not None:
            end = total if before is None else min(total, before)
            window = CursorWindow(max(0, end - plan.low), edges_before_after=plan.low > 0)
        else:
            # Read to its reach with no look-ahead and no proven end: more may follow.
            unproven = plan.lookahead == 0 and read.result.end is None and plan.read_stop != before
            window = CursorWindow(
                len(read.jobs),
                more=unproven and len(read.jobs) == plan.read_stop - plan.low,
                edges_before_after=plan.low > 0,
            )
        start, stop = returned_range(len(read.jobs), plan.first, args.last)
        jobs = [raw.job() for raw in read.jobs[start:stop]]
    flags = page_flags(plan.first, args.last, window)
    return ConnectionPage(plan.low + start, jobs, flags.has_next, flags.has_previous, total)


@dataclass(frozen=True, slots=True)
class _Plan:
    """The window the cursors leave, from `low`, and the positions a page of it must read."""

    low: int
    read_start: int
    read_stop: int
    # `first` as the page applies it (neither `first` nor `last`: `max_page_size`).
    first: int | None
    # Known without reading only for `last` alone: the window's size.
    window_size: int = 0
    lookahead: int = 0


async def _plan(
    adapter: ProviderAdapter,
    http: UpstreamSession,
    query: ListQuery,
    args: ConnectionArgs,
    after: int | None,
    before: int | None,
    max_page_size: int,
) -> _Plan:
    """What to read for the Relay arguments (see `resolvers.relay`): with `first`, the
    window's head as far as the page and both flags need; with `last` alone, its tail, the
    window's end being `before` or the sequence's length."""
    low = 0 if after is None else after + 1
    first = args.first
    if first is None and args.last is None:
        first = max_page_size
    if first is None:
        assert args.last is not None
        high = before if before is not None else await adapter.length(http, query)
        size = max(0, high - low)
        start, stop = returned_range(size, None, args.last)
        return _Plan(low, low + start, low + stop, None, window_size=size)
    reach = window_reach(first, args.last)
    # Without a total to believe, one extra item tells whether the window holds more.
    lookahead = 0 if adapter.trusts_total(query) and reach > 0 else 1
    stop = low + reach + lookahead
    if before is not None:
        stop = max(low, min(stop, before))
    return _Plan(low, low, stop, first, lookahead=lookahead)


async def load_total(
    adapter: ProviderAdapter, http: UpstreamSession, query: ListQuery
) -> int | None:
    """The sequence's length where the upstream reports one that holds; None where only a
    scan would tell."""
    return await adapter.verified_total(http, query)

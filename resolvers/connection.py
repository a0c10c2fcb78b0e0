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
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from resolvers.client import UpstreamSession, fresh_reads
from resolvers.domain import CreatedOrder, Job, epoch_micros, micros_key, time_key
from resolvers.errors import BadUserInput, StaleCursor
from resolvers.paging import PageWindow, WindowOutOfReach, WindowResult
from resolvers.providers.base import ListQuery, ProviderAdapter, RawJob
from resolvers.relay import CursorWindow, page_flags, returned_range, window_reach

# How far either side of its old position a cursor's job is looked for (one window read).
REALIGN_REACH = 100
NEAR_REACH = 24
# Times a page re-aligns and re-reads when the list changes again while it is read.
REALIGN_ATTEMPTS = 3
# Positions a sorted read takes past its end where they cost no request more (see _free_stop).
FREE_MARGIN = 3
# A window read again in steps joins each request to the last by this many jobs: enough to
# find the join after as many jobs were deleted before it (and `step - STEP_OVERLAP` created).
STEP_OVERLAP = 8
# Requests of a stepped read that may miss the join (the list moved further than the overlap)
# before the read gives up with STALE_CURSOR.
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

    async def read(self, start: int, stop: int) -> _Read:
        """The jobs at [start, stop) (fewer where the sequence ends), reusing earlier reads."""
        for done in self.reads:
            if done.start <= start and (stop <= done.stop or done.ended):
                offset = start - done.start
                return _Read(start, done.jobs[offset : stop - done.start], done.result)
        if self.order is None:
            result = await self._fetch(start, stop)
            read = _Read(start, list(result.items), result)
        else:
            read = await self._read_ordered(start, stop)
        self.reads.append(read)
        return read

    async def _read_ordered(self, start: int, stop: int) -> _Read:
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
            result = await self._fetch_coherent(low, high)
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
                return _Read(start, jobs[start - low : stop - low], result)
            margin *= 4

    def _free_low(self, low: int, stop: int) -> int:
        """`low`, moved back by up to `FREE_MARGIN` positions where the upstream requests the
        planner makes for [low, stop) stay as many (a run crossing the page's first edge
        then usually closes within the first read too)."""
        if low == 0:
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

    async def _fetch_coherent(self, start: int, stop: int) -> WindowResult[RawJob]:
        """The window as one snapshot of the list. Jobs created or deleted between the requests
        of a window (several, under a server cap), or since an earlier read this one adjoins,
        shift the jobs of one request against another's: they would overlap or leave a gap.
        Then the window is read again in steps, each request overlapping the last by a few
        jobs and joined to it by id (so positions are the first request's)."""
        result = await self._fetch(start, stop)
        known = self._known(start)
        # The job an adjoining read found here is still here (or one created at the same
        # instant is: ties come in any order, and `_consistent` settles their runs).
        joined = known is None or (
            bool(result.items) and result.items[0].created_at == known.created_at
        )
        if joined and _coherent(result, self.order):
            return result
        return await self._fetch_in_steps(start, stop, known)

    def _known(self, position: int) -> RawJob | None:
        """The job an earlier read of this view found at `position`, if any."""
        for done in self.reads:
            if done.start <= position < done.stop:
                return done.jobs[position - done.start]
        return None

    async def _fetch_in_steps(
        self, start: int, stop: int, known: RawJob | None
    ) -> WindowResult[RawJob]:
        # One request a step: a learned server cap, else the window (at least some jobs more
        # than the overlap).
        step = self.adapter.hints(self.http).learned_cap or max(stop - start, STEP_OVERLAP * 4)
        overlap = min(STEP_OVERLAP, step // 2)
        jobs: list[RawJob] = [] if known is None else [known]
        # Where the job after the last one read stood at the last request, and how far the
        # list moved between two requests (jobs created before it push it on).
        position, drift = start + len(jobs), 0
        requests = misses = 0
        ended = False
        result: WindowResult[RawJob] | None = None
        while len(jobs) < stop - start and not ended:
            if misses > STEP_MISSES:
                raise _changing()
            low = max(0, position + drift - overlap) if jobs else position
            with fresh_reads():
                result = await self._fetch(low, low + step)
            requests += result.requests
            items = list(result.items)
            if not _coherent(result, self.order):
                raise _changing()
            ended = result.end is not None and result.end <= low + len(items)
            at = self._joint(items, jobs[-1]) if jobs else -1
            if isinstance(at, int) and not isinstance(at, bool):
                drift = low + at + 1 - position
            else:
                # The last job read lies beyond this request, or before it.
                misses += 1
                drift += (len(items) - overlap) if at == _AHEAD else -(step - overlap)
                ended = False
                continue
            fresh = items[at + 1 :]
            if not fresh and not ended:
                misses += 1  # the list moved on by about the request: it asks further next
                continue
            had = len(jobs)
            jobs += fresh[: stop - start - len(jobs)]
            position = low + at + 1 + len(fresh)
            if not ended and len(jobs) < stop - start:
                # The next request joins before any run of equal times this one ends in: each
                # request may order a run differently, so the run is read again whole.
                kept = _without_open_run(jobs)
                if len(kept) <= had:
                    # A run of equal times longer than a request: it cannot be read whole.
                    raise _changing()
                position -= len(jobs) - len(kept)
                jobs = kept
        assert result is not None
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
                return await self.adapter.fetch_raw_window(
                    self.http, self.query, window, shared=self.shared
                )
            built = await self.adapter.fetch_window(self.http, self.query, window)
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

"""Paging schemes as pure planners, and the one engine that fills a window from any of them.

Every upstream list is treated as a sequence indexed from 0. A connection asks for a
`PageWindow` [start, stop); a planner turns it into upstream requests for one scheme
(offset/limit, page/per_page or the whole list); `fill_window` issues them, follows up
short pages, and returns exactly the window's items.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

T = TypeVar("T")
U = TypeVar("U")


class WindowOutOfReach(ValueError):
    """The window lies beyond what the upstream's paging parameters can address."""


@dataclass(frozen=True, slots=True)
class PageWindow:
    """A half-open range [start, stop) of positions in an upstream sequence."""

    start: int
    stop: int

    def __post_init__(self) -> None:
        if self.start < 0 or self.stop < self.start:
            raise ValueError(f"bad window [{self.start}, {self.stop})")

    @property
    def size(self) -> int:
        return self.stop - self.start


@dataclass(frozen=True, slots=True)
class OffsetRequest:
    """offset/limit, or skip/limit where the upstream names the offset `skip`."""

    offset: int
    limit: int

    @property
    def start(self) -> int:
        return self.offset

    @property
    def stop(self) -> int:
        return self.offset + self.limit

    def query_params(self, offset_name: str = "offset") -> tuple[tuple[str, str], ...]:
        """The request's paging parameters, the offset under `offset_name`."""
        return ((offset_name, str(self.offset)), ("limit", str(self.limit)))


@dataclass(frozen=True, slots=True)
class PageNumberRequest:
    """page/per_page; pages count from 1."""

    page: int
    per_page: int

    @property
    def start(self) -> int:
        return (self.page - 1) * self.per_page

    @property
    def stop(self) -> int:
        return self.page * self.per_page

    def query_params(self) -> tuple[tuple[str, str], ...]:
        return (("page", str(self.page)), ("per_page", str(self.per_page)))


@dataclass(frozen=True, slots=True)
class WholeListRequest:
    """An upstream with no paging: one request returns everything."""

    @property
    def start(self) -> int:
        return 0

    @property
    def stop(self) -> int | None:
        return None


PageRequest = OffsetRequest | PageNumberRequest | WholeListRequest
# How many sequences' lengths a source's hints remember (most recent kept).
REMEMBERED_LENGTHS = 1024


@dataclass(slots=True)
class PagingHints:
    """What one source's upstream has shown of its paging, across operations: kept app-wide by
    the upstream client beside the source's other runtime state, not by its adapter (which
    holds only configuration). Planning hints, never content."""

    # Largest page the upstream has been seen to return while more existed.
    learned_cap: int | None = None
    # Largest page it has ever returned: a shorter page asked for more is its end.
    largest_page: int = 0
    # Length each whole read of a sequence last found (by query, most recent last): the next
    # whole read plans that size as one round.
    scanned_lengths: dict[Hashable, int] = field(default_factory=dict)

    def learn(self, result: WindowResult[Any]) -> None:
        """Take in what a filled window showed of the upstream's pages."""
        if result.observed_cap is not None:
            self.learned_cap = result.observed_cap
        self.largest_page = max(self.largest_page, result.largest_page)

    def remember_length(self, query: Hashable, length: int) -> None:
        """Record a whole read's length for the next read of `query` (bounded, oldest
        forgotten first)."""
        self.scanned_lengths.pop(query, None)
        self.scanned_lengths[query] = length
        if len(self.scanned_lengths) > REMEMBERED_LENGTHS:
            del self.scanned_lengths[next(iter(self.scanned_lengths))]


@dataclass(frozen=True, slots=True)
class UpstreamPage(Generic[T]):
    """What one upstream request returned: its items, from `request.start` on, and any total."""

    request: PageRequest
    items: Sequence[T]
    total: int | None


@dataclass(frozen=True, slots=True)
class WindowResult(Generic[T]):
    """The items of a window (contiguous from window.start) and what was learned on the way."""

    window: PageWindow
    items: list[T]
    total: int | None
    # Where the sequence was proven to end (a total, an empty page, a whole list, or a page
    # shorter than the source's known page size); exact whenever the window starts inside
    # the sequence, else only an upper bound.
    end: int | None
    requests: int
    # Largest page a server returned while more items existed: its hidden cap.
    observed_cap: int | None
    # Largest page any request returned: the source can send at least this many at once.
    largest_page: int = 0
    # The requests reported different totals: the sequence changed between them, so items
    # from different requests may overlap or leave a gap.
    totals_differ: bool = False

    @property
    def trusted_total(self) -> int | None:
        """The reported total, unless the items contradict it (the list ended before it)."""
        if self.total is None or (self.end is not None and self.end < self.total):
            return None
        return self.total

    def map(self, convert: Callable[[T], U]) -> WindowResult[U]:
        """The same window with each item converted."""
        items = [convert(item) for item in self.items]
        return WindowResult(
            self.window,
            items,
            self.total,
            self.end,
            self.requests,
            self.observed_cap,
            self.largest_page,
            self.totals_differ,
        )


# A planner gets the window still missing and any server cap learned so far in this fill.
Planner = Callable[[PageWindow, int | None], list[PageRequest]]
Fetcher = Callable[[PageRequest], Awaitable[UpstreamPage[T]]]


def plan_offset_requests(window: PageWindow, max_limit: int) -> list[PageRequest]:
    """Cover a window with offset/limit requests of at most `max_limit` items each."""
    if max_limit < 1:
        raise ValueError("max_limit must be positive")
    return [
        OffsetRequest(offset, min(max_limit, window.stop - offset))
        for offset in range(window.start, window.stop, max_limit)
    ]


def _single_page_size(start: int, stop: int, max_per_page: int, max_page: int) -> int | None:
    """The smallest per_page whose one page holds [start, stop), overfetching at most 2x."""
    size = stop - start
    for per_page in range(size, min(max_per_page, 2 * size) + 1):
        page_index = start // per_page
        if page_index == (stop - 1) // per_page and page_index < max_page:
            return per_page
    return None


def plan_page_number_requests(
    window: PageWindow, max_per_page: int, max_page: int
) -> list[PageRequest]:
    """Cover a window with page/per_page requests: one where possible, never more than two
    per `max_per_page` items, with every page number within 1..max_page."""
    if window.size == 0:
        return []
    requests: list[PageRequest] = []
    for chunk_start in range(window.start, window.stop, max_per_page):
        chunk_stop = min(window.stop, chunk_start + max_per_page)
        per_page = _single_page_size(chunk_start, chunk_stop, max_per_page, max_page)
        if per_page is not None:
            requests.append(PageNumberRequest(chunk_start // per_page + 1, per_page))
            continue
        # Two consecutive pages of at least the chunk's size always cover it.
        per_page = max(chunk_stop - chunk_start, -(-chunk_stop // max_page))
        if per_page > max_per_page:
            raise WindowOutOfReach(
                f"position {chunk_stop - 1} is beyond page {max_page} x {max_per_page}"
            )
        first_page = chunk_start // per_page + 1
        last_page = (chunk_stop - 1) // per_page + 1
        requests.extend(PageNumberRequest(p, per_page) for p in range(first_page, last_page + 1))
    return requests


def plan_whole_list(window: PageWindow) -> list[PageRequest]:
    """An unpaged upstream: one request, whatever the window."""
    return [WholeListRequest()] if window.size else []


def _min_end(end: int | None, at: int) -> int:
    return at if end is None else min(end, at)


async def fill_window(
    window: PageWindow,
    plan: Planner,
    fetch: Fetcher[T],
    *,
    largest_page: int = 0,
    max_rounds: int = 64,
) -> WindowResult[T]:
    """Fetch exactly `window`'s items.

    Planned requests run concurrently. A page shorter than asked is the end only when it is
    proven: by reaching a total, by being empty, or (with no total) by being shorter than
    `largest_page`, a page size the source has been seen to send. Otherwise it is a server
    cap, learned as soon as any item beyond it is seen, and the rest of the window is planned
    again from the first missing position; that follow-up proves the end if it comes back
    empty. A total the items contradict leaves `end` below it (see `trusted_total`).
    """
    found: dict[int, T] = {}
    total: int | None = None
    totals: set[int] = set()
    end: int | None = None
    observed_cap: int | None = None
    requests = 0
    seen_to = 0  # items exist at every position below this one
    unproven: list[tuple[int, int]] = []  # (returned_to, count) of short pages not yet settled
    # A short page below a total is most likely a cap: plan the follow-up by it (page-number
    # schemes cannot ask from mid-page otherwise). Without a total the end is as likely,
    # so the follow-up stays one request.
    likely_cap: int | None = None
    pending = window
    for _ in range(max_rounds):
        if pending.size == 0:
            break
        cap_before = observed_cap or likely_cap
        planned = plan(pending, cap_before)
        pages = await asyncio.gather(*(fetch(r) for r in planned))
        requests += len(planned)
        new_items = 0
        for page in pages:
            if page.total is not None:
                total = page.total
                totals.add(page.total)
            largest_page = max(largest_page, len(page.items))
            base = page.request.start
            if page.items:
                seen_to = max(seen_to, base + len(page.items))
            for offset, item in enumerate(page.items):
                index = base + offset
                if window.start <= index < window.stop and index not in found:
                    found[index] = item
                    new_items += 1
        # A short page from an earlier round followed by more items was a server cap.
        for returned_to, count in unproven:
            if seen_to > returned_to:
                observed_cap = max(observed_cap or 0, count)
        unproven = []
        for page in pages:
            base, count, asked = page.request.start, len(page.items), page.request.stop
            returned_to = base + count
            if asked is None:
                end = _min_end(end, returned_to)  # a whole list
            elif returned_to >= asked or (total is not None and returned_to >= total):
                continue
            elif count == 0:
                end = _min_end(end, base)
            elif seen_to > returned_to:
                observed_cap = max(observed_cap or 0, count)
            elif total is None and count < min(asked - base, largest_page):
                end = _min_end(end, returned_to)
            else:
                # Unproven (a cap, or a total that counts more than the list holds): the next
                # round asks from here and settles it.
                unproven.append((returned_to, count))
                if total is not None:
                    likely_cap = count if likely_cap is None else min(likely_cap, count)
        if total is not None:
            end = _min_end(end, total)
        limit = window.stop if end is None else min(window.stop, end)
        missing = next((i for i in range(window.start, limit) if i not in found), None)
        if missing is None:
            break
        if new_items == 0 and (observed_cap or likely_cap) == cap_before:
            # The upstream claims more items than it will return: stop rather than loop.
            end = missing
            break
        pending = PageWindow(missing, limit)
    contiguous: list[T] = []
    for index in range(window.start, window.stop):
        if index not in found:
            break
        contiguous.append(found[index])
    if end is None and len(contiguous) < window.size:
        end = window.start + len(contiguous)
    if len(totals) > 1:
        # The sequence changed between the requests: a page short then is no evidence of a
        # cap (the next request may have seen jobs created since).
        return WindowResult(window, contiguous, total, end, requests, None, largest_page, True)
    return WindowResult(window, contiguous, total, end, requests, observed_cap, largest_page)


async def find_end(
    count_at: Callable[[int, int], Awaitable[int]],
    probe_size: int = 100,
) -> tuple[int, int]:
    """The length of a sequence with no reported total, by exponential probing then bisection.

    `count_at(offset, limit)` returns how many items a request there returned. Returns
    (length, probes made): O(log n) probes instead of a full scan.
    """
    probes = 1
    first = await count_at(0, probe_size)
    if first < probe_size:
        return first, probes
    low = probe_size  # the sequence has at least `low` items
    offset = probe_size
    high: int | None = None  # the sequence has at most `high` items
    while high is None:
        probes += 1
        got = await count_at(offset, probe_size)
        if got == probe_size:
            low = offset + probe_size
            offset *= 2
        elif got > 0:
            return offset + got, probes
        else:
            high = offset
    while high - low > 0:
        if high - low <= probe_size:
            probes += 1
            return low + await count_at(low, probe_size), probes
        mid = low + (high - low) // 2
        probes += 1
        got = await count_at(mid, probe_size)
        if got == probe_size:
            low = mid + probe_size
        elif got > 0:
            return mid + got, probes
        else:
            high = mid
    return low, probes

"""The paging planners and the fill engine, against pure models of each upstream scheme."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from resolvers.paging import (
    OffsetRequest,
    PageNumberRequest,
    PageRequest,
    PageWindow,
    UpstreamPage,
    WholeListRequest,
    WindowOutOfReach,
    fill_window,
    find_end,
    plan_offset_requests,
    plan_page_number_requests,
    plan_whole_list,
)
from resolvers.providers.modelarts import MAX_PAGE, MAX_PER_PAGE


class ModelUpstream:
    """A list of `size` items served the way one upstream serves it."""

    def __init__(self, size: int, cap: int | None = None, reports_total: bool = True) -> None:
        self.size = size
        self.cap = cap
        self.reports_total = reports_total
        self.calls: list[PageRequest] = []

    async def fetch(self, request: PageRequest) -> UpstreamPage[int]:
        self.calls.append(request)
        if isinstance(request, WholeListRequest):
            return UpstreamPage(request, list(range(self.size)), self.size)
        count = request.stop - request.start
        if self.cap is not None:
            count = min(count, self.cap)
        start = min(request.start, self.size)
        items = list(range(start, min(self.size, start + count)))
        return UpstreamPage(request, items, self.size if self.reports_total else None)


def run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(coro)


def offset_planner(initial_limit: int):  # type: ignore[no-untyped-def]
    return lambda window, cap: plan_offset_requests(window, cap or initial_limit)


windows = st.integers(0, 700).flatmap(
    lambda start: st.tuples(st.just(start), st.integers(start, start + 150))
)


@settings(max_examples=300, deadline=None)
@given(size=st.integers(0, 600), cap=st.one_of(st.none(), st.integers(1, 120)), bounds=windows)
def test_offset_fill_returns_exactly_the_window_under_any_server_cap(size, cap, bounds) -> None:
    upstream = ModelUpstream(size, cap)
    window = PageWindow(*bounds)
    result = run(fill_window(window, offset_planner(100), upstream.fetch))
    assert result.items == list(range(window.start, min(window.stop, size)))
    assert result.total == (size if window.size else None)


@settings(max_examples=300, deadline=None)
@given(size=st.integers(0, 600), bounds=windows)
def test_offset_fill_without_total_finds_the_end(size, bounds) -> None:
    upstream = ModelUpstream(size, reports_total=False)
    window = PageWindow(*bounds)
    result = run(fill_window(window, offset_planner(100), upstream.fetch))
    assert result.items == list(range(window.start, min(window.stop, size)))
    assert result.total is None
    if window.size and window.stop > size:
        # Exact when the window starts inside the sequence; otherwise an upper bound.
        assert result.end == size if window.start <= size else result.end == window.start


def planned_requests(window: PageWindow, page: int) -> int:
    """The requests one concurrent round over the window makes when the cap is known."""
    return len(plan_offset_requests(window, page))


@settings(max_examples=400, deadline=None)
@given(
    size=st.integers(0, 600),
    cap=st.one_of(st.none(), st.integers(1, 120)),
    known=st.booleans(),
    bounds=windows,
)
def test_a_short_page_without_a_total_never_ends_the_list_unproven(
    size, cap, known, bounds
) -> None:
    upstream = ModelUpstream(size, cap, reports_total=False)
    window = PageWindow(*bounds)
    served = min(100, cap or 100)
    # A source whose page size was learned earlier, or one seen for the first time.
    learned = served if known else 0
    planner = (lambda w, c: plan_offset_requests(w, c or served)) if known else offset_planner(100)
    result = run(fill_window(window, planner, upstream.fetch, largest_page=learned))
    assert result.items == list(range(window.start, min(window.stop, size)))
    if window.size and window.start <= size and window.stop > size:
        assert result.end == size
    # At most one request more than the optimum per end of the list, once the cap is known.
    if known and window.size:
        assert result.requests <= planned_requests(window, served) + 1


def test_a_capped_list_without_a_total_is_followed_past_its_first_short_page() -> None:
    upstream = ModelUpstream(263, cap=50, reports_total=False)
    result = run(fill_window(PageWindow(0, 101), offset_planner(100), upstream.fetch))
    assert result.items == list(range(101))
    assert result.observed_cap == 50
    assert result.end is None


def test_a_short_page_below_a_known_page_size_proves_the_end() -> None:
    upstream = ModelUpstream(30, reports_total=False)
    result = run(
        fill_window(PageWindow(0, 101), offset_planner(100), upstream.fetch, largest_page=100)
    )
    assert result.items == list(range(30))
    assert result.end == 30
    assert upstream.calls == [OffsetRequest(0, 100), OffsetRequest(100, 1)]


@settings(max_examples=300, deadline=None)
@given(size=st.integers(0, 5000), bounds=windows)
def test_page_number_fill_returns_exactly_the_window(size, bounds) -> None:
    upstream = ModelUpstream(size)
    window = PageWindow(*bounds)
    result = run(
        fill_window(
            window,
            lambda w, _cap: plan_page_number_requests(w, MAX_PER_PAGE, MAX_PAGE),
            upstream.fetch,
        )
    )
    assert result.items == list(range(window.start, min(window.stop, size)))


@settings(max_examples=500, deadline=None)
@given(start=st.integers(0, 70_000_000), size=st.integers(1, 1000))
def test_page_number_plan_covers_any_window_of_up_to_1000_with_at_most_two_pages(
    start, size
) -> None:
    window = PageWindow(start, start + size)
    try:
        plan = plan_page_number_requests(window, MAX_PER_PAGE, MAX_PAGE)
    except WindowOutOfReach:
        assert start + size > MAX_PAGE * 1000 - 1000
        return
    assert 1 <= len(plan) <= 2
    covered: set[int] = set()
    for request in plan:
        assert isinstance(request, PageNumberRequest)
        assert 1 <= request.page <= MAX_PAGE
        assert 1 <= request.per_page <= 1000
        covered.update(range(request.start, request.stop))
    assert set(range(window.start, window.stop)) <= covered


def test_page_number_plan_uses_one_aligned_page_for_a_forward_walk() -> None:
    assert plan_page_number_requests(PageWindow(40, 60), MAX_PER_PAGE, MAX_PAGE) == [
        PageNumberRequest(3, 20)
    ]


def test_page_number_plan_rejects_positions_beyond_the_last_page() -> None:
    with pytest.raises(WindowOutOfReach):
        plan_page_number_requests(PageWindow(65_535_000, 65_535_001), MAX_PER_PAGE, MAX_PAGE)


def test_offset_plan_splits_by_the_learned_cap() -> None:
    assert plan_offset_requests(PageWindow(0, 100), 50) == [
        OffsetRequest(0, 50),
        OffsetRequest(50, 50),
    ]


def test_capped_offset_upstream_is_learned_within_one_fill() -> None:
    upstream = ModelUpstream(1000, cap=50)
    result = run(fill_window(PageWindow(0, 100), offset_planner(100), upstream.fetch))
    assert result.items == list(range(100))
    assert result.observed_cap == 50
    assert upstream.calls == [OffsetRequest(0, 100), OffsetRequest(50, 50)]


def test_whole_list_is_one_request_whatever_the_window() -> None:
    upstream = ModelUpstream(30)
    result = run(
        fill_window(
            PageWindow(10, 20),
            lambda w, _c: plan_whole_list(w),
            upstream.fetch,
        )
    )
    assert result.items == list(range(10, 20))
    assert result.requests == 1
    assert result.end == 30


def test_an_upstream_that_lies_about_its_total_does_not_loop_forever() -> None:
    class Liar(ModelUpstream):
        async def fetch(self, request: PageRequest) -> UpstreamPage[int]:
            page = await super().fetch(request)
            return UpstreamPage(request, page.items, 10_000)

    upstream = Liar(30)
    result = run(fill_window(PageWindow(0, 100), offset_planner(100), upstream.fetch))
    assert result.items == list(range(30))
    assert len(upstream.calls) <= 4


@settings(max_examples=300, deadline=None)
@given(size=st.integers(0, 100_000), probe=st.sampled_from([1, 7, 20, 100]))
def test_find_end_finds_the_length_in_logarithmic_probes(size, probe) -> None:
    upstream = ModelUpstream(size, reports_total=False)

    async def count_at(offset: int, limit: int) -> int:
        return len((await upstream.fetch(OffsetRequest(offset, limit))).items)

    length, probes = run(find_end(count_at, probe))
    assert length == size
    assert probes <= 2 * (size // probe + 1).bit_length() + 3


@settings(max_examples=300, deadline=None)
@given(size=st.integers(0, 3000), cap=st.integers(1, 120), bounds=windows)
def test_page_number_fill_is_exact_under_a_per_page_cap_it_was_never_told(
    size, cap, bounds
) -> None:
    upstream = ModelUpstream(size, cap)
    window = PageWindow(*bounds)
    result = run(
        fill_window(
            window,
            lambda w, c: plan_page_number_requests(w, c or MAX_PER_PAGE, MAX_PAGE),
            upstream.fetch,
        )
    )
    assert result.items == list(range(window.start, min(window.stop, size)))
    assert result.trusted_total == (size if window.size else None)


@settings(max_examples=300, deadline=None)
@given(size=st.integers(0, 600), extra=st.integers(1, 500), bounds=windows)
def test_a_total_larger_than_the_list_is_not_trusted_once_contradicted(size, extra, bounds) -> None:
    class Overcounting(ModelUpstream):
        async def fetch(self, request: PageRequest) -> UpstreamPage[int]:
            page = await super().fetch(request)
            return UpstreamPage(request, page.items, size + extra)

    window = PageWindow(*bounds)
    result = run(fill_window(window, offset_planner(100), Overcounting(size).fetch))
    assert result.items == list(range(window.start, min(window.stop, size)))
    if window.size and window.start < size < window.stop:
        assert result.trusted_total is None

"""`resolvers.relay` against the Relay spec's pagination algorithm, written out literally
over lists: every combination of `after`, `before`, `first` and `last`, and every way a
connection may describe the window it read (exactly, one edge past its reach, or up to its
reach with `more`)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from resolvers.relay import CursorWindow, page_flags, returned_range, window_reach
from tests.relay_spec import spec_page


@st.composite
def arguments(draw: st.DrawFn) -> tuple[int, int | None, int | None, int | None, int | None]:
    n = draw(st.integers(0, 30))
    after = draw(st.none() | st.integers(-1, n - 1)) if n else None
    low = -1 if after is None else after
    before = draw(st.none() | st.integers(low + 1, n - 1)) if low + 1 <= n - 1 else None
    first = draw(st.none() | st.integers(0, 35))
    last = draw(st.none() | st.integers(0, 35))
    return n, after, before, first, last


def window_of(n: int, after: int | None, before: int | None) -> tuple[int, int]:
    low = 0 if after is None else after + 1
    high = n if before is None else before
    return low, max(low, high)


@settings(max_examples=2000, deadline=None)
@given(args=arguments())
def test_an_exactly_known_window_pages_as_the_spec_says(
    args: tuple[int, int | None, int | None, int | None, int | None],
) -> None:
    n, after, before, first, last = args
    low, high = window_of(n, after, before)
    window = CursorWindow(
        high - low,
        edges_before_after=low > 0,
        edges_from_before=before is not None,
    )
    start, stop = returned_range(window.size, first, last)
    flags = page_flags(first, last, window)
    assert (list(range(low + start, low + stop)), flags.has_previous, flags.has_next) == (
        spec_page(n, after, before, first, last)
    )


@settings(max_examples=2000, deadline=None)
@given(args=arguments(), past=st.booleans())
def test_a_window_read_only_to_its_reach_pages_the_same(
    args: tuple[int, int | None, int | None, int | None, int | None], past: bool
) -> None:
    # A forward read (`first` given) sees the window only up to what the page needs: one edge
    # past its reach (a per-provider look-ahead), or its reach and whether more follow (a
    # merge's cut).
    n, after, before, first, last = args
    if first is None:
        return
    low, high = window_of(n, after, before)
    size, reach = high - low, window_reach(first, last)
    if past:
        window = CursorWindow(min(size, reach + 1), edges_before_after=low > 0)
    else:
        window = CursorWindow(min(size, reach), more=size > reach, edges_before_after=low > 0)
    start, stop = returned_range(window.size, first, last)
    flags = page_flags(first, last, window)
    assert (list(range(low + start, low + stop)), flags.has_previous, flags.has_next) == (
        spec_page(n, after, before, first, last)
    )


def test_first_zero_on_a_non_empty_window_has_a_next_page() -> None:
    assert page_flags(0, None, CursorWindow(1)).has_next is True


def test_an_empty_window_between_adjacent_cursors_has_no_next_page() -> None:
    flags = page_flags(3, None, CursorWindow(0, edges_before_after=True, edges_from_before=True))
    assert (flags.has_previous, flags.has_next) == (True, False)

"""The Relay cursor-connection spec's pagination algorithm, once for every connection.

The spec (relay.dev/graphql/connections.htm, "Pagination algorithm") works on the edges left
between `after` and `before` (its ApplyCursorsToEdges): `first` keeps the head of them, then
`last` the tail of that; `hasNextPage` is whether they number more than `first`,
`hasPreviousPage` whether they number more than `last`. Where it leaves a choice (`first`
without `last`: may report edges before `after`; `last` without `first`: may report edges
from `before` on), a connection says what it knows in a `CursorWindow`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CursorWindow:
    """What a connection knows of the edges between `after` and `before`."""

    # How many edges the window holds; any count above both `first` and `last` may stand for
    # a larger one (a connection reads one edge past what it returns, not the whole window).
    size: int
    # Edges beyond `size` may lie in the window (a scan that stopped short of proving it).
    more: bool = False
    # Edges exist before `after` (False without `after`).
    edges_before_after: bool = False
    # Edges exist from `before` on (False without `before`).
    edges_from_before: bool = False

    def exceeds(self, count: int) -> bool:
        """Whether the window holds more than `count` edges."""
        return self.size > count or self.more


@dataclass(frozen=True, slots=True)
class PageFlags:
    has_previous: bool
    has_next: bool


def returned_range(size: int, first: int | None, last: int | None) -> tuple[int, int]:
    """EdgesToReturn: the offsets [start, stop) of the page within a window of `size` edges."""
    stop = size if first is None else min(size, first)
    start = 0 if last is None else max(0, stop - last)
    return start, stop


def page_flags(first: int | None, last: int | None, window: CursorWindow) -> PageFlags:
    """HasPreviousPage and HasNextPage of the spec, for a page cut from `window`."""
    has_previous = window.exceeds(last) if last is not None else window.edges_before_after
    has_next = window.exceeds(first) if first is not None else window.edges_from_before
    return PageFlags(has_previous=has_previous, has_next=has_next)


def window_reach(first: int | None, last: int | None) -> int:
    """How many edges from the window's start a forward read must see to cut the page and
    answer both flags (one more than this proves `more`)."""
    return max(first or 0, last or 0)

"""Which way a page is merged: forward from its start (`first`/`after`) or backward from its
end (`last`/`before`). One merge serves both; a `Direction` knows how to order keys, how to
step through a stream, and which side of a page its origin is on."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from resolvers.merge.keys import ABOVE_ALL, BELOW_ALL, MergeKey

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Direction:
    """A scan direction through the merged list (ascending keys are forward)."""

    forward: bool
    # The cut of a page of no jobs: before every key forward, after every key backward.
    origin_key: MergeKey

    def before_after(self, behind: T, ahead: T) -> tuple[T, T]:
        """(start side, end side) of a pair given as (behind the scan, ahead of it)."""
        return (behind, ahead) if self.forward else (ahead, behind)

    def behind(self, before: T, after: T) -> T:
        """The one of a (start side, end side) pair that lies behind the scan."""
        return before if self.forward else after

    def in_scan_order(self, items: Sequence[T]) -> list[T]:
        """Ascending items in the order the scan meets them (and, the same reversal, items in
        scan order ascending)."""
        return list(items) if self.forward else list(reversed(items))

    def ordered(self, keyed: list[tuple[MergeKey, T]]) -> list[tuple[MergeKey, T]]:
        """Keyed items (distinct keys) sorted as the scan meets them."""
        return sorted(keyed, key=lambda item: item[0], reverse=not self.forward)

    def farthest(self, keys: Sequence[MergeKey]) -> MergeKey:
        """The farthest key a scan reached (its keys ascending)."""
        return keys[-1] if self.forward else keys[0]

    def nearest(self, keys: Sequence[MergeKey]) -> MergeKey:
        """The key the scan meets first."""
        return min(keys) if self.forward else max(keys)

    def within(self, key: MergeKey, horizon: MergeKey) -> bool:
        """Whether the scan meets `key` no later than `horizon`."""
        return key <= horizon if self.forward else key >= horizon

    def below_cut(self, keys: Sequence[MergeKey], limit: MergeKey | None) -> int:
        """How many of a scan's (ascending) keys lie before the cut beside `limit`, the last
        key emitted (None: the cut lies beyond every scanned key)."""
        if self.forward:
            return len(keys) if limit is None else bisect_right(keys, limit)
        return 0 if limit is None else bisect_left(keys, limit)

    def window(self, position: int, chunk: int, stop: int | None) -> tuple[int, int]:
        """The positions [low, high) of the next chunk read from `position` toward `stop`
        (None: the sequence's far end; backward that is position 0)."""
        if self.forward:
            high = position + chunk if stop is None else min(stop, position + chunk)
            return position, high
        return max(stop or 0, position - chunk), position

    def reached(self, position: int, stop: int | None) -> bool:
        """Whether a scan at `position` has reached `stop` (see `window`)."""
        if self.forward:
            return stop is not None and position >= stop
        return position <= (stop or 0)

    def next_position(self, low: int, high: int) -> int:
        """Where the scan goes on after reading the whole window [low, high)."""
        return high if self.forward else low

    def offsets(self, count: int) -> range:
        """The offsets into a window of `count` jobs, in scan order."""
        return range(count) if self.forward else range(count - 1, -1, -1)


FORWARD = Direction(forward=True, origin_key=BELOW_ALL)
BACKWARD = Direction(forward=False, origin_key=ABOVE_ALL)

"""Page marks: the cuts through every stream that cursors carry, and their JSON positions.

Positions shift when jobs are created or deleted between two pages, so a keyed mark also
records the job its cut lies beside (`CutKey`), and the page re-aligns to it. Cursor bytes are
a contract: every layout ever written is still read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from resolvers.errors import BadUserInput
from resolvers.merge.keys import END, CutKey

# Cursor position layouts (JSON lists, signed by the graph layer's CursorCodec); an edge whose
# job is its stream's last one has its own layout, so that paging on after it skips the
# finished stream. Layouts 0, 1 and 3 are cursors from before cut keys: still read, not
# re-aligned.
_BOUNDARY, _EDGE, _OFFSET, _LAST_EDGE, _KEYED_BOUNDARY, _KEYED_EDGE, _KEYED_LAST_EDGE = range(7)
# The longest id a cursor may carry (ids are upstream strings; cursors are bounded anyway).
_MAX_ID_CHARS = 512


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

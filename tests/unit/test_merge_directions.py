"""One merge serves both directions: forward and backward scans and cuts over the same
streams are mirror images of each other."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from resolvers.domain import CreatedOrder, JobFilterSpec
from resolvers.merge.cut import Scan, ScanRules, cut_scans, scan_stream
from resolvers.merge.direction import BACKWARD, FORWARD
from resolvers.merge.keys import MergeKey, merge_key
from resolvers.providers.base import RawJob

ORDER = CreatedOrder.ASC
RULES = ScanRules(ORDER, JobFilterSpec())
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def stream_jobs(index: int, minutes: list[int]) -> list[RawJob]:
    """A stream's jobs in creation order (equal times allowed), ids unique across streams."""
    return [
        RawJob(EPOCH + timedelta(minutes=m), native_id=f"{index}-{i}")
        for i, m in enumerate(sorted(minutes))
    ]


class ListReader:
    """A stream read whole from memory, as `StreamReader` reads an unsorted upstream."""

    in_memory = True

    def __init__(self, index: int, jobs: list[RawJob]) -> None:
        self.stream = SimpleNamespace(index=index, pushdown=SimpleNamespace(exact=True))
        self.jobs = jobs

    async def read(self, start: int, stop: int) -> list[RawJob]:
        return self.jobs[start:stop] if stop > start else []

    async def length(self) -> int:
        return len(self.jobs)


def scan(reader: ListReader, *args: Any) -> Scan:
    return asyncio.run(scan_stream(reader, RULES, *args))  # type: ignore[arg-type]


def whole_scan(index: int, jobs: list[RawJob]) -> Scan:
    """A stream scanned up to a bound at its length: every job, all matching."""
    keys = [merge_key(job, ORDER, index, position) for position, job in enumerate(jobs)]
    return Scan(0, keys, list(jobs), list(range(len(jobs))), complete=True)


streams = st.lists(st.lists(st.integers(0, 20), max_size=12), min_size=1, max_size=4)


@settings(max_examples=60, deadline=None)
@given(minutes=st.lists(st.integers(0, 20), max_size=30), data=st.data())
def test_a_backward_scan_sees_what_a_forward_scan_saw_from_its_far_side(
    minutes: list[int], data: st.DataObject
) -> None:
    reader = ListReader(0, stream_jobs(0, minutes))
    n = len(reader.jobs)
    want = data.draw(st.integers(1, max(1, n)))
    start = data.draw(st.integers(0, max(0, n - want)))
    forward = scan(reader, FORWARD, start, None, want)
    backward = scan(reader, BACKWARD, start + len(forward.keys), None, want)
    assert (backward.low, backward.keys, backward.jobs) == (forward.low, forward.keys, forward.jobs)
    assert backward.matched == forward.matched


@settings(max_examples=60, deadline=None)
@given(minutes=st.lists(st.integers(0, 20), max_size=30))
def test_whole_scans_in_both_directions_are_the_same_ascending_list(minutes: list[int]) -> None:
    reader = ListReader(0, stream_jobs(0, minutes))
    n = len(reader.jobs)
    forward = scan(reader, FORWARD, 0, None, n + 1)
    backward = scan(reader, BACKWARD, n, None, n + 1)
    assert forward.keys == sorted(forward.keys)
    assert (backward.low, backward.keys) == (forward.low, forward.keys)
    assert forward.complete and forward.at_end and backward.complete and not backward.at_end


@settings(max_examples=100, deadline=None)
@given(lists=streams, data=st.data())
def test_the_cut_after_k_jobs_forward_is_the_cut_before_the_rest_backward(
    lists: list[list[int]], data: st.DataObject
) -> None:
    jobs = [stream_jobs(i, minutes) for i, minutes in enumerate(lists)]
    total = sum(map(len, jobs))
    k = data.draw(st.integers(0, total))
    scans = {i: whole_scan(i, stream) for i, stream in enumerate(jobs)}
    merged: list[MergeKey] = sorted(key for s in scans.values() for key in s.keys)
    zeros = (0,) * len(jobs)
    ends = tuple(len(stream) for stream in jobs)

    forward = cut_scans(FORWARD, scans, zeros, k, [])
    backward = cut_scans(BACKWARD, scans, ends, total - k, [])

    assert [key for key, _ in forward.emitted] == merged[:k]
    assert [key for key, _ in backward.emitted] == merged[k:][::-1]
    assert forward.boundary == backward.boundary
    assert not forward.short and not backward.short
    assert forward.more == forward.unemitted == (k < total)
    assert backward.more == backward.unemitted == (k > 0)

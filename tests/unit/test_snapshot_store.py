"""`ListSnapshots`, the app-wide store of whole lists (resolvers/snapshots.py), on a clock the
tests move: the freshness bound, single flight, least-recently-used eviction within the job
bound (an empty list counting as one), expired snapshots swept, nothing kept at bound 0."""

from __future__ import annotations

import asyncio

import pytest

from resolvers.snapshots import ListSnapshots


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Lists:
    """Reads that count how often each list was read."""

    def __init__(self, sizes: dict[str, int]) -> None:
        self.sizes = sizes
        self.reads: dict[str, int] = dict.fromkeys(sizes, 0)

    def read(self, name: str) -> object:
        async def whole() -> list[str]:
            self.reads[name] += 1
            await asyncio.sleep(0)
            return [f"{name}-{i}" for i in range(self.sizes[name])]

        return whole


def key(name: str) -> tuple[None, str, str]:
    return (None, "src", name)


async def test_a_snapshot_serves_within_its_bound_and_is_read_again_after_it() -> None:
    clock, lists = Clock(), Lists({"a": 3})
    store = ListSnapshots(100, clock)
    first = await store.get(key("a"), 2.0, lists.read("a"))
    clock.now += 2.0
    assert await store.get(key("a"), 2.0, lists.read("a")) is first
    clock.now += 0.001
    again = await store.get(key("a"), 2.0, lists.read("a"))
    assert again is not first and lists.reads == {"a": 2}


async def test_operations_asking_at_once_share_one_read() -> None:
    lists = Lists({"a": 3})
    store = ListSnapshots(100, Clock())
    got = await asyncio.gather(*(store.get(key("a"), 1.0, lists.read("a")) for _ in range(5)))
    assert len({id(snapshot) for snapshot in got}) == 1 and lists.reads == {"a": 1}


async def test_the_least_recently_used_go_first_within_the_job_bound() -> None:
    lists = Lists({"a": 3, "b": 3, "c": 3})
    store = ListSnapshots(7, Clock())
    for name in ("a", "b"):
        await store.get(key(name), 60.0, lists.read(name))
    await store.get(key("a"), 60.0, lists.read("a"))  # used again: b is now the oldest use
    await store.get(key("c"), 60.0, lists.read("c"))
    assert store.jobs_held == 6 and len(store) == 2
    for name in ("a", "c"):
        await store.get(key(name), 60.0, lists.read(name))
    assert lists.reads == {"a": 1, "b": 1, "c": 1}
    await store.get(key("b"), 60.0, lists.read("b"))
    assert lists.reads["b"] == 2


async def test_empty_lists_count_and_bound_zero_keeps_nothing() -> None:
    lists = Lists({"a": 0, "b": 0, "c": 0})
    store = ListSnapshots(2, Clock())
    for name in ("a", "b", "c"):
        await store.get(key(name), 60.0, lists.read(name))
    assert len(store) == 2 and store.jobs_held == 0
    nothing = ListSnapshots(0, Clock())
    await nothing.get(key("a"), 60.0, lists.read("a"))
    await nothing.get(key("a"), 60.0, lists.read("a"))
    assert len(nothing) == 0 and nothing.jobs_held == 0 and lists.reads["a"] == 3


async def test_expired_snapshots_are_swept_and_a_failed_read_keeps_none() -> None:
    clock, lists = Clock(), Lists({"a": 3, "b": 2})
    store = ListSnapshots(100, clock)
    await store.get(key("a"), 1.0, lists.read("a"))
    clock.now += 5
    await store.get(key("b"), 1.0, lists.read("b"))
    assert len(store) == 1 and store.jobs_held == 2  # a had expired

    async def broken() -> list[str]:
        raise RuntimeError("upstream down")

    clock.now += 5
    with pytest.raises(RuntimeError):
        await store.get(key("b"), 1.0, broken)
    assert len(store) == 0 and store.jobs_held == 0

"""App-wide snapshots of the lists the federated merge reads whole (a source's
`max_staleness_s`): those an upstream cannot sort, which are sorted locally, and unpaged ones,
whose every response is the whole list.

With `max_staleness_s` 0 every operation reads such a list again, as it always has. Above 0
(the default is 2 s), one whole read is kept and shared by every operation that asks within
that many seconds of the moment the read began; the read itself goes to the upstream (past
the response cache), so that moment is the data's age. Concurrent operations that find it
missing or too old wait for one read together, and one operation sees one snapshot of a list
however often it reads it (`ProviderAdapter.snapshot` pins it to the operation's session). A
failed read leaves nothing behind, and a read that must show the list as it is now
(`fresh_reads`, the subscription pollers) passes the snapshots by.

Memory is bounded by the jobs held across every snapshot (`server.snapshot_max_jobs`, an
empty list counting as one): the least recently used snapshots go first, expired ones as soon
as another is kept, and a list longer than the bound is never kept. Snapshots are partitioned
by caller, as the response cache is: no caller is served a list another caller's operation
read.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

from resolvers.config import DEFAULT_SNAPSHOT_MAX_JOBS
from resolvers.domain import CreatedOrder
from resolvers.resilience import Clock
from resolvers.upstream.base import consume_exception

# (caller, source, the stream's list query)
SnapshotKey = tuple[str | None, str, Hashable]


@dataclass(slots=True)
class Snapshot:
    """One whole read of a list: its jobs in the upstream's order, when the read began, and
    the jobs sorted in each order asked for so far (each sorted once per snapshot)."""

    jobs: Sequence[Any]
    taken: float
    # When it is too old for the source that asked for it (taken + max_staleness_s).
    expires: float
    ordered: dict[CreatedOrder, list[Any]] = field(default_factory=dict)

    @property
    def weight(self) -> int:
        """What it counts against `max_jobs`: its jobs, and at least one."""
        return max(1, len(self.jobs))

    def in_order(
        self, order: CreatedOrder, sort: Callable[[Sequence[Any]], list[Any]]
    ) -> list[Any]:
        """The jobs in `order` (callers slice it, never change it)."""
        jobs = self.ordered.get(order)
        if jobs is None:
            jobs = self.ordered[order] = sort(self.jobs)
        return jobs


class ListSnapshots:
    """The snapshots of one app (held by the `UpstreamClient`)."""

    def __init__(
        self, max_jobs: int = DEFAULT_SNAPSHOT_MAX_JOBS, clock: Clock = time.monotonic
    ) -> None:
        self.max_jobs = max_jobs
        self._clock = clock
        self._held: OrderedDict[SnapshotKey, Snapshot] = OrderedDict()
        self._reads: dict[SnapshotKey, asyncio.Future[Snapshot]] = {}
        self.jobs_held = 0
        # What the snapshots count against max_jobs: their jobs, an empty one as one.
        self._charged = 0

    def __len__(self) -> int:
        return len(self._held)

    async def get(
        self,
        key: SnapshotKey,
        max_staleness_s: float,
        read: Callable[[], Awaitable[Sequence[Any]]],
    ) -> Snapshot:
        """A snapshot of `key` that began at most `max_staleness_s` ago; `read` makes a new
        one (shared by every operation that asks while it runs)."""
        held = self._held.get(key)
        if held is not None:
            if self._clock() - held.taken <= max_staleness_s:
                self._held.move_to_end(key)
                return held
            self._drop(key)
        future = self._reads.get(key)
        if future is None:
            # Begun now, so it is fresh enough for everyone who joins it while it runs.
            future = asyncio.ensure_future(self._read(key, max_staleness_s, read))
            future.add_done_callback(consume_exception)
            self._reads[key] = future
        return await asyncio.shield(future)

    async def _read(
        self,
        key: SnapshotKey,
        max_staleness_s: float,
        read: Callable[[], Awaitable[Sequence[Any]]],
    ) -> Snapshot:
        taken = self._clock()
        try:
            jobs = await read()
        finally:
            self._reads.pop(key, None)
        snapshot = Snapshot(jobs, taken, taken + max_staleness_s)
        self._keep(key, snapshot)
        return snapshot

    def _keep(self, key: SnapshotKey, snapshot: Snapshot) -> None:
        self._drop(key)
        now = self._clock()
        for expired in [k for k, held in self._held.items() if held.expires < now]:
            self._drop(expired)
        if snapshot.weight > self.max_jobs:
            return
        self._held[key] = snapshot
        self.jobs_held += len(snapshot.jobs)
        self._charged += snapshot.weight
        while self._charged > self.max_jobs:
            self._drop(next(iter(self._held)))

    def _drop(self, key: SnapshotKey) -> None:
        held = self._held.pop(key, None)
        if held is not None:
            self.jobs_held -= len(held.jobs)
            self._charged -= held.weight

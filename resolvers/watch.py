"""Live job events: one shared poller per (source, project), diffing successive lists.

Each poller reads its stream through the same adapters, client, breaker and throttle as
queries, at its source's `poll_interval_s`; it runs while it has subscribers.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

from resolvers.client import UpstreamClient, UpstreamSession
from resolvers.config import SourceConfig
from resolvers.domain import CreatedOrder, Job, JobFilterSpec, JobStatus
from resolvers.errors import ErrorCode, JobgraphError
from resolvers.merge import Stream, StreamReader, plan_streams
from resolvers.providers.base import ProviderAdapter

# A poll of an upstream that sorts reads its list in windows of this many jobs.
POLL_WINDOW = 100
# Every this many polls a sorted stream is read whole: removals and changes further down.
FULL_SWEEP_EVERY = 10
# Statuses that may still change: a poll reads a sorted stream down to the oldest of them.
LIVE = frozenset({JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.PAUSED, JobStatus.UNKNOWN})
# Events a subscriber may have waiting besides a poll's (server.subscription_queue_size).
SUBSCRIBER_QUEUE = 1_000


class JobEventKind(StrEnum):
    CREATED = "CREATED"
    UPDATED = "UPDATED"
    REMOVED = "REMOVED"


@dataclass(frozen=True, slots=True)
class JobChange:
    """One difference between two polls of a stream."""

    kind: JobEventKind
    job: Job
    previous_status: JobStatus | None
    at: datetime


@dataclass(frozen=True, slots=True)
class WatchFailure:
    """A poll that failed: reaches subscribers as a coded error; the subscription stays."""

    error: JobgraphError


class SlowConsumer(JobgraphError):
    """A subscriber whose queue filled up: it is told so, and its subscription ends."""

    code = ErrorCode.RATE_LIMITED


class SubscriptionLimit(JobgraphError):
    """A subscription over `max_subscriptions_per_connection` or `max_subscriptions`."""

    code = ErrorCode.RATE_LIMITED


def _changed(old: Job, new: Job) -> bool:
    return (old.status, old.finished_at, old.error_message) != (
        new.status,
        new.finished_at,
        new.error_message,
    )


def diff_jobs(before: dict[str, Job], after: dict[str, Job], at: datetime) -> list[JobChange]:
    """CREATED, UPDATED (status, finishedAt or errorMessage) and REMOVED, in that order."""
    changes = [
        JobChange(JobEventKind.CREATED, job, None, at)
        for key, job in after.items()
        if key not in before
    ]
    changes.extend(
        JobChange(JobEventKind.UPDATED, job, before[key].status, at)
        for key, job in after.items()
        if key in before and _changed(before[key], job)
    )
    changes.extend(
        JobChange(JobEventKind.REMOVED, job, job.status, at)
        for key, job in before.items()
        if key not in after
    )
    return changes


@dataclass(eq=False)
class Subscriber:
    """One subscription's events waiting for its client, a poll's at a time."""

    limit: int = SUBSCRIBER_QUEUE
    queue: asyncio.Queue[JobChange | WatchFailure] = field(default_factory=asyncio.Queue)
    overflowed: bool = False

    def offer(self, items: Sequence[JobChange | WatchFailure]) -> None:
        """One poll's items, taken whole, unless earlier ones still wait and all of them would
        pass `limit`: then nothing more is taken and the subscription is over. (A client that
        keeps up takes a poll of any size; one that has stopped reading holds at most
        `limit` events more than the poll it is stuck in.)"""
        waiting = self.queue.qsize()
        if self.overflowed or (waiting and waiting + len(items) > self.limit):
            self.overflowed = True
            return
        for item in items:
            self.queue.put_nowait(item)


class Poller:
    """Polls one stream while it has subscribers; the first poll is the baseline."""

    def __init__(
        self, stream: Stream, client: UpstreamClient, interval: float, scan_ceiling: int
    ) -> None:
        self.stream = stream
        self.client = client
        self.interval = interval
        self.scan_ceiling = scan_ceiling
        self.subscribers: set[Subscriber] = set()
        self.known: dict[str, Job] | None = None
        self.polls = 0
        self.task: asyncio.Task[None] | None = None
        # The last poll's failure while the source is failing (None once a poll answers).
        self.failure: WatchFailure | None = None

    async def read(self) -> dict[str, Job]:
        """This poll's jobs, newest first. An unsorted upstream is read whole (within
        `scan_ceiling`); a sorted one only down to what the last poll already knew."""
        http = UpstreamSession(self.client, caller="jobgraph-watch")
        # A poll shows the list as it is now: never a snapshot (max_staleness_s).
        reader = StreamReader(
            self.stream, CreatedOrder.DESC, http, self.scan_ceiling, snapshots=False
        )
        if reader.in_memory:
            raw = await reader.sorted_jobs()
            jobs = (item.job() for item in raw)
            return {job.native_id: job for job in jobs}
        sweep = self.known is None or self.polls % FULL_SWEEP_EVERY == 0
        return await self._read_newest(reader, None if sweep else self.known)

    async def _read_newest(
        self, reader: StreamReader, known: dict[str, Job] | None
    ) -> dict[str, Job]:
        """Windows of a sorted stream, newest first, until one reaches a job `known` holds and
        every unfinished job it holds has been read again; the older (finished) jobs are
        carried over from `known`. With `known` None: the whole stream, within scan_ceiling."""
        jobs: dict[str, Job] = {}
        unfinished = set() if known is None else {k for k, j in known.items() if j.status in LIVE}
        reached_known, start = False, 0
        while start < self.scan_ceiling:
            window = await reader.read(start, start + POLL_WINDOW)
            for item in window:
                job = item.job()
                jobs[job.native_id] = job
                if known is not None and job.native_id in known:
                    reached_known = True
                    unfinished.discard(job.native_id)
            if len(window) < POLL_WINDOW:
                return jobs  # the stream's end: nothing to carry over
            start += POLL_WINDOW
            if reached_known and not unfinished:
                break
        if known is None:
            return jobs
        # Known jobs before the oldest one read again are gone; those after it were not read.
        order = list(known)
        last_read = max((i for i, key in enumerate(order) if key in jobs), default=len(order))
        for key in order[last_read + 1 :]:
            jobs.setdefault(key, known[key])
        return jobs

    async def run(self) -> None:
        while True:
            self.polls += 1
            try:
                current = await self.read()
            except JobgraphError as exc:
                # One error event per outage (or change of error), not one per failed poll.
                if self.failure is None or self.failure.error.code != exc.code:
                    self.publish([WatchFailure(exc)])
                self.failure = WatchFailure(exc)
            else:
                self.failure = None
                if self.known is not None:
                    changes = diff_jobs(self.known, current, datetime.now(UTC))
                    if changes:
                        self.publish(changes)
                self.known = current
            await asyncio.sleep(self._pause())

    def _pause(self) -> float:
        """The poll interval; while the source's breaker is open, until it lets a try through."""
        runtime = self.client.sources.get(self.stream.source)
        if self.failure is None or runtime is None:
            return self.interval
        return max(self.interval, runtime.breaker.cooldown_left())

    def publish(self, items: Sequence[JobChange | WatchFailure]) -> None:
        for subscriber in list(self.subscribers):
            subscriber.offer(items)


class JobWatch:
    """The process's pollers, keyed by (source, project, pushed-down query)."""

    def __init__(
        self,
        client: UpstreamClient,
        scan_ceiling: int,
        max_subscriptions: int = 10_000,
        queue_size: int = SUBSCRIBER_QUEUE,
    ) -> None:
        self.client = client
        self.scan_ceiling = scan_ceiling
        self.max_subscriptions = max_subscriptions
        self.queue_size = queue_size
        self.pollers: dict[tuple[object, ...], Poller] = {}
        self.subscriptions = 0

    @contextlib.contextmanager
    def admit(self) -> Iterator[None]:
        """Count one subscription while the block runs; SubscriptionLimit past the cap."""
        if self.subscriptions >= self.max_subscriptions:
            raise SubscriptionLimit(
                f"this gateway serves at most {self.max_subscriptions} subscriptions at once; "
                "try again later"
            )
        self.subscriptions += 1
        try:
            yield
        finally:
            self.subscriptions -= 1

    def _poller(self, source: SourceConfig, stream: Stream) -> Poller:
        key = self._key(stream)
        poller = self.pollers.get(key)
        if poller is None:
            poller = Poller(stream, self.client, source.poll_interval_s, self.scan_ceiling)
            self.pollers[key] = poller
        return poller

    async def events(
        self,
        sources: list[SourceConfig],
        adapters: dict[str, ProviderAdapter],
        spec: JobFilterSpec,
    ) -> AsyncGenerator[JobChange | WatchFailure, None]:
        """Every change of `sources`' jobs that `spec` matches (before or after), and every
        failed poll, until the caller stops iterating."""
        # Pollers list unfiltered: a job that leaves the filter still shows its last change.
        plan = plan_streams(
            sources, adapters, CreatedOrder.DESC, JobFilterSpec(providers=spec.providers)
        )
        by_name = {s.name: s for s in sources}
        for failure in plan.failures:
            yield WatchFailure(failure.error)
        subscriber = Subscriber(self.queue_size)
        attached: list[Poller] = []
        try:
            for stream in plan.streams:
                poller = self._poller(by_name[stream.source], stream)
                poller.subscribers.add(subscriber)
                attached.append(poller)
                if poller.task is None:
                    poller.task = asyncio.create_task(poller.run())
            while True:
                item = await subscriber.queue.get()
                if subscriber.overflowed:
                    raise SlowConsumer(
                        f"more than {subscriber.limit} events waiting: the client reads too slowly"
                    )
                if isinstance(item, JobChange) and not spec.matches(item.job):
                    continue
                yield item
        finally:
            for poller in attached:
                poller.subscribers.discard(subscriber)
                if not poller.subscribers:
                    await self._stop(poller)

    def _key(self, stream: Stream) -> tuple[object, ...]:
        return (stream.source, stream.query.project, stream.query.params)

    async def _stop(self, poller: Poller) -> None:
        # Out of the table first: a subscriber arriving meanwhile starts a new poller.
        if self.pollers.get(self._key(poller.stream)) is poller:
            del self.pollers[self._key(poller.stream)]
        if poller.task is not None:
            poller.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await poller.task

    async def close(self) -> None:
        for poller in self.pollers.values():
            if poller.task is not None:
                poller.task.cancel()
        self.pollers.clear()

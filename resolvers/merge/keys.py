"""Merge keys: the total order of every job in the federated listing, and the cut keys that
pin a cursor to a job however positions shift.

Every job has a total merge key: (creation time, missing times last in both orders; the
stream's place in config order; its position in the stream). Within one operation a stream's
jobs are in (creation time, id) order, so positions stand in for ids.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from resolvers.domain import CreatedOrder, Job, time_key
from resolvers.providers.base import RawJob

# (missing creation time, signed microseconds, stream index, position in stream): within one
# operation, positions in a stream are in (creation time, id) order.
MergeKey = tuple[int, int, int, int]

# A stream position meaning "its end, whatever its length" (a source that failed to say).
END = 2**31 - 1
BELOW_ALL: MergeKey = (-1, 0, 0, 0)
ABOVE_ALL: MergeKey = (2, 0, 0, 0)


def merge_key(job: Job | RawJob, order: CreatedOrder, stream: int, position: int) -> MergeKey:
    missing, signed = time_key(job.created_at, order)
    return (missing, signed, stream, position)


@dataclass(frozen=True, slots=True)
class CutKey:
    """The job a cut lies just after (`after`) or just before: its stream, creation time in
    epoch microseconds (None where it has none) and id. Every job of every stream is on one
    side of it, however the streams have changed since."""

    stream: int
    created_us: int | None
    native_id: str
    after: bool


def sorted_by_time(jobs: list[RawJob], order: CreatedOrder) -> list[RawJob]:
    """Jobs by creation time, equal times in id order: upstreams give no stable order among
    jobs created at one instant, and every read of a walk must sort them alike. Only jobs
    that tie are built to learn their ids."""
    by_time = sorted(jobs, key=lambda raw: time_key(raw.created_at, order))
    result: list[RawJob] = []
    for _, run in itertools.groupby(by_time, key=lambda raw: time_key(raw.created_at, order)):
        group = list(run)
        if len(group) > 1:
            group.sort(key=lambda raw: raw.identity())
        result.extend(group)
    return result

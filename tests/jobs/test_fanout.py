"""Sources are asked in parallel: a page costs about the slowest source's latency, not the
sum of every source's."""

from __future__ import annotations

from typing import Any

import pytest

from simulators.requestlog import LoggedRequest
from tests.conftest import Gateway
from tests.jobs.conftest import JOBS_QUERY
from tests.providers import PROVIDERS, demo_source

LATENCY_S = 0.5


@pytest.fixture
def source_overrides() -> dict[str, dict[str, Any]]:
    # Every operation reads the unsorted lists whole (no snapshot): the fan-out measured here.
    return {demo_source(provider): {"max_staleness_s": 0} for provider in PROVIDERS}


async def test_a_page_costs_the_slowest_source_not_the_sum(gateway: Gateway) -> None:
    await gateway.data(JOBS_QUERY, {"first": 10})  # learn server caps, warm the connections
    for provider in PROVIDERS:
        gateway.suite.sim(provider).faults.set_latency(LATENCY_S * 1000)
    gateway.reset_counts()
    data = await gateway.data(JOBS_QUERY, {"first": 10})
    assert len(data["jobs"]["edges"]) == 10
    logged = [e for p in PROVIDERS for e in gateway.suite.sim(p).log.entries]
    assert len(logged) >= 20
    # Every source is asked at once, and the longest chain of requests that waited for one
    # another is two (an unsorted project's first window, then the rest): asked one source
    # after another, the page would wait for five in turn. (The simulators' arrival and
    # answer moments order the requests; no duration is asserted.)
    assert most_at_once(logged) >= len(PROVIDERS)
    assert longest_chain(logged) <= 2


def most_at_once(logged: list[LoggedRequest]) -> int:
    """The most requests in flight at one moment."""
    moments = sorted(
        [(e.started, 1) for e in logged] + [(finished(e), -1) for e in logged],
        key=lambda moment: (moment[0], moment[1]),
    )
    at_once = most = 0
    for _, change in moments:
        at_once += change
        most = max(most, at_once)
    return most


def longest_chain(logged: list[LoggedRequest]) -> int:
    """The most requests each of which arrived only after the one before it was answered."""
    chain: dict[int, int] = {}
    ordered = sorted(logged, key=lambda e: e.started)
    for index, entry in enumerate(ordered):
        before = [chain[i] for i, e in enumerate(ordered[:index]) if finished(e) <= entry.started]
        chain[index] = 1 + max(before, default=0)
    return max(chain.values(), default=0)


def finished(entry: LoggedRequest) -> float:
    assert entry.finished is not None, entry
    return entry.finished

"""Sources are asked in parallel: a page costs about the slowest source's latency, not the
sum of every source's."""

from __future__ import annotations

import time
from typing import Any

import pytest

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
    started = time.perf_counter()
    data = await gateway.data(JOBS_QUERY, {"first": 10})
    elapsed = time.perf_counter() - started
    assert len(data["jobs"]["edges"]) == 10
    requests = sum(gateway.upstream_calls(p) for p in PROVIDERS)
    assert requests >= 20
    # The longest chain is two requests (an unsorted project's first window, then the rest);
    # one request per source in turn would already take 5 x 0.5 s.
    assert elapsed < len(PROVIDERS) * LATENCY_S

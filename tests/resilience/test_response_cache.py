"""The optional short-TTL response cache: off by default, per source, never across callers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from resolvers.client import UpstreamClient, UpstreamSession
from resolvers.config import parse_config
from resolvers.errors import UpstreamError
from resolvers.paging import PageWindow
from resolvers.providers.base import ListQuery
from resolvers.providers.metafold import MetafoldAdapter
from simulators import SimulatorSuite
from tests.conftest import Gateway
from tests.resilience.conftest import metafold_errors, metafold_lists

PROJECT = "1031"  # 37 jobs: four pages of ten
WALK = """
query($project: String!, $after: String) {
  metafoldJobs(projectId: $project, first: 10, after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes { nativeId }
  }
}
"""
CACHED = {"mf": {"cache_ttl_s": 60}}


async def walk(gateway: Gateway) -> list[str]:
    ids: list[str] = []
    after = None
    while True:
        data = await gateway.data(WALK, {"project": PROJECT, "after": after})
        page = data["metafoldJobs"]
        ids.extend(node["nativeId"] for node in page["nodes"])
        if not page["pageInfo"]["hasNextPage"]:
            return ids
        after = page["pageInfo"]["endCursor"]


def expected_ids(gateway: Gateway) -> list[str]:
    return [str(job["id"]) for job in gateway.suite.jobs("metafold", PROJECT)]


async def test_metafold_walk_costs_one_request_per_page_with_the_cache_off(
    gateway: Gateway,
) -> None:
    assert await walk(gateway) == expected_ids(gateway)
    assert metafold_lists(gateway) == 4


@pytest.mark.parametrize("per_source_settings", [CACHED])
async def test_metafold_walk_costs_one_request_with_the_cache_on(gateway: Gateway) -> None:
    assert await walk(gateway) == expected_ids(gateway)
    assert metafold_lists(gateway) == 1


@pytest.mark.parametrize("per_source_settings", [CACHED])
async def test_cache_on_one_source_leaves_the_others_uncached(gateway: Gateway) -> None:
    query = "{ workflowJobs(first: 3) { nodes { nativeId } } }"
    await gateway.data(query)
    await gateway.data(query)
    assert gateway.upstream_calls("workflow", "list") == 2


@pytest.mark.parametrize("per_source_settings", [CACHED])
async def test_failed_responses_are_never_cached(gateway: Gateway) -> None:
    gateway.suite.sim("metafold").faults.add("status", status=404)
    assert await metafold_errors(gateway)
    assert await metafold_errors(gateway) == []
    assert await metafold_errors(gateway) == []
    assert metafold_lists(gateway) == 2


@pytest.fixture
async def cached_client(suite: SimulatorSuite, sim_root: str) -> AsyncIterator[UpstreamClient]:
    sources = [{**s, "cache_ttl_s": 60} for s in suite.demo_sources(sim_root)]
    config = parse_config({"sources": sources}, environ={})
    client = UpstreamClient(config.sources, suite.demo_environ())
    await client.start()
    yield client
    await client.close()


async def first_jobs(client: UpstreamClient, caller: str) -> list[Any]:
    adapter = MetafoldAdapter(client.sources["mf"].config)
    http = UpstreamSession(client, caller=caller)
    result = await adapter.fetch_window(http, ListQuery(PROJECT), PageWindow(0, 5))
    return [job.native_id for job in result.items]


async def test_cached_response_is_never_served_to_another_caller(
    cached_client: UpstreamClient, suite: SimulatorSuite
) -> None:
    alice = await first_jobs(cached_client, "alice")
    assert await first_jobs(cached_client, "alice") == alice
    assert await first_jobs(cached_client, "bob") == alice
    assert suite.sim("metafold").log.count("list") == 2


async def test_callers_asking_at_once_for_a_cached_response_share_one_fetch(
    cached_client: UpstreamClient, suite: SimulatorSuite
) -> None:
    suite.sim("metafold").faults.set_latency(300)
    pages = await asyncio.gather(*(first_jobs(cached_client, "alice") for _ in range(5)))
    assert all(page == pages[0] for page in pages)
    assert suite.sim("metafold").log.count("list") == 1


async def test_callers_asking_at_once_never_share_a_fetch_across_callers(
    cached_client: UpstreamClient, suite: SimulatorSuite
) -> None:
    suite.sim("metafold").faults.set_latency(300)
    await asyncio.gather(*(first_jobs(cached_client, name) for name in ("alice", "bob") * 2))
    assert suite.sim("metafold").log.count("list") == 2


async def test_a_shared_fetch_that_fails_fails_every_caller_and_is_not_kept(
    cached_client: UpstreamClient, suite: SimulatorSuite
) -> None:
    suite.sim("metafold").faults.add("status", status=404, latency_ms=300)
    results = await asyncio.gather(
        *(first_jobs(cached_client, "alice") for _ in range(3)), return_exceptions=True
    )
    assert all(isinstance(result, UpstreamError) for result in results)
    assert suite.sim("metafold").log.count("list") == 1
    assert await first_jobs(cached_client, "alice")
    assert suite.sim("metafold").log.count("list") == 2


async def test_without_the_cache_callers_asking_at_once_each_fetch(
    suite: SimulatorSuite, sim_root: str
) -> None:
    config = parse_config({"sources": suite.demo_sources(sim_root)}, environ={})
    client = UpstreamClient(config.sources, suite.demo_environ())
    await client.start()
    try:
        suite.sim("metafold").faults.set_latency(100)
        await asyncio.gather(*(first_jobs(client, "alice") for _ in range(3)))
    finally:
        await client.close()
    assert suite.sim("metafold").log.count("list") == 3

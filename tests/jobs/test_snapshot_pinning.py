"""One operation sees one snapshot of a list however often it reads it, even when the snapshot
expires and another operation replaces it meanwhile: a length read before and a window read
after must describe the same list. And a snapshot's read goes to the upstream itself, past
the operation's earlier responses and the response cache, so its age is the data's."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from resolvers.client import UpstreamClient, UpstreamSession
from resolvers.config import SourceConfig
from resolvers.paging import PageWindow, WholeListRequest
from resolvers.providers.base import ListQuery, ProviderAdapter
from resolvers.providers.registry import build_adapters
from simulators import SimulatorSuite
from tests.providers import PROJECT_PROVIDERS

STALENESS = 2.0


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def unpaged(
    adapters: dict[str, ProviderAdapter], suite: SimulatorSuite
) -> tuple[ProviderAdapter, str, ListQuery]:
    """A source whose upstream returns the whole list in every response, and the query of its
    biggest project."""
    for adapter in adapters.values():
        if isinstance(adapter.plan(PageWindow(0, 1), None)[0], WholeListRequest):
            provider = adapter.provider.value
            assert provider in PROJECT_PROVIDERS
            projects = suite.projects(provider)
            return (
                adapter,
                provider,
                ListQuery(max(projects, key=lambda p: len(suite.jobs(provider, p)))),
            )
    raise AssertionError("no provider of the registry lists whole")


@pytest.fixture
async def setup(
    suite: SimulatorSuite, sim_root: str
) -> AsyncIterator[tuple[UpstreamClient, dict[str, ProviderAdapter], Clock]]:
    sources = [
        SourceConfig.model_validate({**s, "max_staleness_s": STALENESS, "cache_ttl_s": 60})
        for s in suite.demo_sources(sim_root)
    ]
    clock = Clock()
    client = UpstreamClient(sources, suite.demo_environ(), clock=clock)
    await client.start()
    yield client, build_adapters(sources), clock
    await client.close()


async def test_one_operation_keeps_its_snapshot_when_another_replaces_it(
    setup: tuple[UpstreamClient, dict[str, ProviderAdapter], Clock], suite: SimulatorSuite
) -> None:
    client, adapters, clock = setup
    adapter, provider, query = unpaged(adapters, suite)
    project = query.project
    walker = UpstreamSession(client, caller="alice")
    length = await adapter.length(walker, query, shared=True)

    # The list changes, the snapshot expires, and another operation of the same caller reads
    # the list again: the app's snapshot is now the new list.
    made = suite.sim(provider).mutations.create(project, 3)
    clock.now += STALENESS + 1
    other = UpstreamSession(client, caller="alice")
    newer = await adapter.fetch_raw_window(other, query, PageWindow(0, 3), shared=True)
    assert {raw.native_id for raw in newer.items} >= {str(i) for i in made}

    # The first operation still reads the list it measured: its last job is where it was.
    tail = await adapter.fetch_raw_window(
        walker, query, PageWindow(length - 1, length + 1), shared=True
    )
    assert len(tail.items) == 1
    fresh_tail = await adapter.fetch_raw_window(
        other, query, PageWindow(length - 1, length + 1), shared=True
    )
    assert len(fresh_tail.items) == 2


async def test_a_snapshot_is_read_from_the_upstream_not_the_response_cache(
    setup: tuple[UpstreamClient, dict[str, ProviderAdapter], Clock], suite: SimulatorSuite
) -> None:
    client, adapters, _ = setup
    adapter, provider, query = unpaged(adapters, suite)
    log = suite.sim(provider).log
    # A plain read fills the response cache (cache_ttl_s 60)...
    await adapter.fetch_window(UpstreamSession(client, caller="bob"), query, PageWindow(0, 5))
    before = log.count("list")
    # ...which a snapshot's read passes by, and a plain read still uses.
    await adapter.fetch_raw_window(
        UpstreamSession(client, caller="bob"), query, PageWindow(0, 5), shared=True
    )
    assert log.count("list") == before + 1
    await adapter.fetch_window(UpstreamSession(client, caller="bob"), query, PageWindow(0, 5))
    assert log.count("list") == before + 1

"""Fixtures for the adapter tests: every adapter wired to the simulators over real HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

import pytest

from resolvers.client import UpstreamClient, UpstreamSession
from resolvers.config import SourceConfig
from resolvers.domain import Job
from resolvers.paging import PageWindow
from resolvers.providers.base import ListQuery, ProviderAdapter
from resolvers.providers.registry import build_adapters, provider_row
from simulators import PROVIDERS, RequestLog, SimulatorSuite
from tests.providers import oracle


@dataclass
class Upstreams:
    """The simulators and one adapter per provider, sharing one app-wide client."""

    suite: SimulatorSuite
    sources: dict[str, SourceConfig]
    client: UpstreamClient
    adapters: dict[str, ProviderAdapter]

    def adapter(self, provider: str) -> ProviderAdapter:
        return self.adapters[self.sources[provider].name]

    def variant(self, provider: str, **changes: Any) -> ProviderAdapter:
        """An adapter of the same source (same client entry) with other config values."""
        source = self.sources[provider].model_copy(update=changes)
        return type(self.adapter(provider))(source)

    def session(self) -> UpstreamSession:
        """A fresh per-operation session."""
        return UpstreamSession(self.client)

    def log(self, provider: str) -> RequestLog:
        return self.suite.sim(provider).log

    def projects(self, provider: str) -> list[str | None]:
        return (
            list(self.suite.projects(provider)) if provider_row(provider).has_projects else [None]
        )

    def biggest_project(self, provider: str) -> str | None:
        return max(self.projects(provider), key=lambda p: len(self.raw(provider, p)))

    def raw(self, provider: str, project: str | None, **view: Any) -> list[dict[str, Any]]:
        return self.suite.jobs(provider, project, **view)

    def raw_ids(self, provider: str, project: str | None, **view: Any) -> list[str]:
        return [oracle(provider).native_id(job) for job in self.raw(provider, project, **view)]

    async def all_jobs(self, provider: str, query: ListQuery) -> list[Job]:
        """Every job of a query's sequence: its length, then one window, in one operation."""
        adapter = self.adapter(provider)
        http = self.session()
        length = await adapter.length(http, query)
        result = await adapter.fetch_window(http, query, PageWindow(0, length))
        return result.items


def sources_by_provider(suite: SimulatorSuite, root: str) -> dict[str, SourceConfig]:
    # No retries: these tests map each upstream answer; retrying is the client's own concern.
    configs = [
        SourceConfig.model_validate({**s, "max_retries": 0}) for s in suite.demo_sources(root)
    ]
    return {source.provider.value: source for source in configs}


@pytest.fixture
async def upstreams(suite: SimulatorSuite, sim_root: str) -> AsyncIterator[Upstreams]:
    sources = sources_by_provider(suite, sim_root)
    client = UpstreamClient(list(sources.values()), suite.demo_environ())
    await client.start()
    yield Upstreams(suite, sources, client, build_adapters(list(sources.values())))
    await client.close()


@pytest.fixture
async def client_with_environ(suite: SimulatorSuite, sim_root: str) -> AsyncIterator[Any]:
    """Builds started clients whose credentials come from a given environ (closed at
    teardown)."""
    made: list[UpstreamClient] = []

    async def build(environ: Mapping[str, str]) -> UpstreamClient:
        client = UpstreamClient(list(sources_by_provider(suite, sim_root).values()), environ)
        made.append(client)
        await client.start()
        return client

    yield build
    for client in made:
        await client.close()


__all__ = ["PROVIDERS", "Upstreams"]

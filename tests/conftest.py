"""Shared fixtures: the five simulators over real HTTP, and a gateway in front of them."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pytest
from aiohttp import web_app
from aiohttp.test_utils import TestClient, TestServer

from graph.http.app import build_app
from resolvers.config import Config, ServerConfig, parse_config
from simulators import PROVIDERS, SimulatorSuite
from simulators.views import ProjectViews

# JOBGRAPH_TEST_FAST_PATH=0 runs the whole suite with `[server] fast_path = false` wherever a
# test leaves it unset, so the general path is shown to answer exactly as the fast path does.
FAST_PATH_ENV = "JOBGRAPH_TEST_FAST_PATH"


def pytest_configure(config: pytest.Config) -> None:
    # Every sorted or filtered list a simulator serves from its cache is checked against a fresh
    # build: a test that edits stored jobs in place without `sim.changed(project)` fails.
    ProjectViews.verify = True
    if os.environ.get(FAST_PATH_ENV, "1") == "0":
        # Every config built in this process (tests build theirs without env overrides)...
        ServerConfig.model_fields["fast_path"].default = False
        ServerConfig.model_rebuild(force=True)
        Config.model_rebuild(force=True)
        # ...and every `jobgraph serve` a test starts with this environment.
        os.environ["JOBGRAPH_SERVER__FAST_PATH"] = "false"


class Gateway:
    """A running gateway and the simulators behind it."""

    def __init__(self, client: TestClient, suite: SimulatorSuite, config: Config) -> None:
        self.client = client
        self.suite = suite
        self.config = config

    async def post(
        self, query: str, variables: Mapping[str, Any] | None = None, **headers: str
    ) -> dict[str, Any]:
        response = await self.client.post(
            "/graphql", json={"query": query, "variables": dict(variables or {})}, headers=headers
        )
        assert response.status == 200, await response.text()
        body: dict[str, Any] = await response.json()
        return body

    async def data(self, query: str, variables: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The data of a query that must succeed with no errors."""
        body = await self.post(query, variables)
        assert "errors" not in body, body["errors"]
        data: dict[str, Any] = body["data"]
        return data

    def upstream_calls(self, provider: str, route: str | None = None) -> int:
        return self.suite.sim(provider).log.count(route)

    def reset_counts(self) -> None:
        for provider in PROVIDERS:
            self.suite.sim(provider).log.clear()


@pytest.fixture(autouse=True)
def forget_finished_apps() -> Iterator[None]:
    """Empty aiohttp's module-wide cache of middleware chains after each test: its 1024 entries
    hold their handlers' apps, and so hundreds of finished tests' simulators and gateways, until
    a worker's heap reaches gigabytes and garbage collection pauses outlast upstream timeouts."""
    yield
    cache = getattr(web_app, "_cached_build_middleware", None)
    if cache is not None:
        cache.cache_clear()


@pytest.fixture
def suite() -> SimulatorSuite:
    return SimulatorSuite()


@pytest.fixture
async def sim_server(suite: SimulatorSuite, aiohttp_server: Callable[..., Any]) -> TestServer:
    server: TestServer = await aiohttp_server(suite.app())
    return server


@pytest.fixture
def sim_root(sim_server: TestServer) -> str:
    return str(sim_server.make_url("")).rstrip("/")


@pytest.fixture
def gateway_settings() -> dict[str, Any]:
    """Overridable extra config (server/auth sections) for the gateway fixture."""
    return {}


@pytest.fixture
def source_overrides() -> dict[str, dict[str, Any]]:
    """Per-source config overrides (by source name) for the gateway fixture."""
    return {}


@pytest.fixture
def extra_environ() -> dict[str, str]:
    """Env vars the gateway sees besides the simulators' credentials (e.g. caller tokens)."""
    return {}


@pytest.fixture
async def gateway(
    suite: SimulatorSuite,
    sim_root: str,
    gateway_settings: dict[str, Any],
    source_overrides: dict[str, dict[str, Any]],
    extra_environ: dict[str, str],
    aiohttp_client: Callable[..., Any],
) -> Gateway:
    sources = [
        {**source, **source_overrides.get(source["name"], {})}
        for source in suite.demo_sources(sim_root)
    ]
    config = parse_config({"sources": sources, **gateway_settings}, environ={})
    environ = {**suite.demo_environ(), **extra_environ}
    client: TestClient = await aiohttp_client(build_app(config, environ))
    return Gateway(client, suite, config)

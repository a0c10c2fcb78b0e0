"""Fixtures for the simulator contract tests: a shared suite, a real HTTP client, helpers."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
import pytest
from aiohttp import ClientResponse, ClientTimeout
from aiohttp.test_utils import TestClient

from simulators import PROVIDERS, SimulatorSuite
from tests.providers import oracle


def list_path(provider: str, project: str | None) -> str:
    """The list endpoint of a project, relative to the simulator's base URL."""
    return oracle(provider).list_url(project)


@dataclass
class Reply:
    status: int
    headers: Mapping[str, str]
    raw: bytes

    @property
    def body(self) -> Any:
        return orjson.loads(self.raw)


@dataclass
class SimHTTP:
    """Calls one suite's simulators over real HTTP through the aiohttp test client."""

    client: TestClient[Any, Any]
    suite: SimulatorSuite

    def url(self, provider: str, path: str) -> str:
        return f"/_sim/{provider}{path}"

    def list_path(self, provider: str, project: str | None) -> str:
        return list_path(provider, project)

    async def request(
        self,
        provider: str,
        path: str,
        params: Any = None,
        *,
        headers: Mapping[str, str] | None = None,
        method: str = "GET",
        json: Any = None,
        client_timeout: ClientTimeout | None = None,
    ) -> ClientResponse:
        sent = self.suite.sim(provider).auth_headers if headers is None else headers
        return await self.client.request(
            method,
            self.url(provider, path),
            params=params,
            headers=sent,
            json=json,
            timeout=client_timeout,
        )

    async def get(
        self,
        provider: str,
        path: str,
        params: Any = None,
        *,
        headers: Mapping[str, str] | None = None,
        method: str = "GET",
    ) -> Reply:
        response = await self.request(provider, path, params, headers=headers, method=method)
        return Reply(response.status, response.headers, await response.read())

    async def list(self, provider: str, project: str | None, params: Any = None) -> Reply:
        return await self.get(provider, list_path(provider, project), params)

    async def control(
        self, provider: str, method: str, action: str, json: Any = None
    ) -> tuple[int, Any]:
        response = await self.request(provider, f"/_control/{action}", method=method, json=json)
        return response.status, await response.json()


@pytest.fixture(scope="session")
def shared_suite() -> SimulatorSuite:
    """One default suite for every read-only test; faults and logs are reset around each."""
    return SimulatorSuite()


@pytest.fixture
def suite(shared_suite: SimulatorSuite) -> Iterator[SimulatorSuite]:
    shared_suite.reset()
    yield shared_suite
    shared_suite.reset()


@pytest.fixture
async def sims(aiohttp_client: Any, suite: SimulatorSuite) -> SimHTTP:
    return SimHTTP(await aiohttp_client(suite.app()), suite)


@pytest.fixture
def make_sims(aiohttp_client: Any) -> Any:
    """Serve a suite of the test's own (other seed, clock, sizes)."""

    async def make(suite: SimulatorSuite) -> SimHTTP:
        return SimHTTP(await aiohttp_client(suite.app()), suite)

    return make


@pytest.fixture(params=PROVIDERS)
def provider(request: pytest.FixtureRequest) -> str:
    return str(request.param)

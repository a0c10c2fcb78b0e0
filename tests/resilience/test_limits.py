"""Per-source concurrency limits, body size limits and deadlines, over real HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from graph.http.app import build_app
from resolvers.config import parse_config
from simulators import SimulatorSuite
from tests.conftest import Gateway
from tests.graph.providers import FIELDS
from tests.providers import PROVIDERS, demo_source


class InFlight:
    """The most requests a simulator was serving at once, per provider."""

    def __init__(self) -> None:
        self.now: dict[str, int] = {}
        self.peak: dict[str, int] = {}

    @web.middleware
    async def middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        provider = request.path.split("/")[2] if request.path.startswith("/_sim/") else "-"
        self.now[provider] = self.now.get(provider, 0) + 1
        self.peak[provider] = max(self.peak.get(provider, 0), self.now[provider])
        try:
            return await handler(request)
        finally:
            self.now[provider] -= 1


@pytest.fixture
def in_flight() -> InFlight:
    return InFlight()


@pytest.fixture
async def sim_server(
    suite: SimulatorSuite, in_flight: InFlight, aiohttp_server: Callable[..., Any]
) -> TestServer:
    app = web.Application(middlewares=[in_flight.middleware])
    suite.mount(app)
    server: TestServer = await aiohttp_server(app)
    return server


def orange_query(gateway: Gateway, first: int) -> tuple[str, dict[str, Any]]:
    project = max(
        gateway.suite.projects("orange"), key=lambda p: len(gateway.suite.jobs("orange", p))
    )
    return FIELDS["orange"].query(project, selection="nodes { nativeId }"), {"first": first}


@pytest.mark.parametrize("per_source_settings", [{"orange": {"max_concurrency": 2}}])
async def test_concurrent_requests_to_a_source_never_exceed_its_limit(
    gateway: Gateway, in_flight: InFlight
) -> None:
    gateway.suite.sim("orange").faults.set_latency(50)
    bodies = await asyncio.gather(
        *(gateway.post(*orange_query(gateway, first)) for first in range(1, 9))
    )
    assert all("errors" not in body for body in bodies)
    assert gateway.upstream_calls("orange", "list") >= 8
    assert in_flight.peak["orange"] == 2


@pytest.mark.parametrize("per_source_settings", [{"mf": {"timeout_s": 0.5, "max_retries": 0}}])
async def test_hanging_source_times_out_while_the_rest_of_the_query_returns(
    gateway: Gateway,
) -> None:
    gateway.suite.sim("metafold").faults.add("hang", count=50)
    body = await gateway.post(
        "{ jobs(first: 20) { nodes { source } failures { source provider code } } }"
    )
    jobs = body["data"]["jobs"]
    assert {node["source"] for node in jobs["nodes"]} == {
        demo_source(p) for p in PROVIDERS if p != "metafold"
    }
    assert jobs["failures"] == [
        {"source": "mf", "provider": "METAFOLD", "code": "UPSTREAM_TIMEOUT"}
    ]
    [error] = body["errors"]
    assert error["extensions"]["code"] == "UPSTREAM_TIMEOUT"
    assert error["extensions"]["source"] == "mf"


class EndlessUpstream:
    """A Metafold look-alike whose list body is chunked, with no Content-Length, and huge."""

    total = 64 * 1024 * 1024
    chunk = b" " * (64 * 1024)

    def __init__(self) -> None:
        self.sent = 0

    async def jobs(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        await response.write(b"[")
        try:
            while self.sent < self.total:
                await response.write(self.chunk)
                self.sent += len(self.chunk)
            await response.write(b"]")
        except (ConnectionResetError, ConnectionError):
            pass
        return response


async def test_chunked_body_without_length_is_cut_off_at_the_limit(
    aiohttp_server: Callable[..., Any], aiohttp_client: Callable[..., Any]
) -> None:
    upstream = EndlessUpstream()
    app = web.Application()
    app.router.add_get("/projects/{project}/jobs", upstream.jobs)
    server: TestServer = await aiohttp_server(app)
    source = {
        "name": "endless",
        "provider": "metafold",
        "base_url": str(server.make_url("")).rstrip("/"),
        "projects": ["1"],
        "token_env": "ENDLESS_TOKEN",
        "max_body_bytes": 256 * 1024,
    }
    config = parse_config({"sources": [source]}, environ={})
    client: TestClient = await aiohttp_client(
        build_app(config, {"ENDLESS_TOKEN": "endless-secret-token"})
    )
    response = await client.post(
        "/graphql",
        json={"query": '{ metafoldJobs(projectId: "1", first: 1) { nodes { nativeId } } }'},
    )
    assert response.status == 200
    body = await response.json()
    error = body["errors"][0]
    assert error["extensions"]["code"] == "UPSTREAM_INVALID_RESPONSE"
    assert "limit" in error["message"]
    await asyncio.sleep(0.1)
    assert upstream.sent < EndlessUpstream.total


@pytest.fixture
def unaccepting_port() -> Iterator[int]:
    """A port whose listen backlog is full, so a new connection is never completed."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    port: int = server.getsockname()[1]
    fillers = []
    for _ in range(4):
        filler = socket.socket()
        filler.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            filler.connect(("127.0.0.1", port))
        fillers.append(filler)
    yield port
    for each in [*fillers, server]:
        each.close()


async def test_connect_timeout_is_upstream_timeout_and_retried_within_the_deadline(
    unaccepting_port: int, aiohttp_client: Callable[..., Any]
) -> None:
    source = {
        "name": "blackhole",
        "provider": "metafold",
        "base_url": f"http://127.0.0.1:{unaccepting_port}",
        "projects": ["1"],
        "token_env": "BLACKHOLE_TOKEN",
        "connect_timeout_s": 0.2,
        "timeout_s": 5,
        "max_retries": 2,
    }
    config = parse_config({"sources": [source]}, environ={})
    client: TestClient = await aiohttp_client(build_app(config, {"BLACKHOLE_TOKEN": "bh-token"}))
    response = await client.post(
        "/graphql",
        json={"query": '{ metafoldJobs(projectId: "1", first: 1) { nodes { nativeId } } }'},
    )
    error = (await response.json())["errors"][0]
    assert error["extensions"]["code"] == "UPSTREAM_TIMEOUT"
    assert "connect" in error["message"]
    metrics = await (await client.get("/metrics")).text()
    assert (
        'jobgraph_upstream_requests_total{source="blackhole",status="upstream_timeout"} 3.0'
        in metrics
    )

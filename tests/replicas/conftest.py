"""Two `jobgraph serve` processes (replicas) behind a real Debian haproxy, round-robin, on
free ports of 127.0.0.1; one real redis-server they share. Everything is stopped afterwards.

The simulators run in the test's own process (`sim_root`), so they count every upstream
request either replica makes."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bench.replicas import haproxy_config
from simulators import SimulatorSuite
from simulators.suite import DEMO_ENVIRON
from tests.shared_state.conftest import (
    RedisServer,
    redis_server,  # noqa: F401 (a fixture)
)

HAPROXY = os.environ.get("HAPROXY", "/usr/sbin/haproxy")
ROOT = Path(__file__).resolve().parents[2]
CURSOR_SECRET = "replicas-share-this-cursor-secret-0b7e"
START_TIMEOUT_S = 30.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Replica:
    """One `jobgraph serve` process."""

    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def kill(self) -> None:
        """Stop it at once, as a crash would."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


@dataclass
class Cluster:
    """The load balancer's URL, the replicas behind it, and the Redis they share."""

    url: str
    replicas: dict[str, Replica]
    redis: RedisServer
    http: aiohttp.ClientSession
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    async def post(self, query: str, variables: dict[str, Any] | None = None) -> tuple[str, Any]:
        """One operation through the balancer: (the replica that answered, the body)."""
        async with self.http.post(
            f"{self.url}/graphql", json={"query": query, "variables": variables or {}}
        ) as response:
            assert response.status == 200, await response.text()
            return response.headers["X-Served-By"], await response.json()


def gateway_config(directory: Path, suite: SimulatorSuite, sim_root: str, redis_url: str) -> Path:
    """The config every replica runs: same sources, cursor secret and Redis."""
    lines = [
        "[server]",
        'host = "127.0.0.1"',
        "graphiql = false",
        'cursor_secret_env = "JOBGRAPH_CURSOR_SECRET"',
        "",
        "[cache]",
        'backend = "redis"',
        f"redis_url = {json.dumps(redis_url)}",
        "",
    ]
    for source in suite.demo_sources(sim_root):
        lines.append("[[sources]]")
        for key, value in {**source, "cache_ttl_s": 60}.items():
            lines.append(f"{key} = {json.dumps(value)}")
        lines.append("")
    path = directory / "jobgraph.toml"
    path.write_text("\n".join(lines))
    return path


def write_haproxy_config(directory: Path, port: int, replicas: dict[str, Replica]) -> Path:
    """Round-robin over the replicas, a health check on /healthz, and a failed connection
    retried on the other replica (`option redispatch`); the bench uses the same config."""
    path = directory / "haproxy.cfg"
    path.write_text(haproxy_config(port, {name: r.port for name, r in replicas.items()}))
    return path


def _start(command: list[str], log: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)


def _tail(log: Path) -> str:
    return log.read_text()[-2000:]


async def _wait_healthy(http: aiohttp.ClientSession, url: str, process: Any, log: Path) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + START_TIMEOUT_S
    while loop.time() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{url} exited at start: {_tail(log)}")
        with contextlib.suppress(aiohttp.ClientError):
            async with http.get(f"{url}/healthz") as response:
                if response.status == 200:
                    return
        await asyncio.sleep(0.1)
    pytest.fail(f"{url} never answered /healthz: {_tail(log)}")


async def _wait_balancing(
    http: aiohttp.ClientSession, url: str, names: set[str], process: Any, log: Path
) -> None:
    """Until the balancer has sent two requests in a row to two different replicas."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + START_TIMEOUT_S
    last: list[str] = []
    while loop.time() < deadline:
        if process.poll() is not None:
            pytest.fail(f"haproxy exited at start: {_tail(log)}")
        with contextlib.suppress(aiohttp.ClientError):
            async with http.get(f"{url}/healthz") as response:
                if response.status == 200:
                    last = [*last[-(len(names) - 1) :], response.headers["X-Served-By"]]
                    if set(last) == names:
                        return
        await asyncio.sleep(0.05)
    pytest.fail(f"haproxy never balanced over {sorted(names)}: {_tail(log)}")


@pytest.fixture
def replica_environ() -> dict[str, str]:
    env = {**os.environ, **DEMO_ENVIRON, "JOBGRAPH_CURSOR_SECRET": CURSOR_SECRET}
    for name in list(env):
        if name.startswith("JOBGRAPH_SERVER__") or name.startswith("JOBGRAPH_CACHE__"):
            del env[name]
    return env


@pytest.fixture
def started() -> Iterator[list[Replica | subprocess.Popen[bytes]]]:
    """Every process a test starts, stopped at its end whatever happened."""
    processes: list[Replica | subprocess.Popen[bytes]] = []
    yield processes
    for each in reversed(processes):
        if isinstance(each, Replica):
            each.stop()
        elif each.poll() is None:
            each.terminate()
            try:
                each.wait(timeout=10)
            except subprocess.TimeoutExpired:
                each.kill()
                each.wait()


@pytest.fixture
async def cluster(
    suite: SimulatorSuite,
    sim_root: str,
    redis_server: RedisServer,  # noqa: F811
    replica_environ: dict[str, str],
    started: list[Replica | subprocess.Popen[bytes]],
    tmp_path: Path,
) -> AsyncIterator[Cluster]:
    if not os.access(HAPROXY, os.X_OK):
        pytest.fail(f"{HAPROXY} is missing: run `make install` (it installs haproxy)")
    config = gateway_config(tmp_path, suite, sim_root, redis_server.url)
    replicas: dict[str, Replica] = {}
    for name in ("a", "b"):
        port = free_port()
        log = tmp_path / f"replica-{name}.log"
        command = [sys.executable, "-m", "graph.cli", "serve", "--config", str(config)]
        process = _start([*command, "--port", str(port)], log, replica_environ)
        replicas[name] = Replica(name, port, process, log)
        started.append(replicas[name])
    # One connection per request, so that round-robin picks a replica for each page.
    connector = aiohttp.TCPConnector(force_close=True)
    async with aiohttp.ClientSession(connector=connector) as http:
        for replica in replicas.values():
            await _wait_healthy(http, replica.url, replica.process, replica.log)
        port = free_port()
        balancer_log = tmp_path / "haproxy.log"
        balancer = _start(
            [HAPROXY, "-db", "-f", str(write_haproxy_config(tmp_path, port, replicas))],
            balancer_log,
            dict(os.environ),
        )
        started.append(balancer)
        url = f"http://127.0.0.1:{port}"
        await _wait_balancing(http, url, set(replicas), balancer, balancer_log)
        yield Cluster(url, replicas, redis_server, http)

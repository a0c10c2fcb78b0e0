"""A real Debian redis-server per test, on a free port of 127.0.0.1, stopped afterwards;
and two gateway apps (replicas) sharing it over the same simulators."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from graph.http.app import build_app
from resolvers.config import Config, parse_config
from simulators import SimulatorSuite

REDIS_SERVER = os.environ.get("REDIS_SERVER", "/usr/bin/redis-server")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RedisServer:
    process: subprocess.Popen[bytes]
    port: int

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def kill(self) -> None:
        """Stop the server at once, as a crash would."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


def _wait_until_listening(server: RedisServer) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(f"redis-server exited with {server.process.returncode} at start")
        try:
            with socket.create_connection(("127.0.0.1", server.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                if sock.recv(16).startswith(b"+PONG"):
                    return
        except OSError:
            time.sleep(0.05)
    pytest.fail("redis-server did not answer PING within 10 s")


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    if not os.access(REDIS_SERVER, os.X_OK):
        pytest.fail(f"{REDIS_SERVER} is missing: run `make install` (it installs redis-server)")
    port = _free_port()
    process = subprocess.Popen(
        [
            REDIS_SERVER,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
            "--daemonize",
            "no",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    server = RedisServer(process, port)
    try:
        _wait_until_listening(server)
        yield server
    finally:
        server.kill()


PROJECT = "1031"  # Metafold: one list request answers any page of it
PAGE = """
query($after: String) {
  metafoldJobs(projectId: "1031", first: 10, after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes { nativeId name }
  }
}
"""
TOKENS = {"TOKEN_ALPHA": "alpha-caller-token", "TOKEN_BETA": "beta-caller-token"}

Replicas = tuple[TestClient, TestClient]


def replica_config(
    suite: SimulatorSuite,
    sim_root: str,
    redis_url: str,
    **mf: Any,
) -> Config:
    sources = [
        {**source, "max_retries": 0, **(mf if source["name"] == "mf" else {})}
        for source in suite.demo_sources(sim_root)
    ]
    return parse_config(
        {
            "sources": sources,
            "auth": {
                "mode": "token",
                "tokens": [
                    {"name": "alpha", "token_env": "TOKEN_ALPHA"},
                    {"name": "beta", "token_env": "TOKEN_BETA"},
                ],
            },
            "cache": {"backend": "redis", "redis_url": redis_url},
        },
        environ={},
    )


@pytest.fixture
def mf_settings() -> dict[str, Any]:
    return {"cache_ttl_s": 60}


@pytest.fixture
async def replicas(
    suite: SimulatorSuite,
    sim_root: str,
    redis_server: RedisServer,
    mf_settings: dict[str, Any],
    aiohttp_client: Callable[..., Any],
) -> Replicas:
    config = replica_config(suite, sim_root, redis_server.url, **mf_settings)
    environ = {**suite.demo_environ(), **TOKENS}
    first = await aiohttp_client(build_app(config, environ))
    second = await aiohttp_client(build_app(config, environ))
    return first, second


async def ask(
    replica: TestClient, after: str | None = None, token: str = TOKENS["TOKEN_ALPHA"]
) -> dict[str, Any]:
    response = await replica.post(
        "/graphql",
        json={"query": PAGE, "variables": {"after": after}},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status == 200, await response.text()
    body: dict[str, Any] = await response.json()
    return body


def metafold_lists(suite: SimulatorSuite) -> int:
    return suite.sim("metafold").log.count("list")

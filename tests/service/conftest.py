"""A gateway served over real HTTP on 127.0.0.1 with caller tokens, and a client for it.

Sources are the five simulators (`ei`, `orange`, `mf`, `wf`, `ma`). Two caller tokens:
`admin` reads every source; `dashboard` reads only `mf` and `wf`.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from graph.http.app import build_app
from resolvers.config import Config, parse_config
from simulators import SimulatorSuite

ADMIN_TOKEN = "jg-admin-7Qm2c9Xv4LpR8sTn1WbK6yHd"
DASHBOARD_TOKEN = "jg-dash-3Fh8Kq1Zr5Nv9Ct2Mx7Lp4Ws"
TOKEN_ENVIRON = {
    "JOBGRAPH_TOKEN_ADMIN": ADMIN_TOKEN,
    "JOBGRAPH_TOKEN_DASHBOARD": DASHBOARD_TOKEN,
}
DASHBOARD_SOURCES = frozenset({"mf", "wf"})
TOKEN_AUTH: dict[str, Any] = {
    "mode": "token",
    "tokens": [
        {"name": "admin", "token_env": "JOBGRAPH_TOKEN_ADMIN"},
        {
            "name": "dashboard",
            "token_env": "JOBGRAPH_TOKEN_DASHBOARD",
            "sources": sorted(DASHBOARD_SOURCES),
        },
    ],
}


@dataclass
class Reply:
    status: int
    headers: Mapping[str, str]
    body: Any

    @property
    def codes(self) -> list[str]:
        return [e.get("extensions", {}).get("code") for e in self.body.get("errors", [])]


class Service:
    """A running gateway (real socket) and a plain HTTP client for it."""

    def __init__(
        self, server: TestServer, http: aiohttp.ClientSession, suite: SimulatorSuite, config: Config
    ) -> None:
        self.server = server
        self.http = http
        self.suite = suite
        self.config = config
        self.url = str(server.make_url("")).rstrip("/")
        self.graphql_url = f"{self.url}/graphql"

    async def request(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        headers: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> Reply:
        all_headers = dict(headers or {})
        if token is not None:
            all_headers["Authorization"] = f"Bearer {token}"
        async with self.http.request(
            method, self.url + path, headers=all_headers, **kwargs
        ) as response:
            text = await response.text()
            try:
                body: Any = await response.json(content_type=None)
            except ValueError:
                body = text
            return Reply(response.status, response.headers, body)

    async def graphql(
        self,
        query: str,
        variables: Mapping[str, Any] | None = None,
        *,
        token: str | None = ADMIN_TOKEN,
        headers: Mapping[str, str] | None = None,
        operation_name: str | None = None,
    ) -> Reply:
        payload: dict[str, Any] = {"query": query, "variables": dict(variables or {})}
        if operation_name is not None:
            payload["operationName"] = operation_name
        return await self.request("POST", "/graphql", token=token, headers=headers, json=payload)

    async def data(self, query: str, variables: Mapping[str, Any] | None = None) -> Any:
        """The data of a query (as admin) that must succeed with no errors."""
        reply = await self.graphql(query, variables)
        assert reply.status == 200, reply.body
        assert "errors" not in reply.body, reply.body["errors"]
        return reply.body["data"]

    def upstream_calls(self, provider: str) -> int:
        return self.suite.sim(provider).log.count(None)

    def reset_counts(self) -> None:
        self.suite.reset()


@pytest.fixture
def server_settings() -> dict[str, Any]:
    """Overridable `[server]` settings for the `service` fixture."""
    return {}


@pytest.fixture
def auth_settings() -> dict[str, Any]:
    """Overridable `[auth]` settings for the `service` fixture."""
    return TOKEN_AUTH


@pytest.fixture
def source_overrides() -> dict[str, dict[str, Any]]:
    """Overridable per-source settings, by source name."""
    return {}


@pytest.fixture
async def service(
    suite: SimulatorSuite,
    sim_root: str,
    server_settings: dict[str, Any],
    auth_settings: dict[str, Any],
    source_overrides: dict[str, dict[str, Any]],
    aiohttp_server: Callable[..., Any],
) -> AsyncIterator[Service]:
    sources = [
        {**source, **source_overrides.get(source["name"], {})}
        for source in suite.demo_sources(sim_root)
    ]
    config = parse_config(
        {"server": server_settings, "auth": auth_settings, "sources": sources}, environ={}
    )
    app = build_app(config, {**suite.demo_environ(), **TOKEN_ENVIRON})
    server: TestServer = await aiohttp_server(app, host="127.0.0.1")
    async with aiohttp.ClientSession() as http:
        yield Service(server, http, suite, config)


class CapturedLines(logging.Handler):
    """Every formatted log record of every logger, as emitted."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info:
            text += "\n" + logging.Formatter().formatException(record.exc_info)
        self.lines.append(text)


@pytest.fixture
def captured_logs() -> Iterator[CapturedLines]:
    handler = CapturedLines()
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield handler
    root.removeHandler(handler)
    root.setLevel(previous)

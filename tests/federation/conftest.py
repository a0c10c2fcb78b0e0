"""jobgraph as a subgraph: token auth on, in front of the simulators, on a real port."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from graph.http.app import build_app
from resolvers.config import parse_config
from simulators import PROVIDERS, SimulatorSuite

# Token name -> (token, the sources it may read; None: all).
TOKENS: dict[str, tuple[str, list[str] | None]] = {
    "router": ("router-secret-token", None),
    "orange-only": ("orange-only-secret-token", ["orange"]),
}


def bearer(token_name: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKENS[token_name][0]}"}


class Subgraph:
    """A running jobgraph and the simulators behind it."""

    def __init__(
        self, client: TestClient[web.Request, web.Application], suite: SimulatorSuite
    ) -> None:
        self.client = client
        self.suite = suite

    @property
    def url(self) -> str:
        return str(self.client.make_url("/graphql"))

    async def post(
        self, query: str, variables: Mapping[str, Any] | None = None, token: str = "router"
    ) -> dict[str, Any]:
        response = await self.client.post(
            "/graphql",
            json={"query": query, "variables": dict(variables or {})},
            headers=bearer(token),
        )
        assert response.status == 200, await response.text()
        body: dict[str, Any] = await response.json()
        return body

    def upstream_calls(self) -> dict[str, int]:
        return {provider: self.suite.sim(provider).log.count() for provider in PROVIDERS}

    def reset_counts(self) -> None:
        self.suite.reset()


@pytest.fixture
async def subgraph(
    suite: SimulatorSuite, sim_root: str, aiohttp_client: Callable[..., Any]
) -> Subgraph:
    environ = suite.demo_environ()
    tokens = []
    for name, (token, sources) in TOKENS.items():
        env_name = f"JOBGRAPH_TEST_TOKEN_{name.upper().replace('-', '_')}"
        environ[env_name] = token
        tokens.append({"name": name, "token_env": env_name, "sources": sources})
    config = parse_config(
        {"sources": suite.demo_sources(sim_root), "auth": {"mode": "token", "tokens": tokens}},
        environ={},
    )
    client: TestClient[web.Request, web.Application] = await aiohttp_client(
        TestServer(build_app(config, environ))
    )
    return Subgraph(client, suite)

"""Which source a per-provider field reads when `source` is left out."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graph.http.app import build_app
from resolvers.config import parse_config
from simulators import SimulatorSuite


async def test_source_must_be_named_when_several_of_a_provider_exist_without_saying_how_many(
    suite: SimulatorSuite, sim_root: str, aiohttp_client: Callable[..., Any]
) -> None:
    sources = suite.demo_sources(sim_root)
    orange = next(s for s in sources if s["provider"] == "orange")
    config = parse_config({"sources": [*sources, {**orange, "name": "orange-2"}]}, environ={})
    client = await aiohttp_client(build_app(config, suite.demo_environ()))
    project = orange["projects"][0]
    query = f'{{ orangeJobs(projectId: "{project}", first: 1) {{ totalCount }} }}'
    body = await (await client.post("/graphql", json={"query": query})).json()
    error = body["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "source" in error["message"]
    assert "2" not in error["message"]
    named = query.replace("projectId", 'source: "orange-2", projectId')
    body = await (await client.post("/graphql", json={"query": named})).json()
    assert body["data"]["orangeJobs"]["totalCount"] == len(suite.jobs("orange", project))

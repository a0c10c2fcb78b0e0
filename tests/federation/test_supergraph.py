"""jobgraph composed with a second subgraph by the real @apollo/composition, served by the real
@apollo/gateway (tests/federation/node), queried across both subgraphs."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from tests.federation.conftest import Subgraph, bearer
from tests.federation.projects_subgraph import ProjectRecord, projects_app
from tests.federation.references import (
    FIFTY_JOBS_UPSTREAM_REQUESTS,
    JobReference,
    fifty_jobs,
    first_of_each_provider,
)

pytestmark = pytest.mark.node

NODE_DIR = Path(__file__).resolve().parent / "node"
SCRIPT = NODE_DIR / "compose_and_serve.mjs"
START_TIMEOUT_S = 60


@dataclass
class Supergraph:
    """The running gateway, its composition hints, and the subgraphs behind it."""

    url: str
    hints: list[dict[str, str]]
    jobgraph: Subgraph
    launch: list[JobReference]
    fleet: list[JobReference]

    async def post(self, query: str, token: str = "router") -> dict[str, Any]:
        async with (
            aiohttp.ClientSession() as session,
            session.post(self.url, json={"query": query}, headers=bearer(token)) as response,
        ):
            body: dict[str, Any] = await response.json()
            return body


def node_command() -> list[str]:
    node = shutil.which("node")
    if node is None or not (NODE_DIR / "node_modules").is_dir():
        pytest.fail("needs node and `npm ci --prefix tests/federation/node` (make install does it)")
    return [node, str(SCRIPT)]


async def start_gateway(
    subgraphs: list[Mapping[str, Any]],
) -> tuple[asyncio.subprocess.Process, dict[str, Any]]:
    process = await asyncio.create_subprocess_exec(
        *node_command(),
        cwd=NODE_DIR,
        env={**os.environ, "SUBGRAPHS": json.dumps(subgraphs)},
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    try:
        line = await asyncio.wait_for(process.stdout.readline(), START_TIMEOUT_S)
    except TimeoutError:
        line = b""
    if not line:
        await stop(process)
        stderr = await process.stderr.read()
        pytest.fail(f"the gateway did not start: {stderr.decode(errors='replace')}")
    started: dict[str, Any] = json.loads(line)
    return process, started


async def stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), 10)
        except TimeoutError:
            process.kill()
            await process.wait()


@pytest.fixture
async def supergraph(
    subgraph: Subgraph, aiohttp_server: Callable[..., Any]
) -> AsyncIterator[Supergraph]:
    launch = first_of_each_provider(subgraph.suite)
    fleet = fifty_jobs(subgraph.suite)
    records = [
        ProjectRecord("launch", "Launch", tuple(r.global_id for r in launch)),
        ProjectRecord("fleet", "Fleet", tuple(r.global_id for r in fleet)),
    ]
    projects: TestServer = await aiohttp_server(projects_app(records))
    process, started = await start_gateway(
        [
            {"name": "jobgraph", "url": subgraph.url, "headers": bearer("router")},
            {"name": "projects", "url": str(projects.make_url("/graphql"))},
        ]
    )
    try:
        subgraph.reset_counts()
        yield Supergraph(started["url"], started["hints"], subgraph, launch, fleet)
    finally:
        await stop(process)


async def test_jobgraph_composes_with_another_subgraph_without_warning_hints(
    supergraph: Supergraph,
) -> None:
    assert [h for h in supergraph.hints if h["level"] == "WARN"] == []


async def test_a_projects_job_references_come_back_as_jobgraph_jobs_of_each_type(
    supergraph: Supergraph,
) -> None:
    body = await supergraph.post(
        """{ projects { id name jobs {
             id __typename source nativeId
             ... on OrangeJob { state }
             ... on ModelArtsJob { jobName }
           } } }"""
    )
    assert "errors" not in body, body["errors"]
    launch = body["data"]["projects"][0]
    assert (launch["id"], launch["name"]) == ("launch", "Launch")
    assert [(j["id"], j["__typename"], j["source"], j["nativeId"]) for j in launch["jobs"]] == [
        (r.global_id, r.type_name, r.source, r.native_id) for r in supergraph.launch
    ]
    by_type = {job["__typename"]: job for job in launch["jobs"]}
    raw = {r.type_name: r.raw for r in supergraph.launch}
    assert by_type["OrangeJob"]["state"] == raw["OrangeJob"]["state"]
    assert by_type["ModelArtsJob"]["jobName"] == raw["ModelArtsJob"]["job_name"]


async def test_fifty_job_references_through_the_gateway_cost_batched_upstream_requests(
    supergraph: Supergraph,
) -> None:
    body = await supergraph.post('{ project(id: "fleet") { jobs { nativeId status } } }')
    assert "errors" not in body, body["errors"]
    jobs = body["data"]["project"]["jobs"]
    assert [j["nativeId"] for j in jobs] == [r.native_id for r in supergraph.fleet]
    assert len(jobs) == 50
    assert supergraph.jobgraph.upstream_calls() == FIFTY_JOBS_UPSTREAM_REQUESTS


async def test_the_callers_token_reaches_jobgraph_through_the_gateway(
    supergraph: Supergraph,
) -> None:
    body = await supergraph.post(
        '{ project(id: "launch") { jobs { nativeId } } }', token="orange-only"
    )
    codes = {error["extensions"]["code"] for error in body["errors"]}
    assert codes == {"FORBIDDEN"}
    assert supergraph.jobgraph.upstream_calls()["metafold"] == 0

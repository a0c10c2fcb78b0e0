"""Real GraphQL clients against the running gateway: `gql` (Python, aiohttp transport) and
`graphql-request` (Node, from package.json), with variables and fragments."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from gql import Client, GraphQLRequest
from gql.transport.aiohttp import AIOHTTPTransport
from gql.transport.exceptions import TransportQueryError

from tests.service.conftest import ADMIN_TOKEN, DASHBOARD_TOKEN, Service

ROOT = Path(__file__).resolve().parents[2]
NODE_CLIENT = Path(__file__).with_name("node_client.mjs")

JOBS_PAGE = """
query OrangePage($project: String!, $first: Int!, $after: String) {
  orangeJobs(projectId: $project, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes { ...JobSummary ... on OrangeJob { state messages { code } } }
  }
}
fragment JobSummary on Job { id provider source nativeId name status createdAt }
"""


def gql_client(service: Service, token: str) -> Client:
    transport = AIOHTTPTransport(
        url=service.graphql_url, headers={"Authorization": f"Bearer {token}"}
    )
    return Client(transport=transport, fetch_schema_from_transport=True)


async def test_gql_pages_with_variables_and_a_fragment(service: Service) -> None:
    project = service.suite.projects("orange")[0]
    expected = [job["id"] for job in service.suite.jobs("orange", project)[:4]]
    async with gql_client(service, ADMIN_TOKEN) as session:
        request = GraphQLRequest(JOBS_PAGE, variable_values={"project": project, "first": 2})
        first: dict[str, Any] = await session.execute(request)
        after = first["orangeJobs"]["pageInfo"]["endCursor"]
        request = GraphQLRequest(
            JOBS_PAGE, variable_values={"project": project, "first": 2, "after": after}
        )
        second: dict[str, Any] = await session.execute(request)
    nodes = first["orangeJobs"]["nodes"] + second["orangeJobs"]["nodes"]
    assert [node["nativeId"] for node in nodes] == [str(i) for i in expected]
    assert {(node["provider"], node["source"]) for node in nodes} == {("ORANGE", "orange")}
    assert all("state" in node for node in nodes)


async def test_gql_sees_a_forbidden_source_as_a_coded_error(service: Service) -> None:
    project = service.suite.projects("orange")[0]
    async with gql_client(service, DASHBOARD_TOKEN) as session:
        request = GraphQLRequest(JOBS_PAGE, variable_values={"project": project, "first": 2})
        with pytest.raises(TransportQueryError) as raised:
            await session.execute(request)
    assert raised.value.errors is not None
    assert raised.value.errors[0]["extensions"]["code"] == "FORBIDDEN"


@pytest.mark.node
async def test_graphql_request_from_node_pages_with_variables_and_a_fragment(
    service: Service,
) -> None:
    node = shutil.which("node")
    assert node is not None, "Node.js is needed for this test"
    assert (ROOT / "node_modules" / "graphql-request").is_dir(), "run `npm ci` first"
    process = await asyncio.create_subprocess_exec(
        node,
        str(NODE_CLIENT),
        service.graphql_url,
        ADMIN_TOKEN,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, stderr.decode()
    result = json.loads(stdout)

    direct = await service.data(
        "{ workflowJobs(first: 4) { nodes { id provider source nativeId status } } }"
    )
    pages = result["first"]["workflowJobs"]["nodes"] + result["second"]["workflowJobs"]["nodes"]
    assert pages == direct["workflowJobs"]["nodes"]
    assert result["first"]["workflowJobs"]["pageInfo"]["hasNextPage"] is True
    assert result["errorCode"] == "BAD_USER_INPUT"

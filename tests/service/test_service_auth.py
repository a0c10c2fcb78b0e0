"""Who may call: bearer tokens from env vars, each limited to some sources, enforced wherever
data can leave (`jobs`, per-provider fields, `node`/`nodes`/`job`, `_entities`, `sources`)."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from graph.http.app import build_app
from graph.ids import JobKey, encode_global_id
from resolvers.config import ConfigError, parse_config
from simulators import SimulatorSuite
from tests.providers import PROVIDERS, demo_source
from tests.service.conftest import (
    ADMIN_TOKEN,
    DASHBOARD_SOURCES,
    DASHBOARD_TOKEN,
    TOKEN_AUTH,
    TOKEN_ENVIRON,
    Service,
)

SOURCES_QUERY = "{ sources { name } }"


def orange_project(service: Service) -> str:
    return service.suite.projects("orange")[0]


async def an_orange_job_id(service: Service) -> str:
    project = orange_project(service)
    data = await service.data(
        "query($p: String!) { orangeJobs(projectId: $p, first: 1) { nodes { id } } }",
        {"p": project},
    )
    job_id: str = data["orangeJobs"]["nodes"][0]["id"]
    return job_id


async def test_a_request_without_a_token_is_401_unauthenticated_in_graphql_shape(
    service: Service,
) -> None:
    reply = await service.graphql(SOURCES_QUERY, token=None)
    assert reply.status == 401
    assert reply.headers["Content-Type"].startswith("application/json")
    assert reply.headers["WWW-Authenticate"].startswith("Bearer")
    assert reply.codes == ["UNAUTHENTICATED"]
    assert "data" not in reply.body


async def test_an_unknown_token_is_401_unauthenticated(service: Service) -> None:
    reply = await service.graphql(SOURCES_QUERY, token="jg-not-a-real-token-000000000")
    assert reply.status == 401
    assert reply.codes == ["UNAUTHENTICATED"]
    assert 'error="invalid_token"' in reply.headers["WWW-Authenticate"]


async def test_a_non_bearer_authorization_header_is_unauthenticated(service: Service) -> None:
    reply = await service.graphql(
        SOURCES_QUERY, token=None, headers={"Authorization": f"Basic {ADMIN_TOKEN}"}
    )
    assert reply.status == 401
    assert reply.codes == ["UNAUTHENTICATED"]


async def test_a_query_over_get_needs_a_token_too(service: Service) -> None:
    reply = await service.request("GET", "/graphql", params={"query": SOURCES_QUERY})
    assert reply.status == 401
    assert reply.codes == ["UNAUTHENTICATED"]


async def test_a_websocket_needs_a_token_too(service: Service) -> None:
    # Without the header the token may still come in `connection_init`; without either the
    # socket is closed before any operation (test_service_subscriptions covers the variants).
    async with service.http.ws_connect(
        service.graphql_url, protocols=["graphql-transport-ws"]
    ) as ws:
        await ws.send_json({"type": "connection_init"})
        answer = await ws.receive()
    assert (answer.type, answer.data) == (aiohttp.WSMsgType.CLOSE, 4403)


async def test_a_valid_token_reads_data(service: Service) -> None:
    reply = await service.graphql(SOURCES_QUERY, token=ADMIN_TOKEN)
    assert reply.status == 200
    assert {s["name"] for s in reply.body["data"]["sources"]} == {demo_source(p) for p in PROVIDERS}


async def test_probes_and_graphiql_page_need_no_token(service: Service) -> None:
    for path in ("/healthz", "/readyz"):
        assert (await service.request("GET", path)).status == 200, path
    page = await service.request("GET", "/graphql", headers={"Accept": "text/html"})
    assert page.status in (200, 503)  # 503 only when GraphiQL's assets are not installed
    assert "<html" in page.body


async def test_sources_lists_only_what_the_token_may_read(service: Service) -> None:
    reply = await service.graphql(SOURCES_QUERY, token=DASHBOARD_TOKEN)
    assert {s["name"] for s in reply.body["data"]["sources"]} == DASHBOARD_SOURCES


async def test_a_per_provider_field_of_a_forbidden_source_is_forbidden_with_no_upstream_call(
    service: Service,
) -> None:
    reply = await service.graphql(
        "query($p: String!) { orangeJobs(projectId: $p, first: 5) { nodes { id name } } }",
        {"p": orange_project(service)},
        token=DASHBOARD_TOKEN,
    )
    assert reply.codes == ["FORBIDDEN"]
    assert reply.body["data"] is None
    assert service.upstream_calls("orange") == 0


async def test_a_per_provider_field_of_an_allowed_source_works(service: Service) -> None:
    reply = await service.graphql(
        "{ workflowJobs(first: 2) { nodes { source } } }", token=DASHBOARD_TOKEN
    )
    assert "errors" not in reply.body
    assert [n["source"] for n in reply.body["data"]["workflowJobs"]["nodes"]] == ["wf", "wf"]


async def test_jobs_covers_only_the_sources_the_token_may_read(service: Service) -> None:
    reply = await service.graphql(
        "{ jobs(first: 100) { nodes { source } failures { source } } }", token=DASHBOARD_TOKEN
    )
    assert "errors" not in reply.body
    seen = {node["source"] for node in reply.body["data"]["jobs"]["nodes"]}
    assert seen and seen <= DASHBOARD_SOURCES
    assert reply.body["data"]["jobs"]["failures"] == []
    hidden = [p for p in PROVIDERS if demo_source(p) not in DASHBOARD_SOURCES]
    assert hidden
    for provider in hidden:
        assert service.upstream_calls(provider) == 0, provider


async def test_jobs_naming_a_forbidden_source_is_forbidden(service: Service) -> None:
    reply = await service.graphql(
        '{ jobs(sources: ["mf", "orange"], first: 5) { nodes { id } } }', token=DASHBOARD_TOKEN
    )
    assert reply.codes == ["FORBIDDEN"]
    assert reply.body["data"] is None
    assert service.upstream_calls("orange") == 0


@pytest.mark.parametrize(
    "query",
    [
        "query($id: ID!) { node(id: $id) { id ... on Job { name } } }",
        "query($id: ID!) { job(id: $id) { id name } }",
    ],
)
async def test_a_node_id_of_a_forbidden_source_is_forbidden_and_leaks_nothing(
    service: Service, query: str
) -> None:
    job_id = await an_orange_job_id(service)
    service.reset_counts()
    reply = await service.graphql(query, {"id": job_id}, token=DASHBOARD_TOKEN)
    assert reply.codes == ["FORBIDDEN"]
    assert list(reply.body["data"].values()) == [None]
    assert service.upstream_calls("orange") == 0


async def test_nodes_answers_null_for_each_forbidden_id_and_keeps_the_allowed_ones(
    service: Service,
) -> None:
    orange_id = await an_orange_job_id(service)
    data = await service.data("{ workflowJobs(first: 1) { nodes { id } } }")
    workflow_id = data["workflowJobs"]["nodes"][0]["id"]
    reply = await service.graphql(
        "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
        {"ids": [orange_id, workflow_id]},
        token=DASHBOARD_TOKEN,
    )
    assert reply.body["data"]["nodes"] == [None, {"id": workflow_id}]
    assert reply.codes == ["FORBIDDEN"]


async def test_a_forged_id_naming_a_forbidden_source_makes_no_upstream_call(
    service: Service,
) -> None:
    forged = encode_global_id(JobKey("orange", orange_project(service), "anything"))
    reply = await service.graphql(
        "query($id: ID!) { node(id: $id) { id } }", {"id": forged}, token=DASHBOARD_TOKEN
    )
    assert reply.codes == ["FORBIDDEN"]
    assert service.upstream_calls("orange") == 0


async def test_an_unknown_source_looks_the_same_as_a_forbidden_one(service: Service) -> None:
    forbidden = await service.graphql(
        '{ jobs(sources: ["orange"]) { totalCount } }', token=DASHBOARD_TOKEN
    )
    unknown = await service.graphql(
        '{ jobs(sources: ["nope"]) { totalCount } }', token=DASHBOARD_TOKEN
    )
    assert forbidden.codes == unknown.codes == ["FORBIDDEN"]


async def test_federation_entities_of_a_forbidden_source_resolve_to_null(
    service: Service,
) -> None:
    job_id = await an_orange_job_id(service)
    reply = await service.graphql(
        "query($r: [_Any!]!) { _entities(representations: $r) { ... on Job { id name } } }",
        {"r": [{"__typename": "OrangeJob", "id": job_id}]},
        token=DASHBOARD_TOKEN,
    )
    assert reply.body["data"]["_entities"] == [None]
    assert reply.codes == ["FORBIDDEN"]


async def test_metrics_need_a_token_that_may_read_every_source(service: Service) -> None:
    assert (await service.request("GET", "/metrics")).status == 401
    limited = await service.request("GET", "/metrics", token=DASHBOARD_TOKEN)
    assert limited.status == 403
    assert limited.codes == ["FORBIDDEN"]
    assert (await service.request("GET", "/metrics", token=ADMIN_TOKEN)).status == 200


def test_a_token_env_var_that_is_not_set_stops_startup_naming_it(suite: SimulatorSuite) -> None:
    config = parse_config(
        {"auth": TOKEN_AUTH, "sources": suite.demo_sources("http://127.0.0.1:9")}, environ={}
    )
    environ: dict[str, Any] = {**suite.demo_environ(), "JOBGRAPH_TOKEN_ADMIN": ADMIN_TOKEN}
    with pytest.raises(ConfigError, match="JOBGRAPH_TOKEN_DASHBOARD"):
        build_app(config, environ)


def test_the_same_token_configured_twice_stops_startup(suite: SimulatorSuite) -> None:
    config = parse_config(
        {"auth": TOKEN_AUTH, "sources": suite.demo_sources("http://127.0.0.1:9")}, environ={}
    )
    environ = {**suite.demo_environ(), **TOKEN_ENVIRON}
    environ["JOBGRAPH_TOKEN_DASHBOARD"] = ADMIN_TOKEN
    with pytest.raises(ConfigError, match="twice"):
        build_app(config, environ)

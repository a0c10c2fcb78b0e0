"""Operations: /healthz, /readyz, /metrics (Prometheus), one JSON access log line per request
with a request id echoed in the response."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.providers import PROVIDERS, demo_source
from tests.service.conftest import ADMIN_TOKEN, DASHBOARD_TOKEN, Service

SOURCES_OP = "query Sources { sources { name } }"


async def metric_samples(service: Service) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    reply = await service.request("GET", "/metrics", token=ADMIN_TOKEN)
    assert reply.status == 200
    assert reply.headers["Content-Type"].startswith("text/plain")
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}
    for family in text_string_to_metric_families(reply.body):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def sample(
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str
) -> float | None:
    return samples.get((name, frozenset(labels.items())))


def access_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == "jobgraph.access"]


async def test_healthz_says_the_process_is_up(service: Service) -> None:
    reply = await service.request("GET", "/healthz")
    assert (reply.status, reply.body) == (200, {"status": "ok"})


async def test_readyz_is_ready_when_every_source_answers(service: Service) -> None:
    reply = await service.request("GET", "/readyz")
    assert reply.status == 200
    assert reply.body["status"] == "ready"
    assert reply.body["config"] == "loaded"
    assert {s["name"]: s["reachable"] for s in reply.body["sources"]} == dict.fromkeys(
        [demo_source(p) for p in PROVIDERS], True
    )


async def test_readyz_names_each_failing_source_and_its_code(service: Service) -> None:
    service.suite.sim("orange").faults.add("status", status=401, count=10)
    service.suite.sim("modelarts").faults.add("malformed_json", count=10)
    reply = await service.request("GET", "/readyz")
    assert reply.status == 503
    assert reply.body["status"] == "unready"
    failing = {s["name"]: s["code"] for s in reply.body["sources"] if not s["reachable"]}
    assert failing == {"orange": "UPSTREAM_UNAUTHORIZED", "ma": "UPSTREAM_INVALID_RESPONSE"}


async def test_metrics_count_graphql_operations_by_name_and_outcome(service: Service) -> None:
    await service.graphql(SOURCES_OP)
    await service.graphql(SOURCES_OP)
    await service.graphql("query Broken { nope }")
    samples = await metric_samples(service)
    ops = "jobgraph_graphql_operations_total"
    assert sample(samples, ops, operation="Sources", outcome="ok") == 2
    assert sample(samples, ops, operation="Broken", outcome="BAD_USER_INPUT") == 1


async def test_metrics_count_a_failed_upstream_by_its_error_code(service: Service) -> None:
    service.suite.sim("orange").faults.add("status", status=403, count=10)
    project = service.suite.projects("orange")[0]
    await service.graphql(
        "query Orange($p: String!) { orangeJobs(projectId: $p, first: 1) { totalCount } }",
        {"p": project},
    )
    samples = await metric_samples(service)
    outcome = sample(
        samples,
        "jobgraph_graphql_operations_total",
        operation="Orange",
        outcome="UPSTREAM_FORBIDDEN",
    )
    assert outcome == 1
    assert sample(samples, "jobgraph_upstream_requests_total", source="orange", status="403")


async def test_metrics_count_upstream_requests_by_source_and_status_with_latency(
    service: Service,
) -> None:
    await service.graphql("{ workflowJobs(first: 3) { nodes { id } } }")
    samples = await metric_samples(service)
    calls = service.upstream_calls("workflow")
    assert calls >= 1
    requests = sample(samples, "jobgraph_upstream_requests_total", source="wf", status="200")
    assert requests == calls
    latency = sample(samples, "jobgraph_upstream_request_duration_seconds_count", source="wf")
    assert latency == calls
    bucket = "jobgraph_upstream_request_duration_seconds_bucket"
    assert sample(samples, bucket, source="wf", le="+Inf") == calls


async def test_metrics_time_http_requests_by_route(service: Service) -> None:
    await service.request("GET", "/healthz")
    samples = await metric_samples(service)
    assert sample(samples, "jobgraph_http_requests_total", route="/healthz", status="200") == 1
    assert sample(samples, "jobgraph_http_request_duration_seconds_count", route="/healthz") == 1


class TestCache:
    @pytest.fixture
    def source_overrides(self) -> dict[str, dict[str, Any]]:
        return {"wf": {"cache_ttl_s": 300}}

    async def test_metrics_count_upstream_cache_hits_by_source(self, service: Service) -> None:
        query = "{ workflowJobs(first: 3) { nodes { id } } }"
        await service.graphql(query)
        await service.graphql(query)
        samples = await metric_samples(service)
        assert sample(samples, "jobgraph_upstream_cache_hits_total", source="wf") == 1


async def test_each_request_logs_one_json_line_with_operation_duration_and_upstream_calls(
    service: Service, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="jobgraph.access")
    reply = await service.graphql("query Three { workflowJobs(first: 3) { nodes { id } } }")
    [line] = access_lines(caplog)
    assert line["operation"] == "Three"
    assert line["outcome"] == "ok"
    assert line["upstream_calls"] == service.upstream_calls("workflow") >= 1
    assert line["request_id"] == reply.headers["X-Request-Id"]
    assert line["principal"] == "admin"
    assert (line["method"], line["path"], line["status"]) == ("POST", "/graphql", 200)
    assert isinstance(line["duration_ms"], float)
    assert line["ts"].endswith("+00:00")


async def test_a_refused_request_is_logged_too(
    service: Service, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="jobgraph.access")
    reply = await service.graphql(SOURCES_OP, token=None)
    [line] = access_lines(caplog)
    assert (line["status"], line["upstream_calls"]) == (401, 0)
    assert line["request_id"] == reply.headers["X-Request-Id"]


async def test_a_sane_incoming_request_id_is_kept_and_echoed(service: Service) -> None:
    reply = await service.graphql(SOURCES_OP, headers={"X-Request-Id": "edge-7f3a.19:2"})
    assert reply.headers["X-Request-Id"] == "edge-7f3a.19:2"


@pytest.mark.parametrize("incoming", [None, "has spaces", "x" * 200, "new\\nline"])
async def test_a_missing_or_odd_request_id_is_replaced_by_a_generated_one(
    service: Service, incoming: str | None
) -> None:
    headers = {} if incoming is None else {"X-Request-Id": incoming}
    reply = await service.graphql(SOURCES_OP, headers=headers)
    generated = reply.headers["X-Request-Id"]
    assert generated != incoming
    assert len(generated) == 32
    assert int(generated, 16) >= 0


async def test_a_not_found_path_still_gets_a_request_id(service: Service) -> None:
    reply = await service.request("GET", "/nope", token=ADMIN_TOKEN)
    assert reply.status == 404
    assert reply.headers["X-Request-Id"]


async def test_the_access_log_names_the_limited_tokens_principal(
    service: Service, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="jobgraph.access")
    await service.graphql(SOURCES_OP, token=DASHBOARD_TOKEN)
    [line] = access_lines(caplog)
    assert line["principal"] == "dashboard"

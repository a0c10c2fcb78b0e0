"""OpenTelemetry: one span per GraphQL operation and one per upstream request, children of
the caller's W3C `traceparent`, which upstreams receive in turn; no credential, token or
variable in any attribute."""

from __future__ import annotations

from typing import Any

from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from tests.conftest import Gateway
from tests.tracing.conftest import CALLER_TOKEN
from tests.tracing.otlp_receiver import OtlpReceiver, ReceivedSpan

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"
TRACEPARENT = f"00-{TRACE_ID}-{CALLER_SPAN}-01"
QUERY = """
query Dashboard($project: String!, $search: String) {
  modelArtsJobs(projectId: $project, search: $search, first: 3) { nodes { nativeId } }
  workflowJobs(first: 2) { nodes { nativeId } }
}
"""
VARIABLES = {"project": "5a6b7c8d9e0f41a2b3c4d5e6f7a8b9c0", "search": "secret-search-term-77"}


async def traced(gateway: Gateway, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    return await gateway.post(
        query,
        variables,
        Authorization=f"Bearer {CALLER_TOKEN}",
        traceparent=TRACEPARENT,
    )


def named(spans: list[ReceivedSpan], prefix: str) -> list[ReceivedSpan]:
    return [span for span in spans if span.name.startswith(prefix)]


def operation_and_upstreams(count: int) -> Any:
    def ready(spans: list[ReceivedSpan]) -> bool:
        return bool(named(spans, "graphql ")) and len(named(spans, "GET ")) >= count

    return ready


async def test_an_operation_span_is_a_child_of_the_callers_traceparent(
    gateway: Gateway, receiver: OtlpReceiver
) -> None:
    body = await traced(gateway, QUERY, VARIABLES)
    assert "errors" not in body
    spans = await receiver.wait_for(operation_and_upstreams(2))
    [operation] = named(spans, "graphql ")
    assert operation.name == "graphql Dashboard"
    assert operation.trace_id == TRACE_ID
    assert operation.parent_span_id == CALLER_SPAN
    assert operation.kind == Span.SPAN_KIND_SERVER
    assert operation.attributes["graphql.operation.name"] == "Dashboard"
    assert operation.attributes["jobgraph.outcome"] == "ok"
    assert operation.service == "jobgraph"


async def test_each_upstream_request_is_a_span_under_its_operation(
    gateway: Gateway, receiver: OtlpReceiver
) -> None:
    await traced(gateway, QUERY, VARIABLES)
    spans = await receiver.wait_for(operation_and_upstreams(2))
    [operation] = named(spans, "graphql ")
    upstreams = {span.attributes["jobgraph.source"]: span for span in named(spans, "GET ")}
    assert set(upstreams) == {"ma", "wf"}
    for span in upstreams.values():
        assert span.trace_id == TRACE_ID
        assert span.parent_span_id == operation.span_id
        assert span.kind == Span.SPAN_KIND_CLIENT
        assert span.attributes["http.response.status_code"] == 200
        assert span.attributes["jobgraph.retries"] == 0
    assert upstreams["ma"].attributes["url.template"].endswith("/v1/{project}/training-jobs")
    assert upstreams["wf"].attributes["url.template"].endswith("/jobs/v1/")


async def test_upstreams_receive_the_trace_with_their_span_as_parent(
    gateway: Gateway, receiver: OtlpReceiver
) -> None:
    await traced(gateway, QUERY, VARIABLES)
    spans = await receiver.wait_for(operation_and_upstreams(2))
    [ma_span] = [s for s in named(spans, "GET ") if s.attributes["jobgraph.source"] == "ma"]
    [request] = gateway.suite.sim("modelarts").log.entries
    assert request.traceparent == f"00-{TRACE_ID}-{ma_span.span_id}-01"


async def test_an_upstream_span_counts_retries_and_a_failure_marks_both_spans(
    gateway: Gateway, receiver: OtlpReceiver
) -> None:
    gateway.suite.sim("workflow").faults.add("status", status=503)
    gateway.suite.sim("modelarts").faults.add("status", status=404)
    body = await traced(gateway, QUERY, VARIABLES)
    assert body["errors"][0]["extensions"]["code"] == "UPSTREAM_NOT_FOUND"
    spans = await receiver.wait_for(operation_and_upstreams(2))
    upstreams = {span.attributes["jobgraph.source"]: span for span in named(spans, "GET ")}
    assert upstreams["wf"].attributes["jobgraph.retries"] == 1
    assert upstreams["wf"].attributes["http.response.status_code"] == 200
    failed = upstreams["ma"]
    assert failed.attributes["http.response.status_code"] == 404
    assert failed.attributes["jobgraph.error_code"] == "UPSTREAM_NOT_FOUND"
    assert failed.status_code == Status.STATUS_CODE_ERROR
    [operation] = named(spans, "graphql ")
    assert operation.attributes["jobgraph.outcome"] == "UPSTREAM_NOT_FOUND"
    assert operation.status_code == Status.STATUS_CODE_ERROR


async def test_no_span_carries_a_credential_a_token_or_a_variable(
    gateway: Gateway, receiver: OtlpReceiver
) -> None:
    await traced(gateway, QUERY, VARIABLES)
    spans = await receiver.wait_for(operation_and_upstreams(2))
    text = repr(spans)
    secrets = [*gateway.suite.demo_environ().values(), CALLER_TOKEN, VARIABLES["search"]]
    for secret in secrets:
        assert secret not in text
    assert VARIABLES["project"] not in text  # a path parameter is a variable too
    assert "query Dashboard" not in text


async def test_without_traceparent_an_operation_starts_its_own_trace(
    gateway: Gateway, receiver: OtlpReceiver
) -> None:
    await gateway.post(
        "{ workflowJobs(first: 1) { nodes { nativeId } } }",
        Authorization=f"Bearer {CALLER_TOKEN}",
    )
    spans = await receiver.wait_for(operation_and_upstreams(1))
    [operation] = named(spans, "graphql ")
    assert operation.name == "graphql anonymous"
    assert operation.parent_span_id == ""
    assert operation.trace_id != TRACE_ID
    [upstream] = named(spans, "GET ")
    assert upstream.parent_span_id == operation.span_id

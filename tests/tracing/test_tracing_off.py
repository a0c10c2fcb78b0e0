"""Without `[tracing] otlp_endpoint` nothing is traced: upstreams get no `traceparent`,
even when the caller sent one."""

from __future__ import annotations

from typing import Any

import pytest

from graph.http.app import SERVICES
from tests.conftest import Gateway
from tests.tracing.test_tracing import TRACEPARENT


@pytest.fixture
def gateway_settings() -> dict[str, Any]:
    return {}


async def test_without_an_endpoint_no_trace_context_reaches_upstreams(gateway: Gateway) -> None:
    assert gateway.config.tracing.otlp_endpoint == ""
    await gateway.post("{ workflowJobs(first: 1) { nodes { nativeId } } }", traceparent=TRACEPARENT)
    [request] = gateway.suite.sim("workflow").log.entries
    assert request.traceparent is None
    assert gateway.client.app[SERVICES].tracing is None

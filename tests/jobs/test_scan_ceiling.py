"""An upstream that cannot sort by creation time is ordered locally only up to
`server.scan_ceiling` jobs per project: past it, that project fails with a clear coded error
and every other stream still answers."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Gateway
from tests.jobs.conftest import JOBS_QUERY


@pytest.fixture
def gateway_settings() -> dict[str, Any]:
    return {"server": {"scan_ceiling": 300}}  # Edge Impulse project 4211 holds 357 jobs


async def test_project_past_the_scan_ceiling_fails_alone_with_a_clear_error(
    gateway: Gateway,
) -> None:
    body = await gateway.post(JOBS_QUERY, {"first": 100})
    connection = body["data"]["jobs"]
    assert [(f["source"], f["code"]) for f in connection["failures"]] == [
        ("ei", "QUERY_TOO_COMPLEX")
    ]
    assert "scan_ceiling" in connection["failures"][0]["message"]
    assert "4211" in connection["failures"][0]["message"]
    assert len(connection["edges"]) == 100
    sources = {edge["node"]["source"] for edge in connection["edges"]}
    projects = {
        edge["node"]["projectId"] for edge in connection["edges"] if edge["node"]["source"] == "ei"
    }
    assert "4211" not in projects and {"orange", "wf"} <= sources
    assert body["errors"][0]["extensions"] == {
        "code": "QUERY_TOO_COMPLEX",
        "source": "ei",
        "provider": "EDGE_IMPULSE",
    }


async def test_scan_ceiling_is_checked_from_the_reported_total_without_reading_on(
    gateway: Gateway,
) -> None:
    gateway.reset_counts()
    await gateway.post(JOBS_QUERY, {"first": 5, "sources": ["ei"]})
    assert gateway.suite.sim("edge_impulse").log.count("list", project_id="4211") == 1

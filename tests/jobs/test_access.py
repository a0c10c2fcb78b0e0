"""Access: ids and `sources:` of sources the caller's token may not read are FORBIDDEN, and
no upstream is asked for them."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Gateway
from tests.jobs.test_lookups import NODES, global_id, pick


@pytest.fixture
def gateway_settings() -> dict[str, Any]:
    return {
        "auth": {
            "mode": "token",
            "tokens": [{"name": "ei-only", "token_env": "TEST_TOKEN_EI", "sources": ["ei"]}],
        }
    }


@pytest.fixture
def extra_environ() -> dict[str, str]:
    return {"TEST_TOKEN_EI": "ei-reader-token"}


EI_ONLY = {"Authorization": "Bearer ei-reader-token"}


async def test_ids_of_sources_the_caller_may_not_read_are_forbidden(gateway: Gateway) -> None:
    ei = global_id("edge_impulse", "4212", pick(gateway, "edge_impulse", "4212", [0])[0])
    orange_project = gateway.suite.projects("orange")[0]
    orange = global_id("orange", orange_project, pick(gateway, "orange", orange_project, [0])[0])
    gateway.reset_counts()
    body = await gateway.post(NODES, {"ids": [ei, orange]}, **EI_ONLY)
    assert body["data"]["nodes"][0]["id"] == ei
    assert body["data"]["nodes"][1] is None
    assert [(e["path"], e["extensions"]["code"]) for e in body["errors"]] == [
        (["nodes", 1], "FORBIDDEN")
    ]
    assert gateway.upstream_calls("orange") == 0


async def test_jobs_lists_only_readable_sources_and_forbids_naming_others(
    gateway: Gateway,
) -> None:
    data = (await gateway.post("{ jobs(first: 100) { nodes { source } } }", **EI_ONLY))["data"]
    assert {node["source"] for node in data["jobs"]["nodes"]} == {"ei"}
    body = await gateway.post('{ jobs(first: 5, sources: ["orange"]) { nodes { id } } }', **EI_ONLY)
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"

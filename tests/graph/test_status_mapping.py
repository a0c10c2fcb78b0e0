"""Every provider's statuses map to the normalized JobStatus of DESIGN.md, raw kept."""

from __future__ import annotations

from typing import Any

import pytest

from resolvers.providers.registry import provider_row
from tests.conftest import Gateway
from tests.providers import PROVIDERS, oracle
from tests.providers.workflow import DOCUMENTED


async def all_nodes(gateway: Gateway, provider: str, project: str | None) -> list[dict[str, Any]]:
    spec = oracle(provider)
    nodes: list[dict[str, Any]] = []
    after = None
    while True:
        data = await gateway.data(
            spec.query(
                project,
                selection="pageInfo { hasNextPage endCursor } nodes { nativeId status rawStatus }",
            ),
            {"first": 100, "after": after},
        )
        nodes += data[spec.field]["nodes"]
        if not data[spec.field]["pageInfo"]["hasNextPage"]:
            return nodes
        after = data[spec.field]["pageInfo"]["endCursor"]


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_every_upstream_status_maps_as_designed_and_keeps_its_raw_value(
    gateway: Gateway, provider: str
) -> None:
    projects = gateway.suite.projects(provider) if provider_row(provider).has_projects else [None]
    checked: set[str] = set()
    for project in projects:
        raw_jobs = oracle(provider).listed(gateway.suite.jobs(provider, project))
        nodes = await all_nodes(gateway, provider, project)
        assert len(nodes) == len(raw_jobs)
        for raw, node in zip(raw_jobs, nodes, strict=True):
            expected = oracle(provider).normalize(raw)
            assert node["rawStatus"] == expected.raw_status
            assert node["status"] == expected.status, (raw, node)
            checked.add(node["status"])
    assert len(checked) >= 4  # the datasets hold every status value


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_raw_status_is_null_exactly_where_the_registry_says_jobs_have_no_status(
    gateway: Gateway, provider: str
) -> None:
    project = oracle(provider).small_project
    nodes = await all_nodes(gateway, provider, project)
    assert nodes
    shown = {node["rawStatus"] is not None for node in nodes}
    assert shown == {provider_row(provider).reports_status}
    assert bool(oracle(provider).raw_statuses) == provider_row(provider).reports_status


async def test_workflow_unknown_status_strings_map_to_unknown_without_failing(
    gateway: Gateway,
) -> None:
    raw_jobs = gateway.suite.jobs("workflow", None)
    nodes = await all_nodes(gateway, "workflow", None)
    odd = [
        node
        for raw, node in zip(raw_jobs, nodes, strict=True)
        if raw["metadata"].get("status") not in DOCUMENTED
    ]
    assert odd, "the workflow dataset should hold statuses outside the documented ones"
    assert all(
        node["status"] in {"QUEUED", "RUNNING", "FAILED", "SUCCEEDED", "CANCELED", "UNKNOWN"}
        for node in odd
    )
    assert any(node["status"] == "UNKNOWN" for node in odd)

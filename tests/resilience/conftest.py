"""A gateway whose sources carry resilience settings small enough for fast tests."""

from __future__ import annotations

from typing import Any

import pytest

from graph.http.app import SERVICES
from resolvers.client import UpstreamClient
from simulators import SimulatorSuite
from tests.conftest import Gateway
from tests.providers import PROVIDERS, demo_source

SOURCE_OF = {p: demo_source(p) for p in PROVIDERS}
DESIGN_CODES = frozenset(
    {
        "BAD_USER_INPUT",
        "UNAUTHENTICATED",
        "FORBIDDEN",
        "QUERY_TOO_COMPLEX",
        "UPSTREAM_BAD_REQUEST",
        "UPSTREAM_UNAUTHORIZED",
        "UPSTREAM_FORBIDDEN",
        "UPSTREAM_NOT_FOUND",
        "UPSTREAM_RATE_LIMITED",
        "UPSTREAM_UNAVAILABLE",
        "UPSTREAM_TIMEOUT",
        "UPSTREAM_INVALID_RESPONSE",
        "INTERNAL",
    }
)
# The largest Metafold project: a whole-list upstream, so one list call per query.
METAFOLD_QUERY = (
    "query($project: String!) { "
    "metafoldJobs(projectId: $project, first: 5) { nodes { nativeId } } }"
)


# For tests whose upstream hangs: each hanging call costs this deadline.
SHORT_DEADLINE = {"timeout_s": 0.5, "connect_timeout_s": 0.5, "breaker_failures": 1000}


@pytest.fixture
def source_settings() -> dict[str, Any]:
    """Settings applied to every source; override per module or test."""
    return {
        "timeout_s": 5.0,
        "connect_timeout_s": 3.0,
        "max_retries": 2,
        "breaker_failures": 1000,
    }


@pytest.fixture
def per_source_settings() -> dict[str, dict[str, Any]]:
    """Settings for single sources by name, applied after `source_settings`."""
    return {}


@pytest.fixture
def gateway_settings(
    suite: SimulatorSuite,
    sim_root: str,
    source_settings: dict[str, Any],
    per_source_settings: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    sources = [
        {**source, **source_settings, **per_source_settings.get(source["name"], {})}
        for source in suite.demo_sources(sim_root)
    ]
    return {"sources": sources}


def upstream_client(gateway: Gateway) -> UpstreamClient:
    return gateway.client.server.app[SERVICES].client


def metafold_project(gateway: Gateway) -> str:
    return max(
        gateway.suite.projects("metafold"), key=lambda p: len(gateway.suite.jobs("metafold", p))
    )


async def metafold_errors(gateway: Gateway) -> list[dict[str, Any]]:
    """The errors of one small Metafold query (none when it succeeded)."""
    body = await gateway.post(METAFOLD_QUERY, {"project": metafold_project(gateway)})
    errors: list[dict[str, Any]] = body.get("errors") or []
    if not errors:
        assert body["data"]["metafoldJobs"]["nodes"]
    return errors


def metafold_lists(gateway: Gateway) -> int:
    return gateway.upstream_calls("metafold", "list")

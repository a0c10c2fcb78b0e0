"""Breaker state and cache hits are visible in `/readyz` and `/metrics`."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Gateway
from tests.providers import PROVIDERS, demo_source
from tests.resilience.conftest import metafold_errors

TRIPPABLE = {
    "timeout_s": 3.0,
    "max_retries": 0,
    "breaker_failures": 2,
    "breaker_cooldown_s": 60,
}


async def trip_metafold(gateway: Gateway) -> None:
    gateway.suite.sim("metafold").faults.add("status", status=503, count=2)
    assert await metafold_errors(gateway)
    assert await metafold_errors(gateway)


async def readyz(gateway: Gateway) -> tuple[int, dict[str, Any]]:
    response = await gateway.client.get("/readyz")
    body: dict[str, Any] = await response.json()
    return response.status, body


async def metrics(gateway: Gateway) -> str:
    return await (await gateway.client.get("/metrics")).text()


async def test_readyz_shows_every_breaker_closed_when_all_is_well(gateway: Gateway) -> None:
    status, body = await readyz(gateway)
    assert status == 200
    assert {s["name"]: s["breaker"] for s in body["sources"]} == dict.fromkeys(
        map(demo_source, PROVIDERS), "closed"
    )


@pytest.mark.parametrize("source_settings", [TRIPPABLE])
async def test_readyz_shows_an_open_breaker_and_reports_unready(gateway: Gateway) -> None:
    await trip_metafold(gateway)
    gateway.reset_counts()
    status, body = await readyz(gateway)
    assert status == 503
    metafold = next(s for s in body["sources"] if s["name"] == "mf")
    assert metafold["breaker"] == "open"
    assert metafold["code"] == "UPSTREAM_UNAVAILABLE"
    assert gateway.upstream_calls("metafold") == 0


@pytest.mark.parametrize("source_settings", [TRIPPABLE])
async def test_metrics_show_each_sources_breaker_state(gateway: Gateway) -> None:
    await trip_metafold(gateway)
    text = await metrics(gateway)
    assert 'jobgraph_upstream_breaker_state{source="mf",state="open"} 1.0' in text
    assert 'jobgraph_upstream_breaker_state{source="mf",state="closed"} 0.0' in text
    assert 'jobgraph_upstream_breaker_state{source="orange",state="closed"} 1.0' in text


@pytest.mark.parametrize("per_source_settings", [{"mf": {"cache_ttl_s": 60}}])
async def test_cache_hits_are_counted_in_metrics(gateway: Gateway) -> None:
    for _ in range(4):
        assert await metafold_errors(gateway) == []
    assert 'jobgraph_upstream_cache_hits_total{source="mf"} 3.0' in await metrics(gateway)


@pytest.mark.parametrize("source_settings", [TRIPPABLE])
async def test_sources_query_marks_a_source_with_an_open_breaker_unhealthy(
    gateway: Gateway,
) -> None:
    await trip_metafold(gateway)
    data = await gateway.data("{ sources { name healthy } }")
    assert {s["name"]: s["healthy"] for s in data["sources"]} == {
        demo_source(p): p != "metafold" for p in PROVIDERS
    }

"""Per-source circuit breaker: fail fast after repeated upstream faults, probe, recover."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.conftest import Gateway
from tests.resilience.conftest import metafold_errors, metafold_lists, upstream_client

COOLDOWN_S = 0.3

pytestmark = pytest.mark.parametrize(
    "source_settings",
    [
        {
            "timeout_s": 2.0,
            "max_retries": 0,
            "breaker_failures": 3,
            "breaker_cooldown_s": COOLDOWN_S,
        }
    ],
)


def faults(gateway: Gateway) -> Any:
    return gateway.suite.sim("metafold").faults


async def trip(gateway: Gateway, kind: str = "status", **fault: Any) -> None:
    faults(gateway).add(kind, count=3, **fault)
    for _ in range(3):
        assert await metafold_errors(gateway)
    gateway.reset_counts()


async def test_breaker_opens_after_consecutive_upstream_faults_and_fails_fast(
    gateway: Gateway,
) -> None:
    await trip(gateway, status=500)
    errors = await metafold_errors(gateway)
    assert errors[0]["extensions"]["code"] == "UPSTREAM_UNAVAILABLE"
    assert errors[0]["extensions"]["source"] == "mf"
    assert "circuit open" in errors[0]["message"]
    assert metafold_lists(gateway) == 0


async def test_timeouts_open_the_breaker(gateway: Gateway) -> None:
    await trip(gateway, "hang")
    assert await metafold_errors(gateway)
    assert metafold_lists(gateway) == 0


async def test_client_errors_never_open_the_breaker(gateway: Gateway) -> None:
    await trip(gateway, status=404)
    assert await metafold_errors(gateway) == []
    assert metafold_lists(gateway) == 1


async def test_open_breaker_leaves_other_sources_alone(gateway: Gateway) -> None:
    await trip(gateway, status=503)
    assert upstream_client(gateway).breaker_states()["orange"] == "closed"
    assert upstream_client(gateway).breaker_states()["mf"] == "open"


async def test_breaker_probes_after_the_cooldown_and_closes_on_success(gateway: Gateway) -> None:
    await trip(gateway, status=503)
    await asyncio.sleep(COOLDOWN_S * 1.5)
    assert upstream_client(gateway).breaker_states()["mf"] == "half_open"
    assert await metafold_errors(gateway) == []
    assert metafold_lists(gateway) == 1
    assert upstream_client(gateway).breaker_states()["mf"] == "closed"


async def test_failed_probe_reopens_the_breaker(gateway: Gateway) -> None:
    await trip(gateway, status=503)
    await asyncio.sleep(COOLDOWN_S * 1.5)
    faults(gateway).add("status", status=503)
    assert await metafold_errors(gateway)
    assert await metafold_errors(gateway)
    assert metafold_lists(gateway) == 1
    assert upstream_client(gateway).breaker_states()["mf"] == "open"

"""Retries happen only where safe, honour Retry-After and never outlive the deadline."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Gateway
from tests.resilience.conftest import metafold_errors, metafold_lists


def faults(gateway: Gateway) -> Any:
    return gateway.suite.sim("metafold").faults


@pytest.mark.parametrize("status", [502, 503, 504])
async def test_gateway_status_once_is_retried_into_data(gateway: Gateway, status: int) -> None:
    faults(gateway).add("status", status=status)
    assert await metafold_errors(gateway) == []
    assert metafold_lists(gateway) == 2


async def test_html_502_page_once_is_retried_into_data(gateway: Gateway) -> None:
    faults(gateway).add("html_502")
    assert await metafold_errors(gateway) == []
    assert metafold_lists(gateway) == 2


async def test_dropped_connection_once_is_retried_into_data(gateway: Gateway) -> None:
    faults(gateway).add("drop")
    assert await metafold_errors(gateway) == []
    assert metafold_lists(gateway) == 2


async def test_persistent_503_costs_one_request_plus_max_retries(gateway: Gateway) -> None:
    faults(gateway).add("status", status=503, count=10)
    errors = await metafold_errors(gateway)
    assert errors[0]["extensions"]["code"] == "UPSTREAM_UNAVAILABLE"
    assert metafold_lists(gateway) == 3


@pytest.mark.parametrize("status", [400, 401, 403, 404, 500])
async def test_client_errors_and_500_are_not_retried(gateway: Gateway, status: int) -> None:
    faults(gateway).add("status", status=status, count=10)
    assert await metafold_errors(gateway)
    assert metafold_lists(gateway) == 1


async def test_truncated_body_is_not_retried(gateway: Gateway) -> None:
    faults(gateway).add("truncated", count=10)
    assert await metafold_errors(gateway)
    assert metafold_lists(gateway) == 1


async def test_rate_limit_with_short_retry_after_is_retried_into_data(gateway: Gateway) -> None:
    faults(gateway).add("rate_limit", retry_after="0.1")
    assert await metafold_errors(gateway) == []
    assert metafold_lists(gateway) == 2


async def test_rate_limit_with_retry_after_above_the_cap_is_not_retried(gateway: Gateway) -> None:
    faults(gateway).add("rate_limit", retry_after=999, count=10)
    errors = await metafold_errors(gateway)
    assert errors[0]["extensions"]["code"] == "UPSTREAM_RATE_LIMITED"
    assert metafold_lists(gateway) == 1


@pytest.mark.parametrize("source_settings", [{"timeout_s": 1.0, "breaker_failures": 1000}])
async def test_rate_limit_with_retry_after_beyond_the_deadline_fails_at_once(
    gateway: Gateway,
) -> None:
    faults(gateway).add("rate_limit", retry_after=3, count=10)
    errors = await metafold_errors(gateway)
    assert errors[0]["extensions"]["code"] == "UPSTREAM_RATE_LIMITED"
    assert errors[0]["extensions"]["retryAfter"] == 3
    assert metafold_lists(gateway) == 1


@pytest.mark.parametrize("source_settings", [{"max_retries": 0, "breaker_failures": 1000}])
async def test_max_retries_zero_never_retries(gateway: Gateway) -> None:
    faults(gateway).add("status", status=503, count=10)
    assert await metafold_errors(gateway)
    assert metafold_lists(gateway) == 1


@pytest.mark.parametrize(
    "source_settings", [{"timeout_s": 0.5, "max_retries": 10, "breaker_failures": 1000}]
)
async def test_retries_stop_at_the_deadline_whatever_max_retries_allows(gateway: Gateway) -> None:
    # Each failing answer takes 200 ms, so a 500 ms deadline leaves room for at most three.
    faults(gateway).add("status", status=503, count=50, latency_ms=200)
    errors = await metafold_errors(gateway)
    assert errors[0]["extensions"]["code"] in ("UPSTREAM_UNAVAILABLE", "UPSTREAM_TIMEOUT")
    assert metafold_lists(gateway) <= 3


@pytest.mark.parametrize(
    "source_settings", [{"timeout_s": 1.0, "max_retries": 10, "breaker_failures": 1000}]
)
async def test_hang_after_a_retry_still_ends_at_the_deadline(gateway: Gateway) -> None:
    faults(gateway).add("status", status=503)
    faults(gateway).add("hang", count=10)
    errors = await metafold_errors(gateway)
    assert errors[0]["extensions"]["code"] == "UPSTREAM_TIMEOUT"
    assert metafold_lists(gateway) == 2

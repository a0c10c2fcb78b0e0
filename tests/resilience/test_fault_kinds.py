"""Every fault the simulators can inject becomes its coded error, over real HTTP."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Gateway
from tests.graph.providers import FIELDS
from tests.providers import PROVIDERS, first_project
from tests.resilience.conftest import SHORT_DEADLINE, metafold_errors, metafold_lists


def only_error(errors: list[dict[str, Any]]) -> dict[str, Any]:
    assert len(errors) == 1, errors
    error = errors[0]
    assert error["extensions"]["source"] == "mf"
    assert error["extensions"]["provider"] == "METAFOLD"
    return error


def faults(gateway: Gateway) -> Any:
    return gateway.suite.sim("metafold").faults


async def test_latency_within_the_timeout_still_answers(gateway: Gateway) -> None:
    faults(gateway).add("latency", latency_ms=100)
    assert await metafold_errors(gateway) == []


async def test_jittered_standing_latency_within_the_timeout_still_answers(
    gateway: Gateway,
) -> None:
    faults(gateway).set_latency(50, jitter_ms=100)
    assert await metafold_errors(gateway) == []


@pytest.mark.parametrize("source_settings", [SHORT_DEADLINE])
async def test_latency_beyond_the_timeout_is_upstream_timeout(gateway: Gateway) -> None:
    faults(gateway).add("latency", latency_ms=3000)
    error = only_error(await metafold_errors(gateway))
    assert error["extensions"]["code"] == "UPSTREAM_TIMEOUT"
    assert metafold_lists(gateway) == 1


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (400, "UPSTREAM_BAD_REQUEST"),
        (401, "UPSTREAM_UNAUTHORIZED"),
        (403, "UPSTREAM_FORBIDDEN"),
        (404, "UPSTREAM_NOT_FOUND"),
        (500, "UPSTREAM_UNAVAILABLE"),
        (503, "UPSTREAM_UNAVAILABLE"),
        (504, "UPSTREAM_TIMEOUT"),
    ],
)
async def test_error_status_is_its_code(gateway: Gateway, status: int, code: str) -> None:
    faults(gateway).add("status", status=status, count=10)
    error = only_error(await metafold_errors(gateway))
    assert error["extensions"]["code"] == code
    assert error["extensions"]["upstreamStatus"] == status


async def test_rate_limit_beyond_the_budget_is_upstream_rate_limited_with_retry_after(
    gateway: Gateway,
) -> None:
    faults(gateway).add("rate_limit", retry_after=999, count=10)
    error = only_error(await metafold_errors(gateway))
    assert error["extensions"]["code"] == "UPSTREAM_RATE_LIMITED"
    assert error["extensions"]["retryAfter"] == 999


async def test_malformed_json_is_upstream_invalid_response(gateway: Gateway) -> None:
    faults(gateway).add("malformed_json")
    error = only_error(await metafold_errors(gateway))
    assert error["extensions"]["code"] == "UPSTREAM_INVALID_RESPONSE"


async def test_html_error_page_is_upstream_unavailable_without_its_markup(
    gateway: Gateway,
) -> None:
    faults(gateway).add("html_502", count=10)
    error = only_error(await metafold_errors(gateway))
    assert error["extensions"]["code"] == "UPSTREAM_UNAVAILABLE"
    assert "<" not in error["message"]
    assert "nginx" not in error["message"]


async def test_wrong_schema_is_upstream_invalid_response(gateway: Gateway) -> None:
    faults(gateway).add("wrong_schema")
    error = only_error(await metafold_errors(gateway))
    assert error["extensions"]["code"] == "UPSTREAM_INVALID_RESPONSE"


async def test_truncated_body_is_upstream_invalid_response(gateway: Gateway) -> None:
    faults(gateway).add("truncated")
    error = only_error(await metafold_errors(gateway))
    assert error["extensions"]["code"] == "UPSTREAM_INVALID_RESPONSE"
    assert metafold_lists(gateway) == 1


@pytest.mark.parametrize("source_settings", [SHORT_DEADLINE])
async def test_hang_is_upstream_timeout_after_one_request(gateway: Gateway) -> None:
    faults(gateway).add("hang")
    error = only_error(await metafold_errors(gateway))
    assert error["extensions"]["code"] == "UPSTREAM_TIMEOUT"
    assert metafold_lists(gateway) == 1


async def test_dropped_connection_every_time_is_upstream_unavailable(gateway: Gateway) -> None:
    faults(gateway).add("drop", count=10)
    error = only_error(await metafold_errors(gateway))
    assert error["extensions"]["code"] == "UPSTREAM_UNAVAILABLE"


@pytest.mark.parametrize("source_settings", [{"max_body_bytes": 64 * 1024}])
async def test_oversized_body_is_cut_off_as_upstream_invalid_response(gateway: Gateway) -> None:
    faults(gateway).add("oversized", size=8 * 1024 * 1024)
    error = only_error(await metafold_errors(gateway))
    assert error["extensions"]["code"] == "UPSTREAM_INVALID_RESPONSE"
    assert "limit" in error["message"]


@pytest.mark.parametrize("source_settings", [SHORT_DEADLINE])
@pytest.mark.parametrize("provider", PROVIDERS)
async def test_hang_times_out_on_every_provider(gateway: Gateway, provider: str) -> None:
    spec = FIELDS[provider]
    project = first_project(gateway.suite, provider)
    gateway.suite.sim(provider).faults.add("hang", count=10)
    body = await gateway.post(spec.query(project, selection="nodes { nativeId }"), {"first": 3})
    assert body["errors"][0]["extensions"]["code"] == "UPSTREAM_TIMEOUT"

"""Each provider's error bodies become coded GraphQL errors naming source and provider."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Gateway
from tests.graph.providers import FIELDS
from tests.providers import PROJECT_PROVIDERS, PROVIDERS, demo_source, enum_value, oracle

CODES = {
    400: "UPSTREAM_BAD_REQUEST",
    401: "UPSTREAM_UNAUTHORIZED",
    403: "UPSTREAM_FORBIDDEN",
    404: "UPSTREAM_NOT_FOUND",
    500: "UPSTREAM_UNAVAILABLE",
    503: "UPSTREAM_UNAVAILABLE",
}


def some_project(gateway: Gateway, provider: str) -> str | None:
    if provider not in PROJECT_PROVIDERS:
        return None
    return max(gateway.suite.projects(provider), key=lambda p: len(gateway.suite.jobs(provider, p)))


async def first_error(gateway: Gateway, provider: str) -> dict[str, Any]:
    spec = FIELDS[provider]
    body = await gateway.post(spec.query(some_project(gateway, provider)), {"first": 5})
    assert body["data"] is None or body["data"].get(spec.field) is None
    error: dict[str, Any] = body["errors"][0]
    return error


@pytest.mark.parametrize("status", sorted(CODES))
@pytest.mark.parametrize("provider", list(FIELDS))
async def test_upstream_error_status_maps_to_its_code_with_source_and_provider(
    gateway: Gateway, provider: str, status: int
) -> None:
    gateway.suite.sim(provider).faults.add("status", status=status, count=5)
    error = await first_error(gateway, provider)
    extensions = error["extensions"]
    assert extensions["code"] == CODES[status]
    assert extensions["source"] == demo_source(provider)
    assert extensions["provider"] == enum_value(provider)
    assert extensions["upstreamStatus"] == status
    assert "Traceback" not in error["message"]


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_provider_error_code_from_its_error_body_is_passed_on(
    gateway: Gateway, provider: str
) -> None:
    gateway.suite.sim(provider).faults.add("status", status=400, count=5)
    error = await first_error(gateway, provider)
    if any(oracle(provider).error_codes.values()):  # its error bodies carry a code
        assert error["extensions"].get("upstreamCode")
    assert error["message"]


@pytest.mark.parametrize("provider", list(FIELDS))
async def test_wrong_schema_body_is_upstream_invalid_response(
    gateway: Gateway, provider: str
) -> None:
    gateway.suite.sim(provider).faults.add("wrong_schema", count=5)
    error = await first_error(gateway, provider)
    assert error["extensions"]["code"] == "UPSTREAM_INVALID_RESPONSE"
    assert error["extensions"]["source"] == demo_source(provider)


@pytest.mark.parametrize("provider", list(FIELDS))
async def test_malformed_json_is_upstream_invalid_response(gateway: Gateway, provider: str) -> None:
    gateway.suite.sim(provider).faults.add("malformed_json", count=5)
    error = await first_error(gateway, provider)
    assert error["extensions"]["code"] == "UPSTREAM_INVALID_RESPONSE"


async def test_rate_limited_upstream_is_upstream_rate_limited(gateway: Gateway) -> None:
    gateway.suite.sim("orange").faults.add("rate_limit", retry_after=30, count=10)
    error = await first_error(gateway, "orange")
    assert error["extensions"]["code"] == "UPSTREAM_RATE_LIMITED"


async def test_html_error_page_never_reaches_the_caller(gateway: Gateway) -> None:
    gateway.suite.sim("metafold").faults.add("html_502", count=10)
    error = await first_error(gateway, "metafold")
    assert error["extensions"]["code"] == "UPSTREAM_UNAVAILABLE"
    assert "<" not in error["message"]

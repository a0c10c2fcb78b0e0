"""A failing or slow source leaves the other sources' jobs in place: HTTP 200, the failure in
`failures` and as a coded `errors` entry, and the next page retries the source."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Gateway
from tests.jobs.conftest import JOBS_QUERY, brute_force, ident, merge_order_key, walk
from tests.providers import PROVIDERS, demo_source

DESC = "CREATED_AT_DESC"
# Every demo source but Metafold's.
OTHERS = [demo_source(p) for p in PROVIDERS if p != "metafold"]
# kind, fault options, the code the gateway must report
FAULTS: list[tuple[str, dict[str, Any], str]] = [
    ("status", {"status": 500}, "UPSTREAM_UNAVAILABLE"),
    ("status", {"status": 404}, "UPSTREAM_NOT_FOUND"),
    ("rate_limit", {}, "UPSTREAM_RATE_LIMITED"),
    ("malformed_json", {}, "UPSTREAM_INVALID_RESPONSE"),
    ("html_502", {}, "UPSTREAM_UNAVAILABLE"),
    ("wrong_schema", {}, "UPSTREAM_INVALID_RESPONSE"),
    ("truncated", {}, "UPSTREAM_INVALID_RESPONSE"),
    ("hang", {}, "UPSTREAM_TIMEOUT"),
    ("drop", {}, "UPSTREAM_UNAVAILABLE"),
    ("oversized", {"size": 2 << 20}, "UPSTREAM_INVALID_RESPONSE"),
    ("latency", {"latency_ms": 3000}, "UPSTREAM_TIMEOUT"),
]
# Far beyond the 1.5 s deadline below, so no pause of a busy machine lets Metafold's answer
# arrive before the gateway's.
SLOW_MS = 30_000


@pytest.fixture
def source_overrides() -> dict[str, dict[str, Any]]:
    # One attempt per request and a short deadline, so each fault shows as itself, quickly.
    return {
        "mf": {
            "max_retries": 0,
            "timeout_s": 1.5,
            "breaker_failures": 1000,
            "max_body_bytes": 1 << 20,
        }
    }


def assert_first_page_of_the_others(
    gateway: Gateway, nodes: list[dict[str, Any]], size: int
) -> None:
    """`nodes` are the `size` newest jobs of every source but Metafold, in merged order."""
    expected = brute_force(gateway, sources=OTHERS)
    key = merge_order_key(gateway, DESC)
    assert [key(node) for node in nodes] == sorted(key(job) for job in expected)[:size]
    assert {ident(node) for node in nodes} <= {job.ident for job in expected}


@pytest.mark.parametrize(
    ("kind", "options", "code"), FAULTS, ids=[f"{f[0]}-{f[2]}" for f in FAULTS]
)
async def test_failing_source_leaves_the_other_sources_jobs_in_place(
    gateway: Gateway, kind: str, options: dict[str, Any], code: str
) -> None:
    gateway.suite.sim("metafold").faults.add(kind, count=1000, **options)
    body = await gateway.post(JOBS_QUERY, {"first": 30})  # asserts HTTP 200
    connection = body["data"]["jobs"]
    assert_first_page_of_the_others(gateway, [e["node"] for e in connection["edges"]], 30)
    assert [(f["source"], f["provider"], f["code"]) for f in connection["failures"]] == [
        ("mf", "METAFOLD", code)
    ]
    errors = [e for e in body["errors"] if e["extensions"].get("source") == "mf"]
    assert errors and {e["extensions"]["code"] for e in errors} == {code}
    assert all(e["path"] == ["jobs"] and e["extensions"]["provider"] == "METAFOLD" for e in errors)


async def test_failed_source_is_retried_from_its_position_on_the_next_page(
    gateway: Gateway,
) -> None:
    metafold = gateway.suite.sim("metafold")
    metafold.faults.add("status", count=1000, status=503)
    first = (await gateway.post(JOBS_QUERY, {"first": 30}))["data"]["jobs"]
    assert first["failures"] and first["pageInfo"]["hasNextPage"]
    metafold.faults.clear()
    rest = await walk(gateway, 100, start=first["pageInfo"]["endCursor"])
    visited = [e["node"] for e in first["edges"]] + rest.nodes
    assert len(visited) == len({ident(node) for node in visited})
    assert {ident(node) for node in visited} == {job.ident for job in brute_force(gateway)}
    assert not any(page["failures"] for page in rest.pages)


async def test_slow_source_costs_no_more_than_its_timeout(gateway: Gateway) -> None:
    # Metafold would answer long after the 1.5 s deadline: the page must not wait for it.
    metafold = gateway.suite.sim("metafold")
    metafold.faults.add("latency", count=1000, latency_ms=SLOW_MS)
    body = await gateway.post(JOBS_QUERY, {"first": 10})
    connection = body["data"]["jobs"]
    assert [(f["source"], f["provider"], f["code"]) for f in connection["failures"]] == [
        ("mf", "METAFOLD", "UPSTREAM_TIMEOUT")
    ]
    errors = [e for e in body["errors"] if e["extensions"].get("source") == "mf"]
    assert errors and {e["extensions"]["code"] for e in errors} == {"UPSTREAM_TIMEOUT"}
    assert_first_page_of_the_others(gateway, [e["node"] for e in connection["edges"]], 10)
    # The gateway gave up on Metafold: no request it sent had been answered when the gateway's
    # answer came (the simulator logs a status once it answers). Had the gateway waited for
    # Metafold and only then reported the timeout, they would be. The simulator's log tells
    # what happened in which order; no duration is asserted.
    asked = metafold.log.entries
    assert asked, "metafold was never asked"
    assert all(e.fault == "latency" and e.status is None for e in asked), asked


async def test_failing_source_makes_total_count_null_with_an_error(gateway: Gateway) -> None:
    gateway.suite.sim("metafold").faults.add("status", count=1000, status=500)
    body = await gateway.post("{ jobs { totalCount } }")
    assert body["data"]["jobs"]["totalCount"] is None
    assert [e["extensions"]["source"] for e in body["errors"]] == ["mf"]


async def test_source_failing_on_the_last_page_is_retried_when_paging_backward(
    gateway: Gateway,
) -> None:
    metafold = gateway.suite.sim("metafold")
    metafold.faults.add("status", count=1000, status=503)
    last = (await gateway.post(JOBS_QUERY, {"last": 30}))["data"]["jobs"]
    assert last["failures"] and last["pageInfo"]["hasPreviousPage"]
    assert {e["node"]["source"] for e in last["edges"]} <= set(OTHERS)
    metafold.faults.clear()
    rest = await walk(gateway, 100, backward=True, start=last["pageInfo"]["startCursor"])
    visited = rest.nodes + [e["node"] for e in last["edges"]]
    assert len(visited) == len({ident(node) for node in visited})
    assert {ident(node) for node in visited} == {job.ident for job in brute_force(gateway)}

"""`totalCount` under a filter: known where every upstream applies the filter exactly."""

from __future__ import annotations

from tests.conftest import Gateway
from tests.jobs.conftest import brute_force

TOTAL = "query($filter: JobFilter) { jobs(filter: $filter) { totalCount } }"


async def test_status_filter_total_is_known_where_the_upstream_filters_exactly(
    gateway: Gateway,
) -> None:
    job_filter = {"status": ["FAILED", "SUCCEEDED"], "providers": ["ORANGE"]}
    data = await gateway.data(TOTAL, {"filter": job_filter})
    assert data["jobs"]["totalCount"] == len(brute_force(gateway, job_filter))
    # Counted from Orange's X-Total-Count with the `state` filter pushed down, not by a scan.
    assert gateway.suite.sim("orange").log.count("list", state="failed") >= 1


async def test_status_filter_total_with_only_local_scans_is_known(gateway: Gateway) -> None:
    job_filter = {"status": ["RUNNING"], "providers": ["EDGE_IMPULSE", "WORKFLOW", "ORANGE"]}
    data = await gateway.data(TOTAL, {"filter": job_filter})
    assert data["jobs"]["totalCount"] == len(brute_force(gateway, job_filter))


async def test_total_is_null_where_a_sorting_upstream_only_narrows_the_filter(
    gateway: Gateway,
) -> None:
    job_filter = {"search": "mesh", "providers": ["METAFOLD"]}
    data = await gateway.data(TOTAL, {"filter": job_filter})
    assert data["jobs"]["totalCount"] is None

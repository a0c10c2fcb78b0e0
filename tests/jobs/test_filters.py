"""`jobs(filter:)` returns exactly the brute-force filter of the simulators' datasets, in merged
order, whether each part was pushed down to an upstream or applied locally."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from simulators.datagen import BASE_TIME
from tests.conftest import Gateway
from tests.jobs.conftest import assert_merged, brute_force, walk
from tests.providers import PROVIDERS

DESC, ASC = "CREATED_AT_DESC", "CREATED_AT_ASC"
FILTERS: dict[str, dict[str, Any]] = {
    "failed_or_canceled": {"status": ["FAILED", "CANCELED"]},
    "search_any_case": {"search": "SUZANNE"},
    "search_non_ascii": {"search": "hÉad"},
    "created_window": {
        "createdAfter": (BASE_TIME - timedelta(days=5)).isoformat(),
        "createdBefore": (BASE_TIME - timedelta(days=1)).isoformat(),
    },
    "providers": {"providers": ["ORANGE", "WORKFLOW"]},
    "combined": {
        "status": ["SUCCEEDED", "RUNNING"],
        "search": "e",
        "providers": ["METAFOLD", "MODELARTS", "EDGE_IMPULSE"],
        "createdAfter": (BASE_TIME - timedelta(days=20)).isoformat(),
    },
}


@pytest.mark.parametrize("name", ["search_any_case", "search_non_ascii", "combined"])
async def test_metafold_search_is_exact_when_a_quoted_star_is_literal(
    gateway: Gateway, name: str
) -> None:
    gateway.suite.sim("metafold").quirks.literal_star_in_quotes = True
    job_filter = {**FILTERS[name], "providers": ["METAFOLD"]}
    expected = brute_force(gateway, job_filter)
    assert expected, "the filter should select some jobs"
    walked = await walk(gateway, 100, filter=job_filter)
    assert_merged(gateway, walked.nodes, expected, DESC)


@pytest.mark.parametrize("name", FILTERS)
async def test_filtered_walk_equals_the_brute_force_filter(gateway: Gateway, name: str) -> None:
    job_filter = FILTERS[name]
    expected = brute_force(gateway, job_filter)
    assert expected, "the filter should select some jobs"
    walked = await walk(gateway, 100, filter=job_filter)
    assert_merged(gateway, walked.nodes, expected, DESC)


async def test_filtered_backward_walk_oldest_first_equals_the_brute_force_filter(
    gateway: Gateway,
) -> None:
    job_filter = {"status": ["QUEUED", "RUNNING", "PAUSED"], "search": "a"}
    walked = await walk(gateway, 40, backward=True, orderBy=ASC, filter=job_filter)
    assert_merged(gateway, walked.nodes, brute_force(gateway, job_filter), ASC)


async def test_sparse_local_filter_gives_short_pages_that_still_walk_exactly(
    gateway: Gateway,
) -> None:
    # Orange cannot search names: the filter is applied locally over its largest project.
    job_filter = {"search": "WEB-16"}
    expected = brute_force(gateway, job_filter, sources=["orange"])
    assert 0 < len(expected) < 40
    walked = await walk(gateway, 10, sources=["orange"], filter=job_filter)
    assert_merged(gateway, walked.nodes, expected, DESC)
    short = [
        page for page in walked.pages if len(page["edges"]) < 10 and page["pageInfo"]["hasNextPage"]
    ]
    assert short, "a bounded scan should end some page early"


async def test_rare_status_walk_is_exact_across_every_source(gateway: Gateway) -> None:
    job_filter = {"status": ["UNKNOWN"]}
    expected = brute_force(gateway, job_filter)
    walked = await walk(gateway, 50, filter=job_filter)
    assert_merged(gateway, walked.nodes, expected, DESC)


async def test_filters_are_pushed_down_where_the_upstream_can_express_them(
    gateway: Gateway,
) -> None:
    gateway.reset_counts()
    job_filter = {"status": ["FAILED"], "search": "resnet"}
    await gateway.data(
        "query($f: JobFilter) { jobs(first: 5, filter: $f) { nodes { id } } }", {"f": job_filter}
    )
    orange = gateway.suite.sim("orange").log
    assert orange.count("list") > 0
    assert orange.count("list") == orange.count("list", state="failed")
    metafold = gateway.suite.sim("metafold").log.entries
    assert metafold and all("!state:success" in e.param("q")[0] for e in metafold)
    # Unquoted (whether `*` is a wildcard inside quotes is not documented), from the term's
    # runs that every case-insensitive matcher agrees on ("s", "n" and "t" have multi-letter
    # case folds elsewhere in Unicode).
    assert all("name:*re*e*" in e.param("q")[0] for e in metafold)
    modelarts = gateway.suite.sim("modelarts").log.entries
    # The term's safe runs: a superset the local filter then narrows.
    assert modelarts and all(e.param("search_content")[0] in "resnet" for e in modelarts)
    assert all(e.param("status") == [] for e in modelarts)  # FAILED is nine codes
    assert all(e.param("sortBy") == ["create_time"] for e in modelarts)


async def test_provider_filter_skips_other_sources_without_asking_them(
    gateway: Gateway,
) -> None:
    gateway.reset_counts()
    data = await gateway.data(
        "{ jobs(first: 20, filter: {providers: [WORKFLOW]}) { nodes { provider } } }"
    )
    assert {node["provider"] for node in data["jobs"]["nodes"]} == {"WORKFLOW"}
    for provider in (p for p in PROVIDERS if p != "workflow"):
        assert gateway.upstream_calls(provider) == 0


async def test_status_no_upstream_can_hold_asks_no_upstream(gateway: Gateway) -> None:
    gateway.reset_counts()
    data = await gateway.data(
        '{ jobs(first: 5, sources: ["orange", "mf"], filter: {status: [PAUSED]}) '
        "{ totalCount nodes { id } pageInfo { hasNextPage } } }"
    )
    assert data["jobs"] == {"totalCount": 0, "nodes": [], "pageInfo": {"hasNextPage": False}}
    assert gateway.upstream_calls("orange") == gateway.upstream_calls("metafold") == 0

"""Numbered-page navigation: `pageCursors(pageSize:)` gives the first, last, nearby and previous
pages' cursors, and `after: <cursor>` lands exactly on that page — on `jobs` and on the
per-provider connections."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Gateway
from tests.graph.providers import FIELDS, native_ids
from tests.jobs.conftest import brute_force, ident, walk
from tests.providers import PROJECT_PROVIDERS

SOURCES = ["ei", "wf", "ma"]  # 1083 jobs; Edge Impulse and workflow are ordered locally
PAGE_CURSORS = (
    "pageCursors(pageSize: $size) { first { cursor page isCurrent } "
    "around { cursor page isCurrent } last { cursor page isCurrent } "
    "previous { cursor page isCurrent } }"
)
JOBS_PAGE = (
    "query($size: Int!, $after: String, $sources: [String!], $filter: JobFilter) { "
    "jobs(first: $size, after: $after, sources: $sources, filter: $filter) { totalCount "
    f"{PAGE_CURSORS} nodes {{ source projectId nativeId }} }} }}"
)


async def jobs_page(
    gateway: Gateway, size: int, after: str | None, **variables: Any
) -> dict[str, Any]:
    data = await gateway.data(
        JOBS_PAGE, {"size": size, "after": after, "sources": SOURCES, **variables}
    )
    connection: dict[str, Any] = data["jobs"]
    return connection


def pages_of(nodes: list[Any], size: int) -> list[list[Any]]:
    return [nodes[i : i + size] for i in range(0, len(nodes), size)]


async def test_page_cursors_of_the_first_page_land_on_their_pages(gateway: Gateway) -> None:
    reference = pages_of([ident(n) for n in (await walk(gateway, 100, sources=SOURCES)).nodes], 100)
    first = await jobs_page(gateway, 100, None)
    cursors = first["pageCursors"]
    assert first["totalCount"] == sum(len(page) for page in reference)
    assert (cursors["first"]["page"], cursors["first"]["isCurrent"]) == (1, True)
    assert [c["page"] for c in cursors["around"]] == [1, 2, 3, 4, 5]
    assert cursors["last"]["page"] == len(reference)
    assert cursors["previous"] is None
    for cursor in [cursors["first"], *cursors["around"], cursors["last"]]:
        landed = await jobs_page(gateway, 100, cursor["cursor"])
        assert [ident(n) for n in landed["nodes"]] == reference[cursor["page"] - 1], cursor["page"]


async def test_page_cursors_of_a_middle_page_mark_it_current_and_link_its_neighbours(
    gateway: Gateway,
) -> None:
    reference = pages_of([ident(n) for n in (await walk(gateway, 100, sources=SOURCES)).nodes], 100)
    first = await jobs_page(gateway, 100, None)
    to_fifth = next(c for c in first["pageCursors"]["around"] if c["page"] == 5)
    # Jump to page 5, then on to page 6 with page 5's own page cursors.
    fifth = await jobs_page(gateway, 100, to_fifth["cursor"])
    onward = next(c for c in fifth["pageCursors"]["around"] if c["page"] == 6)
    page_six = await jobs_page(gateway, 100, onward["cursor"])
    cursors = page_six["pageCursors"]
    assert [(c["page"], c["isCurrent"]) for c in cursors["around"]] == [
        (4, False),
        (5, False),
        (6, True),
        (7, False),
        (8, False),
    ]
    assert cursors["previous"]["page"] == 5
    landed = await jobs_page(gateway, 100, cursors["previous"]["cursor"])
    assert [ident(n) for n in landed["nodes"]] == reference[4]


async def test_page_cursors_alone_know_the_current_page_without_fetching_it(
    gateway: Gateway,
) -> None:
    first = await jobs_page(gateway, 100, None)
    to_third = next(c for c in first["pageCursors"]["around"] if c["page"] == 3)
    data = await gateway.data(
        "query($size: Int!, $after: String, $sources: [String!]) { "
        f"jobs(first: $size, after: $after, sources: $sources) {{ {PAGE_CURSORS} }} }}",
        {"size": 100, "after": to_third["cursor"], "sources": SOURCES},
    )
    current = [c["page"] for c in data["jobs"]["pageCursors"]["around"] if c["isCurrent"]]
    assert current == [3]


async def test_page_cursors_work_with_a_filter_on_locally_ordered_sources(
    gateway: Gateway,
) -> None:
    job_filter = {"search": "a", "status": ["SUCCEEDED"]}
    expected = brute_force(gateway, job_filter, sources=["ei", "wf"])
    variables = {"sources": ["ei", "wf"], "filter": job_filter}
    reference = pages_of([ident(n) for n in (await walk(gateway, 20, **variables)).nodes], 20)
    first = await jobs_page(gateway, 20, None, **variables)
    assert first["totalCount"] == len(expected)
    last = first["pageCursors"]["last"]
    assert last["page"] == len(reference)
    landed = await jobs_page(gateway, 20, last["cursor"], **variables)
    assert [ident(n) for n in landed["nodes"]] == reference[-1]


async def test_page_cursors_are_null_where_the_total_is_unknown(gateway: Gateway) -> None:
    # Orange cannot search: counting its matches would need a full scan.
    data = await gateway.data(
        'query($size: Int!) { jobs(first: 5, filter: {search: "web"}) '
        f"{{ totalCount {PAGE_CURSORS} }} }}",
        {"size": 5},
    )
    assert data["jobs"] == {"totalCount": None, "pageCursors": None}


async def test_page_cursors_of_another_listing_are_rejected(gateway: Gateway) -> None:
    first = await jobs_page(gateway, 10, None)
    body = await gateway.post(
        'query($after: String) { jobs(first: 10, after: $after, sources: ["ei"]) { totalCount } }',
        {"after": first["pageCursors"]["last"]["cursor"]},
    )
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def _largest(gateway: Gateway, provider: str) -> str | None:
    projects = gateway.suite.projects(provider) or [None]
    return max(projects, key=lambda p: len(gateway.suite.jobs(provider, p)))


@pytest.mark.parametrize("provider", PROJECT_PROVIDERS)
async def test_provider_page_cursors_land_on_their_pages(gateway: Gateway, provider: str) -> None:
    spec, project = FIELDS[provider], _largest(gateway, provider)
    expected = pages_of(native_ids(provider, gateway.suite.jobs(provider, project)), 25)
    query = spec.query(
        project,
        selection=(
            "pageCursors(pageSize: 25) { first { cursor page } around { cursor page } "
            "last { cursor page } } nodes { nativeId }"
        ),
    )
    cursors = (await gateway.data(query, {"first": 25}))[spec.field]["pageCursors"]
    assert cursors["last"]["page"] == len(expected)
    for cursor in [cursors["first"], *cursors["around"], cursors["last"]]:
        landed = await gateway.data(query, {"first": 25, "after": cursor["cursor"]})
        assert [n["nativeId"] for n in landed[spec.field]["nodes"]] == expected[cursor["page"] - 1]


async def test_workflow_page_cursors_are_null_without_a_reported_total(gateway: Gateway) -> None:
    data = await gateway.data(
        "{ workflowJobs(first: 5) { pageCursors(pageSize: 5) { first { page } } } }"
    )
    assert data["workflowJobs"]["pageCursors"] is None

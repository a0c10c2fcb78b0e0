"""Server caps below what the gateway asks for: a short page never ends a list unless it is
proven to (an empty page, a total, or a page shorter than one the source has sent), and a cap
once seen is reused. Each cap is the simulators' `cap` switch."""

from __future__ import annotations

import itertools

import pytest

from tests.conftest import Gateway
from tests.graph.providers import native_ids
from tests.graph.test_exact_walks import walk_backward, walk_forward
from tests.providers import PROVIDERS, first_project, paged

WORKFLOW_PAGE = """
query ($first: Int, $last: Int) {
  workflowJobs(first: $first, last: $last) {
    pageInfo { hasNextPage hasPreviousPage }
    nodes { nativeId }
  }
}
"""
FEDERATED_WORKFLOW = """
query ($first: Int, $after: String) {
  jobs(sources: ["wf"], first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes { nativeId }
  }
}
"""


def workflow_ids(gateway: Gateway) -> list[str]:
    return native_ids("workflow", gateway.suite.jobs("workflow", None))


async def test_a_capped_workflow_list_answers_the_whole_first_page(gateway: Gateway) -> None:
    gateway.suite.sim("workflow").quirks.cap = 50
    data = await gateway.data(WORKFLOW_PAGE, {"first": 100})
    page = data["workflowJobs"]
    assert [job["nativeId"] for job in page["nodes"]] == workflow_ids(gateway)[:100]
    assert page["pageInfo"]["hasNextPage"] is True


@pytest.mark.parametrize("size", [7, 50, 100])
async def test_a_capped_workflow_walk_visits_every_job_once(gateway: Gateway, size: int) -> None:
    gateway.suite.sim("workflow").quirks.cap = 50
    assert await walk_forward(gateway, "workflow", None, size) == workflow_ids(gateway)


async def test_a_capped_workflow_list_gives_the_true_last_jobs(gateway: Gateway) -> None:
    gateway.suite.sim("workflow").quirks.cap = 50
    data = await gateway.data(WORKFLOW_PAGE, {"last": 5})
    assert [job["nativeId"] for job in data["workflowJobs"]["nodes"]] == workflow_ids(gateway)[-5:]
    assert data["workflowJobs"]["pageInfo"]["hasPreviousPage"] is True


async def test_last_on_a_capped_workflow_list_is_a_bounded_probe(gateway: Gateway) -> None:
    gateway.suite.sim("workflow").quirks.cap = 50
    await gateway.data(WORKFLOW_PAGE, {"last": 5})
    # 263 jobs in pages of at most 50: a scan would take 6 requests or more per probe round;
    # exponential probing then bisection stays within a small bound.
    assert gateway.upstream_calls("workflow", "list") <= 16


async def test_the_federated_list_of_a_capped_workflow_source_is_whole(gateway: Gateway) -> None:
    gateway.suite.sim("workflow").quirks.cap = 50
    seen: list[str] = []
    after = None
    while True:
        data = await gateway.data(FEDERATED_WORKFLOW, {"first": 100, "after": after})
        page = data["jobs"]
        seen += [job["nativeId"] for job in page["nodes"]]
        assert page["totalCount"] == 263
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert sorted(seen) == sorted(workflow_ids(gateway))
    assert len(seen) == len(set(seen))


async def test_a_cap_once_seen_is_reused_for_the_next_pages(gateway: Gateway) -> None:
    gateway.suite.sim("workflow").quirks.cap = 50
    await gateway.data(WORKFLOW_PAGE, {"first": 100})
    gateway.reset_counts()
    await gateway.data(WORKFLOW_PAGE, {"first": 100})
    # Pages of 50 from the start: [0, 50), [50, 100) and the one-item lookahead.
    assert gateway.upstream_calls("workflow", "list") == 3


async def test_an_uncapped_list_ending_mid_page_costs_one_request_more_at_most(
    gateway: Gateway,
) -> None:
    sim = gateway.suite.sim("workflow")
    sim.dataset[None] = sim.dataset[None][:30]
    data = await gateway.data(WORKFLOW_PAGE, {"first": 100})
    assert len(data["workflowJobs"]["nodes"]) == 30
    assert data["workflowJobs"]["pageInfo"]["hasNextPage"] is False
    # [0, 100) and the lookahead [100, 101) at once, then [30, 100) proves the end.
    assert gateway.upstream_calls("workflow", "list") == 3


# Every paged provider, each under a cap that leaves a short page at a different place.
CAPPED = list(
    zip([p for p in PROVIDERS if paged(p)], itertools.cycle((7, 20, 9, 13)), strict=False)
)


@pytest.mark.parametrize(("provider", "cap"), CAPPED)
async def test_walks_both_ways_are_exact_under_any_provider_cap(
    gateway: Gateway, provider: str, cap: int
) -> None:
    sim = gateway.suite.sim(provider)
    sim.quirks.cap = cap
    project = first_project(gateway.suite, provider)
    expected = native_ids(provider, gateway.suite.jobs(provider, project))
    assert await walk_forward(gateway, provider, project, 30) == expected
    assert await walk_backward(gateway, provider, project, 30) == expected

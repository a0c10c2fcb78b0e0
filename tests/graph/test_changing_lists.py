"""Walks over lists that change while they are walked: jobs created and deleted between pages
(the simulators' `mutations`, `POST /_control/jobs` and busy mode) and ties in creation time
that come back in a new order on every request (`quirks.shuffle_ties`).

The guarantee: every job that exists for the whole walk is returned exactly once; jobs created
during the walk appear at most once; where that cannot be restored the page is a
STALE_CURSOR error, never a skipped or repeated job.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest

from tests.conftest import Gateway
from tests.graph.providers import FIELDS, native_ids
from tests.providers import PROJECT_PROVIDERS, PROVIDERS, demo_source, oracle

Between = Callable[[int], Awaitable[None] | None]

# (provider, extra connection arguments): default orders, and orders by creation time.
VIEWS = [(p, "") for p in PROVIDERS] + [(p, s) for p in PROVIDERS for s in oracle(p).time_sorts]


def project_of(gateway: Gateway, provider: str) -> str | None:
    if provider not in PROJECT_PROVIDERS:
        return None
    return gateway.suite.projects(provider)[0]


async def walk(
    gateway: Gateway,
    provider: str,
    project: str | None,
    extra: str,
    size: int,
    between: Between,
    *,
    backward: bool = False,
) -> list[str]:
    """Every page's ids in walk order, calling `between(page_number)` after each page."""
    spec = FIELDS[provider]
    query = spec.query(project, extra)
    seen: list[str] = []
    cursor = None
    for number in range(1000):
        variables: dict[str, Any] = (
            {"last": size, "before": cursor} if backward else {"first": size, "after": cursor}
        )
        connection = (await gateway.data(query, variables))[spec.field]
        ids = [edge["node"]["nativeId"] for edge in connection["edges"]]
        seen += reversed(ids) if backward else ids
        info = connection["pageInfo"]
        if not info["hasPreviousPage" if backward else "hasNextPage"]:
            return seen
        cursor = info["startCursor" if backward else "endCursor"]
        outcome = between(number)
        if outcome is not None:
            await outcome
    raise AssertionError("the walk did not end")


def stored_ids(gateway: Gateway, provider: str, project: str | None) -> list[str]:
    return native_ids(provider, gateway.suite.jobs(provider, project))


@pytest.mark.parametrize(("provider", "extra"), VIEWS)
async def test_jobs_created_between_pages_never_repeat_or_hide_old_ones(
    gateway: Gateway, provider: str, extra: str
) -> None:
    project = project_of(gateway, provider)
    before = set(stored_ids(gateway, provider, project))
    created: list[str] = []

    def more(_page: int) -> None:
        ids = gateway.suite.sim(provider).mutations.create(project, 3)
        created.extend(str(i) for i in ids)

    seen = await walk(gateway, provider, project, extra, 25, more)
    assert len(seen) == len(set(seen)), "a job was returned twice"
    assert before <= set(seen), "a job that existed for the whole walk was skipped"
    assert set(seen) <= before | set(created)


@pytest.mark.parametrize(("provider", "extra"), VIEWS)
async def test_jobs_deleted_behind_the_cursor_make_no_job_skip(
    gateway: Gateway, provider: str, extra: str
) -> None:
    project = project_of(gateway, provider)
    everything = set(stored_ids(gateway, provider, project))
    seen_so_far: list[str] = []
    deleted: set[str] = set()
    spec = FIELDS[provider]
    query = spec.query(project, extra)
    cursor = None
    while True:
        connection = (await gateway.data(query, {"first": 20, "after": cursor}))[spec.field]
        page = [edge["node"]["nativeId"] for edge in connection["edges"]]
        seen_so_far += page
        if not connection["pageInfo"]["hasNextPage"]:
            break
        cursor = connection["pageInfo"]["endCursor"]
        # Two jobs already walked past (not the cursor's own) disappear.
        gone = page[:2]
        gateway.suite.sim(provider).mutations.delete(project, gone)
        deleted.update(gone)
    assert len(seen_so_far) == len(set(seen_so_far))
    assert set(seen_so_far) == everything


@pytest.mark.parametrize(("provider", "extra"), VIEWS)
async def test_backward_walks_survive_jobs_created_and_deleted(
    gateway: Gateway, provider: str, extra: str
) -> None:
    project = project_of(gateway, provider)
    before = set(stored_ids(gateway, provider, project))
    sim = gateway.suite.sim(provider)
    created: list[str] = []
    removed: set[str] = set()

    def churn(page: int) -> None:
        created.extend(str(i) for i in sim.mutations.create(project, 2))
        # One job from the far end (already walked, for a backward walk from the end) goes.
        victim = stored_ids(gateway, provider, project)[-1]
        if victim not in created and page % 2 == 0:
            sim.mutations.delete(project, [victim])
            removed.add(victim)

    seen = await walk(gateway, provider, project, extra, 25, churn, backward=True)
    assert len(seen) == len(set(seen)), "a job was returned twice"
    assert before - removed <= set(seen)


async def test_a_deleted_cursor_job_in_a_list_ordered_by_time_realigns_by_time(
    gateway: Gateway,
) -> None:
    project = project_of(gateway, "metafold")
    query = FIELDS["metafold"].query(project, 'sort: "created:-1"')
    edges = (await gateway.data(query, {"first": 30}))["metafoldJobs"]["edges"]
    ids = [edge["node"]["nativeId"] for edge in edges]
    gateway.suite.sim("metafold").mutations.delete(project, [ids[9], ids[3]])
    rest = await gateway.data(query, {"first": 10, "after": edges[9]["cursor"]})
    # The job under the cursor is gone: the page is what came after it in time.
    assert [edge["node"]["nativeId"] for edge in rest["metafoldJobs"]["edges"]] == ids[10:20]


async def test_a_deleted_cursor_job_in_a_list_of_unknown_order_is_a_stale_cursor(
    gateway: Gateway,
) -> None:
    spec = FIELDS["workflow"]
    query = spec.query(None)
    page = (await gateway.data(query, {"first": 10}))["workflowJobs"]
    last = page["edges"][-1]["node"]["nativeId"]
    gateway.suite.sim("workflow").mutations.delete(None, [last])
    body = await gateway.post(query, {"first": 10, "after": page["pageInfo"]["endCursor"]})
    [error] = body["errors"]
    assert error["extensions"]["code"] == "STALE_CURSOR"
    assert "start again" in error["message"]


async def test_a_shift_beyond_the_realign_reach_is_a_stale_cursor(gateway: Gateway) -> None:
    project = project_of(gateway, "edge_impulse")
    spec = FIELDS["edge_impulse"]
    query = spec.query(project)
    page = (await gateway.data(query, {"first": 10}))["edgeImpulseJobs"]
    gateway.suite.sim("edge_impulse").mutations.create(project, 150)
    body = await gateway.post(query, {"first": 10, "after": page["pageInfo"]["endCursor"]})
    assert body["errors"][0]["extensions"]["code"] == "STALE_CURSOR"


@pytest.mark.parametrize(
    ("provider", "extra"), [(p, s) for p in PROVIDERS for s in oracle(p).time_sorts]
)
@pytest.mark.parametrize("size", [1, 3, 7])
async def test_shuffled_ties_in_time_never_break_a_walk_ordered_by_time(
    gateway: Gateway, provider: str, extra: str, size: int
) -> None:
    # A mid-sized project (37 to 100 jobs): a walk by ones re-reads Metafold's whole list on
    # every page, which over the largest project alone took 40 s.
    project = gateway.suite.projects(provider)[1]
    sim = gateway.suite.sim(provider)
    # Three runs of jobs created at one instant, sent in a new order on every request.
    for _ in range(3):
        sim.mutations.create(project, 6, tied=True)
    sim.quirks.shuffle_ties = True
    expected = set(stored_ids(gateway, provider, project))
    forward = await walk(gateway, provider, project, extra, size, lambda _p: None)
    assert len(forward) == len(set(forward)) and set(forward) == expected
    backward = await walk(gateway, provider, project, extra, size, lambda _p: None, backward=True)
    assert backward[::-1] == forward


async def test_busy_mode_walks_still_see_every_old_job_once(gateway: Gateway) -> None:
    project = project_of(gateway, "metafold")
    before = set(stored_ids(gateway, "metafold", project))
    gateway.suite.sim("metafold").quirks.busy = 2
    seen = await walk(gateway, "metafold", project, "", 30, lambda _p: None)
    assert len(seen) == len(set(seen))
    assert before <= set(seen)


async def test_jobs_are_created_and_deleted_over_the_control_endpoint(
    gateway: Gateway, sim_root: str
) -> None:
    project = project_of(gateway, "orange")
    url = gateway.suite.base_url(sim_root, "orange") + "/_control/jobs"
    async with aiohttp.ClientSession() as http:
        async with http.post(url, json={"project": project, "create": 2}) as response:
            assert response.status == 200
            created = (await response.json())["created"]
        assert set(created) <= set(stored_ids(gateway, "orange", project))
        async with http.post(url, json={"project": project, "delete": created[:1]}) as response:
            assert (await response.json())["deleted"] == 1
        async with http.post(url, json={"project": "nope", "create": 1}) as response:
            assert response.status == 404
    assert created[0] not in stored_ids(gateway, "orange", project)
    assert created[1] in stored_ids(gateway, "orange", project)


FEDERATED = """
query ($first: Int, $after: String, $sources: [String!]) {
  jobs(sources: $sources, first: $first, after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes { nativeId }
  }
}
"""


@pytest.mark.parametrize("provider", [p for p in PROVIDERS if not oracle(p).sorts_upstream])
async def test_shuffled_ties_never_break_a_federated_walk_sorted_locally(
    gateway: Gateway, provider: str
) -> None:
    source = demo_source(provider)
    sim = gateway.suite.sim(provider)
    projects = gateway.suite.projects(provider) if provider in PROJECT_PROVIDERS else [None]
    for project in projects:
        for _ in range(2 if gateway.suite.jobs(provider, project) else 0):
            sim.mutations.create(project, 5, tied=True)
    sim.quirks.shuffle_ties = True
    config = next(s for s in gateway.config.sources if s.name == source)
    listed = config.projects if provider in PROJECT_PROVIDERS else [None]
    expected = {i for project in listed for i in stored_ids(gateway, provider, project)}
    seen: list[str] = []
    after = None
    while True:
        variables = {"first": 4, "after": after, "sources": [source]}
        page = (await gateway.data(FEDERATED, variables))["jobs"]
        seen += [node["nativeId"] for node in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    dups = [i for i in set(seen) if seen.count(i) > 1]
    assert not dups, [(d, [n for n, x in enumerate(seen) if x == d]) for d in dups]
    assert set(seen) == expected

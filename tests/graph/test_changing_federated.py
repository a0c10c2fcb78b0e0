"""Federated `jobs` walks over lists that change while they are walked: jobs created in every
stream and deleted behind and ahead of the cursor between pages, forward and backward, newest
and oldest first, ties shuffled by the upstreams that sort, and a filter applied locally.

The guarantee is the per-provider one: every job that exists for the whole walk is returned
exactly once, in order; jobs created during the walk appear at most once.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

import pytest

from resolvers.config import parse_config
from resolvers.domain import CreatedOrder, JobFilterSpec
from resolvers.merge import plan_streams
from resolvers.providers.registry import build_adapters
from simulators import SimulatorSuite
from tests.conftest import Gateway
from tests.graph.providers import native_ids
from tests.providers import PROJECT_PROVIDERS, PROVIDERS, demo_source


def sorting(suite: SimulatorSuite) -> set[str]:
    """Providers whose upstream sorts by creation time itself: ties may come back in any
    order there."""
    config = parse_config({"sources": suite.demo_sources("http://127.0.0.1:9")}, environ={})
    adapters = build_adapters(config.sources)
    plan = plan_streams(config.sources, adapters, CreatedOrder.DESC, JobFilterSpec())
    return {stream.provider.value for stream in plan.streams if stream.ordered}


WALK = """
query ($first: Int, $after: String, $last: Int, $before: String, $order: JobOrder,
       $filter: JobFilter) {
  jobs(first: $first, after: $after, last: $last, before: $before, orderBy: $order,
       filter: $filter) {
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    nodes { provider projectId nativeId createdAt status }
  }
}
"""


@pytest.fixture
def suite() -> SimulatorSuite:
    return SimulatorSuite(sizes="small")


@pytest.fixture(params=[0.0, 0.05], ids=["read-every-operation", "snapshots-rolling-over"])
def source_overrides(request: pytest.FixtureRequest) -> dict[str, dict[str, Any]]:
    # Every walk runs twice: with the lists read whole for every page, and with snapshots of
    # them that expire between some pages and not others (max_staleness_s).
    return {demo_source(p): {"max_staleness_s": request.param} for p in PROVIDERS}


def streams(suite: SimulatorSuite) -> list[tuple[str, str | None]]:
    """Every (provider, project) holding jobs (a project without any has nothing to clone)."""
    listed: list[tuple[str, str | None]] = []
    for provider in PROVIDERS:
        projects = suite.projects(provider) if provider in PROJECT_PROVIDERS else [None]
        listed += [(provider, p) for p in projects if suite.jobs(provider, p)]
    return listed


def stored(suite: SimulatorSuite) -> set[tuple[str, str]]:
    return {
        (provider, native)
        for provider, project in streams(suite)
        for native in native_ids(provider, suite.jobs(provider, project))
    }


@dataclass
class Walk:
    """One walk's record: what it returned, and what existed and changed while it ran."""

    seen: list[tuple[str, str]] = field(default_factory=list)
    times: list[str] = field(default_factory=list)
    deleted: set[tuple[str, str]] = field(default_factory=set)
    created: set[tuple[str, str]] = field(default_factory=set)


def change(suite: SimulatorSuite, walk: Walk, rng: random.Random, *, tied: bool) -> None:
    """Between two pages: new jobs in a few streams, and one job deleted behind the cursor
    and one ahead of it."""
    for provider, project in rng.sample(streams(suite), 4):
        made = suite.sim(provider).mutations.create(project, rng.randint(1, 3), tied=tied)
        walk.created |= {(provider, str(native)) for native in made}
    behind = [key for key in walk.seen if key not in walk.deleted]
    ahead = sorted(stored(suite) - set(walk.seen) - walk.deleted)
    for pool in (behind, ahead):
        if not pool:
            continue
        provider, native = rng.choice(pool)
        for listed_provider, project in streams(suite):
            if listed_provider == provider:
                suite.sim(provider).mutations.delete(project, [native])
        walk.deleted.add((provider, native))


async def run_walk(
    gateway: Gateway,
    size: int,
    *,
    backward: bool = False,
    order: str = "CREATED_AT_DESC",
    filter: dict[str, Any] | None = None,
    tied: bool = False,
    seed: int = 7,
    changes: int = 12,
) -> tuple[Walk, set[tuple[str, str]]]:
    suite = gateway.suite
    rng = random.Random(seed)
    initial = stored(suite)
    walk = Walk()
    cursor = None
    for number in range(500):
        variables: dict[str, Any] = {"order": order, "filter": filter}
        if backward:
            variables |= {"last": size, "before": cursor}
        else:
            variables |= {"first": size, "after": cursor}
        connection = (await gateway.data(WALK, variables))["jobs"]
        nodes = connection["nodes"]
        if backward:
            nodes = list(reversed(nodes))
        walk.seen += [(n["provider"].lower(), n["nativeId"]) for n in nodes]
        walk.times += [n["createdAt"] for n in nodes]
        info = connection["pageInfo"]
        if not info["hasPreviousPage" if backward else "hasNextPage"]:
            return walk, initial
        assert nodes, "a further page promised after a page with no edges"
        cursor = info["startCursor" if backward else "endCursor"]
        if number < changes:
            change(suite, walk, rng, tied=tied)
    raise AssertionError("the walk did not end")


def check(walk: Walk, initial: set[tuple[str, str]], *, newest_first: bool) -> None:
    repeated = sorted({key for key in walk.seen if walk.seen.count(key) > 1})
    assert not repeated, f"returned twice: {repeated}"
    missing = sorted(initial - walk.deleted - set(walk.seen))
    assert not missing, f"existed for the whole walk but never returned: {missing}"
    unknown = set(walk.seen) - initial - walk.created
    assert not unknown, f"never stored: {sorted(unknown)}"
    # Walk order is the list's order (created times as returned, missing last).
    present = [t for t in walk.times if t is not None]
    assert present == sorted(present, reverse=newest_first)
    assert all(t is None for t in walk.times[len(present) :])


@pytest.mark.parametrize("size", [7, 25])
@pytest.mark.parametrize("order", ["CREATED_AT_DESC", "CREATED_AT_ASC"])
async def test_forward_federated_walks_over_changing_lists_are_exact(
    gateway: Gateway, size: int, order: str
) -> None:
    walk, initial = await run_walk(gateway, size, order=order)
    check(walk, initial, newest_first=order == "CREATED_AT_DESC")


@pytest.mark.parametrize("order", ["CREATED_AT_DESC", "CREATED_AT_ASC"])
async def test_backward_federated_walks_over_changing_lists_are_exact(
    gateway: Gateway, order: str
) -> None:
    walk, initial = await run_walk(gateway, 9, backward=True, order=order)
    # A backward walk returns the list from its end: the reverse of the list's order.
    check(walk, initial, newest_first=order == "CREATED_AT_ASC")


async def test_shuffled_ties_in_sorting_upstreams_never_break_a_federated_walk(
    gateway: Gateway,
) -> None:
    suite = gateway.suite
    sorted_upstreams = sorting(suite)
    assert sorted_upstreams
    for provider, project in streams(suite):
        if provider in sorted_upstreams:
            suite.sim(provider).mutations.create(project, 6, tied=True)
            suite.sim(provider).quirks.shuffle_ties = True
    walk, initial = await run_walk(gateway, 5, tied=True, seed=11)
    check(walk, initial, newest_first=True)


async def test_a_locally_filtered_federated_walk_over_changing_lists_is_exact(
    gateway: Gateway,
) -> None:
    # A search no upstream applies exactly: streams are filtered here, in chunks. The jobs
    # that match are what a walk over the unchanged lists returns.
    search = {"search": "a"}
    unchanged, _ = await run_walk(gateway, 100, filter=search, changes=0)
    matching = set(unchanged.seen)
    assert 0 < len(matching) < len(stored(gateway.suite))
    walk, _ = await run_walk(gateway, 6, filter=search, seed=3)
    check(walk, matching, newest_first=True)


@pytest.mark.parametrize("search", [None, "a"])
@pytest.mark.parametrize(("busy", "realistic"), [(1, False), (3, False), (1, True), (3, True)])
async def test_federated_walks_over_busy_projects_are_exact(
    gateway: Gateway, busy: int, realistic: bool, search: str | None
) -> None:
    # Busy mode: jobs arrive in a project as each list request of it is served, so the lists
    # change between the requests of one page too, not only between pages (and, with the
    # realistic set's server caps, between the requests of one window).
    job_filter = {"search": search} if search else None
    gateway.suite.switch_on(realistic=realistic)
    unchanged, unchanged_all = await run_walk(gateway, 100, filter=job_filter, changes=0)
    expected = set(unchanged.seen)
    gateway.suite.switch_on(realistic=realistic, busy=busy)
    walk, _ = await run_walk(gateway, 30, filter=job_filter, changes=0)
    walk.created = stored(gateway.suite) - unchanged_all
    check(walk, expected, newest_first=True)

"""Snapshots of the lists the federated merge reads whole (a source's `max_staleness_s`, issue
19): those an upstream cannot sort, and unpaged ones.

With `max_staleness_s` above 0 (the default is 2 s) one whole read is shared by every
operation within that bound; with 0 every operation reads again, as before. The streams come
from the merge plan, not a provider list. No case depends on how fast the machine is: "within
the bound" uses an hour, "after it" a bound the test sleeps past."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from graph.http.app import build_app
from resolvers.config import parse_config
from resolvers.domain import CreatedOrder, JobFilterSpec
from resolvers.merge import plan_streams
from resolvers.merge.plan import Stream
from resolvers.paging import PageWindow, WholeListRequest
from resolvers.providers.registry import build_adapters
from simulators import Simulator
from tests.conftest import Gateway
from tests.jobs.conftest import JOBS_QUERY
from tests.providers import PROVIDERS, demo_source, oracle

LONG = 3600.0


def planned(gateway: Gateway) -> tuple[Stream, ...]:
    config = gateway.config
    adapters = build_adapters(config.sources)
    return plan_streams(config.sources, adapters, CreatedOrder.DESC, JobFilterSpec()).streams


def lists_whole(stream: Stream) -> bool:
    """Whether every request of the stream's upstream returns its whole list (no paging)."""
    return isinstance(stream.adapter.plan(PageWindow(0, 1), None)[0], WholeListRequest)


def unsortable(gateway: Gateway) -> list[Stream]:
    streams = [stream for stream in planned(gateway) if not stream.ordered]
    assert streams, "the demo config has no list the upstream cannot sort"
    return streams


def whole(gateway: Gateway) -> list[Stream]:
    """The streams read whole: those the upstream cannot sort, and unpaged sorted ones."""
    streams = [s for s in planned(gateway) if not s.ordered or lists_whole(s)]
    assert any(s.ordered for s in streams), "the demo config has no unpaged sorted list"
    return streams


def one_list(gateway: Gateway, sorted_upstream: bool) -> tuple[Stream, Simulator, dict[str, Any]]:
    """A list read whole (an unpaged sorted one, or one the upstream cannot sort), its
    simulator, and the variables of a first page of its source."""
    stream = next(s for s in whole(gateway) if s.ordered is sorted_upstream)
    variables = {"first": 5, "sources": [stream.source]}
    return stream, gateway.suite.sim(stream.provider.value), variables


def paged(gateway: Gateway) -> list[Stream]:
    return [s for s in planned(gateway) if s.ordered and not lists_whole(s)]


def list_requests(gateway: Gateway, stream: Stream) -> int:
    """List requests the simulator served for the stream's (project's) list."""
    log = gateway.suite.sim(stream.provider.value).log
    entries = [e for e in log.entries if e.route == "list"]
    if stream.query.project is None:
        return len(entries)
    return sum(1 for e in entries if e.matches("list", {"project_id": stream.query.project}))


def counts(gateway: Gateway, streams: list[Stream]) -> dict[tuple[str, str | None], int]:
    return {(s.source, s.query.project): list_requests(gateway, s) for s in streams}


def edges(body: dict[str, Any]) -> list[tuple[str, str | None, str]]:
    assert "errors" not in body, body
    return [
        (e["node"]["source"], e["node"]["projectId"], e["node"]["nativeId"])
        for e in body["data"]["jobs"]["edges"]
    ]


def staleness(seconds: float) -> dict[str, dict[str, Any]]:
    return {demo_source(provider): {"max_staleness_s": seconds} for provider in PROVIDERS}


@pytest.fixture
def source_overrides() -> dict[str, dict[str, Any]]:
    return staleness(LONG)


async def test_one_whole_read_serves_every_operation_within_the_bound(gateway: Gateway) -> None:
    streams = whole(gateway)
    first = await gateway.post(JOBS_QUERY, {"first": 30})
    after_first = counts(gateway, streams)
    assert all(n >= 1 for n in after_first.values()), after_first
    paged_before = counts(gateway, paged(gateway))

    second = await gateway.post(JOBS_QUERY, {"first": 30})
    cursor = second["data"]["jobs"]["pageInfo"]["endCursor"]
    third = await gateway.post(JOBS_QUERY, {"first": 30, "after": cursor})
    totals = await gateway.post(JOBS_QUERY, {"first": 0})

    assert edges(second) == edges(first)
    assert edges(third) and not set(edges(third)) & set(edges(second))
    assert totals["data"]["jobs"]["totalCount"] == first["data"]["jobs"]["totalCount"]
    # No list read whole was read again; the paged sorted streams still were.
    assert counts(gateway, streams) == after_first
    assert counts(gateway, paged(gateway)) != paged_before


async def test_by_default_operations_at_once_share_one_read(
    gateway: Gateway, sim_root: str, aiohttp_client: Callable[..., Any]
) -> None:
    # What one operation reads of each list, on a gateway that keeps no snapshot...
    alone = await second_gateway(gateway, sim_root, aiohttp_client, staleness=0.0)
    streams = whole(alone)
    await alone.post(JOBS_QUERY, {"first": 30})
    one_read = counts(alone, streams)
    # ...is what three at once read on a gateway with the default bound.
    default = await second_gateway(gateway, sim_root, aiohttp_client, staleness=None)
    default.reset_counts()
    bodies = await asyncio.gather(*(default.post(JOBS_QUERY, {"first": 30}) for _ in range(3)))
    assert len({tuple(edges(body)) for body in bodies}) == 1
    assert counts(default, streams) == one_read


@pytest.mark.parametrize("source_overrides", [staleness(0.0)], ids=["zero"])
async def test_with_no_staleness_every_operation_reads_the_lists_again(
    gateway: Gateway,
) -> None:
    streams = whole(gateway)
    await gateway.post(JOBS_QUERY, {"first": 30})
    once = counts(gateway, streams)
    await gateway.post(JOBS_QUERY, {"first": 30})
    again = counts(gateway, streams)
    assert all(again[key] > n for key, n in once.items()), (once, again)


async def test_concurrent_operations_wait_for_one_read(
    gateway: Gateway, sim_root: str, aiohttp_client: Callable[..., Any]
) -> None:
    streams = whole(gateway)
    # What one operation reads of each list, on a gateway that keeps no snapshot.
    alone = await second_gateway(gateway, sim_root, aiohttp_client, staleness=0.0)
    await alone.post(JOBS_QUERY, {"first": 10})
    one_read = counts(gateway, streams)
    gateway.reset_counts()

    for stream in streams:
        gateway.suite.sim(stream.provider.value).faults.set_latency(100)
    bodies = await asyncio.gather(*(gateway.post(JOBS_QUERY, {"first": 10}) for _ in range(6)))
    assert len({tuple(edges(body)) for body in bodies}) == 1
    assert counts(gateway, streams) == one_read


async def second_gateway(
    gateway: Gateway,
    sim_root: str,
    aiohttp_client: Callable[..., Any],
    *,
    staleness: float | None,
) -> Gateway:
    """Another gateway on the same simulators, every source with `staleness` (None: the
    default)."""
    given = {} if staleness is None else {"max_staleness_s": staleness}
    sources = [{**source, **given} for source in gateway.suite.demo_sources(sim_root)]
    config = parse_config({"sources": sources}, environ={})
    client: TestClient = await aiohttp_client(build_app(config, gateway.suite.demo_environ()))
    return Gateway(client, gateway.suite, config)


@pytest.mark.parametrize("sorted_upstream", [False, True], ids=["unsortable", "unpaged"])
async def test_jobs_created_after_a_snapshot_are_not_shown_within_the_bound(
    gateway: Gateway, sorted_upstream: bool
) -> None:
    stream, sim, variables = one_list(gateway, sorted_upstream)
    before = edges(await gateway.post(JOBS_QUERY, variables))
    sim.mutations.create(stream.query.project, 2)
    gateway.reset_counts()
    within = edges(await gateway.post(JOBS_QUERY, variables))
    assert list_requests(gateway, stream) == 0
    assert within == before


@pytest.mark.parametrize("source_overrides", [staleness(0.2)], ids=["fifth-of-a-second"])
@pytest.mark.parametrize("sorted_upstream", [False, True], ids=["unsortable", "unpaged"])
async def test_jobs_created_after_a_snapshot_show_once_it_is_older_than_the_bound(
    gateway: Gateway, sorted_upstream: bool
) -> None:
    stream, sim, variables = one_list(gateway, sorted_upstream)
    await gateway.post(JOBS_QUERY, variables)
    made = [str(i) for i in sim.mutations.create(stream.query.project, 2)]
    await asyncio.sleep(0.3)  # past the bound, however slow the machine
    gateway.reset_counts()
    fresh = edges(await gateway.post(JOBS_QUERY, variables))
    assert {native for _, _, native in fresh[:2]} == set(made)
    assert list_requests(gateway, stream) >= 1


async def test_a_failed_read_is_not_kept(gateway: Gateway) -> None:
    stream = unsortable(gateway)[0]
    sim = gateway.suite.sim(stream.provider.value)
    variables = {"first": 5, "sources": [stream.source]}
    sim.faults.add("wrong_schema", count=1)
    failed = await gateway.post(JOBS_QUERY, variables)
    assert [f["source"] for f in failed["data"]["jobs"]["failures"]] == [stream.source]
    sim.faults.clear()
    answered = await gateway.post(JOBS_QUERY, variables)
    assert answered["data"]["jobs"]["failures"] == []
    assert len(edges(answered)) == 5


@pytest.mark.parametrize("gateway_settings", [{"server": {"snapshot_max_jobs": 5}}])
async def test_a_list_longer_than_the_memory_bound_is_never_kept(gateway: Gateway) -> None:
    streams = whole(gateway)
    await gateway.post(JOBS_QUERY, {"first": 10})
    once = counts(gateway, streams)
    await gateway.post(JOBS_QUERY, {"first": 10})
    again = counts(gateway, streams)
    long_lists = [key for key, n in once.items() if again[key] > n]
    assert long_lists, (once, again)
    metrics = await (await gateway.client.get("/metrics")).text()
    held = next(line for line in metrics.splitlines() if line.startswith("jobgraph_snapshot_jobs"))
    assert float(held.split()[-1]) <= 5


async def test_the_metrics_report_the_jobs_held(gateway: Gateway) -> None:
    await gateway.post(JOBS_QUERY, {"first": 10})
    metrics = await (await gateway.client.get("/metrics")).text()
    values = {
        line.split()[0]: float(line.split()[-1])
        for line in metrics.splitlines()
        if line.startswith(("jobgraph_snapshot_jobs", "jobgraph_snapshots"))
    }
    streams = whole(gateway)
    expected = sum(len(gateway.suite.jobs(s.provider.value, s.query.project)) for s in streams)
    assert values == {"jobgraph_snapshot_jobs": expected, "jobgraph_snapshots": len(streams)}


TOKENS = {
    "auth": {
        "mode": "token",
        "tokens": [
            {"name": "alpha", "token_env": "TEST_TOKEN_ALPHA"},
            {"name": "beta", "token_env": "TEST_TOKEN_BETA"},
        ],
    }
}


@pytest.mark.parametrize("gateway_settings", [TOKENS], ids=["two-tokens"])
@pytest.mark.parametrize(
    "extra_environ", [{"TEST_TOKEN_ALPHA": "alpha-token", "TEST_TOKEN_BETA": "beta-token"}]
)
async def test_a_snapshot_serves_only_the_caller_whose_operation_read_it(
    gateway: Gateway,
) -> None:
    streams = whole(gateway)
    alpha = {"Authorization": "Bearer alpha-token"}
    beta = {"Authorization": "Bearer beta-token"}
    await gateway.post(JOBS_QUERY, {"first": 10}, **alpha)
    once = counts(gateway, streams)
    await gateway.post(JOBS_QUERY, {"first": 10}, **alpha)
    assert counts(gateway, streams) == once
    # Another caller reads the lists for itself, then shares its own snapshots.
    await gateway.post(JOBS_QUERY, {"first": 10}, **beta)
    after_beta = counts(gateway, streams)
    assert all(after_beta[key] > n for key, n in once.items()), (once, after_beta)
    await gateway.post(JOBS_QUERY, {"first": 10}, **beta)
    assert counts(gateway, streams) == after_beta


@pytest.mark.parametrize("sorted_upstream", [False, True], ids=["unsortable", "unpaged"])
async def test_the_per_provider_fields_never_use_a_snapshot(
    gateway: Gateway, sorted_upstream: bool
) -> None:
    stream, _, _ = one_list(gateway, sorted_upstream)
    await gateway.post(JOBS_QUERY, {"first": 5, "sources": [stream.source]})  # a snapshot now
    query = oracle(stream.provider.value).query(stream.query.project)
    gateway.reset_counts()
    for _ in range(2):
        body = await gateway.post(query, {"first": 5})
        assert "errors" not in body, body
    assert list_requests(gateway, stream) >= 2

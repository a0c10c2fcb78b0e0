"""What a subscription's poll reads, counted in the simulators: a sorted upstream (Orange,
ModelArts, Metafold sort newest first) only down to what the last poll knew, with a whole read
every FULL_SWEEP_EVERY polls; an unsorted one (Edge Impulse, WORKFLOW) whole every time."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from graph.http.app import SERVICES
from resolvers.connection import FREE_MARGIN
from resolvers.watch import FULL_SWEEP_EVERY, Poller
from tests.service.conftest import ADMIN_TOKEN, Service
from tests.service.wsclient import RawSocket, raw_socket

ORANGE_BIG = "3f2b8c1e-6a4d-4e8b-9c27-5d1f0a7e4b93"  # 412 jobs: five windows of 100
EI_BIG = "4211"
WATCH = "subscription($s: [String!]) { jobEvents(sources: $s) { kind job { nativeId status } } }"


@pytest.fixture
def source_overrides() -> dict[str, dict[str, Any]]:
    return {
        "orange": {"poll_interval_s": 1, "projects": [ORANGE_BIG]},
        "ei": {"poll_interval_s": 1, "projects": [EI_BIG]},
    }


def _poller(service: Service) -> Poller | None:
    app = service.server.app
    assert app is not None
    pollers = list(app[SERVICES].watch.pollers.values())
    return pollers[0] if pollers else None


class PollReads:
    """The list requests (offset, limit) of each of a poller's polls, from the baseline on.
    A poll ends by replacing `known` and then sleeps a whole interval (1 s), so the
    simulator's log is cut there."""

    def __init__(self, service: Service, provider: str) -> None:
        self.service = service
        self.log = service.suite.sim(provider).log
        self.seen: Any = None
        self.cut = 0

    async def next(self, polls: int) -> list[list[Read]]:
        """The reads of the next `polls` polls to finish."""
        result: list[list[Read]] = []
        async with asyncio.timeout(60):
            while len(result) < polls:
                poller = _poller(self.service)
                known = None if poller is None else poller.known
                if known is not None and known is not self.seen:
                    entries = self.log.entries[self.cut :]
                    self.cut = len(self.log.entries)
                    result.append([_read(e.query) for e in entries if e.route == "list"])
                    self.seen = known
                await asyncio.sleep(0.005)
        return result


Read = tuple[int, int]


def _read(query: tuple[tuple[str, str], ...]) -> Read:
    params = dict(query)
    return int(params.get("offset", 0)), int(params.get("limit", 0))


def _deepest(reads: list[Read]) -> int:
    """The position just past the last job a poll requested."""
    return max(offset + limit for offset, limit in reads)


async def _subscribe(ws: RawSocket, source: str) -> None:
    await ws.subscribe("1", WATCH, {"s": [source]})


async def test_a_sorted_upstream_polls_only_its_newest_window(service: Service) -> None:
    async with raw_socket(service.http, service.graphql_url, ADMIN_TOKEN) as ws:
        await _subscribe(ws, "orange")
        baseline, *polls = await PollReads(service, "orange").next(4)
    assert _deepest(baseline) >= 412
    # One window of 100 and the one-job look-ahead that shows where it ends (with the few
    # more jobs a sorted read takes where they cost no request: FREE_MARGIN), in as many
    # requests as 101 jobs need under Orange's cap of 50.
    assert [_deepest(reads) for reads in polls] == [101 + FREE_MARGIN] * 3, polls
    assert [len(reads) for reads in polls] == [3, 3, 3], polls


async def test_an_unsorted_upstream_is_read_whole_every_poll(service: Service) -> None:
    async with raw_socket(service.http, service.graphql_url, ADMIN_TOKEN) as ws:
        await _subscribe(ws, "ei")
        polls = await PollReads(service, "edge_impulse").next(3)
    assert all(_deepest(reads) >= 357 for reads in polls), polls


async def test_a_sorted_poll_still_sees_new_and_finished_jobs(service: Service) -> None:
    sim = service.suite.sim("orange")
    async with raw_socket(service.http, service.graphql_url, ADMIN_TOKEN) as ws:
        await _subscribe(ws, "orange")
        await PollReads(service, "orange").next(1)
        running = next(j for j in sim.dataset[ORANGE_BIG] if j.payload["state"] == "in-progress")
        running.payload["state"] = "completed"
        (created,) = sim.mutations.create(ORANGE_BIG, 1)
        events = [(await ws.next_for("1"))["payload"]["data"]["jobEvents"] for _ in range(2)]
    assert events == [
        {
            "kind": "CREATED",
            "job": {"nativeId": str(created), "status": events[0]["job"]["status"]},
        },
        {"kind": "UPDATED", "job": {"nativeId": str(running.payload["id"]), "status": "SUCCEEDED"}},
    ]


async def test_a_sweep_every_few_polls_sees_an_old_job_removed(service: Service) -> None:
    sim = service.suite.sim("orange")
    oldest = sim.mutations.shape.default_order(sim.dataset[ORANGE_BIG])[0]
    assert oldest.payload["state"] in ("completed", "failed")
    async with raw_socket(service.http, service.graphql_url, ADMIN_TOKEN) as ws:
        await _subscribe(ws, "orange")
        reads = PollReads(service, "orange")
        await reads.next(1)  # the baseline
        sim.mutations.delete(ORANGE_BIG, [oldest.payload["id"]])
        polls = await reads.next(FULL_SWEEP_EVERY - 1)
        event = (await ws.next_for("1"))["payload"]["data"]["jobEvents"]
    assert (event["kind"], event["job"]["nativeId"]) == ("REMOVED", str(oldest.payload["id"]))
    # Polls 2 to FULL_SWEEP_EVERY - 1 read the newest window; poll FULL_SWEEP_EVERY all.
    whole = [_deepest(reads) >= 411 for reads in polls]
    assert whole == [False] * (FULL_SWEEP_EVERY - 2) + [True], polls

"""Subscriptions over graphql-transport-ws (Python `gql` with its websockets transport)
against the real gateway and simulators: events follow changes made in the simulators."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from gql import Client, gql
from gql.transport.exceptions import TransportQueryError
from gql.transport.websockets import WebsocketsTransport

from graph.app import SERVICES
from tests.service.conftest import ADMIN_TOKEN, DASHBOARD_TOKEN, Service

SOURCES = ("ei", "orange", "mf", "wf", "ma")
# poll interval + 1 s, plus headroom for a shared machine: a deadline, never an assertion.
DEADLINE_S = 10.0

ONE_JOB = gql(
    """
    subscription One($id: ID!) {
      jobChanged(id: $id) { kind previousStatus at job { id status } }
    }
    """
)

EVENTS = gql(
    """
    subscription Watch($sources: [String!]) {
      jobEvents(sources: $sources) {
        kind previousStatus at
        job { id source nativeId status }
      }
    }
    """
)


@pytest.fixture
def source_overrides() -> dict[str, dict[str, Any]]:
    return {name: {"poll_interval_s": 1, "max_retries": 0} for name in SOURCES}


class Watcher:
    """One subscription's results (events or coded errors) as they arrive."""

    def __init__(self) -> None:
        self.items: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def next(self) -> dict[str, Any]:
        return await asyncio.wait_for(self.items.get(), DEADLINE_S)


async def _pump(
    session: Any, variables: dict[str, Any], watcher: Watcher, document: Any = EVENTS
) -> None:
    field = "jobEvents" if document is EVENTS else "jobChanged"
    while True:
        try:
            async for result in session.subscribe(document, variable_values=variables):
                await watcher.items.put(result[field])
            return
        except TransportQueryError as exc:
            # gql ends its iteration on an error event (the gateway keeps the subscription):
            # record the error and subscribe again.
            await watcher.items.put({"errors": exc.errors})


async def _polls_of(service: Service, provider: str, count: int) -> None:
    """Wait until `provider` has been polled `count` more times (the baseline is taken)."""
    sim = service.suite.sim(provider)
    start = sim.log.count(None)
    async with asyncio.timeout(DEADLINE_S):
        while sim.log.count(None) < start + count:  # noqa: ASYNC110 (the log has no event)
            await asyncio.sleep(0.05)


@pytest.fixture
async def subscribe(service: Service) -> AsyncIterator[Any]:
    tasks: list[asyncio.Task[None]] = []
    clients: list[Client] = []

    async def start(token: str, sources: list[str] | None, job_id: str | None = None) -> Watcher:
        transport = WebsocketsTransport(
            url=service.graphql_url.replace("http", "ws", 1),
            headers={"Authorization": f"Bearer {token}"},
            subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
        )
        client = Client(transport=transport)
        session = await client.connect_async()
        clients.append(client)
        watcher = Watcher()
        if job_id is None:
            pump = _pump(session, {"sources": sources}, watcher)
        else:
            pump = _pump(session, {"id": job_id}, watcher, ONE_JOB)
        tasks.append(asyncio.create_task(pump))
        return watcher

    yield start
    for task in tasks:
        task.cancel()
    for client in clients:
        await client.close_async()


@pytest.fixture
def subscribe_one(subscribe: Any) -> Any:
    async def start(job_id: str) -> Watcher:
        watcher: Watcher = await subscribe(ADMIN_TOKEN, None, job_id)
        return watcher

    return start


async def test_created_then_removed_jobs_arrive_once_in_order(
    service: Service, subscribe: Any
) -> None:
    watcher = await subscribe(ADMIN_TOKEN, ["mf"])
    await _polls_of(service, "metafold", 2)
    sim = service.suite.sim("metafold")
    project = sim.projects()[0]
    (created,) = sim.mutations.create(project, 1)
    first = await watcher.next()
    assert (first["kind"], first["job"]["nativeId"]) == ("CREATED", str(created))
    assert first["previousStatus"] is None
    sim.mutations.delete(project, [created])
    second = await watcher.next()
    assert (second["kind"], second["job"]["nativeId"]) == ("REMOVED", str(created))
    assert watcher.items.empty()


async def test_scoped_token_sees_only_its_sources(service: Service, subscribe: Any) -> None:
    watcher = await subscribe(DASHBOARD_TOKEN, None)
    await _polls_of(service, "metafold", 2)
    orange = service.suite.sim("orange")
    orange.mutations.create(orange.projects()[0], 1)
    metafold = service.suite.sim("metafold")
    (created,) = metafold.mutations.create(metafold.projects()[0], 1)
    event = await watcher.next()
    assert (event["job"]["source"], event["job"]["nativeId"]) == ("mf", str(created))
    assert service.suite.sim("orange").log.count(None) == 0


async def test_a_failing_source_sends_a_coded_error_then_events_again(
    service: Service, subscribe: Any
) -> None:
    watcher = await subscribe(ADMIN_TOKEN, ["mf"])
    await _polls_of(service, "metafold", 2)
    sim = service.suite.sim("metafold")
    sim.faults.add("status", count=1, status=503)
    failed = await watcher.next()
    assert [e["extensions"]["code"] for e in failed["errors"]] == ["UPSTREAM_UNAVAILABLE"]
    assert failed["errors"][0]["extensions"]["source"] == "mf"
    await _polls_of(service, "metafold", 10)
    (created,) = sim.mutations.create(sim.projects()[0], 1)
    event = await watcher.next()
    assert (event["kind"], event["job"]["nativeId"]) == ("CREATED", str(created))


async def test_subscribing_to_an_unreadable_source_is_forbidden(
    service: Service, subscribe: Any
) -> None:
    watcher = await subscribe(DASHBOARD_TOKEN, ["orange"])
    refused = await watcher.next()
    assert [e["extensions"]["code"] for e in refused["errors"]] == ["FORBIDDEN"]


async def test_a_finished_job_is_one_updated_event_on_job_changed(
    service: Service, subscribe_one: Any
) -> None:
    sim = service.suite.sim("metafold")
    project = sim.projects()[0]
    (created,) = sim.mutations.create(project, 1)
    job = next(j for j in sim.dataset[project] if str(j.payload["id"]) == str(created))
    job.payload["state"] = "started"
    reply = await service.data(
        "query($p: String!) { metafoldJobs(projectId: $p, first: 100) { nodes { id nativeId } } }",
        {"p": project},
    )
    (global_id,) = [
        n["id"] for n in reply["metafoldJobs"]["nodes"] if n["nativeId"] == str(created)
    ]
    watcher = await subscribe_one(global_id)
    await _polls_of(service, "metafold", 2)
    job.payload["state"] = "failure"
    event = await watcher.next()
    assert (event["kind"], event["previousStatus"]) == ("UPDATED", "RUNNING")
    assert (event["job"]["id"], event["job"]["status"]) == (global_id, "FAILED")


async def test_subscribers_of_one_source_share_one_poller(service: Service, subscribe: Any) -> None:
    watchers = [await subscribe(ADMIN_TOKEN, ["mf"]) for _ in range(5)]
    await _polls_of(service, "metafold", 2)
    assert len(service_pollers(service)) == len(service.suite.sim("metafold").projects())
    sim = service.suite.sim("metafold")
    (created,) = sim.mutations.create(sim.projects()[0], 1)
    for watcher in watchers:
        event = await watcher.next()
        assert (event["kind"], event["job"]["nativeId"]) == ("CREATED", str(created))


def service_pollers(service: Service) -> list[Any]:
    app = service.server.app
    assert app is not None
    return list(app[SERVICES].watch.pollers)

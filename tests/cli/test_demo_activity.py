"""`jobgraph demo` moves: new jobs appear and start and finish every few seconds, so a
subscription (here `gql` over graphql-transport-ws, no token: the demo has no auth) shows
events within a poll interval or two."""

from __future__ import annotations

import asyncio
import subprocess
from typing import Any

from gql import Client, gql
from gql.transport.websockets import WebsocketsTransport

from simulators import SimulatorSuite
from simulators.activity import DemoActivity
from simulators.suite import PROVIDERS
from tests.cli.test_commands import free_port, running, wait_for

EVENTS = gql(
    "subscription { jobEvents { kind previousStatus job { id source status createdAt } } }"
)
# A deadline for the whole life of a demo job, never an assertion.
DEADLINE_S = 90.0


async def test_a_demo_subscription_sees_a_job_appear_start_and_finish() -> None:
    port = free_port()
    # Its log goes nowhere: a pipe nobody reads would fill and stall the demo.
    with running("demo", "--port", str(port), stdout=subprocess.DEVNULL):
        await asyncio.to_thread(wait_for, f"http://127.0.0.1:{port}/healthz")
        transport = WebsocketsTransport(
            url=f"ws://127.0.0.1:{port}/graphql",
            subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
        )
        history: dict[str, list[tuple[str, str]]] = {}
        async with Client(transport=transport) as session, asyncio.timeout(DEADLINE_S):
            async for result in session.subscribe(EVENTS):
                event: dict[str, Any] = result["jobEvents"]
                job = event["job"]
                history.setdefault(job["id"], []).append((event["kind"], job["status"]))
                if _lived(history.get(job["id"], [])):
                    break
    (lived,) = [seen for seen in history.values() if _lived(seen)]
    assert lived[0] == ("CREATED", "QUEUED")


def _lived(seen: list[tuple[str, str]]) -> bool:
    """Created, then updated to a finished status."""
    return (
        bool(seen)
        and seen[0][0] == "CREATED"
        and seen[-1][0] == "UPDATED"
        and seen[-1][1] in ("SUCCEEDED", "FAILED")
    )


def test_every_provider_gets_queued_jobs_that_start_then_finish() -> None:
    suite = SimulatorSuite(clock=True)
    activity = DemoActivity(suite)
    made = [activity.step() for _ in PROVIDERS]
    assert [m[0] for m in made if m is not None] == list(PROVIDERS)
    scheduled = [
        [event.action for event in _job(suite, provider, project, new_id).events]
        for provider, project, new_id in (m for m in made if m is not None)
    ]
    assert all(actions[0] == "start" and actions[1] in ("succeed", "fail") for actions in scheduled)
    suite.advance(60)
    assert all(
        not _job(suite, provider, project, new_id).events
        for provider, project, new_id in (m for m in made if m is not None)
    )


def test_the_oldest_demo_jobs_go_past_keep() -> None:
    suite = SimulatorSuite(clock=True)
    activity = DemoActivity(suite, keep=2)
    before = len(suite.sim("edge_impulse").dataset["4211"])
    for _ in range(len(PROVIDERS) * 5):
        activity.step()
    assert len(suite.sim("edge_impulse").dataset["4211"]) == before + 2


def _job(suite: SimulatorSuite, provider: str, project: str | None, new_id: Any) -> Any:
    sim = suite.sim(provider)
    return next(j for j in sim.dataset[project] if j.payload[sim.shape.id_key] == new_id)

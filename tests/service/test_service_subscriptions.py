"""Subscriptions over graphql-transport-ws (Python `gql` with its websockets transport)
against the real gateway and simulators: events follow changes made in the simulators."""

from __future__ import annotations

import asyncio
import json
import shutil
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from gql import Client, gql
from gql.transport.exceptions import TransportQueryError
from gql.transport.websockets import WebsocketsTransport

from graph.http.app import SERVICES
from tests.http.test_jwt_auth import AUDIENCE, ISSUER, KeyServer, sign
from tests.providers import PROVIDERS, demo_source
from tests.service.conftest import ADMIN_TOKEN, DASHBOARD_TOKEN, Service
from tests.service.wsclient import error_codes, raw_socket

SOURCES = tuple(demo_source(p) for p in PROVIDERS)
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
    """Wait until `provider` has had `count` more requests and every poller has its baseline."""
    sim = service.suite.sim(provider)
    start = sim.log.count(None)
    async with asyncio.timeout(DEADLINE_S):
        while sim.log.count(None) < start + count:  # noqa: ASYNC110 (the log has no event)
            await asyncio.sleep(0.05)
    await _baselines(service)


@pytest.fixture
async def subscribe(service: Service) -> AsyncIterator[Any]:
    tasks: list[asyncio.Task[None]] = []
    clients: list[Client] = []

    async def start(
        token: str,
        sources: list[str] | None,
        job_id: str | None = None,
        init_payload: dict[str, Any] | None = None,
    ) -> Watcher:
        """Subscribe with `token` in the upgrade's header, or with `init_payload` as the
        `connection_init` payload instead (and no header)."""
        transport = WebsocketsTransport(
            url=service.graphql_url.replace("http", "ws", 1),
            headers={} if init_payload is not None else {"Authorization": f"Bearer {token}"},
            init_payload=init_payload or {},
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


async def _orange_job_id(service: Service) -> str:
    project = service.suite.sim("orange").projects()[0]
    reply = await service.data(
        "query($p: String!) { orangeJobs(projectId: $p, first: 1) { nodes { id } } }",
        {"p": project},
    )
    return str(reply["orangeJobs"]["nodes"][0]["id"])


async def _init(
    service: Service, payload: Any, headers: dict[str, str] | None = None
) -> aiohttp.WSMessage:
    """Open a raw graphql-transport-ws socket, send `connection_init`, return the answer."""
    async with service.http.ws_connect(
        service.graphql_url, protocols=["graphql-transport-ws"], headers=headers or {}
    ) as ws:
        await ws.send_json({"type": "connection_init", "payload": payload})
        return await asyncio.wait_for(ws.receive(), DEADLINE_S)


@pytest.mark.parametrize(
    "payload",
    [
        {"Authorization": f"Bearer {DASHBOARD_TOKEN}"},
        {"authorization": f"Bearer {DASHBOARD_TOKEN}"},
        {"headers": {"Authorization": f"Bearer {DASHBOARD_TOKEN}"}},
        {"token": DASHBOARD_TOKEN},
        {"authToken": DASHBOARD_TOKEN},
    ],
    ids=["Authorization", "authorization", "headers", "token", "authToken"],
)
async def test_a_token_in_connection_init_is_accepted(
    service: Service, payload: dict[str, Any]
) -> None:
    answer = await _init(service, payload)
    assert answer.type is aiohttp.WSMsgType.TEXT, answer
    assert answer.json() == {"type": "connection_ack"}


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"Authorization": "Bearer not-a-token"},
        {"Authorization": DASHBOARD_TOKEN},
        {"token": ["not", "a", "string"]},
        {"headers": {"authorization": "Basic abc"}},
    ],
    ids=["none", "unknown", "no-scheme", "not-a-string", "basic"],
)
async def test_connection_init_without_a_valid_token_closes_with_4403(
    service: Service, payload: dict[str, Any]
) -> None:
    answer = await _init(service, payload)
    assert answer.type is aiohttp.WSMsgType.CLOSE, answer
    assert (answer.data, answer.extra) == (4403, "Forbidden")


async def test_a_bad_connection_init_token_wins_over_a_good_header(service: Service) -> None:
    answer = await _init(
        service, {"token": "not-a-token"}, {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    )
    assert (answer.type, answer.data) == (aiohttp.WSMsgType.CLOSE, 4403)


async def test_a_bad_authorization_header_is_refused_at_the_upgrade(service: Service) -> None:
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await _init(service, {}, {"Authorization": "Bearer not-a-token"})
    assert refused.value.status == 401


async def test_a_connection_init_token_scopes_every_event(service: Service, subscribe: Any) -> None:
    watcher = await subscribe(
        DASHBOARD_TOKEN, None, init_payload={"Authorization": f"Bearer {DASHBOARD_TOKEN}"}
    )
    await _polls_of(service, "metafold", 2)
    orange = service.suite.sim("orange")
    orange.mutations.create(orange.projects()[0], 1)
    metafold = service.suite.sim("metafold")
    (created,) = metafold.mutations.create(metafold.projects()[0], 1)
    event = await watcher.next()
    assert (event["job"]["source"], event["job"]["nativeId"]) == ("mf", str(created))
    assert service.suite.sim("orange").log.count(None) == 0


async def test_job_changed_on_a_forbidden_source_is_forbidden(
    service: Service, subscribe: Any
) -> None:
    job_id = await _orange_job_id(service)
    watcher = await subscribe(
        DASHBOARD_TOKEN, None, job_id, init_payload={"token": DASHBOARD_TOKEN}
    )
    refused = await watcher.next()
    assert [e["extensions"]["code"] for e in refused["errors"]] == ["FORBIDDEN"]


class TestJwtAtConnectionInit:
    """`[auth] mode = "jwt"`: a JWT in `connection_init` goes the same way as over HTTP."""

    @pytest.fixture
    def rsa_key(self) -> rsa.RSAPrivateKey:
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)

    @pytest.fixture
    def auth_settings(self, rsa_key: rsa.RSAPrivateKey, tmp_path: Path) -> dict[str, Any]:
        keys = KeyServer()
        keys.add("k1", rsa_key)
        path = tmp_path / "jwks.json"
        path.write_text(json.dumps(keys.jwks()))
        return {"mode": "jwt", "jwks_file": str(path), "issuer": ISSUER, "audience": AUDIENCE}

    async def test_a_jwt_in_connection_init_scopes_events_to_its_claim(
        self, service: Service, subscribe: Any, rsa_key: rsa.RSAPrivateKey
    ) -> None:
        token = sign(rsa_key, "k1", jobgraph_sources=["mf"])
        watcher = await subscribe(token, None, init_payload={"Authorization": f"Bearer {token}"})
        await _polls_of(service, "metafold", 2)
        orange = service.suite.sim("orange")
        orange.mutations.create(orange.projects()[0], 1)
        metafold = service.suite.sim("metafold")
        (created,) = metafold.mutations.create(metafold.projects()[0], 1)
        event = await watcher.next()
        assert (event["job"]["source"], event["job"]["nativeId"]) == ("mf", str(created))
        assert orange.log.count(None) == 0

    async def test_an_expired_jwt_in_connection_init_closes_with_4403(
        self, service: Service, rsa_key: rsa.RSAPrivateKey
    ) -> None:
        token = sign(rsa_key, "k1", exp=int(time.time()) - 3600, jobgraph_sources=["mf"])
        answer = await _init(service, {"Authorization": f"Bearer {token}"})
        assert (answer.type, answer.data) == (aiohttp.WSMsgType.CLOSE, 4403)


NODE_SUBSCRIBER = Path(__file__).with_name("node_subscriber.mjs")
ROOT = Path(__file__).resolve().parents[2]


class NodeSubscriber:
    """node_subscriber.mjs as a child process: its JSON lines, read as they come."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    async def next(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = await asyncio.wait_for(self.process.stdout.readline(), DEADLINE_S)
        assert line, "the Node subscriber ended"
        message: dict[str, Any] = json.loads(line)
        return message

    async def event(self) -> dict[str, Any]:
        message = await self.next()
        assert "event" in message, message
        return dict(message["event"])


@pytest.fixture
async def node_subscriber(service: Service) -> AsyncIterator[Any]:
    processes: list[asyncio.subprocess.Process] = []

    async def start(token: str, source: str) -> NodeSubscriber:
        node = shutil.which("node")
        assert node is not None, "Node.js is needed for this test"
        assert (ROOT / "node_modules" / "graphql-ws").is_dir(), "run `npm ci` first"
        process = await asyncio.create_subprocess_exec(
            node,
            str(NODE_SUBSCRIBER),
            service.graphql_url.replace("http", "ws", 1),
            token,
            source,
            cwd=ROOT,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        processes.append(process)
        subscriber = NodeSubscriber(process)
        assert await subscriber.next() == {"ready": True}
        return subscriber

    yield start
    for process in processes:
        if process.returncode is None:
            process.kill()
            await process.wait()


@pytest.mark.node
async def test_the_graphql_ws_client_sees_each_change_once_in_order(
    service: Service, node_subscriber: Any
) -> None:
    sim = service.suite.sim("metafold")
    project = sim.projects()[0]
    subscriber = await node_subscriber(DASHBOARD_TOKEN, "mf")
    await _polls_of(service, "metafold", 2)

    def job(native_id: Any) -> Any:
        return next(j for j in sim.dataset[project] if j.payload["id"] == native_id)

    (first,) = sim.mutations.create(project, 1)
    job(first).payload["state"] = "started"  # no await between: one poll sees both
    created = await subscriber.event()
    assert (created["kind"], created["job"]["nativeId"]) == ("CREATED", str(first))
    assert (created["job"]["status"], created["previousStatus"]) == ("RUNNING", None)

    job(first).payload["state"] = "success"
    finished = await subscriber.event()
    assert (finished["kind"], finished["job"]["nativeId"]) == ("UPDATED", str(first))
    assert (finished["previousStatus"], finished["job"]["status"]) == ("RUNNING", "SUCCEEDED")

    (second,) = sim.mutations.create(project, 1)
    job(second).payload["state"] = "started"
    assert (await subscriber.event())["job"]["nativeId"] == str(second)
    job(second).payload.update(state="failure", error="out of memory")
    failed = await subscriber.event()
    assert (failed["kind"], failed["job"]["status"]) == ("UPDATED", "FAILED")
    assert failed["job"]["errorMessage"] == "out of memory"

    sim.mutations.delete(project, [first])
    removed = await subscriber.event()
    assert (removed["kind"], removed["job"]["nativeId"]) == ("REMOVED", str(first))
    await _polls_of(service, "metafold", 2)  # and nothing more arrives
    assert subscriber.process.stdout is not None
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(subscriber.process.stdout.readline(), 0.1)


@pytest.mark.node
async def test_the_graphql_ws_client_with_a_scoped_token_is_refused_a_forbidden_source(
    service: Service, node_subscriber: Any
) -> None:
    subscriber = await node_subscriber(DASHBOARD_TOKEN, "orange")
    refused = await subscriber.next()
    codes = [e["extensions"]["code"] for e in refused.get("errors", [])]
    assert codes == ["FORBIDDEN"], refused


@pytest.mark.parametrize(
    ("accept", "status"), [("application/graphql-response+json", 400), ("application/json", 200)]
)
async def test_a_subscription_over_a_plain_post_is_a_coded_refusal(
    service: Service, accept: str, status: int
) -> None:
    # A request error: 400 without data where the client reads the new media type, a 200
    # with `data: null` for application/json (GraphQL over HTTP).
    response = await service.http.post(
        service.graphql_url,
        json={"query": "subscription { jobEvents { kind } }"},
        headers={"Accept": accept, "Authorization": f"Bearer {DASHBOARD_TOKEN}"},
    )
    body = await response.json(content_type=None)
    assert response.status == status, body
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"]
    assert "WebSocket" in body["errors"][0]["message"]
    assert ("data" in body) == (status == 200)


async def _sse_events(response: aiohttp.ClientResponse) -> AsyncIterator[dict[str, Any]]:
    """The `next` events' payloads of a GraphQL-over-SSE response, as they arrive."""
    event = None
    async for raw in response.content:
        line = raw.decode().rstrip("\r\n")
        if line.startswith("event: "):
            event = line.removeprefix("event: ")
        elif line.startswith("data: ") and event == "next":
            yield json.loads(line.removeprefix("data: "))


# urql's Accept, sent with every request: a subscription streams, a query gets JSON.
ANY_ACCEPT = "application/graphql-response+json, application/json, text/event-stream"


@pytest.mark.parametrize("accept", ["text/event-stream", ANY_ACCEPT])
async def test_jobs_events_arrive_over_sse(service: Service, accept: str) -> None:
    sim = service.suite.sim("metafold")
    async with service.http.post(
        service.graphql_url,
        json={"query": 'subscription { jobEvents(sources: ["mf"]) { kind job { nativeId } } }'},
        headers={"Accept": accept, "Authorization": f"Bearer {DASHBOARD_TOKEN}"},
    ) as response:
        assert response.status == 200
        assert response.content_type == "text/event-stream"
        await _polls_of(service, "metafold", 2)
        (created,) = sim.mutations.create(sim.projects()[0], 1)
        async with asyncio.timeout(DEADLINE_S):
            events = _sse_events(response)
            first = await anext(events)
    assert first == {"data": {"jobEvents": {"kind": "CREATED", "job": {"nativeId": str(created)}}}}


async def test_a_query_accepting_json_or_a_stream_gets_json(service: Service) -> None:
    async with service.http.post(
        service.graphql_url,
        json={"query": "{ sources { name } }"},
        headers={"Accept": ANY_ACCEPT, "Authorization": f"Bearer {DASHBOARD_TOKEN}"},
    ) as response:
        assert response.status == 200
        assert response.content_type == "application/graphql-response+json"
        assert (await response.json(content_type=None))["data"]["sources"]


async def test_sse_applies_the_tokens_sources(service: Service) -> None:
    async with service.http.post(
        service.graphql_url,
        json={"query": 'subscription { jobEvents(sources: ["orange"]) { kind } }'},
        headers={"Accept": "text/event-stream", "Authorization": f"Bearer {DASHBOARD_TOKEN}"},
    ) as response:
        async with asyncio.timeout(DEADLINE_S):
            refused = await anext(_sse_events(response))
    assert [e["extensions"]["code"] for e in refused["errors"]] == ["FORBIDDEN"]


async def test_sse_without_a_token_is_unauthenticated(service: Service) -> None:
    reply = await service.request(
        "POST",
        "/graphql",
        json={"query": "subscription { jobEvents { kind } }"},
        headers={"Accept": "text/event-stream"},
    )
    assert reply.status == 401
    assert reply.codes == ["UNAUTHENTICATED"]


class TestOutages:
    """A source that fails for a while: one error event per outage, the poller waits out the
    open breaker, and events follow the recovery. `mf` has one project: one poller."""

    @pytest.fixture
    def source_overrides(self, suite: Any) -> dict[str, dict[str, Any]]:
        project = suite.sim("metafold").projects()[0]
        settings: dict[str, Any] = {"poll_interval_s": 1, "max_retries": 0, "projects": [project]}
        return {
            "mf": {**settings, "breaker_failures": 1, "breaker_cooldown_s": 3},
            "orange": {
                **settings,
                "projects": [suite.sim("orange").projects()[0]],
                "breaker_failures": 100,
            },
        }

    # A raw socket: gql ends a subscription at its first error (and its re-subscribing
    # would start a new poller), graphql-ws clients and this one keep it.

    async def test_several_failed_polls_are_one_error_event(self, service: Service) -> None:
        sim = service.suite.sim("orange")
        async with raw_socket(service.http, service.graphql_url, ADMIN_TOKEN) as ws:
            await ws.subscribe("1", RAW_WATCH, {"s": ["orange"]})
            await _baselines(service)
            sim.faults.add("status", count=10_000, status=503)
            assert error_codes(await ws.next_for("1")) == ["UPSTREAM_UNAVAILABLE"]
            (poller,) = service_pollers_of(service)
            await _poller_reaches(poller, poller.polls + 3)  # three more failed polls
            sim.faults.clear()
            (created,) = sim.mutations.create(sim.projects()[0], 1)
            event = await ws.next_for("1")
        assert event["payload"]["data"]["jobEvents"]["job"]["nativeId"] == str(created)

    async def test_the_poller_waits_for_the_open_breaker(self, service: Service) -> None:
        sim = service.suite.sim("metafold")
        async with raw_socket(service.http, service.graphql_url, ADMIN_TOKEN) as ws:
            await ws.subscribe("1", RAW_WATCH, {"s": ["mf"]})
            await _baselines(service)
            sim.faults.add("status", count=1, status=503)  # the breaker opens for 3 s
            assert error_codes(await ws.next_for("1")) == ["UPSTREAM_UNAVAILABLE"]
            (poller,) = service_pollers_of(service)
            failing_poll = poller.polls
            (created,) = sim.mutations.create(sim.projects()[0], 1)
            event = await ws.next_for("1")
            # No poll failed fast meanwhile: the next came when the breaker let one through.
            assert poller.polls == failing_poll + 1
        assert event["payload"]["data"]["jobEvents"]["job"]["nativeId"] == str(created)


async def _baselines(service: Service) -> None:
    """Wait until the gateway's pollers exist and have each taken their baseline."""
    async with asyncio.timeout(DEADLINE_S):
        while True:
            pollers = service_pollers_of(service)
            if pollers and all(p.known is not None for p in pollers):
                return
            await asyncio.sleep(0.02)


async def _poller_reaches(poller: Any, polls: int) -> None:
    async with asyncio.timeout(DEADLINE_S):
        while poller.polls < polls:  # noqa: ASYNC110 (a counter, no event)
            await asyncio.sleep(0.02)


RAW_WATCH = "subscription($s: [String!]) { jobEvents(sources: $s) { kind job { nativeId } } }"


def service_pollers_of(service: Service) -> list[Any]:
    app = service.server.app
    assert app is not None
    return list(app[SERVICES].watch.pollers.values())


async def test_a_subscription_asking_multipart_without_its_spec_is_a_coded_refusal(
    service: Service,
) -> None:
    # What GraphiQL's HTTP fetcher sends (Accept: multipart/mixed, no subscriptionSpec).
    reply = await service.graphql(
        "subscription { jobEvents { kind } }",
        headers={"Accept": "application/json, multipart/mixed"},
    )
    assert reply.status == 400, reply.body
    assert reply.codes == ["BAD_USER_INPUT"]
    assert "WebSocket" in reply.body["errors"][0]["message"]

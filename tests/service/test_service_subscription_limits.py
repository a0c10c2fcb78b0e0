"""Subscription caps (`[server] max_subscriptions_per_connection`, `max_subscriptions`): one
past a cap is a coded RATE_LIMITED error on that subscription; the others keep running. And
backpressure (`subscription_queue_size`): a client that stops reading is told and closed."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import aiohttp
import pytest

from graph.http.app import SERVICES
from tests.service.conftest import ADMIN_TOKEN, Service
from tests.service.wsclient import error_codes, raw_socket

WATCH = 'subscription { jobEvents(sources: ["mf"]) { kind job { nativeId } } }'


@pytest.fixture
def server_settings() -> dict[str, Any]:
    return {"max_subscriptions_per_connection": 2, "max_subscriptions": 3}


@pytest.fixture
def source_overrides() -> dict[str, dict[str, Any]]:
    return {"mf": {"poll_interval_s": 1}}


def _watch_count(service: Service) -> int:
    app = service.server.app
    assert app is not None
    return int(app[SERVICES].watch.subscriptions)


async def _running(service: Service, count: int) -> None:
    """Wait until the gateway counts `count` running subscriptions (bounded generously: a
    loaded machine is slow, and the bound only ends a test that would fail anyway)."""
    async with asyncio.timeout(60):
        while _watch_count(service) != count:  # noqa: ASYNC110 (a counter, no event)
            await asyncio.sleep(0.02)


async def test_one_past_the_per_connection_cap_is_rate_limited(service: Service) -> None:
    async with raw_socket(service.http, service.graphql_url, ADMIN_TOKEN) as ws:
        await ws.subscribe("1", WATCH)
        await ws.subscribe("2", WATCH)
        await _running(service, 2)
        await ws.subscribe("3", WATCH)
        refused = await ws.next_for("3")
        assert error_codes(refused) == ["RATE_LIMITED"]
        assert "per connection" in str(refused)
        assert _watch_count(service) == 2


async def test_completing_a_subscription_frees_its_place_on_the_connection(
    service: Service,
) -> None:
    async with raw_socket(service.http, service.graphql_url, ADMIN_TOKEN) as ws:
        await ws.subscribe("1", WATCH)
        await ws.subscribe("2", WATCH)
        await _running(service, 2)
        await ws.complete("1")
        await _running(service, 1)
        await ws.subscribe("3", WATCH)
        await _running(service, 2)
        sim = service.suite.sim("metafold")
        (created,) = sim.mutations.create(sim.projects()[0], 1)
        event = await ws.next_for("3")
        assert event["type"] == "next", event
        assert event["payload"]["data"]["jobEvents"]["job"]["nativeId"] == str(created)


async def test_one_past_the_process_cap_is_rate_limited(service: Service) -> None:
    async with (
        raw_socket(service.http, service.graphql_url, ADMIN_TOKEN) as first,
        raw_socket(service.http, service.graphql_url, ADMIN_TOKEN) as second,
    ):
        await first.subscribe("1", WATCH)
        await first.subscribe("2", WATCH)
        await second.subscribe("1", WATCH)
        await _running(service, 3)
        await second.subscribe("2", WATCH)
        refused = await second.next_for("2")
        assert error_codes(refused) == ["RATE_LIMITED"]
        assert "at most 3 subscriptions" in str(refused)
    await _running(service, 0)


# About 3 KB an event: 3,000 of them are more than the sockets' buffers hold (4 MB at most).
BULKY = (
    'subscription { jobEvents(sources: ["mf"]) { kind job { '
    + " ".join(f"id{n}: id" for n in range(30))
    + " } } }"
)


def _small_receive_buffer(addr_info: Any) -> socket.socket:
    """A client socket with a tiny receive buffer: a client that stops reading stalls the
    gateway's sends after a few kilobytes rather than megabytes."""
    family, kind, proto, _, _ = addr_info
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    return sock


async def _baselines(service: Service) -> list[Any]:
    async with asyncio.timeout(10):
        while True:
            pollers = _pollers(service)
            if pollers and all(p.known is not None for p in pollers):
                return pollers
            await asyncio.sleep(0.02)


class TestSlowConsumer:
    """`[server] subscription_queue_size`: a subscriber that has stopped reading gets a
    RATE_LIMITED error and its subscription ends once more than that many events wait; one
    that keeps up takes a poll of any size. `mf` has one project (37 jobs), polled each second."""

    QUEUE = 20
    # Long enough for the test to look at a stalled client, short enough for it to end.
    SEND_TIMEOUT_S = 8.0

    @pytest.fixture
    def server_settings(self) -> dict[str, Any]:
        return {
            "subscription_queue_size": self.QUEUE,
            "max_aliases": 100,
            "websocket_send_timeout_s": self.SEND_TIMEOUT_S,
        }

    @pytest.fixture
    def source_overrides(self) -> dict[str, dict[str, Any]]:
        return {"mf": {"poll_interval_s": 1, "projects": ["1031"]}}

    async def test_a_reader_that_keeps_up_takes_a_poll_bigger_than_the_queue(
        self, service: Service
    ) -> None:
        sim = service.suite.sim("metafold")
        async with raw_socket(service.http, service.graphql_url, ADMIN_TOKEN) as ws:
            await ws.subscribe("1", WATCH)
            await _baselines(service)
            created = sim.mutations.create("1031", self.QUEUE * 5)
            events = [await ws.next_for("1") for _ in created]
        assert all(e["type"] == "next" for e in events), events[-1]
        kinds = {e["payload"]["data"]["jobEvents"]["kind"] for e in events}
        assert kinds == {"CREATED"}

    async def test_a_client_that_stops_reading_is_told_and_closed(self, service: Service) -> None:
        sim = service.suite.sim("metafold")
        connector = aiohttp.TCPConnector(socket_factory=_small_receive_buffer)
        async with (
            aiohttp.ClientSession(connector=connector) as http,
            raw_socket(http, service.graphql_url, ADMIN_TOKEN) as ws,
        ):
            await ws.subscribe("1", BULKY)
            (poller,) = await _baselines(service)
            (subscriber,) = poller.subscribers
            transport = ws.ws._conn.transport  # the client stops reading its socket
            assert transport is not None
            transport.pause_reading()
            # More than the socket holds: the gateway's sends stall with events still waiting.
            sim.mutations.create("1031", 3_000)
            async with asyncio.timeout(60):
                while subscriber.queue.qsize() <= self.QUEUE:  # noqa: ASYNC110
                    await asyncio.sleep(0.02)
            sim.mutations.create("1031", 1)  # the next poll finds them waiting
            async with asyncio.timeout(60):
                while not subscriber.overflowed:  # noqa: ASYNC110
                    await asyncio.sleep(0.02)
            held = subscriber.queue.qsize()
            sim.mutations.create("1031", 5)
            polls = poller.polls
            async with asyncio.timeout(60):
                while poller.polls < polls + 2:  # noqa: ASYNC110
                    await asyncio.sleep(0.02)
            assert subscriber.queue.qsize() == held  # nothing more is kept for it
            transport.resume_reading()
            # Reading again, it finds what was sent, then the error, then the end.
            messages = [await ws.next_for("1")]
            while messages[-1]["type"] != "complete":
                messages.append(await ws.next_for("1"))
        *events, told, _complete = messages
        assert error_codes(told) == ["RATE_LIMITED"], told
        assert f"more than {self.QUEUE} events waiting" in str(told)
        assert all(error_codes(e) == [] for e in events)
        assert len(events) < 3_000  # it was cut off, not sent everything
        await _running(service, 0)


def _pollers(service: Service) -> list[Any]:
    app = service.server.app
    assert app is not None
    return list(app[SERVICES].watch.pollers.values())


class TestStalledClient:
    """`[server] websocket_send_timeout_s`: a client that never reads again is dropped, and
    its subscription and pollers go with it."""

    @pytest.fixture
    def server_settings(self) -> dict[str, Any]:
        return {"subscription_queue_size": 20, "max_aliases": 100, "websocket_send_timeout_s": 1}

    @pytest.fixture
    def source_overrides(self) -> dict[str, dict[str, Any]]:
        return {"mf": {"poll_interval_s": 1, "projects": ["1031"]}}

    async def test_a_client_that_never_reads_again_is_dropped(self, service: Service) -> None:
        sim = service.suite.sim("metafold")
        connector = aiohttp.TCPConnector(socket_factory=_small_receive_buffer)
        async with (
            aiohttp.ClientSession(connector=connector) as http,
            raw_socket(http, service.graphql_url, ADMIN_TOKEN) as ws,
        ):
            await ws.subscribe("1", BULKY)
            await _baselines(service)
            transport = ws.ws._conn.transport
            assert transport is not None
            transport.pause_reading()
            sim.mutations.create("1031", 3_000)
            await _running(service, 0)
            assert _pollers(service) == []
            transport.resume_reading()
            with pytest.raises(ConnectionError):
                while True:
                    await ws.next_for("1")

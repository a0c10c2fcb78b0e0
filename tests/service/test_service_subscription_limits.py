"""Subscription caps (`[server] max_subscriptions_per_connection`, `max_subscriptions`): one
past a cap is a coded RATE_LIMITED error on that subscription; the others keep running."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from graph.app import SERVICES
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
    """Wait until the gateway counts `count` running subscriptions."""
    async with asyncio.timeout(10):
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


class TestSlowConsumer:
    """`[server] subscription_queue_size`: a subscriber with more events waiting than that gets
    a RATE_LIMITED error and its subscription ends; what waits for it never exceeds the bound."""

    QUEUE = 3

    @pytest.fixture
    def server_settings(self) -> dict[str, Any]:
        return {"subscription_queue_size": self.QUEUE}

    async def test_a_subscriber_past_its_queue_is_told_and_closed(self, service: Service) -> None:
        sim = service.suite.sim("metafold")
        async with raw_socket(service.http, service.graphql_url, ADMIN_TOKEN) as ws:
            await ws.subscribe("1", WATCH)
            await _running(service, 1)
            pollers = _pollers(service)
            async with asyncio.timeout(10):
                while not all(p.known is not None for p in pollers):  # noqa: ASYNC110
                    await asyncio.sleep(0.02)
            (subscriber,) = {s for p in pollers for s in p.subscribers}
            assert subscriber.queue.maxsize == self.QUEUE
            # One poll brings more changes than the queue holds, before the client reads any.
            sim.mutations.create(sim.projects()[0], self.QUEUE * 4)
            await _running(service, 0)
            assert subscriber.queue.qsize() <= self.QUEUE
            assert _pollers(service) == []  # its pollers stopped with it
            told = await ws.next_for("1")
            assert error_codes(told) == ["RATE_LIMITED"]
            assert f"more than {self.QUEUE} events waiting" in str(told)
            assert (await ws.next_for("1"))["type"] == "complete"


def _pollers(service: Service) -> list[Any]:
    app = service.server.app
    assert app is not None
    return list(app[SERVICES].watch.pollers.values())

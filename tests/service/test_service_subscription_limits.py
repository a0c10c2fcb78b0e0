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

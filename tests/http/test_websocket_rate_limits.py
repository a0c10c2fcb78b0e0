"""Per-caller rate limits over a WebSocket: one upgrade carries any number of operations, so
each `subscribe` is charged as a request, and its cost estimate, before it runs. A refused
operation gets an `error` message with RATE_LIMITED (saying when to retry) and makes no upstream
call; the connection stays open."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Gateway

# workflowJobs 1 + first (2) x (nodes 1 + id 1) = 5: two fit a budget of 12, not three.
QUERY = "{ workflowJobs(first: 2) { nodes { id } } }"
TOKEN = "alpha-caller-token"


@pytest.fixture
def extra_environ() -> dict[str, str]:
    return {"TEST_TOKEN_ALPHA": TOKEN}


def settings(limits: dict[str, int]) -> dict[str, Any]:
    tokens = [{"name": "alpha", "token_env": "TEST_TOKEN_ALPHA"}]
    return {"auth": {"mode": "token", "tokens": tokens}, "rate_limits": limits}


async def answers(gateway: Gateway, count: int) -> list[dict[str, Any]]:
    """The first message answering each of `count` operations sent over one socket."""
    replies = []
    async with gateway.client.ws_connect("/graphql", protocols=["graphql-transport-ws"]) as socket:
        init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {TOKEN}"}}
        await socket.send_json(init)
        assert (await socket.receive_json(timeout=10))["type"] == "connection_ack"
        for number in range(count):
            message = {"id": str(number), "type": "subscribe", "payload": {"query": QUERY}}
            await socket.send_json(message)
            reply = await socket.receive_json(timeout=10)
            replies.append(reply)
            if reply["type"] == "next":  # a query's one result, then its `complete`
                assert (await socket.receive_json(timeout=10))["type"] == "complete"
    return replies


def check_refused(replies: list[dict[str, Any]], allowed: int, reason: str) -> None:
    assert [r["type"] for r in replies[:allowed]] == ["next"] * allowed, replies
    refused = replies[allowed]
    assert refused["type"] == "error", refused
    (error,) = refused["payload"]
    assert error["extensions"]["code"] == "RATE_LIMITED"
    assert reason in error["message"] and "retry in" in error["message"]


@pytest.mark.parametrize("gateway_settings", [settings({"requests_per_minute": 3})])
async def test_each_operation_over_a_websocket_counts_as_a_request(gateway: Gateway) -> None:
    sim = gateway.suite.sim("workflow")
    sim.log.clear()
    # The token travels in connection_init, so the upgrade itself is not charged.
    replies = await answers(gateway, 4)
    check_refused(replies, 3, "requests per minute")
    # The refused operation never ran (the test sources cache repeated list calls).
    assert 1 <= sim.log.count("list") <= 3


@pytest.mark.parametrize("gateway_settings", [settings({"cost_per_minute": 12})])
async def test_operations_over_a_websocket_are_charged_their_cost(gateway: Gateway) -> None:
    sim = gateway.suite.sim("workflow")
    sim.log.clear()
    replies = await answers(gateway, 3)
    check_refused(replies, 2, "cost per minute")
    assert 1 <= sim.log.count("list") <= 2

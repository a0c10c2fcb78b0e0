"""Request errors over WebSocket (graphql-transport-ws): an operation over a limit, or with a
syntax or validation error, gets an `error` message with its code, like over HTTP, and the
connection serves the next one."""

from __future__ import annotations

from typing import Any

from tests.conftest import Gateway

OVER_TOKENS = "{ " + " ".join(f"a{i}: __typename" for i in range(1500)) + " }"


async def exchange(gateway: Gateway, *queries: str) -> list[dict[str, Any]]:
    """The first message answering each query, subscribed one after another."""
    answers = []
    async with gateway.client.ws_connect("/graphql", protocols=["graphql-transport-ws"]) as socket:
        await socket.send_json({"type": "connection_init"})
        assert (await socket.receive_json(timeout=10))["type"] == "connection_ack"
        for number, query in enumerate(queries):
            await socket.send_json(
                {"id": str(number), "type": "subscribe", "payload": {"query": query}}
            )
            answers.append(await socket.receive_json(timeout=10))
    return answers


async def test_an_operation_over_the_token_limit_gets_a_coded_error_over_websocket(
    gateway: Gateway,
) -> None:
    refused, answered = await exchange(gateway, OVER_TOKENS, "{ sources { name } }")
    assert refused["type"] == "error", refused
    assert [e["extensions"]["code"] for e in refused["payload"]] == ["QUERY_TOO_COMPLEX"]
    assert "tokens" in refused["payload"][0]["message"]
    assert answered["type"] == "next", answered
    assert answered["payload"]["data"]["sources"]


async def test_syntax_and_validation_errors_over_websocket_are_coded(gateway: Gateway) -> None:
    invalid, unknown_argument, syntax = await exchange(
        gateway, "{ nope }", "{ sources(x: 1) { name } }", "{ sources { name }"
    )
    for answer in (invalid, unknown_argument, syntax):
        assert answer["type"] == "error", answer
        assert [e["extensions"]["code"] for e in answer["payload"]] == ["BAD_USER_INPUT"]
    assert invalid["payload"][0]["locations"] == [{"line": 1, "column": 3}]

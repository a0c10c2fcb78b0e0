"""A minimal graphql-transport-ws client over aiohttp, for tests that need the raw protocol
(several operations on one socket, a client that stops reading)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp

# A deadline for each awaited message, never an assertion.
MESSAGE_DEADLINE_S = 15.0


class RawSocket:
    """One graphql-transport-ws connection: messages are read into per-operation queues."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.by_id: dict[str, asyncio.Queue[dict[str, Any]]] = {}

    async def init(self, payload: dict[str, Any]) -> dict[str, Any]:
        await self.ws.send_json({"type": "connection_init", "payload": payload})
        message = await asyncio.wait_for(self.ws.receive_json(), MESSAGE_DEADLINE_S)
        assert message["type"] == "connection_ack", message
        return dict(message)

    async def subscribe(
        self, op_id: str, query: str, variables: dict[str, Any] | None = None
    ) -> None:
        self.by_id.setdefault(op_id, asyncio.Queue())
        payload = {"query": query, "variables": variables or {}}
        await self.ws.send_json({"id": op_id, "type": "subscribe", "payload": payload})

    async def complete(self, op_id: str) -> None:
        await self.ws.send_json({"id": op_id, "type": "complete"})

    async def next_for(self, op_id: str) -> dict[str, Any]:
        """The next message of operation `op_id`, reading (and filing) others meanwhile."""
        queue = self.by_id.setdefault(op_id, asyncio.Queue())
        async with asyncio.timeout(MESSAGE_DEADLINE_S):
            while queue.empty():
                message = await self.ws.receive()
                if message.type is not aiohttp.WSMsgType.TEXT:
                    raise ConnectionError(f"socket ended: {message.type} {message.data}")
                body = message.json()
                self.by_id.setdefault(body.get("id", ""), asyncio.Queue()).put_nowait(body)
            return queue.get_nowait()


@asynccontextmanager
async def raw_socket(
    http: aiohttp.ClientSession, url: str, token: str | None
) -> AsyncIterator[RawSocket]:
    """A connected, acknowledged socket authenticated with `token` in `connection_init`."""
    async with http.ws_connect(url, protocols=["graphql-transport-ws"]) as ws:
        socket = RawSocket(ws)
        await socket.init({} if token is None else {"Authorization": f"Bearer {token}"})
        yield socket


def error_codes(message: dict[str, Any]) -> list[str]:
    """The codes of an `error` message, or of a `next` message's `errors`."""
    payload = message.get("payload")
    errors = payload if isinstance(payload, list) else (payload or {}).get("errors", [])
    return [e.get("extensions", {}).get("code") for e in errors]

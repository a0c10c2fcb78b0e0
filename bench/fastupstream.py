"""`python -m bench.fastupstream --origin URL --port 0`: a cheap stand-in for the simulators in
the peers bench. The first time it sees a request (path and query, in any parameter order) it
fetches it once from the origin simulator; from then on it answers with the whole HTTP response
pre-rendered as bytes, so that the upstream is never what limits a fast gateway.

It keeps HTTP/1.1 connections alive, serves GET only, needs the `x-api-key` the origin wants
(forwarded on the first fetch, then checked as bytes), and counts what it serves:
`GET /_fast/requests` answers `{"count": N, "targets": [...]}`, `POST /_fast/reset` zeroes it."""

from __future__ import annotations

import argparse
import asyncio
import json
import urllib.error
import urllib.request
from urllib.parse import parse_qsl, urlencode, urlsplit

from bench.simserver import run_until_interrupted

_HEAD_END = b"\r\n\r\n"
_API_KEY = b"x-api-key:"


def request_key(target: bytes) -> bytes:
    """The request target with its query parameters sorted: one key however a client orders them."""
    parts = urlsplit(target.decode("latin-1"))
    query = urlencode(sorted(parse_qsl(parts.query, keep_blank_values=True)))
    return f"{parts.path}?{query}".encode("latin-1")


def render(status: int, body: bytes, content_type: str = "application/json") -> bytes:
    """A complete HTTP/1.1 keep-alive response."""
    reason = {200: "OK", 401: "Unauthorized", 404: "Not Found"}.get(status, "Error")
    head = (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\nConnection: keep-alive\r\n\r\n"
    )
    return head.encode("latin-1") + body


def api_key_of(head: bytes) -> bytes | None:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"x-api-key":
            return value.strip()
    return None


class FastUpstream:
    """The pre-rendered responses, the origin to fill them from, and the served count."""

    def __init__(self, origin: str) -> None:
        self.origin = origin.rstrip("/")
        self.rendered: dict[bytes, bytes] = {}
        self.by_target: dict[bytes, bytes] = {}  # raw target -> response, skips the sorting
        self.api_key: bytes | None = None
        self.count = 0

    def fetch(self, key: bytes, api_key: bytes) -> bytes:
        """One GET from the origin (blocking, in a thread): its status and body, rendered."""
        request = urllib.request.Request(
            self.origin + key.decode("latin-1"), headers={"x-api-key": api_key.decode()}
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return render(response.status, response.read())
        except urllib.error.HTTPError as error:
            return render(error.code, error.read())

    def control(self, method: bytes, target: bytes) -> bytes | None:
        if target == b"/_fast/requests" and method == b"GET":
            seen = sorted(key.decode("latin-1") for key in self.rendered)
            return render(200, json.dumps({"count": self.count, "targets": seen}).encode())
        if target == b"/_fast/reset" and method == b"POST":
            self.count = 0
            return render(200, b'{"count": 0}')
        return None


class _Connection(asyncio.Protocol):
    def __init__(self, upstream: FastUpstream) -> None:
        self.upstream = upstream
        self.buffer = b""
        self.waiting = False
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        self.process()

    def process(self) -> None:
        assert self.transport is not None
        upstream = self.upstream
        while not self.waiting:
            end = self.buffer.find(_HEAD_END)
            if end < 0:
                return
            head, self.buffer = self.buffer[:end], self.buffer[end + 4 :]
            method, target, _ = head.split(b" ", 2)
            control = upstream.control(method, target)
            if control is not None:
                self.transport.write(control)
                continue
            response = upstream.by_target.get(target)
            if response is not None and _API_KEY + b" " + (upstream.api_key or b"") in head.lower():
                upstream.count += 1
                self.transport.write(response)
                continue
            self.first_sight(head, target)

    def first_sight(self, head: bytes, target: bytes) -> None:
        assert self.transport is not None
        upstream = self.upstream
        api_key = api_key_of(head)
        if api_key is None:
            self.transport.write(render(401, b'{"success":false,"error":"no x-api-key"}'))
            return
        key = request_key(target)
        known = upstream.rendered.get(key)
        if known is not None and api_key == upstream.api_key:
            upstream.by_target[target] = known
            upstream.count += 1
            self.transport.write(known)
            return
        self.waiting = True
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(None, upstream.fetch, key, api_key)
        future.add_done_callback(lambda done: self.fetched(done, target, key, api_key))

    def fetched(
        self, done: asyncio.Future[bytes], target: bytes, key: bytes, api_key: bytes
    ) -> None:
        assert self.transport is not None
        response = done.result()
        upstream = self.upstream
        upstream.count += 1
        if response.startswith(b"HTTP/1.1 200 "):
            upstream.api_key = api_key
            upstream.rendered[key] = response
            upstream.by_target[target] = response
        if not self.transport.is_closing():
            self.transport.write(response)
        self.waiting = False
        self.process()


async def listen(host: str, port: int, origin: str) -> tuple[asyncio.Server, FastUpstream]:
    """The listening server (not yet serving forever) and its state."""
    upstream = FastUpstream(origin)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: _Connection(upstream), host, port)
    return server, upstream


async def serve(host: str, port: int, origin: str) -> None:
    server, _ = await listen(host, port, origin)
    bound = server.sockets[0].getsockname()
    print(f"fast upstream at http://{bound[0]}:{bound[1]} (origin {origin})", flush=True)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.fastupstream", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--origin", required=True, help="the simulators' root URL")
    args = parser.parse_args()
    run_until_interrupted(serve(args.host, args.port, args.origin))


if __name__ == "__main__":
    main()

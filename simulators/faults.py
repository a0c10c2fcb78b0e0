"""Fault injection: latency, error statuses and broken bodies, switchable while a simulator runs."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from typing import Any

import orjson
from aiohttp import web

FAULT_KINDS = (
    "latency",
    "status",
    "rate_limit",
    "malformed_json",
    "html_502",
    "wrong_schema",
    "truncated",
    "hang",
    "drop",
    "oversized",
)
DEFAULT_OVERSIZED_BYTES = 32 * 1024 * 1024
_CHUNK = 64 * 1024
_POLL_S = 0.02

HTML_502 = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    b"</body>\r\n</html>\r\n"
)

ErrorRenderer = Callable[[int, str], web.Response]
Serve = Callable[[], Awaitable[web.StreamResponse]]


@dataclass(slots=True)
class Fault:
    """A fault waiting to hit the next `remaining` list/get requests."""

    kind: str
    remaining: int = 1
    status: int | None = None
    latency_ms: float = 0
    jitter_ms: float = 0
    retry_after: str | None = None
    size: int | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class FaultInjector:
    """Pending faults of one simulator, consumed first-in first-out, plus standing latency."""

    def __init__(self, *, seed: int = 0, hang_cap_s: float = 60.0) -> None:
        self.latency_ms: float = 0
        self.jitter_ms: float = 0
        self.hang_cap_s = hang_cap_s
        self._pending: list[Fault] = []
        self._jitter = random.Random(seed)
        self._generation = 0

    @property
    def pending(self) -> list[Fault]:
        return list(self._pending)

    def add(
        self,
        kind: str,
        *,
        count: int = 1,
        status: int | None = None,
        latency_ms: float = 0,
        jitter_ms: float = 0,
        retry_after: int | str | None = None,
        size: int | None = None,
    ) -> Fault:
        """Make the next `count` list/get requests suffer `kind` (after any earlier faults)."""
        if kind not in FAULT_KINDS:
            raise ValueError(
                f"unknown fault kind {kind!r}; expected one of {', '.join(FAULT_KINDS)}"
            )
        if count < 1:
            raise ValueError("count must be >= 1")
        if latency_ms < 0 or jitter_ms < 0:
            raise ValueError("latency_ms and jitter_ms must be >= 0")
        if status is not None and not 200 <= status <= 599:
            raise ValueError("status must be within 200..599")
        if size is not None and size < 0:
            raise ValueError("size must be >= 0")
        if kind == "status" and status is None:
            status = 500
        if kind == "rate_limit" and retry_after is None:
            retry_after = 1
        if kind == "oversized" and size is None:
            size = DEFAULT_OVERSIZED_BYTES
        fault = Fault(
            kind=kind,
            remaining=count,
            status=status,
            latency_ms=latency_ms,
            jitter_ms=jitter_ms,
            retry_after=None if retry_after is None else str(retry_after),
            size=size,
        )
        self._pending.append(fault)
        return fault

    def set_latency(self, ms: float, jitter_ms: float = 0) -> None:
        """Delay every request by `ms` plus up to `jitter_ms`, until `clear()`."""
        if ms < 0 or jitter_ms < 0:
            raise ValueError("latency must be >= 0")
        self.latency_ms = ms
        self.jitter_ms = jitter_ms

    def clear(self) -> None:
        """Drop pending faults and standing latency, and release requests that hang."""
        self._pending.clear()
        self.latency_ms = 0
        self.jitter_ms = 0
        self._generation += 1

    def next_fault(self) -> Fault | None:
        """Take one use of the oldest pending fault."""
        if not self._pending:
            return None
        fault = self._pending[0]
        fault.remaining -= 1
        if fault.remaining <= 0:
            self._pending.pop(0)
        return fault

    def delay_s(self, fault: Fault | None) -> float:
        """Seconds to wait before answering: standing latency plus the fault's own."""
        ms = self.latency_ms
        if self.jitter_ms:
            ms += self._jitter.uniform(0, self.jitter_ms)
        if fault is not None:
            ms += fault.latency_ms
            if fault.jitter_ms:
                ms += self._jitter.uniform(0, fault.jitter_ms)
        return ms / 1000

    async def hold(self, request: web.Request) -> None:
        """Wait until the client gives up, the faults are cleared, or the hang cap passes."""
        generation = self._generation
        deadline = time.monotonic() + self.hang_cap_s
        while time.monotonic() < deadline and generation == self._generation:
            transport = request.transport
            if transport is None or transport.is_closing():
                return
            await asyncio.sleep(_POLL_S)


def malformed_json(body: bytes) -> bytes:
    """The body with one syntax error: its first double quote turned into a single quote."""
    if b'"' in body:
        return body.replace(b'"', b"'", 1)
    return body[:-1] + b",]" if body else b"{"


def wrong_schema(body: bytes) -> bytes:
    """Valid JSON of the wrong shape: an array becomes an object and an object an array."""
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        payload = body.decode("utf-8", "replace")
    if isinstance(payload, list):
        return orjson.dumps({"data": payload, "count": len(payload)})
    return orjson.dumps([payload])


def drop_connection(request: web.Request) -> web.Response:
    """Close the socket without answering; the returned response is never sent."""
    if request.transport is not None:
        request.transport.close()
    return web.Response(status=499)


async def apply_fault(
    fault: Fault,
    request: web.Request,
    serve: Serve,
    render_error: ErrorRenderer,
    hold: Callable[[web.Request], Awaitable[None]],
) -> tuple[web.StreamResponse, bool]:
    """Answer `request` as `fault` dictates; the flag tells whether a response was sent."""
    kind = fault.kind
    if kind == "latency":
        return await serve(), True
    if kind == "status":
        return render_error(fault.status or 500, "Simulated failure"), True
    if kind == "rate_limit":
        response = render_error(429, "Too many requests, retry later")
        if fault.retry_after:  # "" sends none, as ModelArts' API gateway does
            response.headers["Retry-After"] = fault.retry_after
        return response, True
    if kind == "html_502":
        return web.Response(status=502, body=HTML_502, content_type="text/html"), True
    if kind == "drop":
        return drop_connection(request), False
    if kind == "hang":
        await hold(request)
        return drop_connection(request), False
    real = await serve()
    body = real.body if isinstance(real, web.Response) and isinstance(real.body, bytes) else b""
    if kind == "malformed_json":
        return _replace_body(real, malformed_json(body)), True
    if kind == "wrong_schema":
        return _replace_body(real, wrong_schema(body)), True
    if kind == "truncated":
        return await _send_truncated(request, real, body), True
    if kind == "oversized":
        return await _send_padded(request, real, body, fault.size or DEFAULT_OVERSIZED_BYTES), True
    raise AssertionError(f"unhandled fault kind {kind}")


def _replace_body(real: web.StreamResponse, body: bytes) -> web.Response:
    response = web.Response(status=real.status, body=body, headers=_kept_headers(real))
    response.content_type = real.content_type
    return response


def _kept_headers(real: web.StreamResponse) -> dict[str, str]:
    dropped = {"content-length", "content-type", "transfer-encoding"}
    return {k: v for k, v in real.headers.items() if k.lower() not in dropped}


async def _send_truncated(
    request: web.Request, real: web.StreamResponse, body: bytes
) -> web.StreamResponse:
    """Announce the full Content-Length, send half the body, then close the connection."""
    response = web.StreamResponse(status=real.status, headers=_kept_headers(real))
    response.content_type = real.content_type
    response.content_length = len(body)
    await response.prepare(request)
    await response.write(body[: len(body) // 2])
    if request.transport is not None:
        request.transport.close()
    return response


async def _send_padded(
    request: web.Request, real: web.StreamResponse, body: bytes, size: int
) -> web.StreamResponse:
    """The same JSON grown to `size` bytes with whitespace before its closing bracket."""
    padding = max(0, size - len(body))
    response = web.StreamResponse(status=real.status, headers=_kept_headers(real))
    response.content_type = real.content_type
    response.content_length = len(body) + padding
    await response.prepare(request)
    await response.write(body[:-1])
    spaces = b" " * _CHUNK
    while padding > 0:
        step = min(padding, _CHUNK)
        await response.write(spaces[:step])
        padding -= step
    await response.write(body[-1:])
    await response.write_eof()
    return response

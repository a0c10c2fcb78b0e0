"""Load generators: wrk (cheap, C) when installed, else an aiohttp client; and a sequential
latency sampler for the per-request comparisons."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import aiohttp

from bench.procs import pinned


@dataclass(frozen=True)
class LoadResult:
    generator: str
    connections: int
    requests: int
    seconds: float
    errors: int
    rps: float
    p50_ms: float
    p99_ms: float

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Target:
    """One HTTP request to repeat: a GraphQL POST or an upstream GET."""

    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes | None = None


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of `values` (q in 0..100)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


async def sample_latencies(
    session: aiohttp.ClientSession, targets: Sequence[Target], samples: int
) -> list[float]:
    """Seconds per round, one request after another; a round sends all `targets` concurrently
    (a page the gateway fetches with several upstream requests is replayed the same way)."""

    async def one(target: Target) -> None:
        async with session.request(
            target.method, target.url, headers=dict(target.headers), data=target.body
        ) as response:
            await response.read()
            if response.status != 200:
                raise RuntimeError(f"{target.url}: HTTP {response.status}")

    timings: list[float] = []
    for _ in range(samples):
        started = time.perf_counter()
        if len(targets) == 1:
            await one(targets[0])
        else:
            await asyncio.gather(*(one(t) for t in targets))
        timings.append(time.perf_counter() - started)
    return timings


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


_WRK_SCRIPT = """
wrk.method = %(method)s
%(body)s
%(headers)s
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%%d,"duration_us":%%d,"p50_us":%%d,"p99_us":%%d,"errors":%%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout + e.status))
end
"""


def _lua_string(value: str) -> str:
    return json.dumps(value)  # a JSON string literal is a valid Lua string literal here


def run_wrk(
    target: Target, connections: int, seconds: float, cpus: str | None, threads: int = 1
) -> LoadResult:
    """Drive `target` with wrk for `seconds` at `connections` concurrent connections."""
    script = _WRK_SCRIPT % {
        "method": _lua_string(target.method),
        "body": "" if target.body is None else f"wrk.body = {_lua_string(target.body.decode())}",
        "headers": "\n".join(
            f"wrk.headers[{_lua_string(k)}] = {_lua_string(v)}" for k, v in target.headers.items()
        ),
    }
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
        path = Path(handle.name)
    try:
        command = [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            "--timeout",
            "10s",
            "-s",
            str(path),
            target.url,
        ]
        out = subprocess.run(
            pinned(command, cpus), capture_output=True, text=True, check=True, timeout=seconds + 60
        ).stdout
    finally:
        path.unlink(missing_ok=True)
    line = next(line for line in out.splitlines() if line.startswith("WRK_JSON "))
    data = json.loads(line.removeprefix("WRK_JSON "))
    duration = data["duration_us"] / 1e6
    return LoadResult(
        generator="wrk",
        connections=connections,
        requests=data["requests"],
        seconds=round(duration, 3),
        errors=data["errors"],
        rps=round(data["requests"] / duration, 1),
        p50_ms=round(data["p50_us"] / 1000, 3),
        p99_ms=round(data["p99_us"] / 1000, 3),
    )


async def run_aiohttp(
    target: Target,
    connections: int,
    *,
    seconds: float | None = None,
    requests: int | None = None,
) -> LoadResult:
    """Drive `target` from `connections` concurrent workers until `seconds` pass or `requests`
    have been sent."""
    assert seconds is not None or requests is not None
    latencies: list[float] = []
    errors = 0
    sent = 0
    deadline = None if seconds is None else time.perf_counter() + seconds
    headers = dict(target.headers)
    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            nonlocal sent, errors
            while True:
                if requests is not None and sent >= requests:
                    return
                if deadline is not None and time.perf_counter() >= deadline:
                    return
                sent += 1
                started = time.perf_counter()
                try:
                    async with session.request(
                        target.method, target.url, headers=headers, data=target.body
                    ) as response:
                        await response.read()
                        if response.status != 200:
                            errors += 1
                except aiohttp.ClientError:
                    errors += 1
                latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.perf_counter() - started
    return LoadResult(
        generator="aiohttp",
        connections=connections,
        requests=len(latencies),
        seconds=round(elapsed, 3),
        errors=errors,
        rps=round(len(latencies) / elapsed, 1),
        p50_ms=round(percentile(latencies, 50) * 1000, 3),
        p99_ms=round(percentile(latencies, 99) * 1000, 3),
    )

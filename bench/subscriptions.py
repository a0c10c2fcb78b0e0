"""`python -m bench.subscriptions`: what live updates cost, with the simulators and the gateway
as separate processes (as `python -m bench` starts them) and subscriptions over real
graphql-transport-ws sockets. Writes bench/subscriptions.json (git-ignored) and prints:

1. event latency: a job created in the simulator (`POST /_control/jobs`) -> its CREATED event
   at the client, p50 and p99 (the `mf` source polls every `--interval` seconds);
2. the gateway's RSS with no subscription, and with `--subscribers` idle ones;
3. upstream requests per poll interval with 1 subscriber and with `--subscribers`, all on the
   same source: one shared poller per (source, project) makes them equal.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import tempfile
import time
from collections.abc import Sequence
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import aiohttp

from bench.load import percentile
from bench.procs import PYTHON, rss_bytes, start
from bench.report import publish
from bench.run import BENCH_DIR, Upstreams, bench_env, start_gateway, wait_ready, write_config
from simulators import SimulatorSuite

WATCH = 'subscription { jobEvents(sources: ["mf"]) { kind job { nativeId } } }'
PROJECT = "1031"  # a Metafold project of 37 jobs
PER_CONNECTION = 10  # subscriptions per socket when opening many


class Socket:
    """One graphql-transport-ws connection with any number of subscriptions on it."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.reader: asyncio.Task[None] | None = None

    @classmethod
    async def open(cls, session: aiohttp.ClientSession, url: str, stack: AsyncExitStack) -> Socket:
        ws = await stack.enter_async_context(
            session.ws_connect(url, protocols=["graphql-transport-ws"])
        )
        await ws.send_json({"type": "connection_init", "payload": {}})
        ack = await ws.receive_json()
        if ack.get("type") != "connection_ack":
            raise RuntimeError(f"no connection_ack: {ack}")
        socket = cls(ws)
        socket.reader = asyncio.create_task(socket._read())
        return socket

    async def subscribe(self, op_id: str) -> None:
        await self.ws.send_json({"id": op_id, "type": "subscribe", "payload": {"query": WATCH}})

    async def _read(self) -> None:
        async for message in self.ws:
            if message.type is aiohttp.WSMsgType.TEXT:
                body = json.loads(message.data)
                if body.get("type") == "next":
                    self.events.put_nowait(body["payload"])


async def measure_latency(
    session: aiohttp.ClientSession,
    upstreams: Upstreams,
    watcher: Socket,
    samples: int,
    interval: float,
) -> dict[str, Any]:
    """Create one job at a time, at a random moment of the poll cycle, and time its CREATED
    event: the latency is the wait for the next poll plus the gateway's own work."""
    seconds: list[float] = []
    jitter = random.Random(16)
    for _ in range(samples):
        await asyncio.sleep(jitter.uniform(0, interval))
        started = time.perf_counter()
        body = {"project": PROJECT, "create": 1}
        reply = await _post(session, upstreams.base("metafold") + "/_control/jobs", body)
        (created,) = reply["created"]
        while True:
            payload = await asyncio.wait_for(watcher.events.get(), 30)
            event = payload["data"]["jobEvents"]
            if event["kind"] == "CREATED" and event["job"]["nativeId"] == str(created):
                break
        seconds.append(time.perf_counter() - started)
    return {
        "samples": samples,
        "p50_ms": round(percentile(seconds, 50) * 1000, 1),
        "p99_ms": round(percentile(seconds, 99) * 1000, 1),
        "max_ms": round(max(seconds) * 1000, 1),
    }


async def _post(session: aiohttp.ClientSession, url: str, body: Any) -> Any:
    async with session.post(url, json=body) as response:
        response.raise_for_status()
        return await response.json()


async def upstream_requests(
    session: aiohttp.ClientSession, upstreams: Upstreams, interval: float, intervals: int
) -> dict[str, float]:
    """Metafold list requests over `intervals` poll intervals, counted by the simulator (one
    poller per project, each listing its project once a poll), per interval."""
    await _post(session, upstreams.base("metafold") + "/_control/reset", {})
    started = time.perf_counter()
    await asyncio.sleep(interval * intervals)
    async with session.get(upstreams.base("metafold") + "/_control/requests") as response:
        log = await response.json()
    elapsed = time.perf_counter() - started
    lists = sum(1 for entry in log["entries"] if entry["route"] == "list")
    return {
        "list_requests": lists,
        "seconds": round(elapsed, 2),
        "per_interval": round(lists / (elapsed / interval), 2),
    }


async def measure(options: argparse.Namespace) -> dict[str, Any]:
    suite = SimulatorSuite()
    env = {**bench_env(), "JOBGRAPH_SOURCES__MF__POLL_INTERVAL_S": str(options.interval)}
    env["JOBGRAPH_SERVER__MAX_SUBSCRIPTIONS_PER_CONNECTION"] = str(PER_CONNECTION)
    sims = start("simulators", [PYTHON, "-m", "bench.simserver", "--port", "0"], env)
    services = [sims]
    results: dict[str, Any] = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "poll_interval_s": options.interval,
        "subscribers": options.subscribers,
    }
    try:
        upstreams = Upstreams(sims, suite)
        with tempfile.TemporaryDirectory(prefix="jobgraph-bench-") as tmp:
            config = write_config(Path(tmp), suite, upstreams.root)
            os.environ.update(env)  # start_gateway passes bench_env(), which reads os.environ
            gateway = start_gateway(config, 1, None)
            services.append(gateway)
            connector = aiohttp.TCPConnector(limit=0)  # every socket stays open
            async with (
                aiohttp.ClientSession(connector=connector) as session,
                AsyncExitStack() as stack,
            ):
                await wait_ready(session, gateway, 1)
                url = gateway.url + "/graphql"
                rss_idle = rss_bytes(gateway.pid)
                watcher = await Socket.open(session, url, stack)
                await watcher.subscribe("watch")
                await asyncio.sleep(options.interval * 2)  # the baseline polls
                results["latency"] = await measure_latency(
                    session, upstreams, watcher, options.samples, options.interval
                )
                one = await upstream_requests(
                    session, upstreams, options.interval, options.intervals
                )
                rss_one = rss_bytes(gateway.pid)
                many = await _open_many(session, url, stack, options.subscribers - 1)
                await asyncio.sleep(options.interval * 2)
                rss_many = rss_bytes(gateway.pid)
                all_of_them = await upstream_requests(
                    session, upstreams, options.interval, options.intervals
                )
                results["memory"] = {
                    "rss_mb_no_subscription": round(rss_idle / 2**20, 1),
                    "rss_mb_one_subscription": round(rss_one / 2**20, 1),
                    "rss_mb_with_subscribers": round(rss_many / 2**20, 1),
                    "sockets": len(many) + 1,
                }
                results["upstream"] = {
                    "one_subscriber": one,
                    "many_subscribers": all_of_them,
                    "metafold_projects": len(suite.projects("metafold")),
                }
    finally:
        for service in reversed(services):
            service.stop()
    return results


async def _open_many(
    session: aiohttp.ClientSession, url: str, stack: AsyncExitStack, count: int
) -> list[Socket]:
    sockets: list[Socket] = []
    for start_at in range(0, count, PER_CONNECTION):
        socket = await Socket.open(session, url, stack)
        for n in range(start_at, min(count, start_at + PER_CONNECTION)):
            await socket.subscribe(str(n))
        sockets.append(socket)
    return sockets


def render(results: dict[str, Any]) -> str:
    latency, memory, upstream = results["latency"], results["memory"], results["upstream"]
    one, many = upstream["one_subscriber"], upstream["many_subscribers"]
    n = results["subscribers"]
    return "\n".join(
        [
            f"Live updates (poll interval {results['poll_interval_s']:g} s)",
            f"event latency, change in the simulator -> event at the client: "
            f"p50 {latency['p50_ms']} ms, p99 {latency['p99_ms']} ms ({latency['samples']} events)",
            f"gateway RSS: {memory['rss_mb_no_subscription']} MB with no subscription, "
            f"{memory['rss_mb_one_subscription']} MB with 1 (its pollers running), "
            f"{memory['rss_mb_with_subscribers']} MB with {n} idle subscriptions "
            f"({memory['sockets']} sockets)",
            f"upstream requests per poll interval: {one['per_interval']} with 1 subscriber, "
            f"{many['per_interval']} with {n} (one poller per Metafold project: "
            f"{upstream['metafold_projects']}, each listing once a poll)",
        ]
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.subscriptions", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a seconds-long smoke run")
    parser.add_argument("--samples", type=int, default=50, help="latency samples (50)")
    parser.add_argument("--subscribers", type=int, default=1000, help="subscriptions (1000)")
    parser.add_argument("--interval", type=float, default=1.0, help="poll interval s (1)")
    parser.add_argument("--intervals", type=int, default=10, help="intervals counted (10)")
    parser.add_argument("--output", type=Path, default=BENCH_DIR / "subscriptions.json")
    options = parser.parse_args(argv)
    if options.quick:
        options.samples, options.subscribers, options.intervals = 3, 50, 3
    results = asyncio.run(measure(options))
    publish(results, options.output, render(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())

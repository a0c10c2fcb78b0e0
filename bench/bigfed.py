"""`python -m bench.bigfed`: federated `jobs` pages over big projects (issue 19).

The simulators run with the "big" sizes profile (every project of 30+ jobs holds 5,000: two
Edge Impulse projects, the workflow list, and the big projects of the others) and
`--latency-ms` (150) on every request; the gateway runs as `python -m bench` starts it, one
worker. For `jobs(first: 25)` and the next `--pages - 1` pages (walking `after: endCursor`),
over `--walks` walks, it measures:

1. p50 latency per page, against one direct upstream round trip;
2. upstream requests per page (the simulators' request logs) and bytes of upstream JSON
   sent for it (the logs' body sizes: what the gateway had to parse);
3. that the walk is exact: the (source, project, nativeId) triples equal the simulators' own
   data merged by creation time (ties in id order within a stream, streams in config order),
   no repeats, no gaps; again with jobs created in four big projects before every page;
4. the gateway's RSS fresh, after the walks, and at its peak, per 1,000 jobs of the lists
   it cannot sort upstream (which it reads whole for every page today).

The targets (issue 19): p50 of pages 2..N within 1.5x of one upstream round trip; upstream
requests per later page at most the sortable streams plus one. Writes bench/bigfed.json
(git-ignored) and prints the table; `--baseline OLD.json` adds a before/after table;
`--tiny` is a seconds-long smoke run on the default dataset (tests/bench).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import orjson

from bench.load import percentile
from bench.procs import PYTHON, Service, cpu_seconds, rss_bytes, start
from bench.report import publish
from bench.run import BENCH_DIR, Layout, Upstreams, bench_env, start_gateway, wait_ready
from resolvers.config import parse_config
from resolvers.domain import CreatedOrder, JobFilterSpec
from resolvers.merge import plan_streams
from resolvers.providers.base import upstream_datetime
from resolvers.providers.registry import build_adapters
from simulators import SimulatorSuite
from simulators.suite import PROVIDERS

OUTPUT = BENCH_DIR / "bigfed.json"
# Jobs created before every page but the first, in each of these (provider, big project)s.
ARRIVALS_PER_PAGE = 2
ARRIVAL_PROVIDERS = ("edge_impulse", "workflow", "orange", "metafold")
# Above the big lists' 5,000 plus what the arrivals add (the default ceiling is 5,000).
SCAN_CEILING = 10_000
ROUND_TRIP_SAMPLES = 20
P50_BOUND = 1.5
# A few seconds: a walk of five pages reads each unsortable list once.
MAX_STALENESS_S = 5.0
NODE_FIELDS = "source projectId nativeId name status createdAt"

JobKey = tuple[str, str | None, str]  # (source, projectId, nativeId)


@dataclass(frozen=True)
class BigFedOptions:
    sizes: str = "big"
    latency_ms: float = 150.0
    walks: int = 3
    pages: int = 5
    page_size: int = 25
    output: Path = OUTPUT
    label: str = ""
    baseline: Path | None = None
    # Every source's max_staleness_s (0: every page reads the unsortable lists whole again).
    max_staleness_s: float = MAX_STALENESS_S

    @classmethod
    def tiny(cls, **overrides: Any) -> BigFedOptions:
        values: dict[str, Any] = {
            "sizes": "default",
            "latency_ms": 5.0,
            "walks": 1,
            "pages": 3,
            "max_staleness_s": 0.5,
        }
        values.update(overrides)
        return cls(**values)


# --- the config and the oracle ------------------------------------------------------------------


def config_data(suite: SimulatorSuite, root: str, max_staleness_s: float = 0.0) -> dict[str, Any]:
    """The demo sources on `root`, with a scan ceiling above the big lists and the arrivals,
    each with `max_staleness_s`."""
    return {
        "server": {"host": "127.0.0.1", "port": 0, "graphiql": False, "scan_ceiling": SCAN_CEILING},
        "sources": [
            {**source, "max_staleness_s": max_staleness_s} for source in suite.demo_sources(root)
        ],
    }


def write_config(directory: Path, data: Mapping[str, Any]) -> Path:
    lines = ["[server]"]
    lines += [f"{key} = {json.dumps(value)}" for key, value in data["server"].items()]
    for source in data["sources"]:
        lines += ["", "[[sources]]"]
        lines += [f"{key} = {json.dumps(value)}" for key, value in source.items()]
    path = directory / "jobgraph-bigfed.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


@dataclass(frozen=True)
class StreamInfo:
    source: str
    provider: str
    project: str | None
    sortable: bool


def streams_of(data: Mapping[str, Any]) -> list[StreamInfo]:
    """The federated listing's streams in merge order, and which the upstream sorts."""
    config = parse_config(data, environ={})
    adapters = build_adapters(config.sources)
    plan = plan_streams(config.sources, adapters, CreatedOrder.DESC, JobFilterSpec())
    return [
        StreamInfo(s.source, s.provider.value, s.query.project, s.pushdown.ordered)
        for s in plan.streams
    ]


def _micros(value: Any) -> int | None:
    moment = upstream_datetime(value)
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    if not isinstance(moment, datetime):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp()) * 1_000_000 + moment.microsecond


def merged_order(suite: SimulatorSuite, streams: Sequence[StreamInfo]) -> list[JobKey]:
    """Every job of every stream, newest first, as the simulators hold them: equal creation
    times by stream (config order), then by id within a stream; no creation time last."""
    keyed: list[tuple[tuple[int, int, int, str], JobKey]] = []
    for index, stream in enumerate(streams):
        sim = suite.sim(stream.provider)
        id_key = sim.shape.id_key
        stored = {str(job.payload[id_key]): job for job in sim.project_jobs(stream.project)}
        for payload in suite.jobs(stream.provider, stream.project):
            native = str(payload[id_key])
            micros = _micros(sim.shape.created_of(stored[native]))
            time_key = (1, 0) if micros is None else (0, -micros)
            keyed.append(((*time_key, index, native), (stream.source, stream.project, native)))
    keyed.sort(key=lambda item: item[0])
    return [key for _, key in keyed]


def exactness(walked: Sequence[JobKey], expected: Sequence[JobKey]) -> dict[str, Any]:
    """How a walk's jobs compare with the oracle's first as many."""
    wanted = list(expected[: len(walked)])
    first_difference = next(
        (i for i, (a, b) in enumerate(zip(walked, wanted, strict=False)) if a != b), None
    )
    return {
        "jobs": len(walked),
        "exact": list(walked) == wanted,
        "repeats": len(walked) - len(set(walked)),
        "missing": len(set(wanted) - set(walked)),
        "first_difference_at": first_difference,
    }


# --- the measurements ---------------------------------------------------------------------------


def page_query(first: int, after: str | None) -> str:
    cursor = "" if after is None else f', after: "{after}"'
    return (
        f"{{ jobs(first: {first}{cursor}) {{ pageInfo {{ hasNextPage endCursor }} "
        f"failures {{ source code message }} nodes {{ {NODE_FIELDS} }} }} }}"
    )


async def _post(session: aiohttp.ClientSession, gateway: str, query: str) -> dict[str, Any]:
    async with session.post(f"{gateway}/graphql", json={"query": query}) as response:
        body: dict[str, Any] = await response.json(loads=orjson.loads)
    if body.get("errors"):
        raise RuntimeError(f"query failed: {body['errors'][0]}")
    return body


async def _log_sizes(session: aiohttp.ClientSession, upstreams: Upstreams) -> tuple[int, int]:
    """(requests, response bytes) the simulators logged since their last reset."""
    logs = await upstreams.requests(session)
    entries = [entry for provider in PROVIDERS for entry in logs[provider]]
    return len(entries), sum(entry.get("body_bytes") or 0 for entry in entries)


async def _fresh_logs(
    session: aiohttp.ClientSession, upstreams: Upstreams, latency_ms: float
) -> None:
    await upstreams.reset(session)  # also drops the standing latency: set it again
    await upstreams.set_latency(session, latency_ms)


class Arrivals:
    """Jobs created in a big project of each of `ARRIVAL_PROVIDERS` before a page, and
    deleted again after the walk so that every walk starts from the same data."""

    def __init__(self, session: aiohttp.ClientSession, upstreams: Upstreams) -> None:
        self.session = session
        self.upstreams = upstreams
        self.created: list[tuple[str, str | None, list[Any]]] = []
        suite = upstreams.suite
        self.projects: list[tuple[str, str | None]] = []
        for provider in ARRIVAL_PROVIDERS:
            projects: list[str | None] = list(suite.projects(provider)) or [None]
            biggest = max(projects, key=lambda p: len(suite.jobs(provider, p)))
            self.projects.append((provider, biggest))

    async def _jobs(self, provider: str, body: dict[str, Any]) -> Any:
        url = self.upstreams.base(provider) + "/_control/jobs"
        async with self.session.post(url, json=body) as response:
            response.raise_for_status()
            return await response.json()

    async def arrive(self) -> None:
        for provider, project in self.projects:
            body = {"project": project, "create": ARRIVALS_PER_PAGE}
            reply = await self._jobs(provider, body)
            self.created.append((provider, project, reply["created"]))

    async def remove(self) -> None:
        for provider, project, ids in self.created:
            await self._jobs(provider, {"project": project, "delete": ids})
        self.created.clear()

    @property
    def count(self) -> int:
        return sum(len(ids) for _, _, ids in self.created)


async def walk(
    session: aiohttp.ClientSession,
    upstreams: Upstreams,
    gateway: str,
    options: BigFedOptions,
    arrivals: Arrivals | None = None,
    cpu: Callable[[], tuple[float, float]] = lambda: (0.0, 0.0),
) -> dict[str, Any]:
    """One walk of `options.pages` pages: per page its latency, upstream requests and bytes,
    the CPU the gateway and the simulators spent on it (`cpu()`: their seconds so far), and
    every job's key."""
    after: str | None = None
    pages: list[dict[str, Any]] = []
    walked: list[JobKey] = []
    failures: list[Any] = []
    for number in range(options.pages):
        if arrivals is not None and number:
            await arrivals.arrive()
        before_requests, before_bytes = await _log_sizes(session, upstreams)
        gateway_before, simulators_before = cpu()
        started = time.perf_counter()
        body = await _post(session, gateway, page_query(options.page_size, after))
        seconds = time.perf_counter() - started
        gateway_after, simulators_after = cpu()
        requests, sent = await _log_sizes(session, upstreams)
        page = body["data"]["jobs"]
        failures += page["failures"]
        walked += [(n["source"], n["projectId"], n["nativeId"]) for n in page["nodes"]]
        pages.append(
            {
                "seconds": seconds,
                "upstream_requests": requests - before_requests,
                "upstream_bytes": sent - before_bytes,
                "gateway_cpu_s": gateway_after - gateway_before,
                "simulators_cpu_s": simulators_after - simulators_before,
                "jobs": len(page["nodes"]),
            }
        )
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    return {"pages": pages, "walked": walked, "failures": failures}


async def round_trip(
    session: aiohttp.ClientSession, upstreams: Upstreams, samples: int
) -> dict[str, float]:
    """One direct upstream request (an Edge Impulse page of 25), p50 and p99 in ms."""
    suite = upstreams.suite
    project = max(suite.projects("edge_impulse"), key=lambda p: len(suite.jobs("edge_impulse", p)))
    url = upstreams.base("edge_impulse") + (
        f"/api/organizations/1/whitelabel/projects/{project}/jobs?limit=25&offset=0"
    )
    headers = {"x-api-key": suite.demo_environ()["JOBGRAPH_SIM_EI_API_KEY"]}
    seconds = []
    for _ in range(samples):
        started = time.perf_counter()
        async with session.get(url, headers=headers) as response:
            await response.read()
            response.raise_for_status()
        seconds.append(time.perf_counter() - started)
    return {
        "p50_ms": round(percentile(seconds, 50) * 1000, 1),
        "p99_ms": round(percentile(seconds, 99) * 1000, 1),
    }


async def outlive_snapshots(options: BigFedOptions) -> None:
    """Wait until every snapshot the walk used is older than max_staleness_s: each walk starts
    from the lists as they are (the arrivals of the last one deleted), as the bound promises."""
    if options.max_staleness_s > 0:
        await asyncio.sleep(options.max_staleness_s)


async def snapshot_jobs(session: aiohttp.ClientSession, gateway: str) -> int:
    """The jobs the gateway's snapshots hold (its `jobgraph_snapshot_jobs` metric)."""
    async with session.get(f"{gateway}/metrics") as response:
        text = await response.text()
    for line in text.splitlines():
        if line.startswith("jobgraph_snapshot_jobs "):
            return int(float(line.split()[-1]))
    return 0


def peak_rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def summarise(walks: Sequence[Mapping[str, Any]], pages: int) -> list[dict[str, Any]]:
    """Per page number: p50 latency and the median upstream requests and bytes over walks."""
    rows = []
    for number in range(pages):
        seen = [w["pages"][number] for w in walks if len(w["pages"]) > number]
        if not seen:
            break
        rows.append(
            {
                "page": number + 1,
                "p50_ms": round(percentile([p["seconds"] for p in seen], 50) * 1000, 1),
                "upstream_requests": percentile([p["upstream_requests"] for p in seen], 50),
                "upstream_kb": round(percentile([p["upstream_bytes"] for p in seen], 50) / 1024),
                "gateway_cpu_ms": round(
                    percentile([p.get("gateway_cpu_s", 0.0) for p in seen], 50) * 1000, 1
                ),
                "simulators_cpu_ms": round(
                    percentile([p.get("simulators_cpu_s", 0.0) for p in seen], 50) * 1000, 1
                ),
                "walks": len(seen),
            }
        )
    return rows


def check_targets(
    rows: Sequence[Mapping[str, Any]], round_trip_ms: float, sortable: int
) -> dict[str, Any]:
    later = rows[1:]
    worst_p50 = max((r["p50_ms"] for r in later), default=0.0)
    worst_requests = max((r["upstream_requests"] for r in later), default=0)
    return {
        "later_pages_p50": {
            "figure_ms": worst_p50,
            "bound_ms": round(P50_BOUND * round_trip_ms, 1),
            "ratio": round(worst_p50 / round_trip_ms, 2) if round_trip_ms else None,
            "met": worst_p50 <= P50_BOUND * round_trip_ms,
        },
        "later_pages_upstream_requests": {
            "figure": worst_requests,
            "bound": sortable + 1,
            "met": worst_requests <= sortable + 1,
        },
    }


def progress(message: str) -> None:
    print(f"[bench.bigfed] {message}", file=sys.stderr, flush=True)


def _commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        )
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


async def measure(options: BigFedOptions) -> dict[str, Any]:
    layout = Layout.for_machine()
    if layout.others is not None:
        os.sched_setaffinity(0, {int(layout.others)})  # this script and what it starts
    progress(f"generating the {options.sizes!r} dataset")
    suite = SimulatorSuite(sizes=options.sizes)
    results: dict[str, Any] = {
        "label": options.label,
        "commit": _commit(),
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "layout": layout.to_json("aiohttp"),
        "options": {
            "sizes": options.sizes,
            "latency_ms": options.latency_ms,
            "walks": options.walks,
            "pages": options.pages,
            "page_size": options.page_size,
            "scan_ceiling": SCAN_CEILING,
            "arrivals_per_page": ARRIVALS_PER_PAGE * len(ARRIVAL_PROVIDERS),
            "max_staleness_s": options.max_staleness_s,
        },
    }
    command = [PYTHON, "-m", "bench.simserver", "--port", "0", "--sizes", options.sizes]
    services: list[Service] = [start("simulators", command, bench_env(), timeout=180)]
    try:
        upstreams = Upstreams(services[0], suite)
        data = config_data(suite, upstreams.root, options.max_staleness_s)
        streams = streams_of(data)
        sortable = sum(s.sortable for s in streams)
        expected = merged_order(suite, streams)
        results["streams"] = {
            "total": len(streams),
            "sortable": sortable,
            "unsortable": [f"{s.source}/{s.project or '-'}" for s in streams if not s.sortable],
            "unsortable_jobs": sum(
                len(suite.jobs(s.provider, s.project)) for s in streams if not s.sortable
            ),
            "jobs": len(expected),
        }
        with tempfile.TemporaryDirectory(prefix="jobgraph-bigfed-") as tmp:
            config = write_config(Path(tmp), data)
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=600)) as session:
                gateway = start_gateway(config, 1, layout.gateway)
                services.append(gateway)
                await wait_ready(session, gateway, 1)
                await _post(session, gateway.url, "{ sources { name } }")
                pid = gateway.serving_pids()[0]
                simulators = services[0]

                def cpu() -> tuple[float, float]:
                    return cpu_seconds(pid), simulators.cpu_seconds()

                fresh = rss_bytes(pid)
                await _fresh_logs(session, upstreams, options.latency_ms)
                progress("one upstream round trip")
                results["round_trip"] = await round_trip(session, upstreams, ROUND_TRIP_SAMPLES)
                walks = []
                for number in range(options.walks):
                    progress(f"walk {number + 1}/{options.walks}")
                    await _fresh_logs(session, upstreams, options.latency_ms)
                    walks.append(await walk(session, upstreams, gateway.url, options, cpu=cpu))
                    await outlive_snapshots(options)
                after_walks = rss_bytes(pid)
                peak = peak_rss_bytes(pid)
                held = await snapshot_jobs(session, gateway.url)
                changing = []
                arrivals = Arrivals(session, upstreams)
                for number in range(options.walks):
                    progress(f"walk {number + 1}/{options.walks} with jobs arriving")
                    await _fresh_logs(session, upstreams, options.latency_ms)
                    try:
                        changing.append(
                            await walk(session, upstreams, gateway.url, options, arrivals, cpu)
                        )
                        changing[-1]["arrived"] = arrivals.count
                    finally:
                        await arrivals.remove()
                    await outlive_snapshots(options)
                await _fresh_logs(session, upstreams, 0)
    finally:
        for service in reversed(services):
            service.stop()
    rows = summarise(walks, options.pages)
    changing_rows = summarise(changing, options.pages)
    results["pages"] = rows
    results["pages_with_arrivals"] = changing_rows
    results["exactness"] = [exactness(w["walked"], expected) for w in walks]
    results["exactness_with_arrivals"] = [
        {**exactness(w["walked"], expected), "arrived": w["arrived"]} for w in changing
    ]
    results["failures"] = [f for w in [*walks, *changing] for f in w["failures"]]
    unsortable_thousands = results["streams"]["unsortable_jobs"] / 1000
    results["memory"] = {
        "rss_fresh_mb": round(fresh / 2**20, 1),
        "rss_after_walks_mb": round(after_walks / 2**20, 1),
        "rss_peak_mb": round(peak / 2**20, 1),
        # The jobs the snapshots held after the walks (the gateway's jobgraph_snapshot_jobs);
        # 0 with max_staleness_s 0, where the growth is what one operation's read leaves.
        "jobs_held_across_requests": held,
        "growth_mb_per_1000_held_jobs": round((after_walks - fresh) / 2**20 / (held / 1000), 2)
        if held
        else None,
        "unsortable_jobs_read_per_page": results["streams"]["unsortable_jobs"],
        "growth_mb_per_1000_jobs": round((after_walks - fresh) / 2**20 / unsortable_thousands, 2)
        if unsortable_thousands
        else None,
        "peak_mb_per_1000_jobs": round((peak - fresh) / 2**20 / unsortable_thousands, 2)
        if unsortable_thousands
        else None,
    }
    results["targets"] = check_targets(rows, results["round_trip"]["p50_ms"], sortable)
    results["targets"]["exact"] = {
        "met": all(e["exact"] for e in results["exactness"])
        and all(e["exact"] for e in results["exactness_with_arrivals"])
        and not results["failures"],
    }
    results["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    if options.baseline is not None:
        results["comparison"] = compare(json.loads(options.baseline.read_text()), results)
    return results


def compare(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Per page: p50 and upstream requests before and after."""
    rows = []
    for old, new in zip(before.get("pages", []), after["pages"], strict=False):
        rows.append(
            {
                "page": new["page"],
                "p50_ms": [old["p50_ms"], new["p50_ms"]],
                "upstream_requests": [old["upstream_requests"], new["upstream_requests"]],
            }
        )
    return rows


# --- the report ---------------------------------------------------------------------------------


def _mark(met: bool) -> str:
    return "met" if met else "MISSED"


def render(results: Mapping[str, Any]) -> str:
    options, streams, memory = results["options"], results["streams"], results["memory"]
    trip = results["round_trip"]
    lines = [
        f"Federated pages at scale ({options['sizes']} sizes: {streams['jobs']} jobs in "
        f"{streams['total']} streams, {streams['sortable']} sortable upstream; unsortable: "
        f"{', '.join(streams['unsortable'])} = {streams['unsortable_jobs']} jobs; "
        f"{options['latency_ms']:g} ms on every upstream request)",
        f"one upstream round trip: p50 {trip['p50_ms']} ms, p99 {trip['p99_ms']} ms",
        f"jobs(first: {options['page_size']}) and the next pages, over {options['walks']} walks:",
        "",
        "| page | p50 ms | upstream requests | upstream KB | gateway CPU ms | simulators CPU ms "
        "| with arrivals: p50 ms | requests |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    arriving = {row["page"]: row for row in results["pages_with_arrivals"]}
    for row in results["pages"]:
        other = arriving.get(row["page"], {})
        lines.append(
            f"| {row['page']} | {row['p50_ms']} | {row['upstream_requests']:g} | "
            f"{row['upstream_kb']} | {row['gateway_cpu_ms']} | {row['simulators_cpu_ms']} | "
            f"{other.get('p50_ms', '-')} | "
            f"{other.get('upstream_requests', '-')} |"
        )
    exact = results["exactness"]
    changing = results["exactness_with_arrivals"]
    lines += [
        "",
        f"exact walks: {sum(e['exact'] for e in exact)}/{len(exact)}; with jobs arriving "
        f"({options['arrivals_per_page']} before every later page): "
        f"{sum(e['exact'] for e in changing)}/{len(changing)}; "
        f"repeats {sum(e['repeats'] for e in exact + changing)}, "
        f"gaps {sum(e['missing'] for e in exact + changing)}, "
        f"source failures {len(results['failures'])}",
        f"gateway RSS: {memory['rss_fresh_mb']} MB fresh, {memory['rss_after_walks_mb']} MB "
        f"after the walks, {memory['rss_peak_mb']} MB peak; per 1,000 jobs of the unsortable "
        f"lists read per page: {memory['growth_mb_per_1000_jobs']} MB kept, "
        f"{memory['peak_mb_per_1000_jobs']} MB at peak; jobs held in snapshots "
        f"(max_staleness_s {options['max_staleness_s']:g}): "
        f"{memory['jobs_held_across_requests']}, "
        f"{memory['growth_mb_per_1000_held_jobs']} MB of growth per 1,000 held",
        "",
        "targets:",
    ]
    targets = results["targets"]
    p50, requests = targets["later_pages_p50"], targets["later_pages_upstream_requests"]
    lines.append(
        f"- p50 of pages 2..{len(results['pages'])} within {P50_BOUND}x of one round trip: "
        f"{_mark(p50['met'])} (worst {p50['figure_ms']} ms = {p50['ratio']}x; bound "
        f"{p50['bound_ms']} ms)"
    )
    lines.append(
        f"- upstream requests per later page <= sortable streams + 1: {_mark(requests['met'])} "
        f"(worst {requests['figure']:g}; bound {requests['bound']})"
    )
    lines.append(f"- exact, also with jobs arriving: {_mark(targets['exact']['met'])}")
    for row in results.get("comparison", []):
        lines.append(
            f"vs baseline, page {row['page']}: p50 {row['p50_ms'][0]} -> {row['p50_ms'][1]} ms, "
            f"upstream requests {row['upstream_requests'][0]:g} -> "
            f"{row['upstream_requests'][1]:g}"
        )
    lines.append(
        f"load average {results['load_average_at_start']} at start, "
        f"{results['load_average_at_end']} at end"
    )
    return "\n".join(lines)


def parse_options(argv: Sequence[str] | None = None) -> BigFedOptions:
    parser = argparse.ArgumentParser(prog="python -m bench.bigfed", description=__doc__)
    parser.add_argument("--tiny", action="store_true", help="seconds-long smoke run")
    parser.add_argument("--walks", type=int, help="walks per variant (3)")
    parser.add_argument("--pages", type=int, help="pages per walk (5)")
    parser.add_argument("--latency-ms", type=float, help="on every upstream request (150)")
    parser.add_argument("--output", type=Path, help="default: bench/bigfed.json")
    parser.add_argument("--label", default="")
    parser.add_argument("--baseline", type=Path, help="an earlier bigfed.json to compare with")
    parser.add_argument(
        "--max-staleness",
        type=float,
        help=f"every source's max_staleness_s ({MAX_STALENESS_S:g}; 0: no snapshots)",
    )
    args = parser.parse_args(argv)
    options = BigFedOptions.tiny() if args.tiny else BigFedOptions()
    overrides = {
        "walks": args.walks,
        "pages": args.pages,
        "latency_ms": args.latency_ms,
        "output": args.output,
        "label": args.label,
        "baseline": args.baseline,
        "max_staleness_s": args.max_staleness,
    }
    return replace(options, **{k: v for k, v in overrides.items() if v is not None})


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_options(argv)
    results = asyncio.run(measure(options))
    publish(results, options.output, render(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The bench run: start simulators and gateway as separate processes, measure, report.

Sections of results.json: layout, overhead, fanout, throughput, replicas, economy, memory,
profile.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import orjson

from bench import replicas as lb
from bench.load import (
    LoadResult,
    Target,
    percentile,
    run_aiohttp,
    run_wrk,
    sample_latencies,
    wrk_available,
)
from bench.procs import PYTHON, ROOT, Service, cpu_seconds, pinned, rss_bytes, start
from resolvers.config import parse_config
from resolvers.domain import CreatedOrder, JobFilterSpec
from resolvers.paging import PageWindow
from resolvers.providers.registry import build_adapters
from simulators import SimulatorSuite
from simulators.edge_impulse import ORGANIZATION_ID
from simulators.orange import SERVER_CAP as ORANGE_SERVER_CAP
from simulators.suite import DEMO_ENVIRON, PROVIDERS

BENCH_DIR = Path(__file__).resolve().parent
SECTIONS = (
    "layout",
    "overhead",
    "fanout",
    "throughput",
    "replicas",
    "economy",
    "memory",
    "profile",
)
CONCURRENCY = 16
FANOUT_LATENCY_MS = 50
WALK_PAGE = 20
NODE_IDS_PER_PROVIDER = 10
JOB_FIELDS = "id provider source nativeId name status rawStatus createdAt startedAt finishedAt"
JOB_FIELDS += " durationSeconds"


@dataclass(frozen=True)
class Options:
    quick: bool = False
    samples: int = 200
    seconds: float = 10.0
    requests: int = 10_000
    loadgen: str = "auto"  # auto | wrk | aiohttp
    workers: tuple[int, ...] = (1, 2)
    profile_seconds: float = 8.0
    output: Path = BENCH_DIR / "results.json"
    profile_prefix: Path | None = None  # default: "profile" beside the output
    label: str = ""
    baseline: Path | None = None
    max_walk_pages: int = 10_000  # per walk; the quick run stops early
    peers: bool = False  # `--peers`: only the peers run (bench/peers.py)

    @classmethod
    def quick_mode(cls, **overrides: Any) -> Options:
        values: dict[str, Any] = {
            "quick": True,
            "samples": 10,
            "seconds": 1.0,
            "requests": 200,
            "loadgen": "aiohttp",
            "profile_seconds": 1.0,
            "max_walk_pages": 2,
        }
        values.update(overrides)
        return cls(**values)


@dataclass(frozen=True)
class Layout:
    """Which cores the gateway and the rest (simulators, load generator, this script) use."""

    gateway: str | None
    others: str | None
    two_workers: str | None
    cores: int

    @classmethod
    def for_machine(cls) -> Layout:
        available = sorted(os.sched_getaffinity(0))
        if len(available) < 2:
            return cls(None, None, None, len(available))
        first, second = str(available[0]), str(available[1])
        return cls(second, first, f"{first},{second}", len(available))

    def to_json(self, generator: str) -> dict[str, Any]:
        if self.gateway is None:
            text = "one core: gateway, simulators and load generator share it"
        else:
            text = (
                f"1 worker: gateway pinned to core {self.gateway}; simulators (one uvloop "
                f"process), the {generator} load generator and this script pinned to core "
                f"{self.others}. 2 workers: both gateway workers on cores {self.two_workers}, "
                f"sharing them with the simulators and load generator."
            )
        return {
            "cores": self.cores,
            "cpu_model": _cpu_model(),
            "python": platform.python_version(),
            "gateway_cores": self.gateway,
            "other_cores": self.others,
            "two_worker_cores": self.two_workers,
            "load_generator": generator,
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
            "description": text,
        }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


# --- the workload ---------------------------------------------------------------------


@dataclass(frozen=True)
class PageSpec:
    """A per-provider connection field over one project, and the project's size."""

    provider: str
    field: str
    args: str
    project: str | None

    def query(self, first: int, after: str | None = None) -> str:
        cursor = "" if after is None else f', after: "{after}"'
        separator = ", " if self.args else ""
        return (
            f"{{ {self.field}({self.args}{separator}first: {first}{cursor}) "
            f"{{ pageInfo {{ hasNextPage endCursor }} nodes {{ {JOB_FIELDS} }} }} }}"
        )


def page_specs(suite: SimulatorSuite, every_project: bool = False) -> list[PageSpec]:
    """The largest project of each provider, or every project of every provider."""
    specs: list[PageSpec] = []
    for provider in PROVIDERS:
        projects: list[str | None] = list(suite.projects(provider)) or [None]
        if not every_project:
            projects = [max(projects, key=lambda p: len(suite.jobs(provider, p)))]
        for project in projects:
            if provider == "edge_impulse":
                field, args = "edgeImpulseJobs", f"organizationId: {ORGANIZATION_ID}, "
                args += f"projectId: {project}"
            elif provider == "orange":
                field, args = "orangeJobs", f'projectId: "{project}"'
            elif provider == "metafold":
                field, args = "metafoldJobs", f'projectId: "{project}"'
            elif provider == "workflow":
                field, args = "workflowJobs", ""
            else:
                field, args = "modelArtsJobs", f'projectId: "{project}"'
            specs.append(PageSpec(provider, field, args, project))
    return specs


def throughput_spec(suite: SimulatorSuite) -> PageSpec:
    """The page every throughput, memory and profile figure uses: 20 Edge Impulse jobs."""
    return page_specs(suite)[0]


def graphql_target(gateway: str, query: str) -> Target:
    return Target(
        "POST",
        f"{gateway}/graphql",
        {"Content-Type": "application/json"},
        orjson.dumps({"query": query}),
    )


# --- the processes ----------------------------------------------------------------------


class Upstreams:
    """The simulators' process and its control endpoints."""

    def __init__(self, service: Service, suite: SimulatorSuite) -> None:
        self.service = service
        self.suite = suite
        self.root = service.url

    def base(self, provider: str) -> str:
        return self.suite.base_url(self.root, provider)

    async def control(
        self, session: aiohttp.ClientSession, method: str, path: str, body: Any = None
    ) -> Any:
        results = []
        for provider in PROVIDERS:
            async with session.request(method, self.base(provider) + path, json=body) as response:
                response.raise_for_status()
                results.append(await response.json())
        return results

    async def reset(self, session: aiohttp.ClientSession) -> None:
        await self.control(session, "POST", "/_control/reset")

    async def set_latency(self, session: aiohttp.ClientSession, latency_ms: float) -> None:
        await self.control(session, "POST", "/_control/latency", {"latency_ms": latency_ms})

    async def requests(self, session: aiohttp.ClientSession) -> dict[str, list[dict[str, Any]]]:
        """Each provider's logged upstream requests since the last reset."""
        logs = await self.control(session, "GET", "/_control/requests")
        return {p: log["entries"] for p, log in zip(PROVIDERS, logs, strict=True)}


def write_config(directory: Path, suite: SimulatorSuite, root: str) -> Path:
    lines = ["[server]", 'host = "127.0.0.1"', "port = 0", "graphiql = false", ""]
    for source in suite.demo_sources(root):
        lines.append("[[sources]]")
        for key, value in source.items():
            lines.append(f"{key} = {json.dumps(value)}")
        lines.append("")
    path = directory / "jobgraph-bench.toml"
    path.write_text("\n".join(lines))
    return path


def bench_env() -> dict[str, str]:
    env = {**os.environ, **DEMO_ENVIRON, "PYTHONPATH": str(ROOT)}
    env.pop("JOBGRAPH_SERVER__WORKERS", None)
    return env


def start_gateway(config: Path, workers: int, cpus: str | None) -> Service:
    command = [PYTHON, "-m", "graph.cli", "serve", "--config", str(config), "--port", "0"]
    command += ["--workers", str(workers)]
    return start(f"gateway x{workers}", pinned(command, cpus), bench_env())


async def wait_ready(session: aiohttp.ClientSession, gateway: Service, workers: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            async with session.get(f"{gateway.url}/healthz") as response:
                forked = len(gateway.serving_pids()) >= workers or workers == 1
                if response.status == 200 and forked:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError(f"{gateway.name} never became ready: {gateway.output[-5:]}")


async def post(session: aiohttp.ClientSession, gateway: str, query: str) -> dict[str, Any]:
    async with session.post(f"{gateway}/graphql", json={"query": query}) as response:
        body: dict[str, Any] = await response.json(loads=orjson.loads)
    if body.get("errors"):
        raise RuntimeError(f"query failed: {body['errors'][0]} :: {query[:200]}")
    return body


# --- the measurements -------------------------------------------------------------------


def _stats(seconds: Sequence[float]) -> dict[str, float]:
    return {
        "p50_ms": round(percentile(seconds, 50) * 1000, 3),
        "p99_ms": round(percentile(seconds, 99) * 1000, 3),
    }


def replay_url(root: str, entry: Mapping[str, Any]) -> str:
    """The URL of a request a simulator logged, to send it again directly."""
    return f"{root}{entry['path']}?{urlencode([tuple(pair) for pair in entry['query']])}"


def _headers_for(suite: SimulatorSuite, provider: str) -> dict[str, str]:
    config = parse_config({"sources": suite.demo_sources("http://x")}, environ={})
    source = next(s for s in config.sources if s.provider.value == provider)
    return {"Accept": "application/json", **source.credential_headers(DEMO_ENVIRON)}


async def measure_overhead(
    session: aiohttp.ClientSession,
    upstreams: Upstreams,
    gateway: str,
    options: Options,
) -> dict[str, Any]:
    """Each provider's 20- and 100-job page, via jobgraph and as the same upstream requests
    sent directly (the requests jobgraph made, replayed), alternating one of each."""
    rows = []
    for spec in page_specs(upstreams.suite):
        for size in (20, 100):
            query = spec.query(size)
            for _ in range(3):  # warm caches and let Orange's cap be learned
                await post(session, gateway, query)
            await upstreams.reset(session)
            await post(session, gateway, query)
            made = (await upstreams.requests(session))[spec.provider]
            headers = _headers_for(upstreams.suite, spec.provider)
            direct = [Target("GET", replay_url(upstreams.root, e), headers) for e in made]
            via = [graphql_target(gateway, query)]
            direct_s: list[float] = []
            via_s: list[float] = []
            for _ in range(options.samples):
                direct_s += await sample_latencies(session, direct, 1)
                via_s += await sample_latencies(session, via, 1)
            d, v = _stats(direct_s), _stats(via_s)
            rows.append(
                {
                    "provider": spec.provider,
                    "field": spec.field,
                    "page": size,
                    "upstream_requests": len(direct),
                    "direct": d,
                    "jobgraph": v,
                    "overhead_p50_ms": round(v["p50_ms"] - d["p50_ms"], 3),
                    "overhead_p99_ms": round(v["p99_ms"] - d["p99_ms"], 3),
                    "ratio_p50": round(v["p50_ms"] / d["p50_ms"], 2),
                    "ratio_p99": round(v["p99_ms"] / d["p99_ms"], 2),
                }
            )
    await upstreams.reset(session)
    return {"samples": options.samples, "concurrency": 1, "rows": rows}


async def query_fields(session: aiohttp.ClientSession, gateway: str, type_name: str) -> set[str]:
    body = await post(
        session, gateway, f'{{ __type(name: "{type_name}") {{ fields {{ name }} }} }}'
    )
    kind = body["data"]["__type"]
    return {f["name"] for f in kind["fields"]} if kind else set()


async def measure_fanout(
    session: aiohttp.ClientSession,
    upstreams: Upstreams,
    gateway: str,
    options: Options,
) -> dict[str, Any]:
    """With every simulator answering after 50 ms: one source vs all five in one query."""
    specs = page_specs(upstreams.suite)
    single = specs[0].query(20)
    parts = [s.query(20)[1:-1].strip() for s in specs]
    five_fields = "{ " + " ".join(f"p{i}: {part}" for i, part in enumerate(parts)) + " }"
    federated_available = "jobs" in await query_fields(session, gateway, "Query")
    federated = "{ jobs(first: 20) { pageInfo { hasNextPage endCursor } nodes { " + JOB_FIELDS
    federated += " } } }"
    queries = {"single_source": single, "five_fields": five_fields}
    if federated_available:
        queries["federated_jobs"] = federated
    # A p50 of 40 pages a query at the default: fewer made the ratio swing by a tenth.
    samples = max(5, options.samples // 5)
    # The upstream requests each query makes, to send them again straight from this client,
    # all at once: what the same fan-out costs with no gateway in between.
    direct: dict[str, list[Target]] = {}
    for name, query in queries.items():
        await post(session, gateway, query)  # warm: caps and list lengths are learned
        await upstreams.reset(session)
        await post(session, gateway, query)
        made = await upstreams.requests(session)
        direct[name] = [
            Target("GET", replay_url(upstreams.root, entry), _headers_for(upstreams.suite, p))
            for p, entries in made.items()
            for entry in entries
        ]
    await upstreams.reset(session)
    await upstreams.set_latency(session, FANOUT_LATENCY_MS)
    timings: dict[str, list[float]] = {name: [] for name in queries}
    direct_timings: dict[str, list[float]] = {name: [] for name in queries}
    try:
        for _ in range(samples):
            for name, query in queries.items():
                timings[name] += await sample_latencies(
                    session, [graphql_target(gateway, query)], 1
                )
                direct_timings[name] += await sample_latencies(session, direct[name], 1)
    finally:
        await upstreams.set_latency(session, 0)
        await upstreams.reset(session)
    stats = {name: _stats(values) for name, values in timings.items()}
    direct_stats = {
        name: {**_stats(values), "upstream_requests": len(direct[name])}
        for name, values in direct_timings.items()
    }
    base = stats["single_source"]["p50_ms"]
    direct_base = direct_stats["single_source"]["p50_ms"]
    result: dict[str, Any] = {
        "latency_ms": FANOUT_LATENCY_MS,
        "samples": samples,
        "queries": stats,
        "direct": direct_stats,
        "ratio_five_fields": round(stats["five_fields"]["p50_ms"] / base, 3),
        "direct_ratio_five_fields": round(direct_stats["five_fields"]["p50_ms"] / direct_base, 3),
        "federated_available": federated_available,
        "ratio_federated": None,
        "direct_ratio_federated": None,
    }
    if federated_available:
        result["ratio_federated"] = round(stats["federated_jobs"]["p50_ms"] / base, 3)
        result["direct_ratio_federated"] = round(
            direct_stats["federated_jobs"]["p50_ms"] / direct_base, 3
        )
    return result


def _page_optimum(adapters: Mapping[str, Any], source: str, provider: str, start: int) -> int:
    """The planner's request count for one page of 20 (plus the look-ahead item where the
    upstream reports no total), once any server cap is known."""
    adapter = adapters[source]
    window = PageWindow(start, start + WALK_PAGE + (0 if adapter.reports_total else 1))
    cap = ORANGE_SERVER_CAP if provider == "orange" else None
    return len(adapter.plan(window, cap))


def federated_optimum(
    pages: Sequence[Sequence[tuple[str, str | None]]],
    adapters: Mapping[str, Any],
    suite: SimulatorSuite,
) -> int:
    """Fewest upstream requests a stateless gateway needs for a federated walk: on every
    page, each (source, project) sequence not yet exhausted is asked once for the part of it
    the page could use: 20 items from where it stands if the upstream sorts by creation time,
    else the whole sequence (its order is only known once all of it is read)."""
    sequences: dict[tuple[str, str | None], tuple[Any, int]] = {}
    for name, adapter in adapters.items():
        provider = adapter.provider.value
        projects: list[str | None] = list(suite.projects(provider)) or [None]
        for project in projects:
            sequences[(name, project)] = (adapter, len(suite.jobs(provider, project)))
    shown: dict[tuple[str, str | None], int] = dict.fromkeys(sequences, 0)
    total = 0
    for index, page in enumerate(pages):
        for key, (adapter, size) in sequences.items():
            position = shown[key]
            if index > 0 and position >= size:
                continue
            lookahead = 0 if adapter.reports_total else 1
            ordered = adapter.pushdown(key[1], CreatedOrder.DESC, JobFilterSpec()).ordered
            if ordered:
                window = PageWindow(position, position + WALK_PAGE + lookahead)
            else:
                window = PageWindow(0, max(1, size + lookahead))
            cap = ORANGE_SERVER_CAP if adapter.provider.value == "orange" else None
            total += len(adapter.plan(window, cap))
        for key in page:
            shown[key] = shown.get(key, 0) + 1
    return total


def _count(entries: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for entry in entries:
        counts[entry["route"]] = counts.get(entry["route"], 0) + 1
    return counts


async def walk_pages(
    session: aiohttp.ClientSession,
    gateway: str,
    max_pages: int,
    query: Callable[[str | None], str],
    optimum_of: Callable[[int], int],
    before_page: Callable[[], Awaitable[None]] | None = None,
) -> tuple[int, int]:
    """Follow one connection page by page (at most `max_pages`): the queries made, and the
    sum of `optimum_of(position)` over the pages (`before_page` runs before every page but
    the first)."""
    queries = optimum = position = 0
    after: str | None = None
    while queries < max_pages:
        if before_page is not None and queries:
            await before_page()
        body = await post(session, gateway, query(after))
        queries += 1
        optimum += optimum_of(position)
        page = next(iter(body["data"].values()))
        position += len(page["nodes"])
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    return queries, optimum


CAPPED_PAGE = 100
WORKFLOW_TEST_CAP = 50
ARRIVALS_PER_PAGE = 3


async def _capped_and_changing_walks(
    session: aiohttp.ClientSession,
    upstreams: Upstreams,
    gateway: str,
    adapters: Mapping[str, Any],
    workload: Callable[[str, Callable[[], Any]], Awaitable[None]],
    max_pages: int,
) -> None:
    """Lists as the real platforms may serve them: a workflow list capped below what is asked
    (the cap learned, a short page never taken for the end), and a newest-first Orange list
    gaining jobs before every page (each page re-aligns its cursor)."""
    workflow = upstreams.base("workflow")
    orange = upstreams.base("orange")
    suite = upstreams.suite
    source = {a.provider.value: name for name, a in adapters.items()}

    def cursor(after: str | None) -> str:
        return "" if after is None else f', after: "{after}"'

    def workflow_query(after: str | None) -> str:
        return (
            f"{{ workflowJobs(first: {CAPPED_PAGE}{cursor(after)}) "
            "{ pageInfo { hasNextPage endCursor } nodes { id } } }"
        )

    def workflow_optimum(position: int) -> int:
        # An oracle that knew the cap: the planner's requests for the page and its look-ahead.
        window = PageWindow(position, position + CAPPED_PAGE + 1)
        return len(adapters[source["workflow"]].plan(window, WORKFLOW_TEST_CAP))

    async def capped() -> tuple[int, int]:
        await _post_json(session, f"{workflow}/_control/quirks", {"cap": WORKFLOW_TEST_CAP})
        try:
            return await walk_pages(session, gateway, max_pages, workflow_query, workflow_optimum)
        finally:
            await _post_json(session, f"{workflow}/_control/quirks", {"cap": None})

    await workload(f"walk workflow capped at {WORKFLOW_TEST_CAP} (pages of {CAPPED_PAGE})", capped)

    project = max(suite.projects("orange"), key=lambda p: len(suite.jobs("orange", p)))
    created: list[str] = []

    def orange_query(after: str | None) -> str:
        return (
            f'{{ orangeJobs(projectId: "{project}", sort: "-createdDate", '
            f"first: {WALK_PAGE}{cursor(after)}) "
            "{ pageInfo { hasNextPage endCursor } nodes { id } } }"
        )

    def orange_optimum(position: int) -> int:
        window = PageWindow(position, position + WALK_PAGE)
        return len(adapters[source["orange"]].plan(window, ORANGE_SERVER_CAP))

    async def arrive() -> None:
        body = {"project": project, "create": ARRIVALS_PER_PAGE}
        created.extend((await _post_json(session, f"{orange}/_control/jobs", body))["created"])

    async def changing() -> tuple[int, int, int]:
        try:
            queries, optimum = await walk_pages(
                session, gateway, max_pages, orange_query, orange_optimum, arrive
            )
            # README's bound: one window read more for each page the list moved under.
            return queries, optimum, queries - 1
        finally:
            await _post_json(
                session, f"{orange}/_control/jobs", {"project": project, "delete": created}
            )

    await workload(
        f"walk orange newest first, {ARRIVALS_PER_PAGE} jobs arriving before each page",
        changing,
    )


async def _post_json(session: aiohttp.ClientSession, url: str, body: Any) -> Any:
    async with session.post(url, json=body) as response:
        response.raise_for_status()
        return await response.json()


async def measure_economy(
    session: aiohttp.ClientSession, upstreams: Upstreams, gateway: str, max_pages: int
) -> dict[str, Any]:
    """Upstream requests per GraphQL query for a fixed workload, against the optimum."""
    suite = upstreams.suite
    config = parse_config({"sources": suite.demo_sources(upstreams.root)}, environ={})
    adapters = build_adapters(config.sources)
    source_of = {s.provider.value: s.name for s in config.sources}
    workloads: list[dict[str, Any]] = []

    async def workload(name: str, run: Callable[[], Any]) -> None:
        await upstreams.reset(session)
        # (queries, optimum) or (queries, optimum, the stated allowance above the optimum).
        queries, optimum, *allowance = await run()
        allowed = optimum if optimum is None else optimum + sum(allowance)
        made = await upstreams.requests(session)
        total = sum(len(v) for v in made.values())
        workloads.append(
            {
                "workload": name,
                "graphql_queries": queries,
                "upstream_requests": total,
                "optimum": optimum,
                "allowance": sum(allowance),
                "per_query": round(total / max(1, queries), 3),
                "at_optimum": None if allowed is None else total <= allowed,
                "by_provider": {p: _count(e) for p, e in made.items() if e},
            }
        )

    async def walk(spec: PageSpec) -> tuple[int, int]:
        source = source_of[spec.provider]
        return await walk_pages(
            session,
            gateway,
            max_pages,
            lambda after: spec.query(WALK_PAGE, after),
            lambda position: _page_optimum(adapters, source, spec.provider, position),
        )

    for provider in PROVIDERS:
        specs = [s for s in page_specs(suite, every_project=True) if s.provider == provider]

        async def walk_all(specs: list[PageSpec] = specs) -> tuple[int, int]:
            totals = [await walk(spec) for spec in specs]
            return sum(q for q, _ in totals), sum(o for _, o in totals)

        await workload(f"walk {provider} (every project, pages of {WALK_PAGE})", walk_all)

    fields = await query_fields(session, gateway, "Query")
    if "jobs" in fields:

        async def federated_walk() -> tuple[int, int | None]:
            pages: list[list[tuple[str, str | None]]] = []
            after: str | None = None
            while len(pages) < max_pages:
                cursor = "" if after is None else f', after: "{after}"'
                body = await post(
                    session,
                    gateway,
                    f"{{ jobs(first: {WALK_PAGE}{cursor}) "
                    "{ pageInfo { hasNextPage endCursor } nodes { source projectId } } }",
                )
                page = body["data"]["jobs"]
                pages.append([(n["source"], n["projectId"]) for n in page["nodes"]])
                if not page["pageInfo"]["hasNextPage"]:
                    break
                after = page["pageInfo"]["endCursor"]
            return len(pages), federated_optimum(pages, adapters, suite)

        await workload(f"federated walk jobs(first: {WALK_PAGE})", federated_walk)

    await _capped_and_changing_walks(session, upstreams, gateway, adapters, workload, max_pages)

    ids: list[str] = []
    node_optimum = 0
    for spec in page_specs(suite):
        body = await post(session, gateway, spec.query(NODE_IDS_PER_PROVIDER))
        page = next(iter(body["data"].values()))
        ids += [node["id"] for node in page["nodes"]]
        # Single-job endpoints: one GET per id; Metafold: its whole list once; Edge Impulse and
        # ModelArts (no single-job endpoint): one scan page covers positions 0..9.
        node_optimum += NODE_IDS_PER_PROVIDER if spec.provider in ("orange", "workflow") else 1

    async def nodes() -> tuple[int, int]:
        await post(session, gateway, f"{{ nodes(ids: {json.dumps(ids)}) {{ id }} }}")
        return 1, node_optimum

    await workload(f"nodes of {len(ids)} ids", nodes)

    if "dependencies" in await query_fields(session, gateway, "MetafoldJob"):
        spec = next(s for s in page_specs(suite) if s.provider == "metafold")

        async def dependencies() -> tuple[int, int]:
            query = (
                f"{{ {spec.field}({spec.args}, first: {WALK_PAGE}) "
                "{ nodes { id dependencies { id nativeId } } } }"
            )
            await post(session, gateway, query)
            return 1, 1  # the whole list the page already fetched answers every `needs`

        await workload("metafold page of 20 with dependencies", dependencies)
    missing = [
        name
        for name, present in (
            ("federated jobs", "jobs" in fields),
            ("MetafoldJob.dependencies", any("dependencies" in w["workload"] for w in workloads)),
        )
        if not present
    ]
    await upstreams.reset(session)
    return {"workloads": workloads, "not_yet_in_schema": missing}


def use_wrk(options: Options) -> bool:
    return options.loadgen == "wrk" or (options.loadgen == "auto" and wrk_available())


async def drive(target: Target, options: Options, layout: Layout) -> LoadResult:
    """Load at concurrency 16 for `options.seconds`, from the cores the gateway is not on."""
    if use_wrk(options):
        return await asyncio.to_thread(
            run_wrk, target, CONCURRENCY, options.seconds, layout.others, threads=1
        )
    return await run_aiohttp(target, CONCURRENCY, seconds=options.seconds)


def warmup_requests(options: Options) -> int:
    """Requests sent before a throughput run is measured."""
    return max(200, options.requests // 20)


async def measure_throughput(
    session: aiohttp.ClientSession,
    gateway: Service,
    target: Target,
    options: Options,
    layout: Layout,
) -> dict[str, Any]:
    await run_aiohttp(target, CONCURRENCY, requests=warmup_requests(options))
    pids = gateway.serving_pids()
    cpu_before = gateway.cpu_seconds()
    by_process = [cpu_seconds(pid) for pid in pids]
    result = await drive(target, options, layout)
    cpu = gateway.cpu_seconds() - cpu_before
    return {
        **result.to_json(),
        "processes": len(pids),
        # Workers share one listening socket: how evenly the 16 connections landed shows here.
        "cpu_s_by_process": [
            round(cpu_seconds(pid) - before, 2)
            for pid, before in zip(pids, by_process, strict=True)
        ],
        "gateway_cpu_s": round(cpu, 3),
        "gateway_cpu_ms_per_request": round(cpu * 1000 / max(1, result.requests), 3),
    }


# (figure, replicas, cache backend): one replica as the reference, two behind HAProxy sharing
# Redis, and two with per-process caches (what the shared cache saves).
REPLICA_RUNS = (
    ("one_replica_redis", 1, "redis"),
    ("two_replicas_redis", 2, "redis"),
    ("two_replicas_memory", 2, "memory"),
)
REPLICA_CACHE_TTL_S = 60.0


async def measure_replicas(
    session: aiohttp.ClientSession,
    upstreams: Upstreams,
    options: Options,
    layout: Layout,
    directory: Path,
) -> dict[str, Any]:
    """The 20-job page at concurrency 16 through HAProxy round-robin over two replicas
    (`cache_ttl_s` on every source): requests/s after a warm-up, and the upstream requests
    the warm-up and the run cost from a cold cache, against one replica alone. The replicas
    are not pinned: they share every core with the simulators and the load generator."""
    missing = lb.missing_tools()
    if missing:
        return {"skipped": f"not installed: {', '.join(missing)} (make install)"}
    spec = throughput_spec(upstreams.suite)
    sources = upstreams.suite.demo_sources(upstreams.root)
    env = {**bench_env(), lb.CURSOR_SECRET_ENV: "bench-replicas-share-this-secret"}
    redis = lb.start_redis(directory)
    runs: dict[str, Any] = {}
    try:
        for name, count, backend in REPLICA_RUNS:
            redis.command("FLUSHALL")
            config = lb.replica_config(
                directory,
                sources,
                backend=backend,
                redis_url=redis.url,
                cache_ttl_s=REPLICA_CACHE_TTL_S,
            )
            command = [PYTHON, "-m", "graph.cli", "serve", "--config", str(config)]
            gateways: list[Service] = []
            balancer = None
            try:
                for number in range(count):
                    gateways.append(start(f"replica {number + 1}", [*command, "--port", "0"], env))
                for gateway in gateways:
                    await wait_ready(session, gateway, 1)
                url = gateways[0].url
                if count > 1:
                    ports = {
                        f"r{i + 1}": int(g.url.rsplit(":", 1)[1]) for i, g in enumerate(gateways)
                    }
                    balancer, url = lb.start_haproxy(directory, ports)
                    await _wait_balanced(session, url, len(ports))
                await upstreams.reset(session)
                target = graphql_target(url, spec.query(20))
                await run_aiohttp(target, CONCURRENCY, requests=max(200, options.requests // 20))
                cpu_before = sum(g.cpu_seconds() for g in gateways)
                result = await drive(target, options, layout)
                cpu = sum(g.cpu_seconds() for g in gateways) - cpu_before
                made = await upstreams.requests(session)
                runs[name] = {
                    **result.to_json(),
                    "replicas": count,
                    "backend": backend,
                    "balancer": "haproxy round-robin" if count > 1 else None,
                    "upstream_requests": sum(len(entries) for entries in made.values()),
                    "gateway_cpu_ms_per_request": round(cpu * 1000 / max(1, result.requests), 3),
                }
            finally:
                if balancer is not None:
                    lb.stop_process(balancer)
                for gateway in gateways:
                    gateway.stop()
    finally:
        redis.stop()
    await upstreams.reset(session)
    return {
        "query": spec.query(20),
        "concurrency": CONCURRENCY,
        "cache_ttl_s": REPLICA_CACHE_TTL_S,
        "runs": runs,
    }


async def _wait_balanced(session: aiohttp.ClientSession, url: str, replicas: int) -> None:
    """Until HAProxy has sent requests to every replica."""
    seen: set[str] = set()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len(seen) < replicas:
        try:
            async with session.get(f"{url}/healthz") as response:
                if response.status == 200:
                    seen.add(response.headers.get("X-Served-By", ""))
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.05)
    if len(seen) < replicas:
        raise RuntimeError(f"haproxy at {url} never balanced over {replicas} replicas")


async def measure_upstream_ceiling(
    session: aiohttp.ClientSession,
    upstreams: Upstreams,
    gateway: str,
    options: Options,
    layout: Layout,
) -> dict[str, Any]:
    """The same load straight at the simulator: what the upstream side can serve at most."""
    spec = throughput_spec(upstreams.suite)
    await upstreams.reset(session)
    await post(session, gateway, spec.query(20))
    entry = (await upstreams.requests(session))[spec.provider][0]
    await upstreams.reset(session)
    target = Target(
        "GET",
        f"{upstreams.root}{entry['path']}?{urlencode([tuple(q) for q in entry['query']])}",
        _headers_for(upstreams.suite, spec.provider),
    )
    result = await drive(target, options, layout)
    await upstreams.reset(session)
    return result.to_json()


async def measure_memory(
    session: aiohttp.ClientSession, gateway: Service, target: Target, options: Options
) -> dict[str, Any]:
    pid = gateway.serving_pids()[0]
    await run_aiohttp(target, CONCURRENCY, requests=max(200, options.requests // 10))
    warm = rss_bytes(pid)
    result = await run_aiohttp(target, CONCURRENCY, requests=options.requests)
    after = rss_bytes(pid)
    return {
        "requests": result.requests,
        "errors": result.errors,
        "rss_after_warmup_mb": round(warm / 2**20, 2),
        "rss_after_requests_mb": round(after / 2**20, 2),
        "growth_pct": round((after - warm) * 100 / warm, 2),
    }


def py_spy() -> str | None:
    beside = Path(PYTHON).with_name("py-spy")
    return str(beside) if beside.exists() else shutil.which("py-spy")


async def measure_profile(
    session: aiohttp.ClientSession,
    config: Path,
    spec: PageSpec,
    options: Options,
    layout: Layout,
    spy: str | None = "auto",
) -> dict[str, Any]:
    """Where the gateway's CPU goes on the hot path, sampled while driven at concurrency 16:
    py-spy (on-CPU samples of the unmodified gateway) when it is installed and may attach,
    else pyinstrument inside the gateway process."""
    prefix = options.profile_prefix or options.output.with_name("profile")
    if spy == "auto":
        spy = py_spy()
    for suffix in (".txt", ".json", ".html"):
        prefix.with_suffix(suffix).unlink(missing_ok=True)
    if spy is None:
        command = [PYTHON, "-m", "bench.profiled", "--config", str(config), "--out", str(prefix)]
        service = start("profiled gateway", pinned(command, layout.gateway), bench_env())
    else:
        service = start_gateway(config, 1, layout.gateway)
    recorder: asyncio.subprocess.Process | None = None
    try:
        await wait_ready(session, service, 1)
        target = graphql_target(service.url, spec.query(20))
        await run_aiohttp(target, CONCURRENCY, requests=200)
        if spy is not None:
            recorder = await asyncio.create_subprocess_exec(
                *pinned([spy, "record", "-r", "1000", "-f", "raw", "-o"], layout.others),
                str(prefix.with_suffix(".txt")),
                "--pid",
                str(service.pid),
                "-d",
                str(max(1, round(options.profile_seconds))),
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.DEVNULL,
            )
            await asyncio.sleep(0.5)
        load = await drive(target, replace(options, seconds=options.profile_seconds), layout)
        if recorder is not None:
            await asyncio.wait_for(recorder.wait(), 60)
    finally:
        service.stop(timeout=60)
    if spy is not None and not _has_samples(prefix.with_suffix(".txt")):
        progress("py-spy recorded nothing (no permission to attach?): profiling with pyinstrument")
        return await measure_profile(session, config, spec, options, layout, spy=None)
    if spy is not None:
        top = collapsed_top_items(prefix.with_suffix(".txt"))
        prefix.with_suffix(".json").write_text(json.dumps(top, indent=2))
        files = [".txt", ".json"]
    else:
        top = json.loads(prefix.with_suffix(".json").read_text())
        files = [".html", ".txt", ".json"]
    return {
        "tool": "pyinstrument" if spy is None else "py-spy",
        "requests": load.requests,
        "files": [_relative(prefix.with_suffix(s)) for s in files],
        "top_self": top["self"][:12],
        "top_own": top["own_cumulative"][:12],
    }


def _has_samples(path: Path) -> bool:
    return path.exists() and path.stat().st_size > 0


def _relative(path: Path) -> str:
    return os.path.relpath(path, ROOT)


def collapsed_top_items(path: Path, count: int = 15) -> dict[str, Any]:
    """From py-spy's collapsed stacks: functions by on-CPU self time, and our own functions
    (graph/, resolvers/) by inclusive time."""
    self_samples: dict[str, int] = {}
    inclusive: dict[str, int] = {}
    total = 0
    for line in path.read_text().splitlines():
        stack, _, number = line.rpartition(" ")
        if not stack:
            continue
        samples = int(number)
        total += samples
        frames = [_function_of(frame) for frame in stack.split(";")]
        self_samples[frames[-1]] = self_samples.get(frames[-1], 0) + samples
        for frame in set(frames):
            where = frame.split(" (", 1)[-1]
            if where.startswith(("graph/", "resolvers/")) and not where.startswith("graph/cli"):
                inclusive[frame] = inclusive.get(frame, 0) + samples

    def ranked(table: dict[str, int]) -> list[dict[str, Any]]:
        best = sorted(table.items(), key=lambda kv: kv[1], reverse=True)[:count]
        return [
            {"function": k, "samples": v, "share": round(v / max(1, total), 4)} for k, v in best
        ]

    return {"samples": total, "self": ranked(self_samples), "own_cumulative": ranked(inclusive)}


def _function_of(frame: str) -> str:
    """`name (file.py:line)` -> `name (file.py)`: one entry per function, not per line."""
    name, _, where = frame.partition(" (")
    return f"{name} ({where.rsplit(':', 1)[0]})" if where else name


# --- the run ----------------------------------------------------------------------------


def progress(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


async def run(options: Options) -> dict[str, Any]:
    layout = Layout.for_machine()
    options.output.parent.mkdir(parents=True, exist_ok=True)
    if layout.others is not None:
        os.sched_setaffinity(0, {int(layout.others)})  # this script and what it starts
    generator = "wrk" if use_wrk(options) else "aiohttp"
    suite = SimulatorSuite()
    results: dict[str, Any] = {
        "label": options.label,
        "quick": options.quick,
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "layout": layout.to_json(generator),
    }
    sims = start("simulators", [PYTHON, "-m", "bench.simserver", "--port", "0"], bench_env())
    services = [sims]
    try:
        upstreams = Upstreams(sims, suite)
        with tempfile.TemporaryDirectory(prefix="jobgraph-bench-") as tmp:
            config = write_config(Path(tmp), suite, upstreams.root)
            connector = aiohttp.TCPConnector(limit=64)
            async with aiohttp.ClientSession(connector=connector) as session:
                gateway = start_gateway(config, 1, layout.gateway)
                services.append(gateway)
                await wait_ready(session, gateway, 1)
                spec = throughput_spec(suite)
                target = graphql_target(gateway.url, spec.query(20))
                progress("overhead")
                results["overhead"] = await measure_overhead(
                    session, upstreams, gateway.url, options
                )
                progress("fan-out")
                results["fanout"] = await measure_fanout(session, upstreams, gateway.url, options)
                progress("request economy")
                results["economy"] = await measure_economy(
                    session, upstreams, gateway.url, options.max_walk_pages
                )
                progress("throughput: simulator alone")
                throughput: dict[str, Any] = {
                    "query": spec.query(20),
                    "concurrency": CONCURRENCY,
                    "upstream_alone": await measure_upstream_ceiling(
                        session, upstreams, gateway.url, options, layout
                    ),
                }
                progress("memory")
                results["memory"] = await measure_memory(session, gateway, target, options)
                progress("throughput: 1 worker")
                throughput["workers_1"] = await measure_throughput(
                    session, gateway, target, options, layout
                )
                gateway.stop()
                services.remove(gateway)
                for workers in (w for w in options.workers if w > 1):
                    gateway = start_gateway(config, workers, layout.two_workers)
                    services.append(gateway)
                    await wait_ready(session, gateway, workers)
                    target_n = graphql_target(gateway.url, spec.query(20))
                    progress(f"throughput: {workers} workers")
                    throughput[f"workers_{workers}"] = await measure_throughput(
                        session, gateway, target_n, options, layout
                    )
                    gateway.stop()
                    services.remove(gateway)
                results["throughput"] = throughput
                progress("replicas behind haproxy")
                results["replicas"] = await measure_replicas(
                    session, upstreams, options, layout, Path(tmp)
                )
                progress("profile")
                results["profile"] = await measure_profile(session, config, spec, options, layout)
    finally:
        for service in reversed(services):
            service.stop()
    results["layout"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    results["targets"] = check_targets(results)
    if options.baseline is not None:
        before = json.loads(options.baseline.read_text())
        results["comparison"] = compare(before, results)
    options.output.write_text(json.dumps(results, indent=2) + "\n")
    return results


def check_targets(results: Mapping[str, Any]) -> dict[str, Any]:
    """The issue's targets, each with the figure it was judged on."""
    one = results["throughput"]["workers_1"]
    ei20 = next(
        r
        for r in results["overhead"]["rows"]
        if r["provider"] == "edge_impulse" and r["page"] == 20
    )
    economy = [w for w in results["economy"]["workloads"] if w["optimum"] is not None]
    fanout = results["fanout"]
    fan_ratio = fanout["ratio_federated"]
    return {
        "rps_1_worker_ge_1000": {"value": one["rps"], "met": one["rps"] >= 1000},
        "cpu_ms_per_request_le_1": {
            "value": one["gateway_cpu_ms_per_request"],
            "met": one["gateway_cpu_ms_per_request"] <= 1.0,
        },
        "fanout_ratio_le_1_2": {
            "value": fan_ratio,
            "five_fields_value": fanout["ratio_five_fields"],
            "met": None if fan_ratio is None else fan_ratio <= 1.2,
        },
        "economy_at_optimum": {
            "value": f"{sum(1 for w in economy if w['at_optimum'])}/{len(economy)} workloads",
            "met": all(w["at_optimum"] for w in economy),
        },
        "rss_growth_lt_10pct": {
            "value": results["memory"]["growth_pct"],
            "met": results["memory"]["growth_pct"] < 10,
        },
        "p50_overhead_lt_3ms": {
            "value": ei20["overhead_p50_ms"],
            "met": ei20["overhead_p50_ms"] < 3,
        },
    }


KEY_FIGURES: dict[str, Callable[[Mapping[str, Any]], Any]] = {
    "1 worker req/s": lambda r: r["throughput"]["workers_1"]["rps"],
    "1 worker p50 ms": lambda r: r["throughput"]["workers_1"]["p50_ms"],
    "1 worker p99 ms": lambda r: r["throughput"]["workers_1"]["p99_ms"],
    "gateway CPU ms/request (1 worker)": lambda r: r["throughput"]["workers_1"][
        "gateway_cpu_ms_per_request"
    ],
    "2 workers req/s": lambda r: r["throughput"].get("workers_2", {}).get("rps"),
    "gateway CPU ms/request (2 workers)": lambda r: (
        r["throughput"].get("workers_2", {}).get("gateway_cpu_ms_per_request")
    ),
    "overhead p50 ms, 20-job EI page": lambda r: _overhead(r, 20),
    "overhead p50 ms, 100-job EI page": lambda r: _overhead(r, 100),
    "fan-out ratio, five fields": lambda r: r["fanout"]["ratio_five_fields"],
    "fan-out ratio, federated jobs": lambda r: r["fanout"]["ratio_federated"],
    "RSS growth %": lambda r: r["memory"]["growth_pct"],
    "load average at start": lambda r: r["layout"]["load_average_at_start"][0],
}


def _overhead(results: Mapping[str, Any], page: int) -> float:
    rows = results["overhead"]["rows"]
    return float(
        next(r for r in rows if r["provider"] == "edge_impulse" and r["page"] == page)[
            "overhead_p50_ms"
        ]
    )


def compare(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    """The key figures of a baseline run next to this run's."""
    rows = []
    for name, figure in KEY_FIGURES.items():
        try:
            old = figure(before)
        except (KeyError, StopIteration):
            old = None
        rows.append({"figure": name, "before": old, "after": figure(after)})
    return {"baseline_label": before.get("label", ""), "rows": rows}

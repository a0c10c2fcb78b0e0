"""`python -m bench --peers`: the 20-job Edge Impulse page through jobgraph, Tailcall and GraphQL
Mesh, each in one process on the same core, over the same fast upstream (bench.fastupstream),
with the upstream alone beside them. Not part of CI: it needs `npm ci` in bench/ (Tailcall's
binary and Mesh), and wrk (taken from Debian's package, unpacked into bench/.peers/, when it is
not installed)."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import aiohttp
import orjson

from bench.load import Target
from bench.procs import PYTHON, Service, pinned, start
from bench.report import _figure, _table
from bench.run import (
    BENCH_DIR,
    CONCURRENCY,
    Layout,
    Options,
    bench_env,
    drive,
    graphql_target,
    measure_throughput,
    progress,
    start_gateway,
    use_wrk,
    warmup_requests,
)
from simulators.edge_impulse import API_KEY as EI_API_KEY
from simulators.edge_impulse import ORGANIZATION_ID

NODE_MODULES = BENCH_DIR / "node_modules"
WORK_DIR = BENCH_DIR / ".peers"  # git-ignored: Mesh's build, the unpacked wrk
TAILCALL = NODE_MODULES / "@tailcallhq" / "core-linux-x64-gnu" / "bin" / "tailcall"
MESH = NODE_MODULES / ".bin" / "mesh"
SEED = Path("/work/shared/seeds/edge-impulse-jobs.txt")
EI_PREFIX = "/_sim/edge_impulse"
EI_PROJECT = 4211  # the largest Edge Impulse project of the default seed
LIST_PATH = "/api/organizations/{organization}/whitelabel/projects/{project}/jobs"
# The same ten fields through every gateway: the upstream's own names, which jobgraph's
# EdgeImpulseJob keeps (with `nativeId` for `id`).
PEER_FIELDS = (
    "id",
    "key",
    "category",
    "categoryKey",
    "created",
    "started",
    "finished",
    "finishedSuccessful",
    "computeTime",
    "categoryCount",
)
GATEWAYS = ("jobgraph", "tailcall", "mesh")
PEERS_OUTPUT = BENCH_DIR / "peers.json"


# --- what each gateway is asked and how it is configured ---------------------------------


def jobgraph_query(page: int = 20) -> str:
    fields = " ".join("nativeId" if f == "id" else f for f in PEER_FIELDS)
    return (
        f"{{ edgeImpulseJobs(organizationId: {ORGANIZATION_ID}, projectId: {EI_PROJECT}, "
        f"first: {page}) {{ nodes {{ {fields} }} }} }}"
    )


def peer_query(field: str, limit: int, offset: int) -> str:
    """The page as Tailcall's and Mesh's schemas spell it: the upstream operation's arguments."""
    return (
        f"{{ {field}(organizationId: {ORGANIZATION_ID}, projectId: {EI_PROJECT}, "
        f"limit: {limit}, offset: {offset}) {{ jobs {{ {' '.join(PEER_FIELDS)} }} }} }}"
    )


PEER_FIELD = {"tailcall": "edgeImpulseJobs", "mesh": "whitelabelAdminGetProjectJobs"}


def tailcall_config(port: int, base_url: str, api_key: str) -> str:
    """A Tailcall 1.0 `@http` schema for the list endpoint, one worker, no upstream cache."""
    url = base_url.rstrip("/") + LIST_PATH.format(
        organization="{{.args.organizationId}}", project="{{.args.projectId}}"
    )
    optional = {
        "finished": "String",
        "started": "String",
        "finishedSuccessful": "Boolean",
        "computeTime": "Float",
        "categoryCount": "Int",
    }
    fields = "\n".join(
        f"  {name}: {optional.get(name, 'Int!' if name == 'id' else 'String!')}"
        for name in PEER_FIELDS
    )
    return f"""schema @server(port: {port}, hostname: "127.0.0.1", workers: 1) {{
  query: Query
}}

type Query {{
  edgeImpulseJobs(organizationId: Int!, projectId: Int!, limit: Int, offset: Int): JobList
    @http(
      url: {json.dumps(url)}
      query: [
        {{key: "limit", value: "{{{{.args.limit}}}}"}}
        {{key: "offset", value: "{{{{.args.offset}}}}"}}
      ]
      headers: [{{key: "x-api-key", value: {json.dumps(api_key)}}}]
    )
}}

type JobList {{
  success: Boolean!
  totalJobCount: Int
  jobs: [Job]
}}

type Job {{
{fields}
}}
"""


def openapi_from_seed(seed_text: str) -> str:
    """The OpenAPI document quoted in the Edge Impulse seed page (its ```` ```yaml ```` block)."""
    lines = seed_text.splitlines()
    start_at = next(i for i, line in enumerate(lines) if line.startswith("````yaml"))
    stop_at = next(i for i in range(start_at + 1, len(lines)) if lines[i].startswith("````"))
    return "\n".join(lines[start_at + 1 : stop_at]) + "\n"


def mesh_config(port: int, base_url: str, api_key: str, openapi_file: str) -> str:
    """`.meshrc.yaml`: the OpenAPI handler on the seed's document, one process (no forks)."""
    return f"""sources:
  - name: EdgeImpulse
    handler:
      openapi:
        source: {json.dumps(openapi_file)}
        endpoint: {json.dumps(base_url)}
        operationHeaders:
          x-api-key: {json.dumps(api_key)}
serve:
  hostname: 127.0.0.1
  port: {port}
  fork: 0
  browser: false
"""


# --- the table ---------------------------------------------------------------------------


def ratios_to(rows: Mapping[str, Mapping[str, Any]], reference: str) -> dict[str, Any]:
    """Each gateway's CPU ms per request and req/s over the reference gateway's."""
    ref = rows[reference]
    out: dict[str, Any] = {}
    for name, row in rows.items():
        cpu = row.get("gateway_cpu_ms_per_request")
        ref_cpu = ref.get("gateway_cpu_ms_per_request")
        out[name] = {
            "cpu_per_request": None if not cpu or not ref_cpu else round(cpu / ref_cpu, 2),
            "rps": round(row["rps"] / ref["rps"], 2) if ref.get("rps") else None,
        }
    return out


def render_peers(results: Mapping[str, Any]) -> str:
    """The peers table: req/s, latency, CPU per request and the ratios to Tailcall."""
    rows = results["gateways"]
    ratios = results["ratios_to_tailcall"]
    header = ["gateway", "req/s", "p50 ms", "p99 ms", "CPU ms/req", "CPU vs tailcall"]
    header += ["req/s vs tailcall", "upstream/req", "errors"]
    table: list[list[str]] = []
    for name, row in rows.items():
        ratio = ratios.get(name, {})
        cpu = row.get("gateway_cpu_ms_per_request")
        table.append(
            [
                f"{name} ({row['version']})" if row.get("version") else name,
                f"{row['rps']:.0f}",
                f"{row['p50_ms']:.2f}",
                f"{row['p99_ms']:.2f}",
                "-" if cpu is None else f"{cpu:.3f}",
                "-" if ratio.get("cpu_per_request") is None else f"{ratio['cpu_per_request']}x",
                "-" if ratio.get("rps") is None else f"{ratio['rps']}x",
                _figure(row.get("upstream_requests_per_request_under_load")),
                str(row["errors"]),
            ]
        )
    upstream = results["upstream_alone"]
    latency = [f"{upstream['p50_ms']:.2f}", f"{upstream['p99_ms']:.2f}"]
    errors = str(upstream["errors"])
    rps = f"{upstream['rps']:.0f}"
    table.append(["upstream alone (fast)", rps, *latency, "-", "-", "-", "-", errors])
    target = results["target"]
    out = [
        f"Peers (20-job Edge Impulse page, {len(PEER_FIELDS)} fields, concurrency "
        f"{results['concurrency']}, {results['load_generator']}; each gateway one process "
        f"on core {results['gateway_core']})",
        *_table(header, table),
        f"per-core cost, jobgraph / tailcall CPU ms per request: {target['ratio']}x "
        f"(target within {target['bound']}x: {'met' if target['met'] else 'MISSED'})",
        f"load average: {results['load_average_at_start']} at start, "
        f"{results['load_average_at_end']} at end",
    ]
    return "\n".join(out)


# --- the run -----------------------------------------------------------------------------


def ensure_wrk() -> str | None:
    """wrk on the PATH, else Debian's wrk package unpacked into bench/.peers/wrk (the system
    is untouched); None when neither works."""
    if shutil.which("wrk") is not None:
        return shutil.which("wrk")
    root = WORK_DIR / "wrk"
    binary = root / "usr" / "bin" / "wrk"
    if not binary.exists():
        downloads = WORK_DIR / "debs"
        downloads.mkdir(parents=True, exist_ok=True)
        try:
            subprocess.run(
                ["apt-get", "download", "wrk", "libluajit2-5.1-2"],
                cwd=downloads,
                check=True,
                capture_output=True,
            )
            for deb in downloads.glob("*.deb"):
                subprocess.run(["dpkg", "-x", str(deb), str(root)], check=True)
        except (OSError, subprocess.CalledProcessError):
            return None
    os.environ["PATH"] = f"{binary.parent}{os.pathsep}{os.environ['PATH']}"
    libs = str(root / "usr" / "lib" / "x86_64-linux-gnu")
    os.environ["LD_LIBRARY_PATH"] = os.pathsep.join(
        p for p in (libs, os.environ.get("LD_LIBRARY_PATH")) if p
    )
    return shutil.which("wrk")


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def tool_version(command: Sequence[str]) -> str:
    try:
        out = subprocess.run(list(command), capture_output=True, text=True, timeout=30)
    except OSError:
        return "unknown"
    return (out.stdout or out.stderr).strip().splitlines()[0] if (out.stdout or out.stderr) else ""


def npm_version(package: str) -> str:
    manifest = NODE_MODULES / package / "package.json"
    version: str = json.loads(manifest.read_text())["version"]
    return version


class FastUpstream:
    """The fast upstream's process and its counter."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self.root = service.url

    async def reset(self, session: aiohttp.ClientSession) -> None:
        async with session.post(f"{self.root}/_fast/reset") as response:
            response.raise_for_status()

    async def served(self, session: aiohttp.ClientSession) -> dict[str, Any]:
        async with session.get(f"{self.root}/_fast/requests") as response:
            response.raise_for_status()
            body: dict[str, Any] = await response.json()
            return body


async def wait_graphql(session: aiohttp.ClientSession, service: Service, query: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if service.process.poll() is not None:
            break
        try:
            async with session.post(f"{service.url}/graphql", json={"query": query}) as response:
                if response.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.2)
    raise RuntimeError(f"{service.name} never answered: {service.output[-10:]}")


async def page_of(
    session: aiohttp.ClientSession, url: str, query: str, upstream: FastUpstream
) -> tuple[list[tuple[Any, ...]], int]:
    """The jobs one query returns (id, key, categoryKey) and the upstream requests it made."""
    await upstream.reset(session)
    async with session.post(f"{url}/graphql", json={"query": query}) as response:
        body = await response.json(loads=orjson.loads)
    if body.get("errors") or not body.get("data"):
        raise RuntimeError(f"{url}: {str(body)[:300]}")
    field = next(iter(body["data"].values()))
    jobs = field["nodes"] if "nodes" in field else field["jobs"]
    ids = [(str(j.get("nativeId", j.get("id"))), j["key"], j["categoryKey"]) for j in jobs]
    return ids, (await upstream.served(session))["count"]


def start_tailcall(directory: Path, port: int, base_url: str, cpus: str | None) -> Service:
    config = directory / "tailcall.graphql"
    config.write_text(tailcall_config(port, base_url, EI_API_KEY))
    # Tailcall prints the playground's address: the http:// URL in it is its own.
    return start("tailcall", pinned([str(TAILCALL), "start", str(config)], cpus), dict(os.environ))


def start_mesh(port: int, base_url: str, cpus: str | None) -> Service:
    # Mesh's build imports its packages: it must live under bench/ to find bench/node_modules.
    directory = WORK_DIR / "mesh"
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    (directory / "ei-openapi.yaml").write_text(openapi_from_seed(SEED.read_text()))
    (directory / ".meshrc.yaml").write_text(
        mesh_config(port, base_url, EI_API_KEY, "./ei-openapi.yaml")
    )
    env = {**os.environ, "NODE_ENV": "production"}
    subprocess.run([str(MESH), "build"], cwd=directory, env=env, check=True, capture_output=True)
    command = pinned([str(MESH), "start", "--dir", str(directory)], cpus)
    return start("mesh", command, env, timeout=60)


def missing_tools() -> list[str]:
    missing = [str(p) for p in (TAILCALL, MESH) if not p.exists()]
    if not SEED.exists():
        missing.append(str(SEED))
    return missing


async def run_peers(options: Options, bound: float = 2.0) -> dict[str, Any]:
    """Every gateway on the same upstream and core; the ratios to Tailcall."""
    missing = missing_tools()
    if missing:
        raise SystemExit(f"--peers needs `npm ci` in bench/ and the seed: missing {missing}")
    if options.loadgen != "aiohttp" and ensure_wrk() is None:
        progress("no wrk: the aiohttp load generator drives the peers")
    options = replace(options, workers=(1,))
    layout = Layout.for_machine()
    if layout.others is not None:
        os.sched_setaffinity(0, {int(layout.others)})
    generator = "wrk" if use_wrk(options) else "aiohttp"
    results: dict[str, Any] = {
        "label": options.label,
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "concurrency": CONCURRENCY,
        "seconds": options.seconds,
        "load_generator": generator,
        "gateway_core": layout.gateway,
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "fields": list(PEER_FIELDS),
    }
    env = bench_env()
    sims = start("simulators", [PYTHON, "-m", "bench.simserver", "--port", "0"], env)
    services = [sims]
    try:
        fast = start(
            "fast upstream", [PYTHON, "-m", "bench.fastupstream", "--origin", sims.url], env
        )
        services.append(fast)
        upstream = FastUpstream(fast)
        base_url = fast.url + EI_PREFIX
        with tempfile.TemporaryDirectory(prefix="jobgraph-peers-") as tmp:
            config = Path(tmp) / "jobgraph-peers.toml"
            config.write_text(
                '[server]\nhost = "127.0.0.1"\nport = 0\ngraphiql = false\n\n[[sources]]\n'
                f'name = "ei"\nprovider = "edge_impulse"\nbase_url = "{base_url}"\n'
                f'organization_id = {ORGANIZATION_ID}\nprojects = ["{EI_PROJECT}"]\n'
                'api_key_env = "JOBGRAPH_SIM_EI_API_KEY"\n'
            )
            connector = aiohttp.TCPConnector(limit=64)
            async with aiohttp.ClientSession(connector=connector) as session:
                gateways: dict[str, Any] = {}
                reference: list[tuple[Any, ...]] | None = None
                limit, offset = 20, 0
                for name in GATEWAYS:
                    progress(f"peers: {name}")
                    if name == "jobgraph":
                        service = start_gateway(config, 1, layout.gateway)
                        query = jobgraph_query()
                        version = "1 worker"
                    elif name == "tailcall":
                        service = start_tailcall(Path(tmp), free_port(), base_url, layout.gateway)
                        query = peer_query(PEER_FIELD[name], limit, offset)
                        version = tool_version([str(TAILCALL), "--version"])
                    else:
                        service = start_mesh(free_port(), base_url, layout.gateway)
                        query = peer_query(PEER_FIELD[name], limit, offset)
                        version = f"@graphql-mesh/cli {npm_version('@graphql-mesh/cli')}"
                    services.append(service)
                    await wait_graphql(session, service, query)
                    jobs, requests = await page_of(session, service.url, query, upstream)
                    if name == "jobgraph":
                        # The peers ask the upstream exactly what jobgraph asked it.
                        (target_url,) = (await upstream.served(session))["targets"]
                        params = dict(parse_qsl(urlsplit(target_url).query))
                        limit, offset = int(params["limit"]), int(params.get("offset", 0))
                        reference = jobs
                    same = jobs[: len(reference or [])] == reference
                    if requests != 1 or not same:
                        raise RuntimeError(
                            f"{name}: {requests} upstream requests, same jobs: {same}"
                        )
                    target = graphql_target(service.url, query)
                    await upstream.reset(session)
                    row = await measure_throughput(session, service, target, options, layout)
                    # A gateway that cached or merged upstream calls under load would show here.
                    sent = warmup_requests(options) + row["requests"]
                    fetched = (await upstream.served(session))["count"]
                    gateways[name] = {
                        **row,
                        "version": version,
                        "query": query,
                        "jobs": len(jobs),
                        "upstream_requests_per_page": requests,
                        "upstream_requests_per_request_under_load": round(fetched / sent, 3),
                        "same_jobs_as_jobgraph": same,
                    }
                    service.stop()
                    services.remove(service)
                progress("peers: upstream alone")
                (target_url,) = (await upstream.served(session))["targets"]
                alone = Target("GET", fast.url + target_url, {"x-api-key": EI_API_KEY})
                results["upstream_alone"] = (await drive(alone, options, layout)).to_json()
                results["upstream_target"] = target_url
    finally:
        for service in reversed(services):
            service.stop()
    results["gateways"] = gateways
    results["ratios_to_tailcall"] = ratios_to(gateways, "tailcall")
    ratio = results["ratios_to_tailcall"]["jobgraph"]["cpu_per_request"]
    met = ratio is not None and ratio <= bound
    results["target"] = {"ratio": ratio, "bound": bound, "met": met}
    results["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    return results

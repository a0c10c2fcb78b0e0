"""The peers bench's parts: the fast upstream over real HTTP, the Tailcall and Mesh configs it
writes, and the ratio table. The peers' own binaries are only needed by the Tailcall test, which
skips when `npm ci` has not been run in bench/. No timing figure is asserted."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bench.__main__ import parse_options
from bench.fastupstream import listen, request_key
from bench.peers import (
    EI_PREFIX,
    PEER_FIELD,
    PEER_FIELDS,
    PEERS_OUTPUT,
    SEED,
    TAILCALL,
    free_port,
    mesh_config,
    openapi_from_seed,
    peer_query,
    ratios_to,
    render_peers,
    tailcall_config,
)
from simulators.edge_impulse import API_KEY as EI_API_KEY

LIST = EI_PREFIX + "/api/organizations/1/whitelabel/projects/4211/jobs"


@pytest.fixture
async def fast_root(sim_root: str) -> AsyncIterator[str]:
    server, _ = await listen("127.0.0.1", 0, sim_root)
    host, port = server.sockets[0].getsockname()[:2]
    async with server:
        yield f"http://{host}:{port}"


async def _get(session: aiohttp.ClientSession, url: str, **headers: str) -> tuple[int, Any]:
    async with session.get(url, headers=headers) as response:
        return response.status, await response.json(content_type=None)


def test_request_key_is_the_same_in_any_parameter_order() -> None:
    assert request_key(b"/jobs?offset=0&limit=20") == request_key(b"/jobs?limit=20&offset=0")
    assert request_key(b"/jobs?limit=20") != request_key(b"/jobs?limit=21")


async def test_fast_upstream_answers_what_the_simulator_answers_and_counts_it(
    fast_root: str, sim_root: str
) -> None:
    async with aiohttp.ClientSession() as session:
        url = f"{LIST}?limit=20&offset=0"
        _, direct = await _get(session, sim_root + url, **{"x-api-key": EI_API_KEY})
        first = await _get(session, fast_root + url, **{"x-api-key": EI_API_KEY})
        reordered = fast_root + f"{LIST}?offset=0&limit=20"
        again = await _get(session, reordered, **{"x-api-key": EI_API_KEY})
        assert first == (200, direct)
        assert again == (200, direct)
        _, served = await _get(session, fast_root + "/_fast/requests")
        assert served == {"count": 2, "targets": [f"{LIST}?limit=20&offset=0"]}
        async with session.post(fast_root + "/_fast/reset") as response:
            assert await response.json(content_type=None) == {"count": 0}


async def test_fast_upstream_refuses_a_request_without_the_right_key(fast_root: str) -> None:
    async with aiohttp.ClientSession() as session:
        url = fast_root + f"{LIST}?limit=20&offset=0"
        assert (await _get(session, url, **{"x-api-key": EI_API_KEY}))[0] == 200
        status, body = await _get(session, url, **{"x-api-key": "wrong"})
        assert (status, body["success"]) == (401, False)
        assert (await _get(session, url))[0] == 401


def test_tailcall_config_is_one_worker_on_the_list_endpoint_with_the_ten_fields() -> None:
    config = tailcall_config(4100, "http://127.0.0.1:9/_sim/edge_impulse", "k-1")
    assert '@server(port: 4100, hostname: "127.0.0.1", workers: 1)' in config
    assert (
        'url: "http://127.0.0.1:9/_sim/edge_impulse/api/organizations/{{.args.organizationId}}'
        '/whitelabel/projects/{{.args.projectId}}/jobs"'
    ) in config
    assert '{key: "limit", value: "{{.args.limit}}"}' in config
    assert 'headers: [{key: "x-api-key", value: "k-1"}]' in config
    job_type = config.split("type Job {", 1)[1]
    assert re.findall(r"^  (\w+):", job_type, re.M) == list(PEER_FIELDS)


def test_mesh_config_is_one_process_on_the_openapi_document() -> None:
    config = mesh_config(4200, "http://127.0.0.1:9/_sim/edge_impulse", "k-2", "./ei.yaml")
    assert 'source: "./ei.yaml"' in config
    assert 'endpoint: "http://127.0.0.1:9/_sim/edge_impulse"' in config
    assert 'x-api-key: "k-2"' in config
    assert "port: 4200" in config and "fork: 0" in config


def test_openapi_is_taken_from_the_seed_page_yaml_block() -> None:
    page = "# title\n\n## OpenAPI\n\n````yaml /x get /y\nopenapi: 3.0.0\npaths: {}\n````\nafter\n"
    assert openapi_from_seed(page) == "openapi: 3.0.0\npaths: {}\n"
    if SEED.exists():
        document = openapi_from_seed(SEED.read_text())
        assert document.startswith("openapi: 3.0.0")
        assert "operationId: whitelabelAdminGetProjectJobs" in document


def _row(rps: float, cpu: float | None) -> dict[str, Any]:
    return {
        "rps": rps,
        "p50_ms": 1.0,
        "p99_ms": 2.0,
        "errors": 0,
        "gateway_cpu_ms_per_request": cpu,
        "upstream_requests_per_request_under_load": 1.0,
    }


def test_ratios_are_to_tailcall_and_the_target_is_marked() -> None:
    gateways = {"jobgraph": _row(1000, 1.2), "tailcall": _row(6000, 0.3), "mesh": _row(900, 1.5)}
    ratios = ratios_to(gateways, "tailcall")
    assert ratios["jobgraph"] == {"cpu_per_request": 4.0, "rps": 0.17}
    assert ratios["mesh"]["cpu_per_request"] == 5.0
    assert ratios["tailcall"] == {"cpu_per_request": 1.0, "rps": 1.0}
    results = {
        "gateways": gateways,
        "ratios_to_tailcall": ratios,
        "upstream_alone": _row(40000, None),
        "target": {"ratio": 4.0, "bound": 2.0, "met": False},
        "concurrency": 16,
        "load_generator": "wrk",
        "gateway_core": "1",
        "load_average_at_start": [1.0],
        "load_average_at_end": [1.1],
    }
    table = render_peers(results)
    jobgraph_row = r"^jobgraph\s+1000\s+1\.00\s+2\.00\s+1\.200\s+4\.0x\s+0\.17x\s+1\s+0$"
    assert re.search(jobgraph_row, table, re.M)
    assert re.search(r"^upstream alone \(fast\)\s+40000\s", table, re.M)
    assert "4.0x (target within 2.0x: MISSED)" in table
    results["target"] = {"ratio": 1.5, "bound": 2.0, "met": True}
    assert "(target within 2.0x: met)" in render_peers(results)


@pytest.mark.skipif(not TAILCALL.exists(), reason="bench/node_modules absent: npm ci in bench/")
async def test_tailcall_on_the_written_config_returns_the_simulator_jobs_in_one_request(
    fast_root: str, sim_root: str, tmp_path: Path
) -> None:
    port = free_port()
    config = tmp_path / "tailcall.graphql"
    config.write_text(tailcall_config(port, fast_root + EI_PREFIX, EI_API_KEY))
    process = await asyncio.create_subprocess_exec(
        str(TAILCALL),
        "start",
        str(config),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        query = {"query": peer_query(PEER_FIELD["tailcall"], 20, 0)}
        async with aiohttp.ClientSession() as session:
            body: Any = None
            for _ in range(100):
                try:
                    async with session.post(
                        f"http://127.0.0.1:{port}/graphql", json=query
                    ) as response:
                        body = await response.json()
                        break
                except aiohttp.ClientError:
                    await asyncio.sleep(0.1)
            _, direct = await _get(
                session, sim_root + f"{LIST}?limit=20&offset=0", **{"x-api-key": EI_API_KEY}
            )
            _, served = await _get(session, fast_root + "/_fast/requests")
        jobs = body["data"]["edgeImpulseJobs"]["jobs"]
        assert [j["id"] for j in jobs] == [j["id"] for j in direct["jobs"]]
        assert served["count"] == 1
    finally:
        process.terminate()
        await process.wait()


def test_peers_flag_selects_the_peers_run_and_its_own_output(tmp_path: Path) -> None:
    assert parse_options([]).peers is False
    options = parse_options(["--peers"])
    assert (options.peers, options.output) == (True, PEERS_OUTPUT)
    assert parse_options(["--peers", "--output", str(tmp_path / "p.json")]).output == (
        tmp_path / "p.json"
    )

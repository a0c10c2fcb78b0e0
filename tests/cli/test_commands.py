"""The `jobgraph` commands, run as a user would: as processes, over real HTTP."""

from __future__ import annotations

import gc
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from graph.cli import GC_THRESHOLDS, settle_heap
from simulators.suite import DEMO_ENVIRON
from tests.providers import PROVIDERS, demo_source

JOBGRAPH = [sys.executable, "-m", "graph.cli"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for(url: str, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"{url} did not come up")


@contextmanager
def running(
    *args: str, env: dict[str, str] | None = None, stdout: int = subprocess.PIPE
) -> Iterator[subprocess.Popen[str]]:
    process = subprocess.Popen(
        [*JOBGRAPH, *args], stdout=stdout, stderr=subprocess.STDOUT, text=True, env=env
    )
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def graphql(url: str, query: str) -> dict[str, object]:
    request = urllib.request.Request(
        url,
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        body: dict[str, object] = json.load(response)
        return body


def test_demo_serves_graphql_over_its_own_simulators() -> None:
    port = free_port()
    with running("demo", "--port", str(port)) as process:
        wait_for(f"http://127.0.0.1:{port}/healthz")
        body = graphql(
            f"http://127.0.0.1:{port}/graphql",
            "{ sources { name provider } workflowJobs(first: 2) { nodes { nativeId } } }",
        )
        assert "errors" not in body
        data = body["data"]
        assert isinstance(data, dict)
        assert {s["name"] for s in data["sources"]} == {demo_source(p) for p in PROVIDERS}
        assert len(data["workflowJobs"]["nodes"]) == 2
        process.terminate()
        output, _ = process.communicate(timeout=10)
    assert f"http://127.0.0.1:{port}/graphql" in output


def test_demo_applies_env_overrides_but_listens_where_it_was_told() -> None:
    port = free_port()
    env = {
        **os.environ,
        "JOBGRAPH_SERVER__MAX_PAGE_SIZE": "3",
        # Ignored: the demo's sources point back at the port on its command line.
        "JOBGRAPH_SERVER__PORT": str(free_port()),
    }
    with running("demo", "--port", str(port), env=env):
        wait_for(f"http://127.0.0.1:{port}/healthz")
        url = f"http://127.0.0.1:{port}/graphql"
        within = graphql(url, "{ workflowJobs(first: 3) { nodes { nativeId } } }")
        beyond = graphql(url, "{ workflowJobs(first: 4) { nodes { nativeId } } }")
    assert "errors" not in within
    assert len(within["data"]["workflowJobs"]["nodes"]) == 3  # type: ignore[index]
    [error] = beyond["errors"]  # type: ignore[misc]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "3" in error["message"]


def test_simulate_prints_base_urls_and_credentials() -> None:
    port = free_port()
    with running("simulate", "--port", str(port)) as process:
        wait_for(f"http://127.0.0.1:{port}/_sim/workflow/_control/requests")
        process.terminate()
        output, _ = process.communicate(timeout=10)
    assert f"http://127.0.0.1:{port}/_sim/orange" in output
    assert DEMO_ENVIRON["JOBGRAPH_SIM_WF_TOKEN"] in output


def test_simulate_realistic_and_busy_switches_are_on_and_listed() -> None:
    port = free_port()
    with running("simulate", "--port", str(port), "--realistic", "--busy", "2") as process:
        base = f"http://127.0.0.1:{port}/_sim"
        wait_for(f"{base}/workflow/_control/requests")
        with urllib.request.urlopen(f"{base}/metafold/_control/quirks", timeout=5) as response:
            switches = json.load(response)
        process.terminate()
        output, _ = process.communicate(timeout=10)
    assert switches["date_format"] == "rfc1123" and switches["busy"] == 2
    [workflow] = [line for line in output.splitlines() if line.startswith("switches on workflow")]
    assert "'cap': 50" in workflow and "'busy': 2" in workflow


def test_a_busy_count_out_of_range_is_refused_at_once() -> None:
    result = subprocess.run(
        [*JOBGRAPH, "demo", "--busy", "1000"], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 2
    assert "from 0 to 100" in result.stderr


def workflow_gateway(tmp_path: Path) -> tuple[int, int, Path, dict[str, str]]:
    """Ports for a simulator and a gateway, a config file serving its workflow API, and the
    environment holding that source's token."""
    sim_port, port = free_port(), free_port()
    config = tmp_path / "jobgraph.toml"
    config.write_text(
        f'[server]\nport = {port}\n[[sources]]\nname = "wf"\nprovider = "workflow"\n'
        f'base_url = "http://127.0.0.1:{sim_port}/_sim/workflow"\ntoken_env = "WF_TOKEN"\n'
    )
    env = {"WF_TOKEN": DEMO_ENVIRON["JOBGRAPH_SIM_WF_TOKEN"], "PATH": "/usr/bin:/bin"}
    return sim_port, port, config, env


def test_serve_runs_the_gateway_from_a_config_file(tmp_path: Path) -> None:
    sim_port, port, config, env = workflow_gateway(tmp_path)
    with (
        running("simulate", "--port", str(sim_port)),
        running("serve", "--config", str(config), env=env) as gateway,
    ):
        wait_for(f"http://127.0.0.1:{sim_port}/_sim/workflow/_control/requests")
        wait_for(f"http://127.0.0.1:{port}/healthz")
        body = graphql(
            f"http://127.0.0.1:{port}/graphql", "{ workflowJobs(first: 3) { nodes { nativeId } } }"
        )
        gateway.terminate()
        output, _ = gateway.communicate(timeout=10)
    assert "errors" not in body
    # Besides the command's own "listening" line, every log line is one JSON object.
    lines = [line for line in output.splitlines() if not line.startswith("jobgraph listening")]
    records = [json.loads(line) for line in lines]
    assert any(r.get("path") == "/graphql" and r.get("status") == 200 for r in records)


def test_serve_with_a_bad_config_exits_naming_the_key(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("[server]\nmax_page_size = -3\n")
    result = subprocess.run(
        [*JOBGRAPH, "serve", "--config", str(config)], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 2
    assert "server.max_page_size" in result.stderr


@pytest.mark.parametrize("workers", ["1", "2"])
def test_serve_with_a_bad_trusted_documents_file_exits_before_serving(
    tmp_path: Path, workers: str
) -> None:
    documents = tmp_path / "documents.json"
    documents.write_text("{not json")
    config = tmp_path / "pq.toml"
    config.write_text(
        f'[server]\nport = {free_port()}\npersisted_documents = "{documents}"\n'
        "only_persisted = true\n"
    )
    result = subprocess.run(
        [*JOBGRAPH, "serve", "--config", str(config), "--workers", workers],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "configuration error: server.persisted_documents" in result.stderr
    assert "not valid JSON" in result.stderr


@pytest.mark.parametrize("workers", [2])
def test_serve_with_workers_shares_one_port(tmp_path: Path, workers: int) -> None:
    sim_port, port, config, env = workflow_gateway(tmp_path)
    with (
        running("simulate", "--port", str(sim_port)),
        running("serve", "--config", str(config), "--workers", str(workers), env=env),
    ):
        wait_for(f"http://127.0.0.1:{sim_port}/_sim/workflow/_control/requests")
        wait_for(f"http://127.0.0.1:{port}/healthz")
        for _ in range(10):
            body = graphql(
                f"http://127.0.0.1:{port}/graphql",
                "{ workflowJobs(first: 1) { nodes { nativeId } } }",
            )
            assert "errors" not in body


def test_settle_heap_freezes_the_built_app_and_collects_the_young_generation_less_often() -> None:
    thresholds = gc.get_threshold()
    long_lived = [object() for _ in range(100)]
    try:
        settle_heap()
        assert gc.get_freeze_count() >= len(long_lived)
        assert gc.get_threshold() == GC_THRESHOLDS
        assert GC_THRESHOLDS[0] > thresholds[0]
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)

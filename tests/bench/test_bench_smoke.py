"""The bench command runs end to end on a tiny workload and reports every section.

Timing figures are never asserted: they depend on the machine, not on the code's correctness.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.run import SECTIONS

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(600)
def test_quick_bench_writes_every_section(tmp_path: Path) -> None:
    output = tmp_path / "results.json"
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            "--quick",
            "--loadgen",
            "aiohttp",
            "--output",
            str(output),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=540,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    results = json.loads(output.read_text())
    for section in SECTIONS:
        assert section in results, section
    assert results["throughput"]["workers_1"]["requests"] > 0
    assert results["throughput"]["workers_2"]["requests"] > 0
    assert {row["page"] for row in results["overhead"]["rows"]} == {20, 100}
    assert results["economy"]["workloads"]
    names = [w["workload"] for w in results["economy"]["workloads"]]
    assert any("capped" in n for n in names) and any("arriving" in n for n in names)
    # Fan-out: each query also as its upstream requests sent straight, all at once.
    direct = results["fanout"]["direct"]
    assert set(direct) == set(results["fanout"]["queries"])
    assert direct["single_source"]["upstream_requests"] == 1
    requests = {name: row["upstream_requests"] for name, row in direct.items()}
    assert requests["federated_jobs"] > requests["five_fields"]
    assert results["memory"]["requests"] > 0
    # Two replicas behind haproxy sharing Redis cost the upstream what one replica costs.
    runs = results["replicas"]["runs"]
    assert runs["two_replicas_redis"]["requests"] > 0
    shared = runs["two_replicas_redis"]["upstream_requests"]
    assert shared == runs["one_replica_redis"]["upstream_requests"]
    assert shared < runs["two_replicas_memory"]["upstream_requests"]
    assert results["profile"]["top_self"]
    assert "Targets" in completed.stdout

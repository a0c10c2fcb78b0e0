"""`python -m bench.subscriptions --quick` runs end to end and reports its three figures.

Timing figures are never asserted: they depend on the machine, not on the code's correctness.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(300)
def test_quick_subscription_bench_reports_latency_memory_and_upstream_requests(
    tmp_path: Path,
) -> None:
    output = tmp_path / "subscriptions.json"
    completed = subprocess.run(
        [sys.executable, "-m", "bench.subscriptions", "--quick", "--output", str(output)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    results = json.loads(output.read_text())
    assert results["latency"]["samples"] == 3
    assert results["latency"]["p50_ms"] <= results["latency"]["p99_ms"]
    assert results["memory"]["rss_mb_with_subscribers"] > 0
    upstream = results["upstream"]
    assert upstream["one_subscriber"]["list_requests"] > 0
    assert upstream["many_subscribers"]["list_requests"] > 0
    assert "event latency" in completed.stdout

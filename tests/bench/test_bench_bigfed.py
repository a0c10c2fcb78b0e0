"""The big-project federated bench (`python -m bench.bigfed`): its oracle of the merged order,
its exactness check, and a tiny run end to end. Timing figures are never asserted."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.bigfed import (
    BigFedOptions,
    config_data,
    exactness,
    merged_order,
    parse_options,
    streams_of,
)
from simulators import SimulatorSuite
from tests.providers import oracle

ROOT = Path(__file__).resolve().parents[2]


def test_oracle_holds_every_job_of_every_stream_once_newest_first() -> None:
    suite = SimulatorSuite(sizes="small")
    streams = streams_of(config_data(suite, "http://sim"))
    order = merged_order(suite, streams)
    every = sum(len(suite.jobs(s.provider, s.project)) for s in streams)
    assert len(order) == len(set(order)) == every
    unsorted = {s.provider for s in streams if not oracle(s.provider).sorts_upstream}
    assert unsorted
    assert {s.provider for s in streams if not s.sortable} == unsorted


def test_exactness_names_repeats_and_gaps() -> None:
    expected = [("ei", "1", "a"), ("ei", "1", "b"), ("wf", None, "c")]
    assert exactness(expected[:2], expected)["exact"]
    report = exactness([expected[0], expected[0]], expected)
    assert report == {
        "jobs": 2,
        "exact": False,
        "repeats": 1,
        "missing": 1,
        "first_difference_at": 1,
    }


def test_defaults_are_the_issues_workload() -> None:
    options = parse_options([])
    assert (options.sizes, options.latency_ms, options.page_size, options.pages) == (
        "big",
        150.0,
        25,
        5,
    )
    assert parse_options(["--tiny"]) == BigFedOptions.tiny()


@pytest.mark.timeout(300)
def test_tiny_bigfed_run_walks_exactly_and_reports_each_target(tmp_path: Path) -> None:
    output = tmp_path / "bigfed.json"
    completed = subprocess.run(
        [sys.executable, "-m", "bench.bigfed", "--tiny", "--pages", "2", "--output", str(output)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    results = json.loads(output.read_text())
    assert [row["page"] for row in results["pages"]] == [1, 2]
    assert all(row["upstream_requests"] > 0 for row in results["pages"])
    assert all(e["exact"] for e in results["exactness"] + results["exactness_with_arrivals"])
    assert results["exactness_with_arrivals"][0]["arrived"] > 0
    assert set(results["targets"]) == {
        "later_pages_p50",
        "later_pages_upstream_requests",
        "exact",
    }
    assert results["memory"]["rss_fresh_mb"] > 0
    assert "targets:" in completed.stdout

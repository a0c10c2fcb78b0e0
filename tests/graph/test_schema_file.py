"""schema.graphql at the repo root is exactly what `jobgraph export-schema` prints."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.providers import PROVIDERS, oracle

ROOT = Path(__file__).resolve().parents[2]


def test_schema_file_equals_exported_schema() -> None:
    exported = subprocess.run(
        [sys.executable, "-m", "graph.cli", "export-schema"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert (ROOT / "schema.graphql").read_text() == exported, (
        "schema.graphql is stale: run `jobgraph export-schema > schema.graphql`"
    )


def test_schema_declares_the_design_contract() -> None:
    sdl = (ROOT / "schema.graphql").read_text()
    for fragment in (
        "interface Job implements Node",
        "enum JobStatus",
        *(f"type {oracle(p).type_name} implements Job & Node" for p in PROVIDERS),
        *(f"type {oracle(p).type_name}Connection" for p in PROVIDERS),
        *(f"{oracle(p).field}(" for p in PROVIDERS),
        "totalCount: Int",
        "failures: [SourceFailure!]!",
    ):
        assert fragment in sdl

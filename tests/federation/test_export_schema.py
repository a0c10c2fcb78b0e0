"""`jobgraph export-schema` prints the public SDL; `--subgraph` the federation SDL."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.federation.conftest import Subgraph

ROOT = Path(__file__).resolve().parents[2]
FEDERATION_INTERNALS = ("@key", "@link", "_entities", "_service", "_Any", "_Entity", "_Service")


def export_schema(*flags: str) -> str:
    return subprocess.run(
        [sys.executable, "-m", "graph.cli", "export-schema", *flags],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def test_public_schema_has_no_federation_internals() -> None:
    sdl = export_schema()
    assert "interface Job implements Node {" in sdl
    assert [name for name in FEDERATION_INTERNALS if name in sdl] == []


async def test_subgraph_flag_prints_what_the_service_field_answers(subgraph: Subgraph) -> None:
    body = await subgraph.post("{ _service { sdl } }")
    assert export_schema("--subgraph") == body["data"]["_service"]["sdl"] + "\n"

"""graphql-http's server audits (npm `graphql-http`, pinned in package.json) against
`jobgraph demo`: every audit, MUST, SHOULD and MAY alike, is one test case and must pass."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cli.test_commands import free_port, running, wait_for

ROOT = Path(__file__).resolve().parents[2]
AUDIT_SCRIPT = Path(__file__).with_name("graphql_http_audit.mjs")
NODE = shutil.which("node")
# Enough for 61 audits on a loaded machine; a hung audit run fails rather than stalls.
RUN_TIMEOUT_S = 300

pytestmark = pytest.mark.node


def audit_list() -> list[dict[str, str]]:
    """Every audit the pinned graphql-http has, as {id, name}; one placeholder that fails
    when Node or the package is missing, so a broken setup never passes as zero audits."""
    if NODE is None or not (ROOT / "node_modules" / "graphql-http").is_dir():
        return [{"id": "setup", "name": "node and `npm ci` are needed for the audit"}]
    listed = subprocess.run(
        [NODE, str(AUDIT_SCRIPT), "--list"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=RUN_TIMEOUT_S,
    )
    audits: list[dict[str, str]] = json.loads(listed.stdout)
    return audits


AUDITS = audit_list()


@pytest.fixture(scope="module")
def audit_results() -> Iterator[dict[str, dict[str, Any]]]:
    """Each audit's result, by id, from one run against one demo gateway."""
    assert NODE is not None, "Node.js is needed for the audit"
    port = free_port()
    with running("demo", "--port", str(port)):
        url = f"http://127.0.0.1:{port}"
        wait_for(f"{url}/healthz")
        run = subprocess.run(
            [NODE, str(AUDIT_SCRIPT), f"{url}/graphql"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT_S,
        )
    assert run.returncode == 0, run.stderr
    yield {result["id"]: result for result in json.loads(run.stdout)}


@pytest.mark.parametrize("audit", AUDITS, ids=[f"{a['id']} {a['name']}" for a in AUDITS])
def test_graphql_http_server_audit(
    audit: dict[str, str], audit_results: dict[str, dict[str, Any]]
) -> None:
    result = audit_results[audit["id"]]
    assert result["status"] == "ok", (
        f"{audit['name']}: {result.get('reason')}; response {result.get('response')}"
    )

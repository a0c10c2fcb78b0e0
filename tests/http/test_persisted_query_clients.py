"""Real persisted-query clients from npm (pinned in tests/http/node/package.json): Apollo
Client's persisted-query link over POST and over GET, and urql's persisted exchange, each run
twice against a gateway that needs a token. The first run misses and retries with the query
text; the second, from a fresh client, is answered by the hash alone."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Gateway
from tests.graph.providers import native_ids

NODE_DIR = Path(__file__).with_name("node")
SCRIPT = NODE_DIR / "persisted_clients.mjs"
TOKEN = "persisted-clients-token"
RUN_TIMEOUT_S = 120

pytestmark = pytest.mark.node


@pytest.fixture
def gateway_settings() -> dict[str, Any]:
    return {"auth": {"mode": "token", "tokens": [{"name": "web", "token_env": "TEST_TOKEN_WEB"}]}}


@pytest.fixture
def extra_environ() -> dict[str, str]:
    return {"TEST_TOKEN_WEB": TOKEN}


@pytest.fixture
async def client_runs(gateway: Gateway) -> dict[str, Any]:
    node = shutil.which("node")
    assert node is not None, "Node.js is needed for this test"
    assert (NODE_DIR / "node_modules" / "@apollo" / "client").is_dir(), "run `make install`"
    url = str(gateway.client.make_url("/graphql"))
    process = await asyncio.create_subprocess_exec(
        node,
        str(SCRIPT),
        url,
        TOKEN,
        cwd=NODE_DIR,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), RUN_TIMEOUT_S)
    assert process.returncode == 0, stderr.decode()
    runs: dict[str, Any] = json.loads(stdout)
    return runs


def expected_ids(gateway: Gateway) -> list[str]:
    return native_ids("workflow", gateway.suite.jobs("workflow", None))[:2]


@pytest.mark.parametrize(
    ("client", "first_method", "retry_method"),
    [("apolloPost", "POST", "POST"), ("apolloGet", "GET", "POST"), ("urql", "GET", "GET")],
)
async def test_a_persisted_query_client_misses_once_then_sends_only_the_hash(
    client_runs: dict[str, Any],
    gateway: Gateway,
    client: str,
    first_method: str,
    retry_method: str,
) -> None:
    run = client_runs[client]
    first, second = run["requests"]
    # First run: the hash alone, PersistedQueryNotFound, then the retry with the text.
    assert [(r["method"], r["hasQuery"]) for r in first] == [
        (first_method, False),
        (retry_method, True),
    ]
    assert first[0]["errorCodes"] == ["PERSISTED_QUERY_NOT_FOUND"]
    assert first[1]["errorCodes"] == []
    # Second run, a fresh client: one request, by hash only, answered.
    assert [(r["method"], r["hasQuery"], r["errorCodes"]) for r in second] == [
        (first_method, False, [])
    ]
    assert second[0]["hash"] == first[0]["hash"] == first[1]["hash"]
    assert run["results"] == [expected_ids(gateway)] * 2

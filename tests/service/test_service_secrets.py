"""No configured secret — gateway tokens or upstream credentials — ever appears in a response,
a log line or the metrics, whatever happens: good calls, bad tokens, bad queries, failing
upstreams, probes."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from tests.providers import PROVIDERS, demo_source, first_project, oracle
from tests.service.conftest import (
    ADMIN_TOKEN,
    DASHBOARD_TOKEN,
    TOKEN_ENVIRON,
    CapturedLines,
    Reply,
    Service,
)

# Each provider fails in its own way, the ways taken in turn.
FAULT_KINDS = [
    ("status", {"status": 401}),
    ("status", {"status": 403}),
    ("malformed_json", {}),
    ("html_502", {}),
    ("wrong_schema", {}),
]
FAULTS = [
    (provider, kind, options)
    for provider, (kind, options) in zip(PROVIDERS, itertools.cycle(FAULT_KINDS), strict=False)
]


@pytest.fixture
def source_overrides() -> dict[str, dict[str, Any]]:
    # Fail fast: one try, short deadlines, so failing upstreams answer within the test.
    return {demo_source(p): {"max_retries": 0, "timeout_s": 2.0} for p in PROVIDERS}


def transcript(reply: Reply) -> str:
    headers = "\n".join(f"{k}: {v}" for k, v in reply.headers.items())
    return f"{reply.status}\n{headers}\n{reply.body}"


async def exercise(service: Service) -> list[Reply]:
    """Every kind of call, succeeding and failing, as admin, as dashboard and as nobody."""
    suite = service.suite
    project = {p: first_project(suite, p) for p in PROVIDERS}
    queries = [
        ("query Sources { sources { name provider projects } }", {}),
        ("{ jobs(first: 20) { nodes { id source name errorMessage } failures { message } } }", {}),
        *(
            (oracle(p).query(project[p], selection="nodes { id errorMessage }"), {"first": 3})
            for p in PROVIDERS
        ),
        ("{ nope }", {}),
        ("{ sources { name ", {}),
        ('{ node(id: "not-an-id") { id } }', {}),
        *(
            (oracle(p).query(project[p], selection="totalCount"), {"first": 1000})
            for p in PROVIDERS
        ),
    ]
    replies: list[Reply] = []
    for token in (ADMIN_TOKEN, DASHBOARD_TOKEN, None, "wrong-token-value-1234567890"):
        for query, variables in queries:
            replies.append(await service.graphql(query, variables, token=token))
    for provider, kind, options in FAULTS:
        suite.sim(provider).faults.add(kind, count=50, **options)
    for query, variables in queries:
        replies.append(await service.graphql(query, variables, token=ADMIN_TOKEN))
    replies.append(await service.request("GET", "/readyz"))
    replies.append(await service.request("GET", "/healthz"))
    replies.append(await service.request("GET", "/graphql", headers={"Accept": "text/html"}))
    replies.append(await service.request("GET", "/metrics", token=ADMIN_TOKEN))
    return replies


async def test_no_secret_appears_in_any_response_log_line_or_metric(
    service: Service, captured_logs: CapturedLines
) -> None:
    replies = await exercise(service)
    secrets = [*service.suite.demo_environ().values(), *TOKEN_ENVIRON.values()]
    assert len(secrets) >= 7 and all(len(s) >= 12 for s in secrets)
    corpus = {
        "responses": "\n".join(transcript(r) for r in replies),
        "logs": "\n".join(captured_logs.lines),
        "metrics": str(replies[-1].body),
    }
    assert len(captured_logs.lines) >= len(replies)  # the access log did run
    assert "UPSTREAM_" in corpus["responses"]  # the upstream failures did happen
    for where, text in corpus.items():
        for secret in secrets:
            assert secret not in text, f"a configured secret appears in the {where}"

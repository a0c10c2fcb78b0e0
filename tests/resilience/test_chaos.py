"""Chaos: hundreds of federated queries while random faults hit a fifth of upstream calls.

The gateway must answer every one with HTTP 200 and a well-formed body, attribute every
failure to its source with a coded error, leak no credential, and keep its memory flat.
"""

from __future__ import annotations

import asyncio
import gc
import os
import random
from dataclasses import dataclass, field
from typing import Any

import orjson
import pytest

from tests.conftest import Gateway
from tests.providers import PROVIDERS, demo_source, enum_value
from tests.resilience.conftest import DESIGN_CODES

SEED = 20261122
QUERIES = 300
WARM_UP = 30
BATCH = 25
IN_FLIGHT = 4
FAULT_RATE = 0.2
SLOTS_PER_SIMULATOR = 400
# kind -> fault options; every kind the simulators know, hangs and slow answers included.
FAULTS: dict[str, dict[str, Any]] = {
    "latency": {"latency_ms": 400},
    "status": {},
    "rate_limit": {},
    "malformed_json": {},
    "html_502": {},
    "wrong_schema": {},
    "truncated": {},
    "hang": {},
    "drop": {},
    "oversized": {"size": 3 << 20},
}
STATUSES = (400, 401, 403, 404, 500, 502, 503, 504)
QUERY = (
    "query($first: Int, $after: String, $last: Int, $before: String, $sources: [String!], "
    "$filter: JobFilter, $orderBy: JobOrder) { "
    "jobs(first: $first, after: $after, last: $last, before: $before, sources: $sources, "
    "filter: $filter, orderBy: $orderBy) { "
    "totalCount pageInfo { hasNextPage endCursor } "
    "failures { source provider code message } "
    "edges { cursor node { id source provider nativeId status createdAt } } } }"
)
PROVIDER_OF = {demo_source(p): enum_value(p) for p in PROVIDERS}


@pytest.fixture
def source_settings() -> dict[str, Any]:
    return {
        "timeout_s": 0.3,
        "connect_timeout_s": 0.3,
        "max_retries": 2,
        "max_body_bytes": 2 << 20,
        "breaker_failures": 5,
        "breaker_cooldown_s": 0.5,
    }


@dataclass
class Schedule:
    """The faults programmed into one simulator: one slot per upcoming upstream call."""

    slots: list[str | None]

    def program(self, faults: Any, rng: random.Random) -> None:
        faults.clear()
        clean = 0
        for slot in [*self.slots, "end"]:
            if slot is None:
                clean += 1
                continue
            if clean:
                faults.add("latency", count=clean)  # 0 ms: a pass-through run of clean calls
                clean = 0
            if slot == "end":
                break
            options = dict(FAULTS[slot])
            if slot == "status":
                options["status"] = rng.choice(STATUSES)
            if slot == "rate_limit":
                options["retry_after"] = rng.choice(["0.05", "1", "30"])
            faults.add(slot, **options)

    def consumed(self, faults: Any) -> list[str | None]:
        left = sum(fault.remaining for fault in faults.pending)
        return self.slots[: len(self.slots) - left]


@dataclass
class Tally:
    queries: int = 0
    complete: int = 0
    partial: int = 0
    failures: int = 0
    upstream_calls: int = 0
    faults: dict[str, int] = field(default_factory=dict)


def random_variables(rng: random.Random, cursors: dict[str, str]) -> dict[str, Any]:
    variables: dict[str, Any] = {"orderBy": rng.choice(["CREATED_AT_DESC", "CREATED_AT_ASC"])}
    if rng.random() < 0.8:
        variables["first"] = rng.choice([1, 5, 10, 25])
    else:
        variables["last"] = rng.choice([5, 10])
    variables["filter"] = rng.choice(
        [
            None,
            {"status": ["FAILED", "SUCCEEDED"]},
            {"providers": ["ORANGE", "METAFOLD", "MODELARTS"]},
            {"search": "a"},
        ]
    )
    if rng.random() < 0.3:
        variables["sources"] = rng.sample(sorted(PROVIDER_OF), k=rng.randint(1, 4))
    key = orjson.dumps(variables, option=orjson.OPT_SORT_KEYS).decode()
    if "first" in variables and key in cursors and rng.random() < 0.5:
        variables["after"] = cursors[key]
    variables["_key"] = key
    return variables


def rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def check_well_formed(raw: bytes, status: int, secrets: list[str]) -> dict[str, Any]:
    assert status < 500, raw[:300]
    assert status == 200, raw[:300]
    body = orjson.loads(raw)
    assert isinstance(body, dict)
    assert body.get("data") is not None or body.get("errors"), body
    errors = body.get("errors") or []
    reported: set[tuple[str, str]] = set()
    for error in errors:
        extensions = error["extensions"]
        assert extensions["code"] in DESIGN_CODES - {"INTERNAL"}, error
        if extensions["code"].startswith("UPSTREAM_"):
            assert PROVIDER_OF[extensions["source"]] == extensions["provider"], error
            reported.add((extensions["source"], extensions["code"]))
    jobs = (body.get("data") or {}).get("jobs")
    if jobs is not None:
        for failure in jobs["failures"]:
            assert PROVIDER_OF[failure["source"]] == failure["provider"], failure
            assert failure["code"] in DESIGN_CODES - {"INTERNAL"}, failure
            assert failure["message"].startswith(f"{failure['source']}"), failure
            assert (failure["source"], failure["code"]) in reported, (failure, errors)
        for edge in jobs["edges"]:
            assert PROVIDER_OF[edge["node"]["source"]] == edge["node"]["provider"]
    text = raw.decode()
    for secret in secrets:
        assert secret not in text
    return body


async def test_chaos_federated_queries_stay_well_formed_attributed_and_flat(
    gateway: Gateway,
) -> None:
    rng = random.Random(SEED)
    secrets = list(gateway.suite.demo_environ().values())
    cursors: dict[str, str] = {}
    tally = Tally()
    rss_after_warm_up = 0
    kinds = list(FAULTS)

    async def one_query() -> None:
        variables = random_variables(rng, cursors)
        key = variables.pop("_key")
        response = await gateway.client.post(
            "/graphql", json={"query": QUERY, "variables": variables}
        )
        body = check_well_formed(await response.read(), response.status, secrets)
        tally.queries += 1
        jobs = (body.get("data") or {}).get("jobs")
        if jobs is None:
            return
        if jobs["failures"]:
            tally.partial += 1
            tally.failures += len(jobs["failures"])
        else:
            tally.complete += 1
        if jobs["pageInfo"]["endCursor"] and "first" in variables:
            cursors[key] = jobs["pageInfo"]["endCursor"]

    for batch_start in range(0, QUERIES, BATCH):
        schedules = {
            provider: Schedule(
                [
                    rng.choice(kinds) if rng.random() < FAULT_RATE else None
                    for _ in range(SLOTS_PER_SIMULATOR)
                ]
            )
            for provider in PROVIDERS
        }
        for provider, schedule in schedules.items():
            schedule.program(gateway.suite.sim(provider).faults, rng)
        pending = list(range(batch_start, min(QUERIES, batch_start + BATCH)))
        while pending:
            group, pending = pending[:IN_FLIGHT], pending[IN_FLIGHT:]
            await asyncio.gather(*(one_query() for _ in group))
        for provider, schedule in schedules.items():
            faults = gateway.suite.sim(provider).faults
            for slot in schedule.consumed(faults):
                tally.upstream_calls += 1
                if slot is not None:
                    tally.faults[slot] = tally.faults.get(slot, 0) + 1
        if batch_start + BATCH == WARM_UP or (batch_start < WARM_UP <= batch_start + BATCH):
            gc.collect()
            rss_after_warm_up = rss_bytes()
    gateway.suite.reset()
    await asyncio.sleep(0.1)
    gc.collect()
    rss_at_end = rss_bytes()

    injected = sum(tally.faults.values())
    print(
        f"\nchaos: {tally.queries} queries, {tally.complete} complete, {tally.partial} partial "
        f"({tally.failures} source failures); {tally.upstream_calls} upstream calls, "
        f"{injected} faulted ({injected / max(1, tally.upstream_calls):.0%}): {tally.faults}; "
        f"RSS {rss_after_warm_up / 2**20:.1f} MiB after warm-up, {rss_at_end / 2**20:.1f} MiB "
        "at the end"
    )
    assert tally.queries == QUERIES
    assert tally.partial > 0
    assert set(tally.faults) == set(FAULTS)
    assert 0.1 < injected / tally.upstream_calls < 0.3
    growth = rss_at_end - rss_after_warm_up
    assert growth < max(30 * 2**20, rss_after_warm_up * 0.2), (rss_after_warm_up, rss_at_end)

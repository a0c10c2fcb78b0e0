"""Replicas behind a real load balancer: a walk may be served by any of them page by page and
stays exact, survives the death of one, and with the shared cache costs the upstream what
one replica would."""

from __future__ import annotations

import itertools
from typing import Any

import redis.asyncio as aioredis

from simulators import SimulatorSuite
from tests.replicas.conftest import Cluster

PROJECT = "a71c0d54-2e9f-4b36-8f0a-c6d2e1b85f47"  # Orange: 100 jobs, offset/limit paging
WALK = (
    "query($after: String) {"
    f' orangeJobs(projectId: "{PROJECT}", first: 15, after: $after) {{'
    " pageInfo { hasNextPage endCursor } nodes { nativeId } } }"
)


def expected(suite: SimulatorSuite) -> list[str]:
    return [str(job["id"]) for job in suite.jobs("orange", PROJECT)]


async def walk(cluster: Cluster, *, kill_after: int | None = None) -> tuple[list[str], list[str]]:
    """Walk the list through the balancer: (the ids seen, the replica of each page). With
    `kill_after`, the replica that served that many pages is killed before the next one."""
    ids: list[str] = []
    served: list[str] = []
    after: str | None = None
    while True:
        replica, body = await cluster.post(WALK, {"after": after})
        assert "errors" not in body, body["errors"]
        served.append(replica)
        page: dict[str, Any] = body["data"]["orangeJobs"]
        ids.extend(node["nativeId"] for node in page["nodes"])
        if len(served) == kill_after:
            cluster.replicas[replica].kill()
        if not page["pageInfo"]["hasNextPage"]:
            return ids, served
        after = page["pageInfo"]["endCursor"]


async def test_a_walk_alternating_replicas_page_by_page_stays_exact(
    suite: SimulatorSuite, cluster: Cluster
) -> None:
    ids, served = await walk(cluster)
    assert ids == expected(suite)
    assert len(served) == 7
    # Round-robin: every page went to the other replica than the one before.
    assert all(a != b for a, b in itertools.pairwise(served)), served
    assert set(served) == {"a", "b"}


async def test_a_walk_continues_on_the_other_replica_when_one_is_killed(
    suite: SimulatorSuite, cluster: Cluster
) -> None:
    ids, served = await walk(cluster, kill_after=3)
    assert ids == expected(suite)
    survivor = served[3]
    assert served[2] != survivor
    assert set(served[3:]) == {survivor}


async def test_repeated_pages_cost_the_upstream_what_one_replica_costs(
    suite: SimulatorSuite, cluster: Cluster
) -> None:
    orange = suite.sim("orange").log
    served: list[str] = []
    for _ in range(4):
        replica, body = await cluster.post(WALK, {"after": None})
        assert "errors" not in body
        served.append(replica)
    for _ in range(3):
        ids, pages = await walk(cluster)
        assert ids == expected(suite)
        served.extend(pages)
    assert set(served) == {"a", "b"}
    through_the_balancer = orange.count("list")
    # Forget the shared cache, then the same requests sent to one replica alone.
    client = aioredis.Redis.from_url(cluster.redis.url)
    try:
        await client.flushall()
    finally:
        await client.aclose()
    orange.clear()
    alone = Cluster(cluster.replicas["a"].url, {}, cluster.redis, cluster.http)
    for _ in range(4):
        await post_direct(alone, None)
    for _ in range(3):
        assert await walk_direct(alone) == expected(suite)
    assert through_the_balancer == orange.count("list")


async def post_direct(cluster: Cluster, after: str | None) -> dict[str, Any]:
    """One page asked of one replica, without the balancer."""
    async with cluster.http.post(
        f"{cluster.url}/graphql", json={"query": WALK, "variables": {"after": after}}
    ) as response:
        body: dict[str, Any] = await response.json()
    assert "errors" not in body, body["errors"]
    page: dict[str, Any] = body["data"]["orangeJobs"]
    return page


async def walk_direct(cluster: Cluster) -> list[str]:
    ids: list[str] = []
    after: str | None = None
    while True:
        page = await post_direct(cluster, after)
        ids.extend(node["nativeId"] for node in page["nodes"])
        if not page["pageInfo"]["hasNextPage"]:
            return ids
        after = page["pageInfo"]["endCursor"]

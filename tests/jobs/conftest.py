"""The federated `jobs` field: a gateway with per-source overrides, walks, and the brute-force
expectations computed from the simulators' raw datasets with DESIGN.md's status mappings."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.conftest import Gateway
from tests.providers import enum_value, iso, oracle

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

NODE_FIELDS = "source projectId nativeId provider status name createdAt"
JOBS_QUERY = (
    "query($first: Int, $after: String, $last: Int, $before: String, $sources: [String!], "
    "$filter: JobFilter, $orderBy: JobOrder) { "
    "jobs(first: $first, after: $after, last: $last, before: $before, sources: $sources, "
    "filter: $filter, orderBy: $orderBy) { "
    "totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } "
    "failures { source provider code message } "
    f"edges {{ cursor node {{ {NODE_FIELDS} }} }} }} }}"
)


@dataclass(frozen=True)
class Expected:
    """One raw simulator job, normalized the way DESIGN.md says the gateway must."""

    source: str
    project: str | None
    native_id: str
    provider: str
    status: str
    name: str | None
    created: datetime | None

    @property
    def ident(self) -> tuple[str, str | None, str]:
        return (self.source, self.project, self.native_id)


def normalize(provider: str, source: str, project: str | None, job: dict[str, Any]) -> Expected:
    """A raw job as the `Job` interface must show it."""
    n = oracle(provider).normalize(job)
    return Expected(source, project, n.native_id, enum_value(provider), n.status, n.name, n.created)


def streams(gateway: Gateway) -> list[tuple[str, str, str | None]]:
    """(provider, source, project) of every configured stream, in config order."""
    found: list[tuple[str, str, str | None]] = []
    for source in gateway.config.sources:
        projects: list[str | None] = list(source.projects) or [None]
        found.extend((source.provider.value, source.name, project) for project in projects)
    return found


def everything(gateway: Gateway) -> list[Expected]:
    return [
        normalize(provider, source, project, job)
        for provider, source, project in streams(gateway)
        for job in oracle(provider).listed(gateway.suite.jobs(provider, project))
    ]


def matches(job: Expected, job_filter: dict[str, Any] | None) -> bool:
    """The JobFilter semantics, written from DESIGN.md independently of the gateway's code."""
    f = job_filter or {}
    if f.get("status") is not None and job.status not in f["status"]:
        return False
    if f.get("providers") is not None and job.provider not in f["providers"]:
        return False
    if f.get("search") is not None and f["search"].casefold() not in (job.name or "").casefold():
        return False
    after = iso(f.get("createdAfter"))
    before = iso(f.get("createdBefore"))
    if after is not None and (job.created is None or job.created <= after):
        return False
    return not (before is not None and (job.created is None or job.created >= before))


def brute_force(
    gateway: Gateway, job_filter: dict[str, Any] | None = None, sources: Iterable[str] | None = None
) -> list[Expected]:
    wanted = None if sources is None else set(sources)
    return [
        job
        for job in everything(gateway)
        if matches(job, job_filter) and (wanted is None or job.source in wanted)
    ]


def merge_order_key(gateway: Gateway, order: str) -> Callable[[Any], tuple[int, int, int]]:
    """(missing time, signed time, stream in config order): what the merged list is sorted by."""
    index = {(source, project): i for i, (_, source, project) in enumerate(streams(gateway))}

    def key(job: Any) -> tuple[int, int, int]:
        if isinstance(job, Expected):
            created, where = job.created, (job.source, job.project)
        else:
            created, where = iso(job["createdAt"]), (job["source"], job["projectId"])
        stream = index[where]
        if created is None:
            return (1, 0, stream)
        micros = (created - EPOCH) // timedelta(microseconds=1)
        return (0, -micros if order == "CREATED_AT_DESC" else micros, stream)

    return key


def ident(node: dict[str, Any]) -> tuple[str, str | None, str]:
    return (node["source"], node["projectId"], node["nativeId"])


def assert_merged(
    gateway: Gateway, walked: list[dict[str, Any]], expected: list[Expected], order: str
) -> None:
    """`walked` holds exactly the expected jobs, each once, in merged creation-time order."""
    assert len(walked) == len({ident(node) for node in walked}), "a job was visited twice"
    assert {ident(node) for node in walked} == {job.ident for job in expected}
    key = merge_order_key(gateway, order)
    assert [key(node) for node in walked] == sorted(key(job) for job in expected)
    by_ident = {job.ident: job for job in expected}
    for node in walked:
        job = by_ident[ident(node)]
        assert (node["status"], node["name"], node["provider"]) == (
            job.status,
            job.name,
            job.provider,
        )


@dataclass
class Walk:
    nodes: list[dict[str, Any]]
    pages: list[dict[str, Any]]


async def walk(
    gateway: Gateway,
    size: int,
    *,
    backward: bool = False,
    start: str | None = None,
    query: str = JOBS_QUERY,
    **variables: Any,
) -> Walk:
    """Follow `jobs` from one end (or from cursor `start`) to the other; nodes come back in
    merged order either way."""
    pages: list[dict[str, Any]] = []
    cursor = start
    for _ in range(10_000):
        if backward:
            page_vars = {"last": size, "before": cursor}
        else:
            page_vars = {"first": size, "after": cursor}
        connection = (await gateway.data(query, {**variables, **page_vars}))["jobs"]
        pages.append(connection)
        info = connection["pageInfo"]
        more = info["hasPreviousPage"] if backward else info["hasNextPage"]
        if not more:
            break
        cursor = info["startCursor"] if backward else info["endCursor"]
        assert cursor is not None, "more pages but no cursor to reach them"
    ordered = list(reversed(pages)) if backward else pages
    nodes = [edge["node"] for page in ordered for edge in page["edges"]]
    return Walk(nodes, pages)

"""`node`, `nodes`, `job` and `MetafoldJob.dependencies` go through one DataLoader per
operation: ids are grouped per source and project, de-duplicated, and fetched with each
upstream's cheapest requests; identical upstream requests within an operation are made once."""

from __future__ import annotations

from typing import Any

import pytest

from graph.ids import JobKey, encode_global_id
from resolvers.providers.registry import provider_row
from tests.conftest import Gateway
from tests.graph.providers import native_ids
from tests.providers import (
    PROJECT_PROVIDERS,
    PROVIDERS,
    demo_source,
    enum_value,
    iso,
    oracle,
    paged,
)

NODES = "query($ids: [ID!]!) { nodes(ids: $ids) { id ... on Job { source projectId nativeId } } }"


def global_id(provider: str, project: str | None, native: str) -> str:
    return encode_global_id(JobKey(demo_source(provider), project, native))


def pick(gateway: Gateway, provider: str, project: str | None, positions: list[int]) -> list[str]:
    ids = native_ids(provider, gateway.suite.jobs(provider, project))
    return [ids[p] for p in positions]


# Ten ids of each provider: six, three and one from its three largest projects (the one with
# a single id takes a provider's single-job path where it has one), or ten from its one list.
SHARES = (6, 3, 1)


def ten_ids(gateway: Gateway, provider: str) -> dict[str | None, list[str]]:
    """Each chosen project's native ids, spread evenly from its first listed job to its last
    (so a list scan has to reach the end)."""
    suite = gateway.suite
    if provider not in PROJECT_PROVIDERS:
        shares: list[tuple[str | None, int]] = [(None, sum(SHARES))]
    else:
        largest = sorted(suite.projects(provider), key=lambda p: -len(suite.jobs(provider, p)))
        shares = list(zip(largest, SHARES, strict=False))
    chosen: dict[str | None, list[str]] = {}
    for project, count in shares:
        ids = native_ids(provider, suite.jobs(provider, project))
        assert len(ids) >= count
        step = (len(ids) - 1) / max(1, count - 1)
        chosen[project] = [ids[round(i * step)] for i in range(count)]
    return chosen


def fifty_ids(gateway: Gateway) -> list[str]:
    return [
        global_id(provider, project, native)
        for provider in PROVIDERS
        for project, natives in ten_ids(gateway, provider).items()
        for native in natives
    ]


def cheapest_requests(gateway: Gateway, provider: str) -> dict[str, int]:
    """What looking up `ten_ids` costs at the least, by the provider's endpoints."""
    chosen = ten_ids(gateway, provider)
    spec = oracle(provider)
    if spec.job_path is not None and paged(provider):
        return {"get": sum(len(ids) for ids in chosen.values())}  # no batch endpoint
    if spec.job_path is not None:
        # The whole list where a project has several ids, its single job otherwise.
        several = sum(len(ids) > 1 for ids in chosen.values())
        return {k: n for k, n in (("get", len(chosen) - several), ("list", several)) if n}
    # No single-job endpoint: one scan window of up to 1000 jobs per project.
    assert all(len(gateway.suite.jobs(provider, project)) <= 1000 for project in chosen)
    return {"list": len(chosen)}


async def test_fifty_nodes_across_every_provider_cost_batched_cheapest_requests(
    gateway: Gateway,
) -> None:
    ids = fifty_ids(gateway)
    assert len(ids) == 10 * len(PROVIDERS)
    gateway.reset_counts()
    nodes = (await gateway.data(NODES, {"ids": ids}))["nodes"]
    assert [node["id"] for node in nodes] == ids
    for provider in PROVIDERS:
        assert gateway.suite.sim(provider).log.counts() == cheapest_requests(gateway, provider)


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_every_provider_resolves_its_global_ids_to_its_own_jobs(
    gateway: Gateway, provider: str
) -> None:
    """The first, middle and last job of up to three projects, one id twice and one that does
    not exist: each resolves to the provider's type with its listed fields, the missing one to
    null with no error; the repeated id costs no request of its own."""
    spec = oracle(provider)
    suite = gateway.suite
    projects: list[str | None] = (
        [p for p in suite.projects(provider) if suite.jobs(provider, p)][:3]
        if provider_row(provider).has_projects
        else [None]
    )
    wanted: list[tuple[str | None, dict[str, Any]]] = []
    for project in projects:
        raw = suite.jobs(provider, project)
        wanted += [(project, raw[i]) for i in sorted({0, len(raw) // 2, len(raw) - 1})]
    assert len(wanted) >= 3
    ids = [global_id(provider, project, spec.native_id(job)) for project, job in wanted]
    missing = global_id(provider, projects[0], "999999999")
    query = (
        "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id ... on Job "
        "{ provider source projectId nativeId name status createdAt } } }"
    )
    gateway.reset_counts()
    once = (await gateway.data(query, {"ids": [*ids, missing]}))["nodes"]
    calls = suite.sim(provider).log.count()
    nodes = (await gateway.data(query, {"ids": [*ids, ids[0], missing]}))["nodes"]
    assert nodes[:-2] == once[:-1] and nodes[-2] == once[0] and once[-1] is None is nodes[-1]
    assert calls > 0 and suite.sim(provider).log.count() == 2 * calls
    for node, (project, job) in zip(once, wanted, strict=False):
        expected = spec.normalize(job)
        assert node["__typename"] == spec.type_name
        assert (node["provider"], node["source"], node["projectId"]) == (
            enum_value(provider),
            demo_source(provider),
            project,
        )
        assert (node["nativeId"], node["name"], node["status"]) == (
            expected.native_id,
            expected.name,
            expected.status,
        )
        assert iso(node["createdAt"]) == expected.created


async def test_repeated_ids_add_no_upstream_requests(gateway: Gateway) -> None:
    ids = fifty_ids(gateway)
    gateway.reset_counts()
    await gateway.data(NODES, {"ids": ids})
    once = {p: gateway.suite.sim(p).log.counts() for p in PROVIDERS}
    gateway.reset_counts()
    # Every id again, as far as `nodes` takes ids at once (100).
    repeated = ids + ids[::-1][: 100 - len(ids)]
    nodes = (await gateway.data(NODES, {"ids": repeated}))["nodes"]
    assert [node["id"] for node in nodes] == repeated
    assert {p: gateway.suite.sim(p).log.counts() for p in PROVIDERS} == once


async def test_node_and_job_resolve_a_global_id_to_its_provider_type(gateway: Gateway) -> None:
    project = gateway.suite.projects("orange")[0]
    native = pick(gateway, "orange", project, [5])[0]
    gid = global_id("orange", project, native)
    data = await gateway.data(
        "query($id: ID!) { node(id: $id) { __typename id } "
        "job(id: $id) { ... on OrangeJob { nativeId state } } }",
        {"id": gid},
    )
    assert data["node"] == {"__typename": "OrangeJob", "id": gid}
    assert data["job"]["nativeId"] == native


async def test_bad_ids_are_null_with_a_coded_error_and_spare_the_others(gateway: Gateway) -> None:
    good = global_id("metafold", "1031", pick(gateway, "metafold", "1031", [0])[0])
    ids = [
        good,
        "not-a-global-id",
        global_id("metafold", "1031", "999999999"),  # well formed, no such job
        encode_global_id(JobKey("nosuchsource", "p", "1")),
        global_id("metafold", "1031", "a/../b"),  # a path-traversing native id
        global_id("edge_impulse", "not-a-number", "1"),
    ]
    body = await gateway.post(NODES, {"ids": ids})
    nodes = body["data"]["nodes"]
    assert nodes[0]["id"] == good
    assert nodes[1:] == [None] * 5
    codes = {tuple(e["path"]): e["extensions"]["code"] for e in body["errors"]}
    assert codes == {
        ("nodes", 1): "BAD_USER_INPUT",
        ("nodes", 3): "BAD_USER_INPUT",
        ("nodes", 4): "BAD_USER_INPUT",
        ("nodes", 5): "BAD_USER_INPUT",
    }


async def test_malformed_node_id_is_bad_user_input(gateway: Gateway) -> None:
    body = await gateway.post('{ node(id: "%%%") { id } }')
    assert body["data"] == {"node": None}
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_metafold_page_of_twenty_with_dependencies_costs_one_request(
    gateway: Gateway,
) -> None:
    gateway.reset_counts()
    data = await gateway.data(
        '{ metafoldJobs(projectId: "1024", first: 20) '
        "{ nodes { nativeId needs dependencies { nativeId needs } } } }"
    )
    nodes = data["metafoldJobs"]["nodes"]
    assert len(nodes) == 20 and any(node["needs"] for node in nodes)
    for node in nodes:
        assert [d["nativeId"] for d in node["dependencies"]] == node["needs"]
    assert gateway.suite.sim("metafold").log.count() == 1


async def test_dependencies_of_federated_metafold_jobs_are_batched(gateway: Gateway) -> None:
    gateway.reset_counts()
    data = await gateway.data(
        "{ jobs(first: 50, filter: {providers: [METAFOLD]}) "
        "{ nodes { ... on MetafoldJob { nativeId needs dependencies { nativeId } } } } }"
    )
    nodes = data["jobs"]["nodes"]
    assert any(node["needs"] for node in nodes)
    for node in nodes:
        assert [d["nativeId"] for d in node["dependencies"]] == node["needs"]
    projects = len(gateway.suite.projects("metafold"))
    # One sorted list per project for the page, at most one unsorted list per project for
    # dependencies the page did not already hold.
    assert gateway.suite.sim("metafold").log.count() <= 2 * projects


async def test_duplicated_aliases_and_fragments_make_each_upstream_request_once(
    gateway: Gateway,
) -> None:
    single = "{ jobs(first: 20, filter: {status: [FAILED]}) { nodes { id } } }"
    await gateway.data(single)  # whole reads are sized by the lengths this one learns
    gateway.reset_counts()
    await gateway.data(single)
    once = {p: gateway.suite.sim(p).log.counts() for p in PROVIDERS}
    repeated = """
      query {
        a: jobs(first: 20, filter: {status: [FAILED]}) { nodes { id } }
        b: jobs(first: 20, filter: {status: [FAILED]}) { ...Page }
        c: jobs(first: 20, filter: {status: [FAILED]}) { totalCount ...Page }
      }
      fragment Page on JobConnection { nodes { id name } pageInfo { hasNextPage } }
    """
    gateway.reset_counts()
    data = await gateway.data(repeated)
    assert data["a"]["nodes"] == [{"id": n["id"]} for n in data["b"]["nodes"]]
    assert {p: gateway.suite.sim(p).log.counts() for p in PROVIDERS} == once


async def test_total_count_alone_fetches_no_pages(gateway: Gateway) -> None:
    gateway.reset_counts()
    data = await gateway.data("{ jobs { totalCount } }")
    assert data["jobs"]["totalCount"] == sum(
        len(gateway.suite.jobs(p, project))
        for p in PROVIDERS
        for project in (gateway.suite.projects(p) or [None])
    )
    # Sorted upstreams only report their totals (one job per request) ...
    orange = gateway.suite.sim("orange").log.entries
    assert orange and all(entry.param("limit") == ["1"] for entry in orange)
    modelarts = gateway.suite.sim("modelarts").log.entries
    assert modelarts and all(entry.param("per_page") == ["1"] for entry in modelarts)

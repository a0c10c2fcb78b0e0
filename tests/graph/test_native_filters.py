"""Provider-native filter and sort arguments are pushed to the upstream as its own params."""

from __future__ import annotations

from tests.conftest import Gateway


def main_project(gateway: Gateway, provider: str) -> str:
    return max(gateway.suite.projects(provider), key=lambda p: len(gateway.suite.jobs(provider, p)))


async def test_orange_states_and_sort_are_sent_upstream_and_honoured(gateway: Gateway) -> None:
    project = main_project(gateway, "orange")
    data = await gateway.data(
        f'{{ orangeJobs(projectId: "{project}", states: [FAILED, COMPLETED], sort: "-createdDate",'
        " first: 100) { totalCount nodes { nativeId state createdDate } } }"
    )
    nodes = data["orangeJobs"]["nodes"]
    raw = gateway.suite.jobs("orange", project)
    expected = {j["id"] for j in raw if j["state"] in ("failed", "completed")}
    assert len(nodes) == min(100, len(expected))
    assert {n["nativeId"] for n in nodes} <= expected
    created = [n["createdDate"] for n in nodes]
    assert created == sorted(created, reverse=True)
    assert data["orangeJobs"]["totalCount"] == len(expected)
    log = gateway.suite.sim("orange").log
    assert log.count("list", state="failed") >= 1
    assert log.count("list", state="completed") >= 1
    assert log.count("list", sort="-createdDate") >= 1


async def test_orange_sort_that_orange_would_reject_is_bad_user_input_before_any_request(
    gateway: Gateway,
) -> None:
    body = await gateway.post('{ orangeJobs(projectId: "x", sort: "created date") { totalCount } }')
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert gateway.upstream_calls("orange") == 0


async def test_metafold_q_and_sort_are_sent_upstream_and_honoured(gateway: Gateway) -> None:
    project = main_project(gateway, "metafold")
    data = await gateway.data(
        f'{{ metafoldJobs(projectId: "{project}", q: "!state:failure", sort: "created:1",'
        " first: 100) { nodes { nativeId state createdAt } } }"
    )
    raw = gateway.suite.jobs("metafold", project)
    expected = {j["id"] for j in raw if j["state"] != "failure"}
    nodes = data["metafoldJobs"]["nodes"]
    assert len(nodes) == min(100, len(expected))
    assert {n["nativeId"] for n in nodes} <= expected
    created = [n["createdAt"] for n in nodes]
    assert created == sorted(created)
    log = gateway.suite.sim("metafold").log
    assert log.count("list", q="!state:failure", sort="created:1") == 1


async def test_metafold_malformed_sort_is_bad_user_input(gateway: Gateway) -> None:
    body = await gateway.post('{ metafoldJobs(projectId: "x", sort: "created:up") { totalCount } }')
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_modelarts_filters_and_sort_are_sent_upstream_and_honoured(gateway: Gateway) -> None:
    project = main_project(gateway, "modelarts")
    data = await gateway.data(
        f'{{ modelArtsJobs(projectId: "{project}", status: 10, sortBy: CREATE_TIME, order: DESC,'
        " first: 50) { totalCount nodes { nativeId statusCode status createTime } } }"
    )
    raw = gateway.suite.jobs("modelarts", project)
    expected = {str(j["job_id"]) for j in raw if j["status"] == 10}
    nodes = data["modelArtsJobs"]["nodes"]
    assert data["modelArtsJobs"]["totalCount"] == len(expected)
    assert {n["nativeId"] for n in nodes} <= expected
    assert len(nodes) == min(50, len(expected))
    assert all(n["statusCode"] == 10 and n["status"] == "SUCCEEDED" for n in nodes)
    created = [n["createTime"] for n in nodes]
    assert created == sorted(created, reverse=True)
    log = gateway.suite.sim("modelarts").log
    assert log.count("list", status="10", sortBy="create_time", order="desc") >= 1


async def test_modelarts_search_and_workspace_are_sent_upstream(gateway: Gateway) -> None:
    project = main_project(gateway, "modelarts")
    await gateway.data(
        f'{{ modelArtsJobs(projectId: "{project}", search: "train", workspaceId: "0", first: 5)'
        " { nodes { nativeId } } }"
    )
    log = gateway.suite.sim("modelarts").log
    assert log.count("list", search_content="train", workspace_id="0") == 1


async def test_modelarts_search_longer_than_64_is_bad_user_input(gateway: Gateway) -> None:
    body = await gateway.post(
        f'{{ modelArtsJobs(projectId: "p", search: "{"x" * 65}") {{ totalCount }} }}'
    )
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert gateway.upstream_calls("modelarts") == 0

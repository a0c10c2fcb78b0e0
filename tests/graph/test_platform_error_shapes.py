"""Errors and throttling as the platforms really send them: Huawei's API gateway bodies,
Orange's expired-token code, 429 with no Retry-After, and totals that count the wrong jobs.
Each is a simulator switch (`quirks`) or fault."""

from __future__ import annotations

import asyncio

from tests.conftest import Gateway
from tests.graph.providers import native_ids
from tests.graph.test_upstream_errors import first_error, some_project

FEDERATED_MODELARTS = """
query ($first: Int) {
  jobs(sources: ["ma"], first: $first) { failures { source code } nodes { nativeId } }
}
"""


async def test_huawei_gateway_auth_failure_keeps_its_code_and_message(gateway: Gateway) -> None:
    sim = gateway.suite.sim("modelarts")
    sim.quirks.gateway_errors = sim.quirks.expired_token = True
    error = await first_error(gateway, "modelarts")
    extensions = error["extensions"]
    assert extensions["code"] == "UPSTREAM_UNAUTHORIZED"
    assert extensions["upstreamCode"] == "APIGW.0301"
    assert "expired" in error["message"]
    assert "(request " in error["message"]


async def test_huawei_gateway_throttling_is_rate_limited_with_its_code(gateway: Gateway) -> None:
    sim = gateway.suite.sim("modelarts")
    sim.quirks.gateway_errors = True
    sim.faults.add("rate_limit", retry_after="", count=1)
    error = await first_error(gateway, "modelarts")
    assert error["extensions"]["code"] == "UPSTREAM_RATE_LIMITED"
    assert error["extensions"]["upstreamCode"] == "APIG.0308"


async def test_orange_expired_token_is_unauthorized_with_code_42(gateway: Gateway) -> None:
    gateway.suite.sim("orange").quirks.expired_token = True
    error = await first_error(gateway, "orange")
    assert error["extensions"]["code"] == "UPSTREAM_UNAUTHORIZED"
    assert error["extensions"]["upstreamCode"] == "42"
    assert "expired" in error["message"]


async def test_a_429_without_retry_after_is_not_retried_and_says_when_to_return(
    gateway: Gateway,
) -> None:
    sim = gateway.suite.sim("modelarts")
    sim.faults.add("rate_limit", retry_after="", count=1)
    error = await first_error(gateway, "modelarts")
    assert error["extensions"]["code"] == "UPSTREAM_RATE_LIMITED"
    assert error["extensions"]["retryAfter"] > 0
    assert gateway.upstream_calls("modelarts") == 1


async def test_a_throttled_source_cools_down_instead_of_taking_a_burst(gateway: Gateway) -> None:
    sim = gateway.suite.sim("modelarts")
    sim.faults.add("rate_limit", retry_after="", count=1)
    await first_error(gateway, "modelarts")
    # Ten callers at once during the cool-down: none of them reaches the upstream.
    errors = await asyncio.gather(*(first_error(gateway, "modelarts") for _ in range(10)))
    assert {e["extensions"]["code"] for e in errors} == {"UPSTREAM_RATE_LIMITED"}
    assert all(e["extensions"]["retryAfter"] > 0 for e in errors)
    assert gateway.upstream_calls("modelarts") == 1


async def test_a_federated_read_reports_a_throttled_source_without_bursting_it(
    gateway: Gateway,
) -> None:
    sim = gateway.suite.sim("modelarts")
    sim.faults.add("rate_limit", retry_after="", count=1)
    body = await gateway.post(FEDERATED_MODELARTS, {"first": 50})
    failures = body["data"]["jobs"]["failures"]
    assert {(f["source"], f["code"]) for f in failures} == {("ma", "UPSTREAM_RATE_LIMITED")}
    # One request per project reached ModelArts before the cool-down; none after it.
    first_round = gateway.upstream_calls("modelarts")
    assert first_round <= len(gateway.suite.projects("modelarts"))
    await gateway.post(FEDERATED_MODELARTS, {"first": 50})
    assert gateway.upstream_calls("modelarts") == first_round


MODELARTS_FILTERED = """
query ($first: Int, $after: String) {
  modelArtsJobs(projectId: "%s", status: %d, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes { nativeId }
  }
}
"""


def _filtered(gateway: Gateway) -> tuple[str, int, list[str]]:
    project = some_project(gateway, "modelarts")
    assert project is not None
    jobs = gateway.suite.jobs("modelarts", project)
    status = max({j["status"] for j in jobs}, key=lambda s: sum(j["status"] == s for j in jobs))
    selected = [j for j in jobs if j["status"] == status]
    return project, status, native_ids("modelarts", selected)


async def test_an_unfiltered_total_never_gives_an_empty_page_with_a_next_page(
    gateway: Gateway,
) -> None:
    gateway.suite.sim("modelarts").quirks.unfiltered_total = True
    project, status, expected = _filtered(gateway)
    query = MODELARTS_FILTERED % (project, status)
    seen: list[str] = []
    after = None
    for _ in range(100):
        page = (await gateway.data(query, {"first": 10, "after": after}))["modelArtsJobs"]
        seen += [job["nativeId"] for job in page["nodes"]]
        assert page["totalCount"] is None or page["totalCount"] == len(expected)
        if not page["pageInfo"]["hasNextPage"]:
            break
        assert page["nodes"], "hasNextPage on an empty page"
        after = page["pageInfo"]["endCursor"]
    assert sorted(seen) == sorted(expected)


async def test_a_total_counting_unfiltered_jobs_is_reported_as_unknown(gateway: Gateway) -> None:
    gateway.suite.sim("modelarts").quirks.unfiltered_total = True
    project, status, expected = _filtered(gateway)
    page = await gateway.data(MODELARTS_FILTERED % (project, status), {"first": 10})
    assert page["modelArtsJobs"]["totalCount"] is None
    assert len(expected) < len(gateway.suite.jobs("modelarts", project))


async def test_a_filtered_total_that_holds_is_still_reported(gateway: Gateway) -> None:
    project, status, expected = _filtered(gateway)
    page = await gateway.data(MODELARTS_FILTERED % (project, status), {"first": 10})
    assert page["modelArtsJobs"]["totalCount"] == len(expected)

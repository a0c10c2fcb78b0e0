"""Whole lists read for a federated page (unsorted projects, Metafold's unpaged list) are parsed
for creation times only; a job is built (validated in full) when the page emits it, so a
malformed job fails its source on the page that reaches it, and a body of the wrong shape
still fails its source at once."""

from __future__ import annotations

import pytest

from tests.conftest import Gateway
from tests.jobs.conftest import JOBS_QUERY, brute_force, merge_order_key
from tests.providers import PROVIDERS, demo_source

DESC = "CREATED_AT_DESC"


def break_workflow_job(gateway: Gateway, position: int) -> None:
    """Drop the required `jobId` of the workflow job at `position` of its newest-first order."""
    ordered = sorted(brute_force(gateway, sources=["wf"]), key=merge_order_key(gateway, DESC))
    native_id = ordered[position].native_id
    sim_job = next(
        job
        for job in gateway.suite.sim("workflow").dataset[None]
        if job.payload["jobId"] == native_id
    )
    del sim_job.payload["jobId"]


async def test_a_malformed_job_fails_its_source_only_on_the_page_that_reaches_it(
    gateway: Gateway,
) -> None:
    break_workflow_job(gateway, 30)
    first = await gateway.data(JOBS_QUERY, {"first": 20, "sources": ["wf", "mf"]})
    assert first["jobs"]["failures"] == []
    assert len(first["jobs"]["edges"]) == 20

    after = first["jobs"]["pageInfo"]["endCursor"]
    reached = False
    while after is not None and not reached:
        body = await gateway.post(
            JOBS_QUERY, {"first": 20, "after": after, "sources": ["wf", "mf"]}
        )
        page = body["data"]["jobs"]
        if page["failures"]:
            reached = True
            assert [(f["source"], f["code"]) for f in page["failures"]] == [
                ("wf", "UPSTREAM_INVALID_RESPONSE")
            ]
            assert "jobId" in page["failures"][0]["message"]
            assert [e["extensions"]["code"] for e in body["errors"]] == [
                "UPSTREAM_INVALID_RESPONSE"
            ]
            # The other source's jobs still fill the page, in order.
            nodes = [edge["node"] for edge in page["edges"]]
            assert len(nodes) == 20
            assert {node["source"] for node in nodes} == {"mf"}
        after = page["pageInfo"]["endCursor"] if page["pageInfo"]["hasNextPage"] else None
    assert reached


# Every provider: sorted upstreams are read lazily too (tests/jobs/test_sorted_reads.py).
@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_body_of_the_wrong_shape_fails_its_source_on_the_first_page(
    gateway: Gateway, provider: str
) -> None:
    source = demo_source(provider)
    gateway.suite.sim(provider).faults.add("wrong_schema", count=100)
    body = await gateway.post(JOBS_QUERY, {"first": 20})
    page = body["data"]["jobs"]
    assert {(f["source"], f["code"]) for f in page["failures"]} == {
        (source, "UPSTREAM_INVALID_RESPONSE")
    }
    assert len(page["edges"]) == 20
    assert source not in {edge["node"]["source"] for edge in page["edges"]}

"""Streams whose upstream sorts and pages them itself (Orange, ModelArts) are read k+1 jobs a
page, parsed for creation times only; a job is built when the page emits it, so a malformed job
read but not emitted fails nothing, the page that emits it fails its source, and a body of the
wrong shape still fails its source at once."""

from __future__ import annotations

import pytest

from tests.conftest import Gateway
from tests.jobs.conftest import JOBS_QUERY, brute_force, merge_order_key
from tests.providers import PROVIDERS, demo_source, oracle, sorted_and_paged

DESC = "CREATED_AT_DESC"
SORTED = [provider for provider in PROVIDERS if sorted_and_paged(provider)]


def break_job_read_but_not_emitted_first(gateway: Gateway, provider: str, source: str) -> str:
    """Drop a required field of a job that a first page of 20 reads (among its project's
    newest 21) but does not emit (20th or later of its source); its id."""
    ordered = sorted(brute_force(gateway, sources=[source]), key=merge_order_key(gateway, DESC))
    seen_in_project: dict[str | None, int] = {}
    for position, job in enumerate(ordered):
        in_project = seen_in_project.get(job.project, 0)
        seen_in_project[job.project] = in_project + 1
        if position >= 25 and 5 <= in_project <= 15:
            return job.native_id
    raise AssertionError(f"no job of {source} fits")


@pytest.mark.parametrize("provider", SORTED)
async def test_a_malformed_job_fails_its_sorted_source_only_on_the_page_that_emits_it(
    gateway: Gateway, provider: str
) -> None:
    source, spec = demo_source(provider), oracle(provider)
    native_id = break_job_read_but_not_emitted_first(gateway, provider, source)
    sim = gateway.suite.sim(provider)
    broken_project, broken = next(
        (project, job)
        for project, jobs in sim.dataset.items()
        for job in jobs
        if spec.native_id(job.payload) == native_id
    )
    del broken.payload[spec.built_field]
    sources = [source, "mf"]

    first = await gateway.data(JOBS_QUERY, {"first": 20, "sources": sources})
    assert first["jobs"]["failures"] == []
    assert len(first["jobs"]["edges"]) == 20
    assert source in {edge["node"]["source"] for edge in first["jobs"]["edges"]}

    after = first["jobs"]["pageInfo"]["endCursor"]
    reached = False
    while after is not None and not reached:
        body = await gateway.post(JOBS_QUERY, {"first": 20, "after": after, "sources": sources})
        page = body["data"]["jobs"]
        if page["failures"]:
            reached = True
            assert [(f["source"], f["code"]) for f in page["failures"]] == [
                (source, "UPSTREAM_INVALID_RESPONSE")
            ]
            assert spec.built_field in page["failures"][0]["message"]
            assert [e["extensions"]["code"] for e in body["errors"]] == [
                "UPSTREAM_INVALID_RESPONSE"
            ]
            # Only the broken job's stream (its project) fails: the others still fill the page.
            nodes = [edge["node"] for edge in page["edges"]]
            assert len(nodes) == 20
            assert "mf" in {node["source"] for node in nodes}
            assert (source, broken_project) not in {(n["source"], n["projectId"]) for n in nodes}
        else:
            assert native_id not in {edge["node"]["nativeId"] for edge in page["edges"]}
        after = page["pageInfo"]["endCursor"] if page["pageInfo"]["hasNextPage"] else None
    assert reached

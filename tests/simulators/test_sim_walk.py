"""Walking every project with its provider's own paging scheme returns each job exactly once."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulators import PROVIDERS
from simulators.modelarts import OTHER_WORKSPACE

PAGE_SIZES = (1, 7, 20, 49, 50, 51, 100, 1000)


async def walk(sims, provider: str, project: str | None, size: int, **extra: Any) -> list[dict]:
    """Follow the provider's paging scheme from the start until it says the list is over."""
    seen: list[dict] = []
    if provider == "metafold":
        return (await sims.list(provider, project)).body
    if provider == "edge_impulse":
        while True:
            reply = await sims.list(provider, project, {"offset": len(seen), "limit": size})
            seen += reply.body["jobs"]
            if len(seen) >= reply.body["totalJobCount"] or not reply.body["jobs"]:
                return seen
    if provider == "orange":
        while True:
            reply = await sims.list(provider, project, {"offset": len(seen), "limit": size})
            seen += reply.body
            assert int(reply.headers["X-Result-Count"]) == len(reply.body)
            if len(seen) >= int(reply.headers["X-Total-Count"]) or not reply.body:
                return seen
    if provider == "workflow":
        while True:
            reply = await sims.list(provider, None, {"skip": len(seen), "limit": size})
            seen += reply.body
            if len(reply.body) < size:
                return seen
    if provider == "modelarts":
        page = 1
        while True:
            params = {"page": page, "per_page": min(size, 1000), **extra}
            reply = await sims.list(provider, project, params)
            seen += reply.body["jobs"]
            if page * params["per_page"] >= reply.body["job_total_count"]:
                return seen
            page += 1
    raise AssertionError(provider)


def job_id(provider: str, job: dict) -> Any:
    return job["jobId"] if provider == "workflow" else job.get("id", job.get("job_id"))


def projects_of(suite, provider: str) -> list[str | None]:
    return list(suite.projects(provider)) or [None]


@pytest.mark.parametrize("size", PAGE_SIZES)
@pytest.mark.parametrize("provider", [p for p in PROVIDERS if p != "metafold"])
async def test_walk_visits_every_job_exactly_once_in_default_order(sims, provider, size):
    for project in projects_of(sims.suite, provider):
        walked = await walk(sims, provider, project, size)
        expected = sims.suite.jobs(provider, project)
        ids = [job_id(provider, job) for job in walked]
        assert len(ids) == len(set(ids)), (project, size)
        assert walked == expected, (project, size)


async def test_metafold_walk_is_one_request_per_project(sims):
    for project in sims.suite.projects("metafold"):
        assert await walk(sims, "metafold", project, 0) == sims.suite.jobs("metafold", project)
    assert sims.suite.sim("metafold").log.count("list") == len(sims.suite.projects("metafold"))


async def test_modelarts_walk_of_another_workspace(sims):
    project = sims.suite.projects("modelarts")[0]
    walked = await walk(sims, "modelarts", project, 2, workspace_id=OTHER_WORKSPACE)
    assert walked == sims.suite.jobs("modelarts", project, workspace_id=OTHER_WORKSPACE)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(size=st.integers(min_value=1, max_value=130), provider=st.sampled_from(PROVIDERS))
async def test_walk_of_the_largest_project_is_exact_for_any_page_size(sims, size, provider):
    project = max(
        projects_of(sims.suite, provider), key=lambda p: len(sims.suite.jobs(provider, p))
    )
    walked = await walk(sims, provider, project, size)
    assert walked == sims.suite.jobs(provider, project)

"""Walking every project with its provider's own paging scheme returns each job exactly once."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulators import PROVIDERS
from simulators.modelarts import OTHER_WORKSPACE
from tests.providers import oracle

PAGE_SIZES = (1, 7, 20, 49, 50, 51, 100, 1000)


async def walk(sims, provider: str, project: str | None, size: int, **extra: Any) -> list[dict]:
    """Follow the provider's paging scheme from the start until it says the list is over: a
    reply's total where it sends one, else a page shorter than asked for (or an empty one).
    `size` is cut to the largest page the provider allows."""
    spec = oracle(provider)
    if spec.page_params is None:
        return spec.jobs_in((await sims.list(provider, project, extra or None)).body)
    size = min(size, spec.max_page or size)
    seen: list[dict] = []
    while True:
        reply = await sims.list(provider, project, {**spec.page_params(len(seen), size), **extra})
        page = spec.jobs_in(reply.body)
        seen += page
        total = spec.list_total(reply.headers, reply.body)
        if not page or (len(seen) >= total if total is not None else len(page) < size):
            return seen


def projects_of(suite, provider: str) -> list[str | None]:
    return list(suite.projects(provider)) or [None]


@pytest.mark.parametrize("size", PAGE_SIZES)
@pytest.mark.parametrize("provider", [p for p in PROVIDERS if oracle(p).page_params])
async def test_walk_visits_every_job_exactly_once_in_default_order(sims, provider, size):
    for project in projects_of(sims.suite, provider):
        walked = await walk(sims, provider, project, size)
        expected = sims.suite.jobs(provider, project)
        ids = [oracle(provider).native_id(job) for job in walked]
        assert len(ids) == len(set(ids)), (project, size)
        assert walked == expected, (project, size)


@pytest.mark.parametrize("provider", [p for p in PROVIDERS if not oracle(p).page_params])
async def test_an_unpaged_walk_is_one_request_per_project(sims, provider):
    for project in projects_of(sims.suite, provider):
        assert await walk(sims, provider, project, 0) == sims.suite.jobs(provider, project)
    assert sims.suite.sim(provider).log.count("list") == len(projects_of(sims.suite, provider))


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

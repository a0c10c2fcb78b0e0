"""Every connection stays exact with the simulators' whole awkward-but-legal set switched on
(`jobgraph demo --realistic`), and with busy projects that gain jobs on every list request."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.conftest import Gateway
from tests.graph.providers import native_ids
from tests.graph.test_exact_walks import walk_forward
from tests.jobs.conftest import assert_merged, brute_force, walk
from tests.providers import PROJECT_PROVIDERS, PROVIDERS, first_project


@pytest.mark.parametrize("size", [13, 50])
async def test_a_realistic_workflow_walk_is_exact(gateway: Gateway, size: int) -> None:
    gateway.suite.switch_on(realistic=True)
    expected = native_ids("workflow", gateway.suite.jobs("workflow", None))
    assert await walk_forward(gateway, "workflow", None, size) == expected


@pytest.mark.parametrize("provider", PROJECT_PROVIDERS)
async def test_a_realistic_walk_visits_every_job_once(gateway: Gateway, provider: str) -> None:
    gateway.suite.switch_on(realistic=True)
    project = gateway.suite.projects(provider)[0]
    expected = native_ids(provider, gateway.suite.jobs(provider, project))
    seen = await walk_forward(gateway, provider, project, 30)
    assert len(seen) == len(set(seen))
    assert set(seen) == set(expected)


async def test_the_realistic_federated_list_is_whole_and_ordered(gateway: Gateway) -> None:
    gateway.suite.switch_on(realistic=True)
    walked = await walk(gateway, 100)
    assert not any(page["failures"] for page in walked.pages)
    # Metafold's SDK-optional keys are left out, names included.
    expected = [
        replace(job, name=None) if job.provider == "METAFOLD" else job
        for job in brute_force(gateway, {})
    ]
    assert_merged(gateway, walked.nodes, expected, "CREATED_AT_DESC")


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_busy_walks_return_every_old_job_once(gateway: Gateway, provider: str) -> None:
    project = first_project(gateway.suite, provider)
    before = set(native_ids(provider, gateway.suite.jobs(provider, project)))
    gateway.suite.switch_on(busy=2)
    seen = await walk_forward(gateway, provider, project, 40)
    assert len(seen) == len(set(seen))
    assert before <= set(seen)

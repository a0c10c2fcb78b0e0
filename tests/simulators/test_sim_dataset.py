"""The seeded datasets: deterministic bytes, awkward project sizes, every status, equal times."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest

from simulators import PROVIDERS, SimulatorSuite
from tests.providers import PROJECT_PROVIDERS, oracle

# The datasets' "now" (`simulators.datagen.BASE_TIME`), as the tests state it.
DATASET_NOW = datetime(2025, 3, 14, 9, 26, 53, 589000, tzinfo=UTC)


def created(provider: str, job: dict) -> datetime | None:
    return oracle(provider).normalize(job).created


async def all_bytes(sims) -> list[bytes]:
    """Every list endpoint of every project (one page of as many jobs as the server sends), and
    single-job lookups of 60 jobs of one project of each provider that has them."""
    bodies: list[bytes] = []
    for provider in PROVIDERS:
        spec = oracle(provider)
        params = None if spec.page_params is None else spec.page_params(0, spec.server_cap or 1000)
        for project in sims.suite.projects(provider) or [None]:
            bodies.append((await sims.list(provider, project, params)).raw)
        if spec.job_path is not None:
            project = spec.small_project
            for job in sims.suite.jobs(provider, project)[:60]:
                path = spec.job_path.format(project=project, job=spec.native_id(job))
                bodies.append((await sims.get(provider, path)).raw)
    return bodies


async def test_same_seed_gives_byte_identical_responses(make_sims):
    first = await all_bytes(await make_sims(SimulatorSuite(seed=7)))
    second = await all_bytes(await make_sims(SimulatorSuite(seed=7)))
    assert first == second


async def test_default_seed_is_reproducible(sims, make_sims):
    assert await all_bytes(sims) == await all_bytes(await make_sims(SimulatorSuite()))


def test_other_seed_gives_other_jobs_in_the_same_projects():
    one, two = SimulatorSuite(seed=1), SimulatorSuite(seed=2)
    for provider in PROVIDERS:
        assert one.projects(provider) == two.projects(provider)
        for project in one.projects(provider) or [None]:
            assert len(one.jobs(provider, project)) == len(two.jobs(provider, project))
        largest = max(one.projects(provider) or [None], key=lambda p: len(one.jobs(provider, p)))
        assert one.jobs(provider, largest) != two.jobs(provider, largest)


@pytest.mark.parametrize("provider", PROJECT_PROVIDERS)
def test_projects_include_empty_single_mid_and_several_hundred(suite, provider):
    sizes = sorted(len(suite.jobs(provider, project)) for project in suite.projects(provider))
    assert sizes[0] == 0
    assert 1 in sizes
    assert any(10 < size < 100 for size in sizes)
    assert 350 <= sizes[-1] <= 420


@pytest.mark.parametrize("provider", sorted(set(PROVIDERS) - set(PROJECT_PROVIDERS)))
def test_a_provider_without_projects_has_one_list_of_several_hundred(suite, provider):
    assert suite.projects(provider) == []
    assert 200 <= len(suite.jobs(provider, None)) <= 420


def test_every_provider_has_exactly_equal_creation_times_within_a_project(suite, provider):
    largest = max(suite.projects(provider) or [None], key=lambda p: len(suite.jobs(provider, p)))
    times = Counter(created(provider, job) for job in suite.jobs(provider, largest))
    times.pop(None, None)
    assert max(times.values()) >= 2


def test_jobs_are_created_before_the_datasets_now(suite, provider):
    for project in suite.projects(provider) or [None]:
        for job in suite.jobs(provider, project):
            when = created(provider, job)
            assert when is None or when < DATASET_NOW, (provider, job)


def test_small_profile_caps_projects_at_23_jobs():
    small = SimulatorSuite(sizes="small")
    for provider in PROVIDERS:
        for project in small.projects(provider) or [None]:
            assert len(small.jobs(provider, project)) <= 23


def test_large_profile_grows_big_projects_twentyfold(suite):
    large = SimulatorSuite(sizes="large")
    assert len(large.jobs("orange", large.projects("orange")[0])) == 412 * 20
    assert len(large.jobs("orange", large.projects("orange")[2])) == 57


def test_big_profile_makes_projects_of_30_or_more_jobs_5000_long():
    big = SimulatorSuite(sizes="big")
    sizes = sorted(len(big.jobs("edge_impulse", p)) for p in big.projects("edge_impulse"))
    assert sizes == [0, 1, 8, 5000, 5000]
    assert len(big.jobs("workflow", None)) == 5000


def test_unknown_sizes_profile_is_rejected():
    with pytest.raises(ValueError, match="sizes"):
        SimulatorSuite(sizes="huge")


def test_suite_jobs_are_copies(suite):
    project = suite.projects("orange")[0]
    suite.jobs("orange", project)[0]["state"] = "mangled"
    assert suite.jobs("orange", project)[0]["state"] != "mangled"


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5, 99])
def test_every_status_is_present_whatever_the_seed(seed):
    suite = SimulatorSuite(seed=seed)
    for provider in PROVIDERS:
        sim = suite.sim(provider)
        largest = max(sim.dataset, key=lambda project: len(sim.dataset[project]))
        normalize = oracle(provider).normalize
        statuses = {normalize(job).raw_status for job in sim.payloads(sim.dataset[largest])}
        assert oracle(provider).raw_statuses <= statuses, (provider, seed)

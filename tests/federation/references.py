"""Real simulator jobs as federation references: global ids and what they must resolve to."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graph.ids import JobKey, encode_global_id
from simulators import SimulatorSuite
from tests.graph.providers import FIELDS
from tests.providers import PROJECT_PROVIDERS, PROVIDERS, demo_source, oracle, paged


@dataclass(frozen=True)
class JobReference:
    """A simulator job, its global id, and the raw job the list endpoint returns."""

    provider: str
    project: str | None
    raw: dict[str, Any]

    @property
    def native_id(self) -> str:
        return oracle(self.provider).native_id(self.raw)

    @property
    def source(self) -> str:
        return demo_source(self.provider)

    @property
    def global_id(self) -> str:
        return encode_global_id(JobKey(self.source, self.project, self.native_id))

    @property
    def type_name(self) -> str:
        return FIELDS[self.provider].type_name


def largest_projects(suite: SimulatorSuite, provider: str, count: int) -> list[str | None]:
    if provider not in PROJECT_PROVIDERS:
        return [None]
    projects = sorted(suite.projects(provider), key=lambda p: -len(suite.jobs(provider, p)))
    return list(projects[:count])


def spread(
    suite: SimulatorSuite, provider: str, per_project: int, projects: int
) -> list[JobReference]:
    """`per_project` jobs from each of the `projects` largest projects (or `per_project *
    projects` from a provider's one list where it has no projects), evenly spaced from the
    first to the last listed job, so a list scan has to reach the end of each project."""
    picked: list[JobReference] = []
    chosen = largest_projects(suite, provider, projects)
    count = per_project if provider in PROJECT_PROVIDERS else per_project * projects
    for project in chosen:
        jobs = suite.jobs(provider, project)
        step = (len(jobs) - 1) / (count - 1)
        positions = sorted({round(i * step) for i in range(count)})
        picked.extend(JobReference(provider, project, jobs[p]) for p in positions)
    return picked


def first_of_each_provider(suite: SimulatorSuite) -> list[JobReference]:
    """The first listed job of each provider's largest project."""
    return [
        JobReference(provider, project, suite.jobs(provider, project)[0])
        for provider in PROVIDERS
        for project in largest_projects(suite, provider, 1)
    ]


def fifty_jobs(suite: SimulatorSuite) -> list[JobReference]:
    """Ten jobs of every provider: five from each of its two largest projects (or ten from its
    one list)."""
    return [ref for provider in PROVIDERS for ref in spread(suite, provider, 5, 2)]


def _fifty_jobs_cost(provider: str) -> int:
    """What resolving fifty_jobs()' ten jobs of `provider` costs upstream. A paged provider
    with a single-job endpoint (and no batch one) is asked once per distinct id. A provider
    whose list comes whole answers a project's jobs in one request; one with no single-job
    endpoint has each project's list scanned 1000 jobs a request, and each project here is
    smaller: one request per project either way."""
    if oracle(provider).job_path is not None and paged(provider):
        return 10
    return 2 if provider in PROJECT_PROVIDERS else 1


FIFTY_JOBS_UPSTREAM_REQUESTS = {provider: _fifty_jobs_cost(provider) for provider in PROVIDERS}

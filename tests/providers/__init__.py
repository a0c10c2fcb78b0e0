"""The tests' own statement of each provider, written from its docs and DESIGN.md (never from
the gateway's code): how its raw jobs are identified and normalized, how its connection field is
queried, and the fixtures its suites pick. One module per built-in provider; a provider added
through `JOBGRAPH_PROVIDER_MODULES` keeps its `ORACLE` in an `oracle` module beside the one
holding its `ROW` (which the registry imports while it loads, so it can import nothing here).

Shared suites reach providers through the registry and `oracle(provider)`, and pick the ones
they are about by capability (a row's flags, an oracle's fields, or what an adapter built from
the demo config does, as `sorted_and_paged`), so a provider they were never written for runs
through them, or is left out, by the same rule."""

from __future__ import annotations

import importlib
import itertools
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import Any

from resolvers.config import parse_config
from resolvers.domain import CreatedOrder, JobFilterSpec
from resolvers.paging import PageWindow, WholeListRequest
from resolvers.providers import registry
from resolvers.providers.base import ProviderAdapter
from simulators.suite import SimulatorSuite

GO_ZERO = "0001-01-01T00:00:00Z"


@dataclass(frozen=True, slots=True)
class Normalized:
    """A raw job's `Job` interface fields, as DESIGN.md says the gateway must show them."""

    native_id: str
    name: str | None
    status: str
    created: datetime | None
    raw_status: str | None  # the upstream's own status value, as `rawStatus` shows it


def no_total(headers: Mapping[str, str], body: Any) -> None:
    """A list reply that says nothing of how many jobs the list holds."""
    return None


def offset_limit(start: int, size: int) -> dict[str, int]:
    """The usual `offset`/`limit` page query."""
    return {"offset": start, "limit": size}


def quoted_project(project: str | None) -> str:
    """The usual project argument: `projectId: "p"` (none where the provider has no projects)."""
    return "" if project is None else f'projectId: "{project}"'


@dataclass(frozen=True)
class Oracle:
    provider: str  # the registry row's name
    field: str  # its GraphQL connection field
    type_name: str  # its GraphQL job type
    id_key: str  # where a raw job keeps its native id
    # A payload key the provider documents as required (and the simulator does not need).
    required_field: str
    # A required payload key that only building a job needs: a light read of a list (creation
    # times, ids where present) and the simulator itself do without it.
    built_field: str
    normalize: Callable[[dict[str, Any]], Normalized]
    # A project of a dozen or two jobs, for suites that read whole lists many times.
    small_project: str | None
    # Its list endpoint below the simulator's base URL, with `{project}` for the project.
    list_path: str
    # Its single-job endpoint, with `{project}` and `{job}` (None: it has none, so the gateway
    # finds jobs by id in the list).
    job_path: str | None
    # Its list body's key holding the job array (None: the body is the array).
    jobs_key: str | None
    # The page size its server silently cuts longer pages to (None: it has no such cap).
    server_cap: int | None
    # Its docs show a single job's body as an array of one job (not the job object itself).
    single_job_as_array: bool
    # The raw list request's query for up to `size` jobs from position `start`, `start` a
    # multiple of `size` (None: its list comes whole, never paged).
    page_params: Callable[[int, int], dict[str, int]] | None
    # A raw list reply's count of all its jobs, from the reply's headers and decoded body
    # (`no_total`: it sends none).
    list_total: Callable[[Mapping[str, str], Any], int | None]
    # Its docs let a list be sorted by creation time upstream (else the gateway sorts it).
    sorts_upstream: bool
    # Whether a decoded error body has the shape its docs give errors.
    error_shape: Callable[[Any], bool]
    # Raw status values (as `rawStatus` strings) its simulator's largest project holds
    # whatever the seed (empty: its jobs have no status field).
    raw_statuses: frozenset[str]
    # The largest page its docs let a list request ask for (None: no limit).
    max_page: int | None = None
    # Its docs say the default list is sorted by creation time (else its order is unknown):
    # the gateway then puts each run of equal times in id order (README, "Ties").
    created_ordered: bool = False
    # What its error body's code field holds for an HTTP status (None: no such field); 401 is
    # the answer to a wrong credential, the others to an injected failure.
    error_codes: Mapping[int, str | None] = field(default_factory=dict)
    project_args: Callable[[str | None], str] = field(default=quoted_project)
    # Connection arguments its docs give for a list sorted upstream by creation time.
    time_sorts: tuple[str, ...] = ()

    def jobs_in(self, body: Any) -> list[dict[str, Any]]:
        """A decoded list body's raw jobs."""
        jobs: list[dict[str, Any]] = body if self.jobs_key is None else body[self.jobs_key]
        return jobs

    def native_id(self, raw: dict[str, Any]) -> str:
        return str(raw[self.id_key])

    def list_url(self, project: str | None) -> str:
        """The list endpoint of `project`, relative to the simulator's base URL."""
        return self.list_path.format(project=project)

    def listed(self, raw_jobs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """A default list's raw jobs in the order the gateway lists them."""
        if not self.created_ordered:
            return list(raw_jobs)
        runs = itertools.groupby(raw_jobs, key=lambda job: self.normalize(job).created)
        return [job for _, run in runs for job in sorted(run, key=self.native_id)]

    def listed_ids(self, raw_jobs: list[dict[str, Any]]) -> list[str]:
        """The native ids of a default list's jobs in the order the gateway lists them."""
        return [self.native_id(job) for job in self.listed(raw_jobs)]

    def query(self, project: str | None, extra: str = "", selection: str | None = None) -> str:
        """A Relay query of the connection field for `project` (`$first` ... `$before`)."""
        args = ", ".join(a for a in (self.project_args(project), extra) if a)
        body = selection or (
            "totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } "
            "edges { cursor node { nativeId } }"
        )
        return (
            "query($first: Int, $after: String, $last: Int, $before: String) { "
            f"{self.field}({args}{', ' if args else ''}"
            "first: $first, after: $after, last: $last, before: $before) { "
            f"{body} }} }}"
        )


def iso(value: str | None) -> datetime | None:
    """A wire date as the gateway reads it (Go's zero time is no date)."""
    if value is None or value == GO_ZERO:
        return None
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@cache
def oracle(provider: str) -> Oracle:
    """The oracle of a registry provider: its module here, or the `oracle` module beside its
    `ROW`'s."""
    if provider in {row.name for row in registry.BUILT_IN}:
        found: Oracle = importlib.import_module(f"tests.providers.{provider}").ORACLE
        return found
    for name in filter(
        None, (n.strip() for n in os.environ.get(registry.MODULES_ENV, "").split(","))
    ):
        if importlib.import_module(name).ROW.name == provider:
            extra: Oracle = importlib.import_module(f"{name.rpartition('.')[0]}.oracle").ORACLE
            return extra
    raise KeyError(f"no oracle for provider {provider!r}")


def enum_value(provider: str) -> str:
    """The provider's GraphQL `Provider` enum value."""
    return registry.provider_row(provider).key


def demo_source(provider: str) -> str:
    """The name of the provider's demo source (`SimulatorSuite.demo_sources`)."""
    name: str = registry.load(registry.provider_row(provider).simulator).demo_name
    return name


# Every registry provider (the built-in five, and any `JOBGRAPH_PROVIDER_MODULES` adds).
PROVIDERS: tuple[str, ...] = tuple(row.name for row in registry.PROVIDERS)
# Those whose jobs live in projects.
PROJECT_PROVIDERS: tuple[str, ...] = tuple(
    row.name for row in registry.PROVIDERS if row.has_projects
)


def first_project(suite: SimulatorSuite, provider: str) -> str | None:
    """The provider's first project in the suite (None where it has no projects)."""
    return suite.projects(provider)[0] if provider in PROJECT_PROVIDERS else None


@cache
def _demo_adapters() -> dict[str, ProviderAdapter]:
    """One adapter per registry provider, built (never started) from its demo source."""
    sources = SimulatorSuite().demo_sources("http://127.0.0.1:9")
    config = parse_config({"sources": sources}, environ={})
    adapters = registry.build_adapters(config.sources)
    return {source.provider.value: adapters[source.name] for source in config.sources}


def paged(provider: str) -> bool:
    """Whether the provider's upstream serves a list in pages (not as one whole list)."""
    first_request = _demo_adapters()[provider].plan(PageWindow(0, 1), None)[0]
    return not isinstance(first_request, WholeListRequest)


def sorted_and_paged(provider: str) -> bool:
    """Whether the provider's upstream sorts a default list by creation time itself and serves
    it in pages (not as one whole list)."""
    adapter = _demo_adapters()[provider]
    project = oracle(provider).small_project
    ordered = adapter.pushdown(project, CreatedOrder.DESC, JobFilterSpec()).ordered
    return ordered and paged(provider)

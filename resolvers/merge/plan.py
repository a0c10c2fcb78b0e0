"""The stream plan of one `jobs` listing: one upstream sequence per readable (source, project)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from resolvers.config import SourceConfig
from resolvers.domain import CreatedOrder, JobFilterSpec, JobStatus, Provider
from resolvers.errors import JobgraphError
from resolvers.providers.base import ListQuery, ProviderAdapter, Pushdown


@dataclass(frozen=True, slots=True)
class Stream:
    """One upstream sequence taking part in the merge."""

    index: int
    source: str
    provider: Provider
    adapter: ProviderAdapter
    pushdown: Pushdown

    @property
    def query(self) -> ListQuery:
        return self.pushdown.query

    @property
    def ordered(self) -> bool:
        return self.pushdown.ordered


@dataclass(frozen=True, slots=True)
class StreamFailure:
    """A source that could not answer (or could not be planned) for this listing."""

    source: str
    provider: Provider
    error: JobgraphError


@dataclass(frozen=True, slots=True)
class MergePlan:
    """The streams of one `jobs` listing, in config order, and what failed while planning."""

    streams: tuple[Stream, ...]
    order: CreatedOrder
    spec: JobFilterSpec
    failures: tuple[StreamFailure, ...] = ()

    def binding_parts(self) -> tuple[Any, ...]:
        """What a cursor of this listing is bound to: the streams, the filter and the order."""
        spec = self.spec
        return (
            [[s.source, s.query.project, list(s.query.params)] for s in self.streams],
            self.order.value,
            None if spec.statuses is None else sorted(spec.statuses),
            None if spec.providers is None else sorted(spec.providers),
            spec.search,
            None if spec.created_after is None else spec.created_after.isoformat(),
            None if spec.created_before is None else spec.created_before.isoformat(),
        )


def plan_streams(
    sources: Sequence[SourceConfig],
    adapters: Mapping[str, ProviderAdapter],
    order: CreatedOrder,
    spec: JobFilterSpec,
) -> MergePlan:
    """One stream per (source, project) of `sources` (config order) that the filter leaves in.

    Providers the filter excludes, and pushdowns that can match nothing, are skipped up front;
    a project the adapter rejects becomes a failure of its source, not of the whole listing.
    """
    streams: list[Stream] = []
    failures: list[StreamFailure] = []
    for source in sources:
        if spec.providers is not None and source.provider not in spec.providers:
            continue
        adapter = adapters[source.name]
        projects: list[str | None] = list(source.projects) if adapter.has_projects else [None]
        for project in projects:
            try:
                pushdown = adapter.pushdown(project, order, spec)
            except JobgraphError as exc:
                failures.append(StreamFailure(source.name, source.provider, exc))
                continue
            if not pushdown.empty:
                streams.append(
                    Stream(len(streams), source.name, source.provider, adapter, pushdown)
                )
    return MergePlan(tuple(streams), order, spec, tuple(failures))


def spec_is_local_free(spec: JobFilterSpec) -> bool:
    """Whether every job of every stream matches (the provider filter only skips streams)."""
    return (
        (spec.statuses is None or spec.statuses >= frozenset(JobStatus))
        and not spec.search
        and spec.created_after is None
        and spec.created_before is None
    )

"""Per-operation DataLoaders: many job lookups become few, de-duplicated upstream calls."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aiodataloader import DataLoader

from resolvers.client import UpstreamSession, check_path_segment
from resolvers.domain import Job
from resolvers.errors import JobgraphError
from resolvers.providers.base import ProviderAdapter


@dataclass(frozen=True, slots=True)
class JobRef:
    """A job by where it lives: source, project and the provider's own id."""

    source: str
    project: str | None
    native_id: str


class JobLoader(DataLoader[JobRef, Job | None]):
    """Loads jobs by reference, one batch per (source, project), using each adapter's
    cheapest by-id strategy; a missing job loads as None, a failing source as its error."""

    def __init__(self, adapters: Mapping[str, ProviderAdapter], http: UpstreamSession) -> None:
        super().__init__()
        self._adapters = adapters
        self._http = http

    # An error value fails just the keys of its group, as DataLoader allows.
    async def batch_load_fn(  # type: ignore[override]
        self, refs: Sequence[JobRef]
    ) -> list[Job | Exception | None]:
        groups: dict[tuple[str, str | None], set[str]] = defaultdict(set)
        malformed: dict[JobRef, JobgraphError] = {}
        for ref in refs:
            # A malformed id fails alone instead of failing its whole group's request.
            try:
                check_path_segment(ref.native_id, "job id")
            except JobgraphError as exc:
                malformed[ref] = exc
                continue
            groups[(ref.source, ref.project)].add(ref.native_id)
        keys = list(groups)
        outcomes = await asyncio.gather(
            *(
                self._adapters[source].fetch_by_ids(
                    self._http, project, sorted(groups[(source, project)])
                )
                for source, project in keys
            ),
            return_exceptions=True,
        )
        found: dict[tuple[str, str | None], dict[str, Job] | BaseException] = dict(
            zip(keys, outcomes, strict=True)
        )
        results: list[Job | Exception | None] = []
        for ref in refs:
            if ref in malformed:
                results.append(malformed[ref])
                continue
            outcome = found[(ref.source, ref.project)]
            if isinstance(outcome, JobgraphError):
                results.append(outcome)
            elif isinstance(outcome, BaseException):
                raise outcome
            else:
                results.append(outcome.get(ref.native_id))
        return results


def operation_loader(
    cache: dict[Any, Any], adapters: Mapping[str, ProviderAdapter], http: UpstreamSession
) -> JobLoader:
    """The operation's one JobLoader, kept in its per-operation cache."""
    loader = cache.get(JobLoader)
    if loader is None:
        loader = cache[JobLoader] = JobLoader(adapters, http)
    assert isinstance(loader, JobLoader)
    return loader

"""Metafold: its GraphQL job type and nested types, its Query field and its GraphiQL example.

The type is built from a domain `Job` whose `payload` is the adapter's parsed model; the
builders here only copy fields across, they never fetch."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from graph.context import RequestContext
from graph.providers import EXAMPLE_PAGE_SIZE, quoted
from graph.schema.connections import ProviderListing
from graph.schema.relay import connection_field
from graph.schema.types import Connection, Job, copied, from_payload, job_type
from resolvers.config import SourceConfig
from resolvers.domain import Job as DomainJob
from resolvers.domain import Provider
from resolvers.errors import JobgraphError
from resolvers.loaders import JobRef, operation_loader
from resolvers.providers.metafold import MetafoldJobPayload, metafold_query

Ctx = Info[RequestContext, None]


@strawberry.type(description="A Metafold asset, with the name it has in its mapping.")
class MetafoldAsset:
    name: str = strawberry.field(description="The asset's key in the job's asset mapping.")
    id: str
    size: int | None
    created: datetime | None
    modified: datetime | None
    checksum: str | None
    filename: str | None


@strawberry.type(description="A Metafold job's inputs or outputs: assets and parameters.")
class MetafoldAssetsAndParams:
    assets: list[MetafoldAsset] | None
    params: JSON | None

    @classmethod
    def from_payload(cls, payload: Any) -> MetafoldAssetsAndParams:
        assets = payload.assets
        return cls(
            assets=None
            if assets is None
            else [
                MetafoldAsset(**copied(MetafoldAsset, a, name=name)) for name, a in assets.items()
            ],
            params=payload.params,
        )


@job_type(Provider("metafold"))
@strawberry.federation.type(keys=["id"], description="A Metafold job.")
class MetafoldJob(Job):
    type: str
    state: str
    created: datetime
    started: datetime | None
    finished: datetime | None
    error: str | None
    inputs: MetafoldAssetsAndParams
    outputs: MetafoldAssetsAndParams
    needs: list[str] = strawberry.field(description="Ids of upstream dependencies.")
    workflow_id: str | None

    @classmethod
    def from_job(cls, job: DomainJob[MetafoldJobPayload]) -> MetafoldJob:
        p = job.payload
        return from_payload(
            cls,
            job,
            inputs=MetafoldAssetsAndParams.from_payload(p.inputs),
            outputs=MetafoldAssetsAndParams.from_payload(p.outputs),
            needs=list(p.needs),
        )

    @strawberry.field(description="The jobs this one `needs`, in order (missing ones left out).")
    async def dependencies(self, info: Info[RequestContext, None]) -> list[MetafoldJob]:
        # Through the operation's DataLoader: a page's dependencies cost one batched lookup.
        ctx = info.context
        loader = operation_loader(ctx.cache, ctx.services.adapters, ctx.http)
        refs = [JobRef(self.source, self.project_id, need) for need in self.needs]
        try:
            jobs = await loader.load_many(refs)
        except JobgraphError as exc:
            ctx.report(exc, tuple(info.path.as_list()))
            return []
        return [MetafoldJob.from_job(job) for job in jobs if job is not None]


@strawberry.type
class Query:
    @connection_field(
        "Metafold jobs of one project, with Metafold's `q` and `sort`.", Connection[MetafoldJob]
    )
    async def metafold_jobs(
        self,
        *,
        source: str | None = None,
        project_id: str,
        q: str | None = None,
        sort: str | None = None,
    ) -> ProviderListing[MetafoldJob]:
        return ProviderListing(
            Provider("metafold"),
            source,
            lambda adapter: metafold_query(adapter.require_project(project_id), q, sort),
            MetafoldJob.from_job,
        )


def graphiql_example(sources: Sequence[SourceConfig]) -> str | None:
    """A named operation GraphiQL opens with, on a configured source of this provider."""
    source = next((s for s in sources if s.projects), None)
    if source is None:
        return None
    return (
        "query MetafoldJobs {\n"
        f"  metafoldJobs(source: {quoted(source.name)}, "
        f"projectId: {quoted(source.projects[0])}, first: {EXAMPLE_PAGE_SIZE}) {{\n"
        "    nodes { id name status type inputs { assets { name filename } } }\n"
        "  }\n}"
    )

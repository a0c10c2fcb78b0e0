"""Huawei ModelArts: its GraphQL job type and nested types, its Query field and its GraphiQL
example.

The type is built from a domain `Job` whose `payload` is the adapter's parsed model; the
builders here only copy fields across, they never fetch."""

from __future__ import annotations

from collections.abc import Sequence

import strawberry
from strawberry.types import Info

from graph.context import RequestContext
from graph.providers import EXAMPLE_PAGE_SIZE, quoted
from graph.schema.connections import ProviderListing
from graph.schema.relay import connection_field
from graph.schema.scalars import Long
from graph.schema.types import Connection, Job, from_payload, job_type
from resolvers.config import SourceConfig
from resolvers.domain import Job as DomainJob
from resolvers.domain import Provider
from resolvers.providers.modelarts import (
    ModelArtsJobPayload,
    ModelArtsSortField,
    SortOrder,
    modelarts_query,
)

for _enum in (ModelArtsSortField, SortOrder):
    strawberry.enum(_enum)

Ctx = Info[RequestContext, None]


@job_type(Provider("modelarts"))
@strawberry.federation.type(keys=["id"], description="A Huawei Cloud ModelArts training job.")
class ModelArtsJob(Job):
    job_id: Long
    job_name: str
    version_id: Long | None
    status_code: int = strawberry.field(description="The ModelArts job status code.")
    create_time: Long = strawberry.field(description="Creation time, epoch milliseconds.")
    duration: Long | None = strawberry.field(description="Running time in milliseconds.")
    job_desc: str | None
    version_count: Long | None

    @classmethod
    def from_job(cls, job: DomainJob[ModelArtsJobPayload]) -> ModelArtsJob:
        return from_payload(cls, job, status_code=job.payload.status)


@strawberry.type
class Query:
    @connection_field(
        "ModelArts training jobs of one project, with its filters.", Connection[ModelArtsJob]
    )
    async def model_arts_jobs(
        self,
        *,
        source: str | None = None,
        project_id: str,
        status: int | None = None,
        search: str | None = None,
        sort_by: ModelArtsSortField | None = None,
        order: SortOrder | None = None,
        workspace_id: str | None = None,
    ) -> ProviderListing[ModelArtsJob]:
        return ProviderListing(
            Provider("modelarts"),
            source,
            lambda adapter: modelarts_query(
                adapter.require_project(project_id),
                status=status,
                search=search,
                sort_by=sort_by,
                order=order,
                workspace_id=workspace_id,
            ),
            ModelArtsJob.from_job,
        )


def graphiql_example(sources: Sequence[SourceConfig]) -> str | None:
    """A named operation GraphiQL opens with, on a configured source of this provider."""
    source = next((s for s in sources if s.projects), None)
    if source is None:
        return None
    return (
        "query ModelArtsJobs {\n"
        f"  modelArtsJobs(source: {quoted(source.name)}, "
        f"projectId: {quoted(source.projects[0])}, sortBy: CREATE_TIME, order: DESC, "
        f"first: {EXAMPLE_PAGE_SIZE}) {{\n"
        "    nodes { id name status rawStatus durationSeconds }\n"
        "  }\n}"
    )

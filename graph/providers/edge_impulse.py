"""Edge Impulse: its GraphQL job type and nested types, its Query field and its GraphiQL example.

The type is built from a domain `Job` whose `payload` is the adapter's parsed model; the
builders here only copy fields across, they never fetch."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

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
from resolvers.errors import BadUserInput
from resolvers.providers.base import ListQuery, ProviderAdapter
from resolvers.providers.edge_impulse import EdgeImpulseJobPayload

Ctx = Info[RequestContext, None]


@strawberry.type(description="The user who started an Edge Impulse job.")
class EdgeImpulseUser:
    id: int
    name: str
    username: str
    photo: str | None


@job_type(Provider("edge_impulse"))
@strawberry.federation.type(
    keys=["id"], description="An Edge Impulse job (white-label admin project jobs)."
)
class EdgeImpulseJob(Job):
    key: str
    category: str
    category_key: str
    created: datetime
    started: datetime | None
    finished: datetime | None
    finished_successful: bool | None
    job_notification_uids: list[int]
    additional_info: str | None
    compute_time: float | None
    created_by_user: EdgeImpulseUser | None
    category_count: int | None
    metadata: JSON | None

    @classmethod
    def from_job(cls, job: DomainJob[EdgeImpulseJobPayload]) -> EdgeImpulseJob:
        user = job.payload.created_by_user
        by = None if user is None else EdgeImpulseUser(**copied(EdgeImpulseUser, user))
        return from_payload(cls, job, created_by_user=by)


@strawberry.type
class Query:
    @connection_field("Edge Impulse jobs of one project.", Connection[EdgeImpulseJob])
    async def edge_impulse_jobs(
        self,
        *,
        source: str | None = None,
        organization_id: int,
        project_id: int,
    ) -> ProviderListing[EdgeImpulseJob]:
        def build(adapter: ProviderAdapter) -> ListQuery:
            if adapter.source.organization_id != organization_id:
                raise BadUserInput(
                    f"source {adapter.source.name!r} serves organization "
                    f"{adapter.source.organization_id}, not {organization_id}"
                )
            return ListQuery(adapter.check_project(str(project_id)))

        return ProviderListing(Provider("edge_impulse"), source, build, EdgeImpulseJob.from_job)


def graphiql_example(sources: Sequence[SourceConfig]) -> str | None:
    """A named operation GraphiQL opens with, on a configured source of this provider."""
    source = next((s for s in sources if s.projects and s.projects[0].isdigit()), None)
    if source is None:
        return None
    return (
        "query EdgeImpulseJobs {\n"
        f"  edgeImpulseJobs(source: {quoted(source.name)}, "
        f"organizationId: {source.organization_id}, projectId: {source.projects[0]}, "
        f"first: {EXAMPLE_PAGE_SIZE}) {{\n"
        "    totalCount\n"
        "    nodes { id name status createdAt finishedSuccessful createdByUser { name } }\n"
        "  }\n}"
    )

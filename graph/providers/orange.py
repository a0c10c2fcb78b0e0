"""Orange Business Evolution Platform IaaS: its GraphQL job type and nested types, its Query
field and its GraphiQL example.

The type is built from a domain `Job` whose `payload` is the adapter's parsed model; the
builders here only copy fields across, they never fetch."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import strawberry
from strawberry.types import Info

from graph.context import RequestContext
from graph.providers import EXAMPLE_PAGE_SIZE, quoted
from graph.schema.connections import ProviderListing
from graph.schema.relay import connection_field
from graph.schema.types import Connection, Job, copied, from_payload, job_type
from resolvers.config import SourceConfig
from resolvers.domain import Job as DomainJob
from resolvers.domain import Provider
from resolvers.providers.orange import OrangeJobPayload, OrangeJobState, orange_query

strawberry.enum(OrangeJobState)

Ctx = Info[RequestContext, None]


@strawberry.type(description="A message raised on an Orange job.")
class OrangeJobMessage:
    code: int
    message: str
    description: str | None


@job_type(Provider("orange"))
@strawberry.federation.type(
    keys=["id"], description="An Orange Business Evolution Platform IaaS job."
)
class OrangeJob(Job):
    h_ref: str
    state: str
    description: str | None
    created_date: datetime
    requester_id: str | None
    start_processing_date: datetime | None
    end_processing_date: datetime | None
    messages: list[OrangeJobMessage]

    @classmethod
    def from_job(cls, job: DomainJob[OrangeJobPayload]) -> OrangeJob:
        messages = [OrangeJobMessage(**copied(OrangeJobMessage, m)) for m in job.payload.messages]
        return from_payload(cls, job, messages=messages)


@strawberry.type
class Query:
    @connection_field(
        "Orange IaaS jobs of one project, with Orange's own filters.", Connection[OrangeJob]
    )
    async def orange_jobs(
        self,
        *,
        source: str | None = None,
        project_id: str,
        states: list[OrangeJobState] | None = None,
        sort: str | None = None,
    ) -> ProviderListing[OrangeJob]:
        return ProviderListing(
            Provider("orange"),
            source,
            lambda adapter: orange_query(adapter.require_project(project_id), states, sort),
            OrangeJob.from_job,
        )


def graphiql_example(sources: Sequence[SourceConfig]) -> str | None:
    """A named operation GraphiQL opens with, on a configured source of this provider."""
    source = next((s for s in sources if s.projects), None)
    if source is None:
        return None
    return (
        "query OrangeJobs {\n"
        f"  orangeJobs(source: {quoted(source.name)}, "
        f"projectId: {quoted(source.projects[0])}, first: {EXAMPLE_PAGE_SIZE}) {{\n"
        "    totalCount\n"
        "    nodes { id name status rawStatus createdAt messages { code message } }\n"
        "  }\n}"
    )

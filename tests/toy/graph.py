"""The toy platform's GraphQL job type, its Query field and its GraphiQL example."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import strawberry

from graph.providers import EXAMPLE_PAGE_SIZE, quoted
from graph.schema.connections import ProviderListing
from graph.schema.relay import connection_field
from graph.schema.types import Connection, Job, from_payload, job_type
from resolvers.config import SourceConfig
from resolvers.domain import Job as DomainJob
from resolvers.domain import Provider
from tests.toy.adapter import ToyPhase, ToyTaskPayload, toy_query
from tests.toy.provider import NAME

strawberry.enum(ToyPhase)


@job_type(Provider(NAME))
@strawberry.federation.type(keys=["id"], description="A task on a toy board.")
class ToyJob(Job):
    task_id: str
    title: str
    phase: str
    ended_at: datetime | None

    @classmethod
    def from_job(cls, job: DomainJob[ToyTaskPayload]) -> ToyJob:
        return from_payload(cls, job)


@strawberry.type
class Query:
    @connection_field("Tasks of one toy board.", Connection[ToyJob])
    async def toy_jobs(
        self,
        *,
        source: str | None = None,
        project_id: str,
        phases: list[ToyPhase] | None = None,
        oldest_first: bool = False,
    ) -> ProviderListing[ToyJob]:
        return ProviderListing(
            Provider(NAME),
            source,
            lambda adapter: toy_query(adapter.require_project(project_id), phases, oldest_first),
            ToyJob.from_job,
        )


def graphiql_example(sources: Sequence[SourceConfig]) -> str | None:
    source = next((s for s in sources if s.projects), None)
    if source is None:
        return None
    return (
        "query ToyJobs {\n"
        f"  toyJobs(source: {quoted(source.name)}, projectId: {quoted(source.projects[0])}, "
        f"first: {EXAMPLE_PAGE_SIZE}) {{\n    nodes {{ id name status phase }}\n  }}\n}}"
    )

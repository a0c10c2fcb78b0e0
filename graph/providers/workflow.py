"""The guided-workflow jobs API (WORKFLOW): its GraphQL job type and nested types, its Query
field and its GraphiQL example.

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
from resolvers.providers.base import ListQuery
from resolvers.providers.workflow import WorkflowJobPayload

Ctx = Info[RequestContext, None]


@strawberry.type(description="One step of a guided-workflow job.")
class WorkflowStep:
    values: JSON | None
    value_resource_ids: JSON | None
    unique_step_id: str | None
    previous_unique_step_id: str | None
    user_id: str | None
    user_name: str | None
    device_id: str | None
    step_id: str | None
    step_number: int | None
    step_title: str | None
    step_description: str | None
    step_type: str | None
    connection_type: str | None
    started: datetime | None
    completed: datetime | None
    updated: datetime | None
    cancelled: datetime | None
    time_events: JSON | None
    note: str | None
    note_resource_filenames: list[str] | None
    coordinates: JSON | None
    parent_step_id: str | None
    parent_unique_step_id: str | None
    parent_step_title: str | None
    parent_step_description: str | None
    metadata: JSON | None

    @classmethod
    def from_payload(cls, step: Any) -> WorkflowStep:
        return cls(**copied(cls, step))


@strawberry.type(description="Where a guided-workflow job stands now.")
class WorkflowCurrentStep:
    single_step: WorkflowStep | None
    report_step: JSON | None


@strawberry.type(description="A guided-workflow job's metadata object.")
class WorkflowJobMetadata:
    client_job_id: str | None
    workflow_id: str | None
    workflow_version_id: str | None
    job_title: str | None
    metadata: JSON | None
    created: datetime | None
    updated: datetime | None
    modified: datetime | None
    status: str | None
    user_id: str | None
    current_step: WorkflowCurrentStep | None
    abandon_reason: str | None
    username: str | None
    workflow_name: str | None


def _current_step(step: Any) -> WorkflowCurrentStep | None:
    if step is None:
        return None
    single = None if step.single_step is None else WorkflowStep.from_payload(step.single_step)
    return WorkflowCurrentStep(single_step=single, report_step=step.report_step)


def _steps(steps: Any) -> list[WorkflowStep] | None:
    return None if steps is None else [WorkflowStep.from_payload(s) for s in steps]


@job_type(Provider("workflow"))
@strawberry.federation.type(keys=["id"], description="A guided-workflow job.")
class WorkflowJob(Job):
    job_id: str
    metadata: WorkflowJobMetadata
    current_step: WorkflowCurrentStep | None = strawberry.field(
        description="Shortcut for `metadata.currentStep`."
    )
    completed_steps: list[WorkflowStep] | None
    cancelled_steps: list[WorkflowStep] | None
    team: str | None
    hierarchy_stack: JSON | None
    packet_ids: list[str] | None
    job_exclusion: JSON | None
    excluded: bool | None

    @classmethod
    def from_job(cls, job: DomainJob[WorkflowJobPayload]) -> WorkflowJob:
        p = job.payload
        current = _current_step(p.metadata.current_step)
        metadata = WorkflowJobMetadata(
            **copied(WorkflowJobMetadata, p.metadata, current_step=current)
        )
        return from_payload(
            cls,
            job,
            metadata=metadata,
            current_step=current,
            completed_steps=_steps(p.completed_steps),
            cancelled_steps=_steps(p.cancelled_steps),
        )


@strawberry.type
class Query:
    @connection_field("Guided-workflow jobs.", Connection[WorkflowJob])
    async def workflow_jobs(
        self,
        source: str | None = None,
    ) -> ProviderListing[WorkflowJob]:
        return ProviderListing(
            Provider("workflow"), source, lambda _adapter: ListQuery(None), WorkflowJob.from_job
        )


def graphiql_example(sources: Sequence[SourceConfig]) -> str | None:
    """A named operation GraphiQL opens with, on a configured source of this provider."""
    if not sources:
        return None
    return (
        "query WorkflowJobs {\n"
        f"  workflowJobs(source: {quoted(sources[0].name)}, first: {EXAMPLE_PAGE_SIZE}) {{\n"
        "    pageInfo { hasNextPage endCursor }\n"
        "    nodes { id name status currentStep { singleStep { stepTitle } } }\n"
        "  }\n}"
    )

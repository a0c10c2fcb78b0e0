"""One GraphQL type per provider, exposing every field of that provider's job object.

Each type is built from a domain `Job` whose `payload` is the adapter's parsed model; the
builders here only copy fields across, they never fetch.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from graph.context import RequestContext
from graph.ids import JobKey, encode_global_id
from graph.scalars import Long
from graph.types import Job, job_type
from resolvers.domain import Job as DomainJob
from resolvers.domain import Provider
from resolvers.errors import JobgraphError
from resolvers.loaders import JobRef, operation_loader


def common_fields(job: DomainJob) -> dict[str, Any]:
    """The `Job` interface's fields, shared by every provider type."""
    return {
        "id": strawberry.ID(encode_global_id(JobKey(job.source, job.project_id, job.native_id))),
        "provider": job.provider,
        "source": job.source,
        "project_id": job.project_id,
        "native_id": job.native_id,
        "name": job.name,
        "status": job.status,
        "raw_status": job.raw_status,
        "created_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
        "duration_seconds": job.duration_seconds,
        "error_message": job.error_message,
    }


# --- Edge Impulse ------------------------------------------------------------------


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
    def from_job(cls, job: DomainJob) -> EdgeImpulseJob:
        p = job.payload
        user = p.created_by_user
        return cls(
            **common_fields(job),
            key=p.key,
            category=p.category,
            category_key=p.category_key,
            created=p.created,
            started=p.started,
            finished=p.finished,
            finished_successful=p.finished_successful,
            job_notification_uids=p.job_notification_uids,
            additional_info=p.additional_info,
            compute_time=p.compute_time,
            created_by_user=None
            if user is None
            else EdgeImpulseUser(
                id=user.id, name=user.name, username=user.username, photo=user.photo
            ),
            category_count=p.category_count,
            metadata=p.metadata,
        )


# --- Orange ------------------------------------------------------------------------


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
    def from_job(cls, job: DomainJob) -> OrangeJob:
        p = job.payload
        return cls(
            **common_fields(job),
            h_ref=p.h_ref,
            state=p.state,
            description=p.description,
            created_date=p.created_date,
            requester_id=p.requester_id,
            start_processing_date=p.start_processing_date,
            end_processing_date=p.end_processing_date,
            messages=[
                OrangeJobMessage(code=m.code, message=m.message, description=m.description)
                for m in p.messages
            ],
        )


# --- Metafold ----------------------------------------------------------------------


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
                MetafoldAsset(
                    name=name,
                    id=a.id,
                    size=a.size,
                    created=a.created,
                    modified=a.modified,
                    checksum=a.checksum,
                    filename=a.filename,
                )
                for name, a in assets.items()
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
    def from_job(cls, job: DomainJob) -> MetafoldJob:
        p = job.payload
        return cls(
            **common_fields(job),
            type=p.type,
            state=p.state,
            created=p.created,
            started=p.started,
            finished=p.finished,
            error=p.error,
            inputs=MetafoldAssetsAndParams.from_payload(p.inputs),
            outputs=MetafoldAssetsAndParams.from_payload(p.outputs),
            needs=list(p.needs),
            workflow_id=p.workflow_id,
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


# --- guided-workflow jobs ----------------------------------------------------------


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
        return cls(**{name: getattr(step, name) for name in _WORKFLOW_STEP_FIELDS})


_WORKFLOW_STEP_FIELDS = tuple(WorkflowStep.__annotations__)


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
    def from_job(cls, job: DomainJob) -> WorkflowJob:
        p = job.payload
        m = p.metadata
        current = _current_step(m.current_step)
        return cls(
            **common_fields(job),
            job_id=p.job_id,
            metadata=WorkflowJobMetadata(
                client_job_id=m.client_job_id,
                workflow_id=m.workflow_id,
                workflow_version_id=m.workflow_version_id,
                job_title=m.job_title,
                metadata=m.metadata,
                created=m.created,
                updated=m.updated,
                modified=m.modified,
                status=m.status,
                user_id=m.user_id,
                current_step=current,
                abandon_reason=m.abandon_reason,
                username=m.username,
                workflow_name=m.workflow_name,
            ),
            current_step=current,
            completed_steps=_steps(p.completed_steps),
            cancelled_steps=_steps(p.cancelled_steps),
            team=p.team,
            hierarchy_stack=p.hierarchy_stack,
            packet_ids=p.packet_ids,
            job_exclusion=p.job_exclusion,
            excluded=p.excluded,
        )


# --- ModelArts ---------------------------------------------------------------------


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
    def from_job(cls, job: DomainJob) -> ModelArtsJob:
        p = job.payload
        return cls(
            **common_fields(job),
            job_id=p.job_id,
            job_name=p.job_name,
            version_id=p.version_id,
            status_code=p.status,
            create_time=p.create_time,
            duration=p.duration,
            job_desc=p.job_desc,
            version_count=p.version_count,
        )

"""Guided-workflow jobs API: one account-wide list by skip/limit with no total, no projects."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from typing import Any

from pydantic import Field, TypeAdapter

from resolvers.client import UpstreamResponse, UpstreamSession, check_path_segment
from resolvers.domain import CreatedOrder, Job, JobFilterSpec, JobStatus, Provider
from resolvers.errors import BadUserInput
from resolvers.paging import (
    OffsetRequest,
    PageRequest,
    PageWindow,
    UpstreamPage,
    plan_offset_requests,
)
from resolvers.providers.base import (
    ListQuery,
    OptionalUtcDateTime,
    PayloadModel,
    ProviderAdapter,
    Pushdown,
    RawJob,
    RawJobList,
    json_error_fields,
)

LIST_PATH = "/jobs/v1/"
JOB_PATH = "/jobs/v1/bson/{job}"
# The largest page asked for: WorkfloPlus's sibling Query API caps at 100 (the REST cap is
# undocumented, so a shorter page is followed up, not taken as the end).
MAX_LIMIT = 100

# Status words by meaning, keyed case-, space-, underscore- and hyphen-insensitively.
_STATUS_WORDS: dict[JobStatus, tuple[str, ...]] = {
    JobStatus.QUEUED: ("queued", "pending", "notstarted", "new", "created", "scheduled", "waiting"),
    JobStatus.RUNNING: ("inprogress", "running", "started", "active", "processing"),
    JobStatus.PAUSED: ("paused", "onhold", "suspended"),
    JobStatus.SUCCEEDED: ("completed", "complete", "done", "succeeded", "success", "successful"),
    JobStatus.FAILED: ("failed", "failure", "error", "errored"),
    JobStatus.CANCELED: ("cancelled", "canceled", "abandoned", "aborted"),
}
WORKFLOW_STATUS: dict[str, JobStatus] = {
    word: status for status, words in _STATUS_WORDS.items() for word in words
}
_SEPARATORS = re.compile(r"[\s_\-]+")
_TERMINAL = frozenset({JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELED})


def workflow_status(raw: str | None) -> JobStatus:
    """Map a free-form status word by meaning; anything unrecognised is UNKNOWN, never an error."""
    if raw is None:
        return JobStatus.UNKNOWN
    return WORKFLOW_STATUS.get(_SEPARATORS.sub("", raw).casefold(), JobStatus.UNKNOWN)


class WorkflowStep(PayloadModel):
    values: list[Any] | None = None
    value_resource_ids: list[Any] | None = Field(default=None, alias="valueResourceIds")
    unique_step_id: str | None = Field(default=None, alias="uniqueStepId")
    previous_unique_step_id: str | None = Field(default=None, alias="previousUniqueStepId")
    user_id: str | None = Field(default=None, alias="userId")
    user_name: str | None = Field(default=None, alias="userName")
    device_id: str | None = Field(default=None, alias="deviceId")
    step_id: str | None = Field(default=None, alias="stepId")
    step_number: int | None = Field(default=None, alias="stepNumber")
    step_title: str | None = Field(default=None, alias="stepTitle")
    step_description: str | None = Field(default=None, alias="stepDescription")
    step_type: str | None = Field(default=None, alias="stepType")
    connection_type: str | None = Field(default=None, alias="connectionType")
    started: OptionalUtcDateTime = None
    completed: OptionalUtcDateTime = None
    updated: OptionalUtcDateTime = None
    cancelled: OptionalUtcDateTime = None
    time_events: dict[str, Any] | None = Field(default=None, alias="timeEvents")
    note: str | None = None
    note_resource_filenames: list[str] | None = Field(default=None, alias="noteResourceFilenames")
    coordinates: Any = None
    parent_step_id: str | None = Field(default=None, alias="parentStepId")
    parent_unique_step_id: str | None = Field(default=None, alias="parentUniqueStepId")
    parent_step_title: str | None = Field(default=None, alias="parentStepTitle")
    parent_step_description: str | None = Field(default=None, alias="parentStepDescription")
    metadata: dict[str, Any] | None = None


class WorkflowCurrentStep(PayloadModel):
    single_step: WorkflowStep | None = Field(default=None, alias="singleStep")
    report_step: dict[str, Any] | None = Field(default=None, alias="reportStep")


class WorkflowMetadata(PayloadModel):
    client_job_id: str | None = Field(default=None, alias="clientJobId")
    workflow_id: str | None = Field(default=None, alias="workflowId")
    workflow_version_id: str | None = Field(default=None, alias="workflowVersionId")
    job_title: str | None = Field(default=None, alias="jobTitle")
    metadata: dict[str, Any] | None = None
    created: OptionalUtcDateTime = None
    updated: OptionalUtcDateTime = None
    modified: OptionalUtcDateTime = None
    status: str | None = None
    user_id: str | None = Field(default=None, alias="userId")
    current_step: WorkflowCurrentStep | None = Field(default=None, alias="currentStep")
    abandon_reason: str | None = Field(default=None, alias="abandonReason")
    username: str | None = None
    workflow_name: str | None = Field(default=None, alias="workflowName")


class WorkflowJobPayload(PayloadModel):
    job_id: str = Field(alias="jobId")
    metadata: WorkflowMetadata
    completed_steps: list[WorkflowStep] | None = Field(default=None, alias="completedSteps")
    cancelled_steps: list[WorkflowStep] | None = Field(default=None, alias="cancelledSteps")
    team: str | None = None
    hierarchy_stack: Any = Field(default=None, alias="hierarchyStack")
    packet_ids: list[str] | None = Field(default=None, alias="packetIds")
    job_exclusion: list[Any] | None = Field(default=None, alias="jobExclusion")
    excluded: bool | None = None


_JOB_ARRAY = TypeAdapter(list[WorkflowJobPayload])
# The single-job routes are documented with an array of one job as the body; accept both.
_ONE_JOB = TypeAdapter(WorkflowJobPayload | list[WorkflowJobPayload])


class _WorkflowCreatedMetadata(PayloadModel):
    created: OptionalUtcDateTime = None


class _WorkflowCreated(PayloadModel):
    metadata: _WorkflowCreatedMetadata
    job_id: Any = Field(default=None, alias="jobId")


# The list with only each job's creation time (whole-list reads).
_CREATED_ARRAY = TypeAdapter(list[_WorkflowCreated])


class WorkflowAdapter(ProviderAdapter):
    provider = Provider("workflow")

    def plan(self, window: PageWindow, cap: int | None) -> list[PageRequest]:
        return plan_offset_requests(window, cap or MAX_LIMIT)

    async def fetch_page(
        self, http: UpstreamSession, query: ListQuery, request: PageRequest
    ) -> UpstreamPage[Job]:
        response = await self._list(http, query, request)
        jobs = [self.to_job(payload) for payload in self.parse(_JOB_ARRAY, response)]
        return UpstreamPage(request, jobs, None)

    async def fetch_raw_page(
        self, http: UpstreamSession, query: ListQuery, request: PageRequest
    ) -> UpstreamPage[RawJob]:
        response = await self._list(http, query, request)
        items = self.parse(_CREATED_ARRAY, response)
        raw = RawJobList(self, response, None, WorkflowJobPayload, self.to_job)
        jobs = raw.jobs([item.metadata.created for item in items], [item.job_id for item in items])
        return UpstreamPage(request, jobs, None)

    async def _list(
        self, http: UpstreamSession, query: ListQuery, request: PageRequest
    ) -> UpstreamResponse:
        assert isinstance(request, OffsetRequest)
        self.check_project(query.project)
        params = (*query.params, *request.query_params("skip"))
        return await self.get(http, LIST_PATH, {}, params)

    async def fetch_by_ids(
        self, http: UpstreamSession, project: str | None, ids: Sequence[str]
    ) -> dict[str, Job]:
        self.check_project(project)
        unique = list(dict.fromkeys(check_path_segment(i, "job id") for i in ids))
        answers = await asyncio.gather(*(self._fetch_single(http, i) for i in unique))
        payloads: list[WorkflowJobPayload] = []
        for answer in answers:
            if isinstance(answer, list):
                payloads.extend(answer)
            elif answer is not None:
                payloads.append(answer)
        jobs = (self.to_job(p) for p in payloads)
        return {job.native_id: job for job in jobs if job.native_id in unique}

    async def _fetch_single(
        self, http: UpstreamSession, job_id: str
    ) -> WorkflowJobPayload | list[WorkflowJobPayload] | None:
        one: TypeAdapter[WorkflowJobPayload | list[WorkflowJobPayload]] = _ONE_JOB
        return await self.fetch_one(http, one, JOB_PATH, {"job": job_id})

    def describe_error(self, status: int, body: bytes) -> tuple[str, str | None]:
        # Undocumented: the service sends RFC 7807 problem details; other usual keys too.
        return json_error_fields(body, ("title", "detail", "message", "error"), "code")

    def check_project(self, project: str | None) -> str | None:
        if project is not None:
            raise BadUserInput("workflow jobs have no project; leave the project id out")
        return None

    def pushdown(self, project: str | None, order: CreatedOrder, spec: JobFilterSpec) -> Pushdown:
        # No filter or sort parameters: everything is applied locally.
        return Pushdown(ListQuery(self.check_project(project)), ordered=False)

    def to_job(self, payload: WorkflowJobPayload) -> Job[WorkflowJobPayload]:
        meta = payload.metadata
        status = workflow_status(meta.status)
        step = meta.current_step.single_step if meta.current_step is not None else None
        finished = None
        # A job that ended did so when its current (last) step was completed or cancelled.
        if step is not None and status in _TERMINAL:
            finished = step.completed or step.cancelled
        return Job(
            provider=self.provider,
            source=self.source.name,
            project_id=None,
            native_id=payload.job_id,
            name=meta.job_title,
            status=status,
            raw_status=meta.status,
            created_at=meta.created,
            # Only the current step's start is given, not the job's: startedAt stays null.
            started_at=None,
            finished_at=finished,
            duration_seconds=None,
            error_message=meta.abandon_reason,
            payload=payload,
        )

"""Edge Impulse white-label admin: a project's jobs by offset/limit, total in `totalJobCount`."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Generic, TypeVar

from pydantic import Field

from resolvers.client import UpstreamResponse, UpstreamSession, check_path_segment
from resolvers.domain import CreatedOrder, Job, JobFilterSpec, JobStatus, Provider, duration_between
from resolvers.errors import BadUserInput
from resolvers.paging import (
    OffsetRequest,
    PageRequest,
    PageWindow,
    UpstreamPage,
    plan_offset_requests,
)
from resolvers.providers.base import (
    ListEnvelope,
    ListQuery,
    OptionalUtcDateTime,
    PayloadModel,
    ProviderAdapter,
    Pushdown,
    RawJob,
    RawJobList,
    UtcDateTime,
    json_error_fields,
)

LIST_PATH = "/api/organizations/{organization}/whitelabel/projects/{project}/jobs"
# The largest page asked for (the API documents no maximum); a server that returns fewer
# while more exist is learned by the paging engine.
MAX_LIMIT = 1000
_INTEGER_ID = re.compile(r"^[0-9]{1,18}$")


# Go serializes an unset time.Time as 0001-01-01T00:00:00Z: absent, like null.
GoTime = OptionalUtcDateTime


class EdgeImpulseUser(PayloadModel):
    id: int
    name: str
    username: str
    photo: str | None = None


class EdgeImpulseJobPayload(PayloadModel):
    id: int
    key: str
    created: UtcDateTime
    category: str
    category_key: str = Field(alias="categoryKey")
    job_notification_uids: list[int] = Field(alias="jobNotificationUids")
    started: GoTime = None
    finished: GoTime = None
    finished_successful: bool | None = Field(default=None, alias="finishedSuccessful")
    additional_info: str | None = Field(default=None, alias="additionalInfo")
    compute_time: float | None = Field(default=None, alias="computeTime")
    created_by_user: EdgeImpulseUser | None = Field(default=None, alias="createdByUser")
    category_count: int | None = Field(default=None, alias="categoryCount")
    metadata: dict[str, Any] | None = None


class _EdgeImpulseCreated(PayloadModel):
    created: UtcDateTime
    # Optional here: a job that is read but never emitted fails nothing.
    id: Any = None


J = TypeVar("J", EdgeImpulseJobPayload, _EdgeImpulseCreated)


class EdgeImpulseJobList(PayloadModel, Generic[J]):
    """The list envelope, of full jobs or (for whole-list reads, which use few of them)
    creation times."""

    success: bool
    error: str | None = None
    # Required when `success` is true (checked after it, so a failure is reported as one).
    jobs: list[J] | None = None
    total_job_count: int | None = Field(default=None, alias="totalJobCount", ge=0)


_JOB_LIST = EdgeImpulseJobList[EdgeImpulseJobPayload]
_CREATED_LIST = EdgeImpulseJobList[_EdgeImpulseCreated]


def edge_impulse_status(job: EdgeImpulseJobPayload) -> JobStatus:
    """EI has no status field: derive it from the started/finished times and the outcome."""
    if job.finished is not None:
        if job.finished_successful is None:
            return JobStatus.UNKNOWN
        return JobStatus.SUCCEEDED if job.finished_successful else JobStatus.FAILED
    if job.started is not None:
        return JobStatus.RUNNING
    return JobStatus.QUEUED


class EdgeImpulseAdapter(ProviderAdapter):
    provider = Provider("edge_impulse")

    def plan(self, window: PageWindow, cap: int | None) -> list[PageRequest]:
        return plan_offset_requests(window, cap or MAX_LIMIT)

    async def fetch_page(
        self, http: UpstreamSession, query: ListQuery, request: PageRequest
    ) -> UpstreamPage[Job]:
        project, response = await self._list(http, query, request)
        jobs, total = self._listed(http, response, _JOB_LIST)
        return UpstreamPage(request, [self.to_job(project, payload) for payload in jobs], total)

    async def fetch_raw_page(
        self, http: UpstreamSession, query: ListQuery, request: PageRequest
    ) -> UpstreamPage[RawJob]:
        project, response = await self._list(http, query, request)
        jobs, total = self._listed(http, response, _CREATED_LIST)
        raw = RawJobList(
            self, response, "jobs", EdgeImpulseJobPayload, lambda p: self.to_job(project, p)
        )
        listed = raw.jobs([job.created for job in jobs], [job.id for job in jobs])
        return UpstreamPage(request, listed, total)

    async def _list(
        self, http: UpstreamSession, query: ListQuery, request: PageRequest
    ) -> tuple[str, UpstreamResponse]:
        assert isinstance(request, OffsetRequest)
        project = self.require_project(query.project)
        response = await self.get(
            http,
            LIST_PATH,
            {"organization": str(self.source.organization_id), "project": project},
            (*query.params, *request.query_params()),
        )
        return project, response

    def _listed(
        self,
        http: UpstreamSession,
        response: UpstreamResponse,
        model: type[EdgeImpulseJobList[J]],
    ) -> tuple[list[J], int]:
        """A list's jobs and total, once it reports success and carries both."""
        body = self.parse(model, response)
        envelope = ListEnvelope(
            failed=not body.success,
            message=body.error,
            jobs=body.jobs,
            total=body.total_job_count,
            required="jobs and totalJobCount",
        )
        return self.listed(http, response, envelope)

    async def fetch_by_ids(
        self, http: UpstreamSession, project: str | None, ids: Sequence[str]
    ) -> dict[str, Job]:
        project = self.require_project(project)
        # No single-job endpoint: scan the project's list; a non-integer id cannot exist.
        checked = dict.fromkeys(check_path_segment(i, "job id") for i in ids)
        wanted = [i for i in checked if _INTEGER_ID.match(i)]
        if not wanted:
            return {}
        return await self.scan_for_ids(
            http, ListQuery(project), wanted, self.hints(http).learned_cap or MAX_LIMIT
        )

    def describe_error(self, status: int, body: bytes) -> tuple[str, str | None]:
        message, _ = json_error_fields(body, ("error",), "code")
        return message, None

    def check_project(self, project: str | None) -> str | None:
        if project is None or not _INTEGER_ID.match(project):
            shown = "" if project is None else f" {project[:64]!r}"
            raise BadUserInput(f"edge_impulse project id{shown} must be an integer")
        return project

    def pushdown(self, project: str | None, order: CreatedOrder, spec: JobFilterSpec) -> Pushdown:
        # No filter or sort parameters: everything is applied locally.
        return Pushdown(ListQuery(self.require_project(project)), ordered=False)

    def to_job(self, project: str, payload: EdgeImpulseJobPayload) -> Job[EdgeImpulseJobPayload]:
        return Job(
            provider=self.provider,
            source=self.source.name,
            project_id=project,
            native_id=str(payload.id),
            name=payload.category,
            status=edge_impulse_status(payload),
            raw_status=None,
            created_at=payload.created,
            started_at=payload.started,
            finished_at=payload.finished,
            duration_seconds=(
                payload.compute_time
                if payload.compute_time is not None
                else duration_between(payload.started, payload.finished)
            ),
            error_message=None,
            payload=payload,
        )

"""Huawei Cloud ModelArts training jobs: a project's jobs by page/per_page, total in
`job_total_count`, times in epoch milliseconds."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Generic, TypeVar

from pydantic import Field

from resolvers.client import UpstreamResponse, UpstreamSession, check_path_segment
from resolvers.domain import CreatedOrder, Job, JobFilterSpec, JobStatus, Provider
from resolvers.errors import BadUserInput
from resolvers.paging import (
    PageNumberRequest,
    PageRequest,
    PageWindow,
    UpstreamPage,
    plan_page_number_requests,
)
from resolvers.providers.base import (
    ListEnvelope,
    ListQuery,
    PayloadModel,
    ProviderAdapter,
    Pushdown,
    RawJob,
    RawJobList,
    json_error_fields,
    search_runs,
)

LIST_PATH = "/v1/{project}/training-jobs"
MAX_SEARCH = 64
# The documented paging limits: per_page 1..1000, page 1..65535.
MAX_PER_PAGE = 1000
MAX_PAGE = 65535
_INTEGER_ID = re.compile(r"^[0-9]{1,18}$")

_CODES_BY_STATUS: dict[JobStatus, tuple[int, ...]] = {
    JobStatus.QUEUED: (1, 2, 4, 7),
    JobStatus.RUNNING: (8, 9, 15, 18, 19),
    JobStatus.SUCCEEDED: (10, 20),
    JobStatus.FAILED: (3, 5, 6, 11, 14, 16, 17, 21, 22),
    JobStatus.CANCELED: (12, 13),
    JobStatus.UNKNOWN: (0,),
}
MODELARTS_STATUS: dict[int, JobStatus] = {
    code: status for status, codes in _CODES_BY_STATUS.items() for code in codes
}
_TERMINAL = frozenset({JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELED})


def modelarts_status(code: int) -> JobStatus:
    return MODELARTS_STATUS.get(code, JobStatus.UNKNOWN)


def epoch_millis(value: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=value)


class ModelArtsJobPayload(PayloadModel):
    job_id: int
    job_name: str
    status: int
    create_time: int
    version_id: int | None = None
    duration: int | None = None
    job_desc: str | None = None
    version_count: int | None = None


class _ModelArtsCreated(PayloadModel):
    create_time: int
    job_id: Any = None


J = TypeVar("J", ModelArtsJobPayload, _ModelArtsCreated)


class ModelArtsJobList(PayloadModel, Generic[J]):
    """The list envelope, of full jobs or (for reads that use few of them) creation times."""

    is_success: bool | None = None
    error_code: str | None = None
    error_message: str | None = None
    # Required unless `is_success` is false (checked after it, so a failure is reported as one).
    job_total_count: int | None = Field(default=None, ge=0)
    jobs: list[J] | None = None
    job_count_limit: int | None = None
    quotas: int | None = None


_JOB_LIST = ModelArtsJobList[ModelArtsJobPayload]
_CREATED_LIST = ModelArtsJobList[_ModelArtsCreated]


_FILTER_PARAMS = frozenset({"status", "search_content"})


class ModelArtsAdapter(ProviderAdapter):
    provider = Provider("modelarts")

    def created_order(self, query: ListQuery) -> CreatedOrder | None:
        params = dict(query.params)
        if params.get("sortBy") != "create_time":
            return None
        return CreatedOrder.DESC if params.get("order") == "desc" else CreatedOrder.ASC

    def trusts_total(self, query: ListQuery) -> bool:
        # The docs leave open whether job_total_count counts only the jobs a filter selects.
        return not any(name in _FILTER_PARAMS for name, _ in query.params)

    def plan(self, window: PageWindow, cap: int | None) -> list[PageRequest]:
        # A server that caps per_page returns the first `cap` of each page: ask no more.
        return plan_page_number_requests(window, min(cap or MAX_PER_PAGE, MAX_PER_PAGE), MAX_PAGE)

    async def fetch_page(
        self, http: UpstreamSession, query: ListQuery, request: PageRequest
    ) -> UpstreamPage[Job]:
        project, response = await self._list(http, query, request)
        payloads, total = self._listed(http, response, self.parse(_JOB_LIST, response))
        jobs = [self.to_job(project, payload) for payload in payloads]
        return UpstreamPage(request, jobs, total)

    async def fetch_raw_page(
        self, http: UpstreamSession, query: ListQuery, request: PageRequest
    ) -> UpstreamPage[RawJob]:
        project, response = await self._list(http, query, request)
        items, total = self._listed(http, response, self.parse(_CREATED_LIST, response))
        created = [epoch_millis(item.create_time) for item in items]
        raw = RawJobList(
            self, response, "jobs", ModelArtsJobPayload, lambda p: self.to_job(project, p)
        )
        return UpstreamPage(request, raw.jobs(created, [item.job_id for item in items]), total)

    async def _list(
        self, http: UpstreamSession, query: ListQuery, request: PageRequest
    ) -> tuple[str, UpstreamResponse]:
        """One list request: the project and the response."""
        assert isinstance(request, PageNumberRequest)
        project = self.require_project(query.project)
        params = list(query.params)
        # The configured workspace applies wherever a query does not name one.
        if self.source.workspace_id is not None and all(k != "workspace_id" for k, _ in params):
            params.append(("workspace_id", self.source.workspace_id))
        params += request.query_params()
        return project, await self.get(http, LIST_PATH, {"project": project}, params)

    def _listed(
        self, http: UpstreamSession, response: UpstreamResponse, body: ModelArtsJobList[J]
    ) -> tuple[list[J], int]:
        """A parsed list's jobs and total, once it reports success and carries both."""
        envelope = ListEnvelope(
            failed=body.is_success is False,
            message=body.error_message,
            jobs=body.jobs,
            total=body.job_total_count,
            required="jobs and job_total_count",
            upstream_code=body.error_code,
        )
        return self.listed(http, response, envelope)

    async def fetch_by_ids(
        self, http: UpstreamSession, project: str | None, ids: Sequence[str]
    ) -> dict[str, Job]:
        # No single-job endpoint: scan the project's list; a non-integer id cannot exist.
        query = ListQuery(self.require_project(project))
        checked = dict.fromkeys(check_path_segment(i, "job id") for i in ids)
        wanted = [i for i in checked if _INTEGER_ID.match(i)]
        if not wanted:
            return {}
        return await self.scan_for_ids(http, query, wanted, MAX_PER_PAGE)

    def describe_error(self, status: int, body: bytes) -> tuple[str, str | None]:
        # ModelArts' own body, or its API gateway's ({error_msg, error_code, request_id}).
        message, code = json_error_fields(body, ("error_message", "error_msg"), "error_code")
        _, request_id = json_error_fields(body, (), "request_id")
        return (f"{message} (request {request_id})" if request_id else message), code

    def pushdown(self, project: str | None, order: CreatedOrder, spec: JobFilterSpec) -> Pushdown:
        project = self.require_project(project)
        params = [("sortBy", "create_time"), ("order", order.value)]
        # `status` takes one code and undocumented codes map to UNKNOWN: it is pushed only
        # when the statuses asked for are exactly one documented code.
        if spec.statuses is not None and JobStatus.UNKNOWN not in spec.statuses:
            codes = [c for c, s in MODELARTS_STATUS.items() if s in spec.statuses]
            if not codes:
                return Pushdown(ListQuery(project), ordered=True, empty=True)
            if len(codes) == 1:
                params.append(("status", str(codes[0])))
        if spec.search:
            # search_content is a substring of the lowercased job_name: any safe run of the
            # term selects a superset; the longest selects least.
            runs = search_runs(spec.search)
            if runs:
                params.append(("search_content", max(runs, key=len)[:MAX_SEARCH]))
        return Pushdown(ListQuery(project, tuple(params)), ordered=True)

    def to_job(self, project: str, payload: ModelArtsJobPayload) -> Job[ModelArtsJobPayload]:
        status = modelarts_status(payload.status)
        created = epoch_millis(payload.create_time)
        duration = None if payload.duration is None else payload.duration / 1000
        # Only the run time is known, not the start: startedAt stays null, and a job that ran
        # and ended has finishedAt = creation + run time (exact when it did not queue).
        finished = (
            created + timedelta(seconds=duration) if duration and status in _TERMINAL else None
        )
        return Job(
            provider=self.provider,
            source=self.source.name,
            project_id=project,
            native_id=str(payload.job_id),
            name=payload.job_name,
            status=status,
            raw_status=str(payload.status),
            created_at=created,
            started_at=None,
            finished_at=finished,
            duration_seconds=duration,
            error_message=None,
            payload=payload,
        )


MODELARTS_SEARCH_MAX = 64


class ModelArtsSortField(StrEnum):
    JOB_NAME = "job_name"
    JOB_DESC = "job_desc"
    STATUS = "status"
    DURATION = "duration"
    VERSION_COUNT = "version_count"
    CREATE_TIME = "create_time"


class SortOrder(StrEnum):
    ASC = "asc"
    DESC = "desc"


def modelarts_query(
    project: str,
    *,
    status: int | None,
    search: str | None,
    sort_by: ModelArtsSortField | None,
    order: SortOrder | None,
    workspace_id: str | None,
) -> ListQuery:
    params: list[tuple[str, str]] = []
    if status is not None:
        if not 0 <= status <= 1000:
            raise BadUserInput("`status` must be a ModelArts job status code")
        params.append(("status", str(status)))
    if search is not None:
        if len(search) > MODELARTS_SEARCH_MAX:
            raise BadUserInput(f"`search` must be at most {MODELARTS_SEARCH_MAX} characters")
        params.append(("search_content", search))
    if sort_by is not None:
        params.append(("sortBy", sort_by.value))
    if order is not None:
        params.append(("order", order.value))
    if workspace_id is not None:
        if not workspace_id or len(workspace_id) > 64:
            raise BadUserInput("`workspaceId` must be 1 to 64 characters")
        params.append(("workspace_id", workspace_id))
    return ListQuery(project, tuple(params))

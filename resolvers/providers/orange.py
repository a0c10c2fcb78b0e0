"""Orange Business Evolution Platform IaaS: a project's jobs by offset/limit with short pages
allowed, total in the `X-Total-Count` header."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from enum import StrEnum
from typing import Any

from pydantic import Field, TypeAdapter

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

LIST_PATH = "/projects/{project}/jobs"
JOB_PATH = "/projects/{project}/jobs/{job}"
# Orange's default and the first limit asked; the server may cap shorter, which is learned.
DEFAULT_LIMIT = 100

ORANGE_STATUS: dict[str, JobStatus] = {
    "acknowledged": JobStatus.QUEUED,
    "in-progress": JobStatus.RUNNING,
    "completed": JobStatus.SUCCEEDED,
    "failed": JobStatus.FAILED,
}


class OrangeMessage(PayloadModel):
    code: int
    message: str
    description: str | None = None


class OrangeJobPayload(PayloadModel):
    id: str
    h_ref: str = Field(alias="hRef")
    state: str
    created_date: UtcDateTime = Field(alias="createdDate")
    description: str | None = None
    requester_id: str | None = Field(default=None, alias="requesterId")
    start_processing_date: OptionalUtcDateTime = Field(default=None, alias="startProcessingDate")
    end_processing_date: OptionalUtcDateTime = Field(default=None, alias="endProcessingDate")
    messages: list[OrangeMessage] = Field(default_factory=list)


_JOB_ARRAY = TypeAdapter(list[OrangeJobPayload])


class _OrangeCreated(PayloadModel):
    created_date: UtcDateTime = Field(alias="createdDate")
    id: Any = None


# A page with only each job's creation time (a federated page emits few of the jobs it reads).
_CREATED_ARRAY = TypeAdapter(list[_OrangeCreated])


def orange_status(state: str) -> JobStatus:
    return ORANGE_STATUS.get(state, JobStatus.UNKNOWN)


class OrangeAdapter(ProviderAdapter):
    provider = Provider("orange")

    def plan(self, window: PageWindow, cap: int | None) -> list[PageRequest]:
        return plan_offset_requests(window, cap or DEFAULT_LIMIT)

    async def fetch_page(
        self, http: UpstreamSession, query: ListQuery, request: PageRequest
    ) -> UpstreamPage[Job]:
        project, response, total = await self._list(http, query, request)
        payloads = self.parse(_JOB_ARRAY, response)
        jobs = [self.to_job(project, payload) for payload in payloads]
        return UpstreamPage(request, jobs, total)

    async def fetch_raw_page(
        self, http: UpstreamSession, query: ListQuery, request: PageRequest
    ) -> UpstreamPage[RawJob]:
        project, response, total = await self._list(http, query, request)
        items = self.parse(_CREATED_ARRAY, response)
        raw = RawJobList(self, response, None, OrangeJobPayload, lambda p: self.to_job(project, p))
        jobs = raw.jobs([item.created_date for item in items], [item.id for item in items])
        return UpstreamPage(request, jobs, total)

    async def _list(
        self, http: UpstreamSession, query: ListQuery, request: PageRequest
    ) -> tuple[str, UpstreamResponse, int]:
        """One list request: the project, the response, and the total from its header."""
        assert isinstance(request, OffsetRequest)
        project = self.require_project(query.project)
        response = await self.get(
            http,
            LIST_PATH,
            {"project": project},
            (*query.params, *request.query_params()),
        )
        total_header = response.headers.get("X-Total-Count")
        if total_header is None or not total_header.strip().isdigit():
            raise self.invalid("missing or malformed X-Total-Count header", response.status)
        return project, response, int(total_header)

    async def fetch_by_ids(
        self, http: UpstreamSession, project: str | None, ids: Sequence[str]
    ) -> dict[str, Job]:
        project = self.require_project(project)
        unique = list(dict.fromkeys(check_path_segment(i, "job id") for i in ids))
        payloads = await asyncio.gather(
            *(
                self.fetch_one(http, OrangeJobPayload, JOB_PATH, {"project": project, "job": i})
                for i in unique
            )
        )
        jobs = (self.to_job(project, p) for p in payloads if p is not None)
        return {job.native_id: job for job in jobs if job.native_id in unique}

    def describe_error(self, status: int, body: bytes) -> tuple[str, str | None]:
        return json_error_fields(body, ("message", "description"), "code")

    def created_order(self, query: ListQuery) -> CreatedOrder | None:
        sort = dict(query.params).get("sort", "")
        first = sort.split(",")[0]
        if first.lstrip("-") != "createdDate":
            return None
        return CreatedOrder.DESC if first.startswith("-") else CreatedOrder.ASC

    def pushdown(self, project: str | None, order: CreatedOrder, spec: JobFilterSpec) -> Pushdown:
        project = self.require_project(project)
        states: list[str] = []
        exact = not spec.search and spec.created_after is None and spec.created_before is None
        # A job in a state Orange does not document maps to UNKNOWN: a `state` filter would
        # drop it, so the filter is pushed only when UNKNOWN is not asked for.
        if spec.statuses is not None and JobStatus.UNKNOWN not in spec.statuses:
            states = [s for s, status in ORANGE_STATUS.items() if status in spec.statuses]
            if not states:
                return Pushdown(ListQuery(project), ordered=True, empty=True, exact=True)
        elif spec.statuses is not None:
            exact = exact and spec.statuses >= {*ORANGE_STATUS.values(), JobStatus.UNKNOWN}
        params = [("state", state) for state in states]
        params.append(("sort", "-createdDate" if order is CreatedOrder.DESC else "createdDate"))
        return Pushdown(ListQuery(project, tuple(params)), ordered=True, exact=exact)

    def to_job(self, project: str, payload: OrangeJobPayload) -> Job[OrangeJobPayload]:
        status = orange_status(payload.state)
        error = None
        if status is JobStatus.FAILED and payload.messages:
            error = "; ".join(m.message for m in payload.messages if m.message) or None
        return Job(
            provider=self.provider,
            source=self.source.name,
            project_id=project,
            native_id=payload.id,
            name=payload.description,
            status=status,
            raw_status=payload.state,
            created_at=payload.created_date,
            started_at=payload.start_processing_date,
            finished_at=payload.end_processing_date,
            duration_seconds=duration_between(
                payload.start_processing_date, payload.end_processing_date
            ),
            error_message=error,
            payload=payload,
        )


ORANGE_SORT = re.compile(r"^-?[A-Za-z0-9]+(?:,[A-Za-z0-9]+)*$")


class OrangeJobState(StrEnum):
    ACKNOWLEDGED = "acknowledged"
    IN_PROGRESS = "in-progress"
    COMPLETED = "completed"
    FAILED = "failed"


def orange_query(
    project: str, states: Sequence[OrangeJobState] | None, sort: str | None
) -> ListQuery:
    params: list[tuple[str, str]] = [("state", s.value) for s in sorted(set(states or ()))]
    if sort is not None:
        if len(sort) > 100 or not ORANGE_SORT.match(sort):
            raise BadUserInput(
                "`sort` must be a comma list of field names, `-` for descending, "
                "at most 100 characters (e.g. -createdDate)"
            )
        params.append(("sort", sort))
    return ListQuery(project, tuple(params))

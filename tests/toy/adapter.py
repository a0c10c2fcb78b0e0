"""The toy platform's adapter: a board's tasks by offset/limit, short pages allowed, the
filtered total in the body, newest first unless `order=asc`."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from enum import StrEnum
from typing import Any

import orjson
from pydantic import Field, TypeAdapter

from resolvers.client import UpstreamResponse, UpstreamSession, check_path_segment
from resolvers.domain import CreatedOrder, Job, JobFilterSpec, JobStatus, Provider, duration_between
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
)
from tests.toy.provider import NAME

LIST_PATH = "/boards/{board}/tasks"
TASK_PATH = "/boards/{board}/tasks/{task}"
MAX_LIMIT = 100

TOY_STATUS: dict[str, JobStatus] = {
    "waiting": JobStatus.QUEUED,
    "busy": JobStatus.RUNNING,
    "done": JobStatus.SUCCEEDED,
    "broken": JobStatus.FAILED,
}


class ToyPhase(StrEnum):
    WAITING = "waiting"
    BUSY = "busy"
    DONE = "done"
    BROKEN = "broken"


class ToyTaskPayload(PayloadModel):
    task_id: str = Field(alias="taskId")
    title: str
    phase: str
    created_at: UtcDateTime = Field(alias="createdAt")
    started_at: OptionalUtcDateTime = Field(default=None, alias="startedAt")
    ended_at: OptionalUtcDateTime = Field(default=None, alias="endedAt")


class _ToyList(PayloadModel):
    tasks: list[ToyTaskPayload]
    total: int = Field(ge=0)


class _ToyCreated(PayloadModel):
    created_at: UtcDateTime = Field(alias="createdAt")
    task_id: Any = Field(default=None, alias="taskId")


class _ToyCreatedList(PayloadModel):
    tasks: list[_ToyCreated]
    total: int = Field(ge=0)


_LIST = TypeAdapter(_ToyList)
_CREATED_LIST = TypeAdapter(_ToyCreatedList)


class ToyAdapter(ProviderAdapter):
    provider = Provider(NAME)

    def plan(self, window: PageWindow, cap: int | None) -> list[PageRequest]:
        return plan_offset_requests(window, min(cap or MAX_LIMIT, MAX_LIMIT))

    async def fetch_page(
        self, http: UpstreamSession, query: ListQuery, request: PageRequest
    ) -> UpstreamPage[Job]:
        board, response = await self._list(http, query, request)
        body = self.parse(_LIST, response)
        return UpstreamPage(request, [self.to_job(board, t) for t in body.tasks], body.total)

    async def fetch_raw_page(
        self, http: UpstreamSession, query: ListQuery, request: PageRequest
    ) -> UpstreamPage[RawJob]:
        board, response = await self._list(http, query, request)
        body = self.parse(_CREATED_LIST, response)
        raw = RawJobList(self, response, "tasks", ToyTaskPayload, lambda p: self.to_job(board, p))
        created = [t.created_at for t in body.tasks]
        return UpstreamPage(request, raw.jobs(created, [t.task_id for t in body.tasks]), body.total)

    async def _list(
        self, http: UpstreamSession, query: ListQuery, request: PageRequest
    ) -> tuple[str, UpstreamResponse]:
        assert isinstance(request, OffsetRequest)
        board = self.require_project(query.project)
        params = (*query.params, *request.query_params())
        return board, await self.get(http, LIST_PATH, {"board": board}, params)

    async def fetch_by_ids(
        self, http: UpstreamSession, project: str | None, ids: Sequence[str]
    ) -> dict[str, Job]:
        board = self.require_project(project)
        unique = list(dict.fromkeys(check_path_segment(i, "job id") for i in ids))
        payloads = await asyncio.gather(
            *(
                self.fetch_one(http, ToyTaskPayload, TASK_PATH, {"board": board, "task": i})
                for i in unique
            )
        )
        jobs = (self.to_job(board, p) for p in payloads if p is not None)
        return {job.native_id: job for job in jobs if job.native_id in unique}

    def describe_error(self, status: int, body: bytes) -> tuple[str, str | None]:
        data: Any = orjson.loads(body)
        error = data.get("error") if isinstance(data, dict) else None
        if not isinstance(error, dict):
            raise ValueError("not a toy error body")
        code = error.get("code")
        return str(error.get("message", "")), None if code is None else str(code)

    def created_order(self, query: ListQuery) -> CreatedOrder | None:
        order = dict(query.params).get("order", "desc")
        return CreatedOrder.ASC if order == "asc" else CreatedOrder.DESC

    def pushdown(self, project: str | None, order: CreatedOrder, spec: JobFilterSpec) -> Pushdown:
        board = self.require_project(project)
        exact = not spec.search and spec.created_after is None and spec.created_before is None
        params: list[tuple[str, str]] = []
        # An undocumented phase maps to UNKNOWN, which a `phase` filter would drop.
        if spec.statuses is not None and JobStatus.UNKNOWN not in spec.statuses:
            phases = [p for p, status in TOY_STATUS.items() if status in spec.statuses]
            if not phases:
                return Pushdown(ListQuery(board), ordered=True, empty=True, exact=True)
            params += [("phase", p) for p in phases]
        elif spec.statuses is not None:
            exact = exact and spec.statuses >= {*TOY_STATUS.values(), JobStatus.UNKNOWN}
        params.append(("order", "asc" if order is CreatedOrder.ASC else "desc"))
        return Pushdown(ListQuery(board, tuple(params)), ordered=True, exact=exact)

    def to_job(self, board: str, payload: ToyTaskPayload) -> Job[ToyTaskPayload]:
        return Job(
            provider=self.provider,
            source=self.source.name,
            project_id=board,
            native_id=payload.task_id,
            name=payload.title,
            status=TOY_STATUS.get(payload.phase, JobStatus.UNKNOWN),
            raw_status=payload.phase,
            created_at=payload.created_at,
            started_at=payload.started_at,
            finished_at=payload.ended_at,
            duration_seconds=duration_between(payload.started_at, payload.ended_at),
            error_message=None,
            payload=payload,
        )


def toy_query(board: str, phases: Sequence[ToyPhase] | None, oldest_first: bool) -> ListQuery:
    """The native query of the `toyJobs` field."""
    params: list[tuple[str, str]] = [("phase", p.value) for p in sorted(set(phases or ()))]
    if oldest_first:
        params.append(("order", "asc"))
    return ListQuery(board, tuple(params))

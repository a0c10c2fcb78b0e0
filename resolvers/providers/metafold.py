"""Metafold: a project's jobs as one unpaged list, filtered by `q` and ordered by `sort`."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from pydantic import TypeAdapter

from resolvers.client import UpstreamResponse, UpstreamSession, check_path_segment
from resolvers.domain import CreatedOrder, Job, JobFilterSpec, JobStatus, Provider, duration_between
from resolvers.errors import BadUserInput
from resolvers.paging import (
    PageRequest,
    PageWindow,
    UpstreamPage,
    WholeListRequest,
    WindowResult,
    plan_whole_list,
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
    search_runs,
)

LIST_PATH = "/projects/{project}/jobs"
JOB_PATH = "/projects/{project}/jobs/{job}"

METAFOLD_STATUS: dict[str, JobStatus] = {
    "pending": JobStatus.QUEUED,
    "started": JobStatus.RUNNING,
    "success": JobStatus.SUCCEEDED,
    "failure": JobStatus.FAILED,
    "canceled": JobStatus.CANCELED,
}


class MetafoldAsset(PayloadModel):
    id: str
    size: int | None = None
    created: OptionalUtcDateTime = None
    modified: OptionalUtcDateTime = None
    checksum: str | None = None
    filename: str | None = None


class MetafoldAssetsAndParams(PayloadModel):
    assets: dict[str, MetafoldAsset] | None = None
    params: dict[str, Any] | None


class MetafoldJobPayload(PayloadModel):
    id: str
    # The official SDK treats name, error, project_id and workflow_id as optional keys.
    name: str | None = None
    type: str
    state: str
    created: UtcDateTime
    # Documented as required, but a job that has not started or finished has no such time.
    started: OptionalUtcDateTime = None
    finished: OptionalUtcDateTime = None
    error: str | None = None
    inputs: MetafoldAssetsAndParams
    outputs: MetafoldAssetsAndParams
    needs: list[str]
    project_id: str | None = None
    workflow_id: str | None = None


_JOB_ARRAY = TypeAdapter(list[MetafoldJobPayload])


class _MetafoldCreated(PayloadModel):
    created: UtcDateTime
    id: Any = None


# The list with only each job's creation time (a federated page uses ~20 of its jobs).
_CREATED_ARRAY = TypeAdapter(list[_MetafoldCreated])


def metafold_status(state: str) -> JobStatus:
    return METAFOLD_STATUS.get(state, JobStatus.UNKNOWN)


def _status_terms(statuses: frozenset[JobStatus]) -> list[str] | None:
    """`q` terms selecting exactly the jobs whose state maps into `statuses` (plus any in an
    undocumented state, which the local filter drops); None when no documented state matches."""
    kept = [s for s, status in METAFOLD_STATUS.items() if status in statuses]
    if not kept and JobStatus.UNKNOWN not in statuses:
        return None
    # q has AND and `!` but no OR: a set of states is the conjunction of the others' negations.
    return [f"!state:{s}" for s, status in METAFOLD_STATUS.items() if status not in statuses]


# What an unquoted `q` value may hold with one meaning: ASCII letters and digits.
_UNQUOTED_SAFE = re.compile(r"[a-z0-9]+")


class MetafoldAdapter(ProviderAdapter):
    provider = Provider("metafold")

    def plan(self, window: PageWindow, cap: int | None) -> list[PageRequest]:
        return plan_whole_list(window)

    async def fetch_page(
        self, http: UpstreamSession, query: ListQuery, request: PageRequest
    ) -> UpstreamPage[Job]:
        project, response = await self._list(http, query, request)
        jobs = [self.to_job(project, payload) for payload in self.parse(_JOB_ARRAY, response)]
        return UpstreamPage(request, jobs, len(jobs))

    async def fetch_window(
        self, http: UpstreamSession, query: ListQuery, window: PageWindow
    ) -> WindowResult[Job]:
        # Every window reads the whole list: only the window's jobs are validated and built
        # (a page of 20 from a list of 388 was otherwise 20 times the work).
        raw = await self.fetch_raw_window(http, query, window)
        return raw.map(RawJob.job)

    async def fetch_raw_page(
        self, http: UpstreamSession, query: ListQuery, request: PageRequest
    ) -> UpstreamPage[RawJob]:
        project, response = await self._list(http, query, request)
        items = self.parse(_CREATED_ARRAY, response)
        raw = RawJobList(
            self, response, None, MetafoldJobPayload, lambda p: self.to_job(project, p)
        )
        jobs = raw.jobs([item.created for item in items], [item.id for item in items])
        return UpstreamPage(request, jobs, len(jobs))

    async def _list(
        self, http: UpstreamSession, query: ListQuery, request: PageRequest
    ) -> tuple[str, UpstreamResponse]:
        assert isinstance(request, WholeListRequest)
        project = self.require_project(query.project)
        return project, await self.get(http, LIST_PATH, {"project": project}, query.params)

    async def fetch_by_ids(
        self, http: UpstreamSession, project: str | None, ids: Sequence[str]
    ) -> dict[str, Job]:
        project = self.require_project(project)
        unique = list(dict.fromkeys(check_path_segment(i, "job id") for i in ids))
        if not unique:
            return {}
        if len(unique) == 1:
            path_params = {"project": project, "job": unique[0]}
            payload = await self.fetch_one(http, MetafoldJobPayload, JOB_PATH, path_params)
            jobs = [] if payload is None else [self.to_job(project, payload)]
        else:
            # The unfiltered whole list: the same request as any unfiltered listing of the
            # project in this operation, so the session makes it once.
            page = await self.fetch_page(http, ListQuery(project), WholeListRequest())
            jobs = list(page.items)
        return {job.native_id: job for job in jobs if job.native_id in unique}

    def describe_error(self, status: int, body: bytes) -> tuple[str, str | None]:
        return json_error_fields(body, ("name", "description"), "code")

    def created_order(self, query: ListQuery) -> CreatedOrder | None:
        sort = dict(query.params).get("sort")
        return {"created:1": CreatedOrder.ASC, "created:-1": CreatedOrder.DESC}.get(sort or "")

    def pushdown(self, project: str | None, order: CreatedOrder, spec: JobFilterSpec) -> Pushdown:
        project = self.require_project(project)
        terms: list[str] = []
        if spec.statuses is not None:
            status_terms = _status_terms(spec.statuses)
            if status_terms is None:
                return Pushdown(ListQuery(project), ordered=True, empty=True)
            terms.extend(status_terms)
        if spec.search:
            # Metafold matches a whole name case-insensitively with `*` for any run of
            # characters. Whether `*` stays a wildcard inside quotes is not documented, so the
            # term goes unquoted: its runs of letters and digits, in order, between wildcards,
            # select a superset (the local filter narrows it).
            runs = [w for run in search_runs(spec.search) for w in _UNQUOTED_SAFE.findall(run)]
            if runs:
                terms.append(f"name:*{'*'.join(runs)}*")
        params = [("q", " AND ".join(terms))] if terms else []
        params.append(("sort", "created:-1" if order is CreatedOrder.DESC else "created:1"))
        return Pushdown(ListQuery(project, tuple(params)), ordered=True)

    def to_job(self, project: str, payload: MetafoldJobPayload) -> Job[MetafoldJobPayload]:
        status = metafold_status(payload.state)
        return Job(
            provider=self.provider,
            source=self.source.name,
            project_id=project,
            native_id=payload.id,
            name=payload.name,
            status=status,
            raw_status=payload.state,
            created_at=payload.created,
            started_at=payload.started,
            finished_at=payload.finished,
            duration_seconds=duration_between(payload.started, payload.finished),
            error_message=payload.error,
            payload=payload,
        )


METAFOLD_SORT = re.compile(r"^(id|name|created|started|finished):(1|-1)$")
MAX_QUERY_CHARS = 1000


def metafold_query(project: str, q: str | None, sort: str | None) -> ListQuery:
    params: list[tuple[str, str]] = []
    if q is not None:
        if len(q) > MAX_QUERY_CHARS:
            raise BadUserInput(f"`q` is longer than {MAX_QUERY_CHARS} characters")
        params.append(("q", q))
    if sort is not None:
        if not METAFOLD_SORT.match(sort):
            raise BadUserInput(
                "`sort` must be field:order with field one of id, name, created, started, "
                "finished and order 1 or -1"
            )
        params.append(("sort", sort))
    return ListQuery(project, tuple(params))

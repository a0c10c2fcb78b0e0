"""The Orange adapter: state mapping, repeated `state` and `sort` pushdown, the learned page cap."""

from __future__ import annotations

import pytest

from resolvers.domain import CreatedOrder, JobFilterSpec, JobStatus
from resolvers.errors import ErrorCode, UpstreamError
from resolvers.paging import PageWindow
from resolvers.providers.base import ListQuery
from resolvers.providers.orange import OrangeAdapter
from simulators.orange import SERVER_CAP
from tests.adapters.conftest import Upstreams

P = "orange"
STATE_STATUS = {
    "acknowledged": JobStatus.QUEUED,
    "in-progress": JobStatus.RUNNING,
    "completed": JobStatus.SUCCEEDED,
    "failed": JobStatus.FAILED,
}


async def test_each_state_maps_to_its_status_and_fields_follow_the_job(
    upstreams: Upstreams,
) -> None:
    project = upstreams.biggest_project(P)
    jobs = await upstreams.all_jobs(P, ListQuery(project))
    raw = upstreams.raw(P, project)
    assert [j.status for j in jobs] == [STATE_STATUS[r["state"]] for r in raw]
    assert {j.status for j in jobs} == set(STATE_STATUS.values())
    assert [j.raw_status for j in jobs] == [r["state"] for r in raw]
    assert [j.name for j in jobs] == [r["description"] for r in raw]
    for job, r in zip(jobs, raw, strict=True):
        assert (job.started_at is None) == ("startProcessingDate" not in r)
        assert (job.finished_at is None) == ("endProcessingDate" not in r)
        assert [m.code for m in job.payload.messages] == [m["code"] for m in r["messages"]]


async def test_failed_jobs_carry_their_messages_as_the_error(upstreams: Upstreams) -> None:
    project = upstreams.biggest_project(P)
    jobs = await upstreams.all_jobs(P, ListQuery(project))
    failed = [j for j in jobs if j.status is JobStatus.FAILED]
    assert failed
    for job in failed:
        assert job.error_message == "; ".join(m.message for m in job.payload.messages)
    assert all(j.error_message is None for j in jobs if j.status is not JobStatus.FAILED)


@pytest.mark.parametrize("order", list(CreatedOrder))
async def test_status_filter_and_order_are_sent_as_repeated_state_and_sort(
    upstreams: Upstreams, order: CreatedOrder
) -> None:
    project = upstreams.biggest_project(P)
    spec = JobFilterSpec(statuses=frozenset({JobStatus.FAILED, JobStatus.QUEUED}))
    pushdown = upstreams.adapter(P).pushdown(project, order, spec)
    assert pushdown.ordered and not pushdown.empty
    jobs = await upstreams.all_jobs(P, pushdown.query)
    created = [j.created_at for j in jobs]
    assert created == sorted(created, reverse=order is CreatedOrder.DESC)
    raw = upstreams.raw(P, project)
    assert sorted(j.native_id for j in jobs) == sorted(
        r["id"] for r in raw if r["state"] in ("failed", "acknowledged")
    )
    sort = "-createdDate" if order is CreatedOrder.DESC else "createdDate"
    for entry in upstreams.log(P).entries:
        assert sorted(entry.param("state")) == ["acknowledged", "failed"]
        assert entry.param("sort") == [sort]


def test_statuses_orange_never_reports_make_the_listing_empty(upstreams: Upstreams) -> None:
    spec = JobFilterSpec(statuses=frozenset({JobStatus.PAUSED, JobStatus.CANCELED}))
    assert upstreams.adapter(P).pushdown("p", CreatedOrder.DESC, spec).empty


def test_asking_for_unknown_status_sends_no_state_filter(upstreams: Upstreams) -> None:
    spec = JobFilterSpec(statuses=frozenset({JobStatus.UNKNOWN, JobStatus.FAILED}))
    pushdown = upstreams.adapter(P).pushdown("p", CreatedOrder.ASC, spec)
    assert pushdown.query == ListQuery("p", (("sort", "createdDate"),))
    assert not pushdown.empty


async def test_the_server_cap_is_learned_and_later_windows_ask_for_pages_of_it_in_parallel(
    upstreams: Upstreams,
) -> None:
    adapter = OrangeAdapter(upstreams.sources[P])
    project = upstreams.biggest_project(P)
    first = await adapter.fetch_window(upstreams.session(), ListQuery(project), PageWindow(0, 100))
    assert adapter.hints(upstreams.session()).learned_cap == SERVER_CAP
    assert first.requests == 2
    log = upstreams.log(P)
    asked = [(e.param("offset"), e.param("limit")) for e in log.entries]
    assert asked == [(["0"], ["100"]), (["50"], ["50"])]
    log.clear()
    second = await adapter.fetch_window(
        upstreams.session(), ListQuery(project), PageWindow(100, 200)
    )
    assert second.requests == 2
    asked = sorted((e.param("offset"), e.param("limit")) for e in log.entries)
    assert asked == [(["100"], ["50"]), (["150"], ["50"])]
    ids = upstreams.raw_ids(P, project)
    assert [j.native_id for j in first.items + second.items] == ids[:200]


async def test_total_comes_from_the_x_total_count_header(upstreams: Upstreams) -> None:
    project = upstreams.biggest_project(P)
    length = await upstreams.adapter(P).length(upstreams.session(), ListQuery(project))
    assert length == len(upstreams.raw(P, project))
    assert len(upstreams.log(P).entries) == 1


async def test_fetch_by_ids_gets_each_job_once_and_leaves_out_missing_ones(
    upstreams: Upstreams,
) -> None:
    project = upstreams.biggest_project(P)
    ids = upstreams.raw_ids(P, project)
    wanted = [ids[0], ids[200], ids[0], "00000000-0000-4000-8000-000000000000"]
    found = await upstreams.adapter(P).fetch_by_ids(upstreams.session(), project, wanted)
    assert sorted(found) == sorted({ids[0], ids[200]})
    assert upstreams.log(P).count("get") == 3
    assert upstreams.log(P).count("list") == 0


async def test_an_unknown_project_is_not_found_with_orange_error_code(upstreams: Upstreams) -> None:
    with pytest.raises(UpstreamError) as caught:
        await upstreams.adapter(P).fetch_window(
            upstreams.session(), ListQuery("no-such-project"), PageWindow(0, 10)
        )
    error = caught.value
    assert error.code is ErrorCode.UPSTREAM_NOT_FOUND
    assert (error.upstream_status, error.upstream_code) == (404, "60")
    assert "Resource not found" in error.message and "no-such-project" in error.message

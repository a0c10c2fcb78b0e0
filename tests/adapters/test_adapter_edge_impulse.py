"""The Edge Impulse adapter: status from times, Go zero times, failures in 200 bodies, scans."""

from __future__ import annotations

from typing import Any

import pytest

from resolvers.domain import CreatedOrder, JobFilterSpec, JobStatus
from resolvers.errors import BadUserInput, ErrorCode, UpstreamError
from resolvers.paging import PageWindow
from resolvers.providers.base import ListQuery
from resolvers.providers.edge_impulse import MAX_LIMIT
from tests.adapters.conftest import Upstreams

GO_ZERO = "0001-01-01T00:00:00Z"
P = "edge_impulse"


def expected_status(raw: dict[str, Any]) -> JobStatus:
    started = raw.get("started") not in (None, GO_ZERO)
    if raw.get("finished") not in (None, GO_ZERO):
        outcome = raw.get("finishedSuccessful")
        if outcome is None:
            return JobStatus.UNKNOWN
        return JobStatus.SUCCEEDED if outcome else JobStatus.FAILED
    return JobStatus.RUNNING if started else JobStatus.QUEUED


async def test_status_is_derived_from_started_finished_and_outcome(upstreams: Upstreams) -> None:
    project = upstreams.biggest_project(P)
    jobs = await upstreams.all_jobs(P, ListQuery(project))
    raw = upstreams.raw(P, project)
    assert [j.status for j in jobs] == [expected_status(r) for r in raw]
    assert {j.status for j in jobs} == {
        JobStatus.QUEUED,
        JobStatus.RUNNING,
        JobStatus.SUCCEEDED,
        JobStatus.FAILED,
        JobStatus.UNKNOWN,
    }
    assert all(j.raw_status is None for j in jobs)
    assert [j.name for j in jobs] == [r["category"] for r in raw]
    assert [j.native_id for j in jobs] == [str(r["id"]) for r in raw]


async def test_go_zero_times_count_as_absent(upstreams: Upstreams) -> None:
    project = upstreams.biggest_project(P)
    jobs = await upstreams.all_jobs(P, ListQuery(project))
    zero_started = [
        j
        for j, r in zip(jobs, upstreams.raw(P, project), strict=True)
        if r.get("started") == GO_ZERO
    ]
    zero_finished = [
        j
        for j, r in zip(jobs, upstreams.raw(P, project), strict=True)
        if r.get("finished") == GO_ZERO
    ]
    assert zero_started and zero_finished
    assert all(j.started_at is None and j.payload.started is None for j in zero_started)
    assert all(j.finished_at is None and j.status is not JobStatus.UNKNOWN for j in zero_finished)


async def test_duration_is_compute_time_else_finish_minus_start(upstreams: Upstreams) -> None:
    project = upstreams.biggest_project(P)
    jobs = await upstreams.all_jobs(P, ListQuery(project))
    for job, raw in zip(jobs, upstreams.raw(P, project), strict=True):
        if "computeTime" in raw:
            assert job.duration_seconds == raw["computeTime"]
        elif job.started_at and job.finished_at:
            assert job.duration_seconds == (job.finished_at - job.started_at).total_seconds()
        else:
            assert job.duration_seconds is None


async def test_pages_send_offset_and_limit_to_the_organizations_project(
    upstreams: Upstreams,
) -> None:
    adapter = upstreams.adapter(P)
    await adapter.fetch_window(upstreams.session(), ListQuery("4211"), PageWindow(30, 37))
    [entry] = upstreams.log(P).entries
    assert entry.path_params == {"organization_id": "1", "project_id": "4211"}
    assert entry.param("offset") == ["30"] and entry.param("limit") == ["7"]


def test_pushdown_leaves_filters_and_order_to_local_processing(upstreams: Upstreams) -> None:
    spec = JobFilterSpec(statuses=frozenset({JobStatus.FAILED}), search="train")
    pushdown = upstreams.adapter(P).pushdown("4211", CreatedOrder.DESC, spec)
    assert pushdown.query == ListQuery("4211")
    assert not pushdown.ordered and not pushdown.empty


@pytest.mark.parametrize("project", ["abc", "-1", "1.5", ""])
def test_a_project_id_that_is_not_an_integer_is_bad_user_input(
    upstreams: Upstreams, project: str
) -> None:
    with pytest.raises(BadUserInput):
        upstreams.adapter(P).check_project(project)


async def test_an_unknown_project_answered_with_200_and_success_false_is_not_found(
    upstreams: Upstreams,
) -> None:
    with pytest.raises(UpstreamError) as caught:
        await upstreams.adapter(P).fetch_window(
            upstreams.session(), ListQuery("9999"), PageWindow(0, 10)
        )
    assert caught.value.code is ErrorCode.UPSTREAM_NOT_FOUND
    assert caught.value.upstream_status == 200
    assert "Project 9999 not found" in caught.value.message


async def test_another_organization_is_forbidden_with_the_upstreams_message(
    upstreams: Upstreams,
) -> None:
    adapter = upstreams.variant(P, organization_id=2)
    with pytest.raises(UpstreamError) as caught:
        await adapter.fetch_window(upstreams.session(), ListQuery("4211"), PageWindow(0, 10))
    assert caught.value.code is ErrorCode.UPSTREAM_FORBIDDEN
    assert caught.value.upstream_status == 403
    assert "white label admin" in caught.value.message


async def test_fetch_by_ids_scans_the_list_in_the_largest_pages(upstreams: Upstreams) -> None:
    raw_ids = upstreams.raw_ids(P, "4211")
    wanted = [raw_ids[3], raw_ids[-1]]
    found = await upstreams.adapter(P).fetch_by_ids(upstreams.session(), "4211", wanted)
    assert sorted(found) == sorted(wanted)
    assert all(found[i].native_id == i for i in wanted)
    [entry] = upstreams.log(P).entries
    assert entry.param("offset") == ["0"] and entry.param("limit") == [str(MAX_LIMIT)]


async def test_fetch_by_ids_leaves_out_ids_that_do_not_exist(upstreams: Upstreams) -> None:
    found = await upstreams.adapter(P).fetch_by_ids(
        upstreams.session(), "4211", ["1", "not-a-number"]
    )
    assert found == {}
    assert len(upstreams.log(P).entries) == 1


async def test_fetch_by_ids_of_only_non_integer_ids_makes_no_request(upstreams: Upstreams) -> None:
    assert await upstreams.adapter(P).fetch_by_ids(upstreams.session(), "4211", ["x"]) == {}
    assert upstreams.log(P).entries == []

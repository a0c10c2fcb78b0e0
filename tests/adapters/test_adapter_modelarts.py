"""The ModelArts adapter: status codes, epoch-millisecond times, page-number windows, pushdown."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from resolvers.domain import CreatedOrder, JobFilterSpec, JobStatus
from resolvers.errors import ErrorCode, UpstreamError
from resolvers.paging import PageWindow
from resolvers.providers.base import ListQuery
from simulators.modelarts import OTHER_WORKSPACE
from tests.adapters.conftest import Upstreams

P = "modelarts"
CODE_STATUS = {
    **dict.fromkeys((1, 2, 4, 7), JobStatus.QUEUED),
    **dict.fromkeys((8, 9, 15, 18, 19), JobStatus.RUNNING),
    **dict.fromkeys((10, 20), JobStatus.SUCCEEDED),
    **dict.fromkeys((3, 5, 6, 11, 14, 16, 17, 21, 22), JobStatus.FAILED),
    **dict.fromkeys((12, 13), JobStatus.CANCELED),
    0: JobStatus.UNKNOWN,
}
ENDED = {JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELED}


async def test_every_status_code_maps_to_its_status(upstreams: Upstreams) -> None:
    project = upstreams.biggest_project(P)
    jobs = await upstreams.all_jobs(P, ListQuery(project))
    raw = upstreams.raw(P, project)
    assert {r["status"] for r in raw} == set(CODE_STATUS)
    assert [j.status for j in jobs] == [CODE_STATUS[r["status"]] for r in raw]
    assert [j.raw_status for j in jobs] == [str(r["status"]) for r in raw]
    assert [j.name for j in jobs] == [r["job_name"] for r in raw]


async def test_times_come_from_epoch_milliseconds(upstreams: Upstreams) -> None:
    project = upstreams.biggest_project(P)
    jobs = await upstreams.all_jobs(P, ListQuery(project))
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    for job, raw in zip(jobs, upstreams.raw(P, project), strict=True):
        created = epoch + timedelta(milliseconds=raw["create_time"])
        assert job.created_at == created
        assert job.duration_seconds == raw["duration"] / 1000
        assert job.started_at is None
        if job.status in ENDED and raw["duration"]:
            assert job.finished_at == created + timedelta(milliseconds=raw["duration"])
        else:
            assert job.finished_at is None


async def test_any_window_of_up_to_100_costs_at_most_two_requests(upstreams: Upstreams) -> None:
    project = upstreams.biggest_project(P)
    ids = upstreams.raw_ids(P, project)
    adapter = upstreams.adapter(P)
    log = upstreams.log(P)
    for start in range(0, len(ids) + 5, 37):
        for size in (1, 9, 10, 33, 64, 99, 100):
            log.clear()
            window = PageWindow(start, start + size)
            result = await adapter.fetch_window(upstreams.session(), ListQuery(project), window)
            assert [j.native_id for j in result.items] == ids[start : start + size]
            assert result.requests <= 2 and len(log.entries) <= 2, (start, size)


@pytest.mark.parametrize("order", list(CreatedOrder))
async def test_creation_order_is_sent_as_sort_by_create_time(
    upstreams: Upstreams, order: CreatedOrder
) -> None:
    project = upstreams.biggest_project(P)
    pushdown = upstreams.adapter(P).pushdown(project, order, JobFilterSpec())
    assert pushdown.ordered and not pushdown.empty
    jobs = await upstreams.all_jobs(P, pushdown.query)
    created = [j.created_at for j in jobs]
    assert created == sorted(created, reverse=order is CreatedOrder.DESC)
    for entry in upstreams.log(P).entries:
        assert entry.param("sortBy") == ["create_time"]
        assert entry.param("order") == [order.value]
        assert entry.param("workspace_id") == []


def test_a_status_filter_of_several_codes_stays_local(upstreams: Upstreams) -> None:
    spec = JobFilterSpec(statuses=frozenset({JobStatus.CANCELED}))
    pushdown = upstreams.adapter(P).pushdown("p", CreatedOrder.DESC, spec)
    assert "status" not in dict(pushdown.query.params) and not pushdown.empty


def test_statuses_modelarts_never_reports_make_the_listing_empty(upstreams: Upstreams) -> None:
    spec = JobFilterSpec(statuses=frozenset({JobStatus.PAUSED}))
    assert upstreams.adapter(P).pushdown("p", CreatedOrder.DESC, spec).empty


@pytest.mark.parametrize("term", ["resnet", "BERT-base", "OCR", "v3-", "ss"])
async def test_search_is_sent_as_search_content_selecting_a_superset(
    upstreams: Upstreams, term: str
) -> None:
    project = upstreams.biggest_project(P)
    spec = JobFilterSpec(search=term)
    pushdown = upstreams.adapter(P).pushdown(project, CreatedOrder.DESC, spec)
    everything = await upstreams.all_jobs(P, ListQuery(project))
    pushed = await upstreams.all_jobs(P, pushdown.query)
    assert {j.native_id for j in everything if spec.matches(j)} <= {j.native_id for j in pushed}
    content = dict(pushdown.query.params).get("search_content")
    if term == "ss":
        assert content is None
    else:
        assert content and content in term.casefold()
        assert len(pushed) < len(everything)
        assert upstreams.log(P).count("list", search_content=content) >= 1


async def test_a_configured_workspace_is_sent_and_selects_its_jobs(upstreams: Upstreams) -> None:
    project = upstreams.biggest_project(P)
    adapter = upstreams.variant(P, workspace_id=OTHER_WORKSPACE)
    result = await adapter.fetch_window(upstreams.session(), ListQuery(project), PageWindow(0, 50))
    assert [j.native_id for j in result.items] == upstreams.raw_ids(
        P, project, workspace_id=OTHER_WORKSPACE
    )
    assert all(e.param("workspace_id") == [OTHER_WORKSPACE] for e in upstreams.log(P).entries)


async def test_fetch_by_ids_scans_with_pages_of_1000(upstreams: Upstreams) -> None:
    project = upstreams.biggest_project(P)
    ids = upstreams.raw_ids(P, project)
    wanted = [ids[1], ids[-1], "999", "not-a-number"]
    found = await upstreams.adapter(P).fetch_by_ids(upstreams.session(), project, wanted)
    assert sorted(found) == sorted(wanted[:2])
    [entry] = upstreams.log(P).entries
    assert (entry.param("page"), entry.param("per_page")) == (["1"], ["1000"])


async def test_fetch_by_ids_of_only_non_integer_ids_makes_no_request(upstreams: Upstreams) -> None:
    assert await upstreams.adapter(P).fetch_by_ids(upstreams.session(), "p", ["x"]) == {}
    assert upstreams.log(P).entries == []


@pytest.mark.parametrize(
    ("provider", "code"), [("modelarts", "ModelArts.0001"), ("edge_impulse", None)]
)
async def test_a_failure_reported_in_a_200_body_is_an_error(
    upstreams: Upstreams, provider: str, code: str | None
) -> None:
    upstreams.suite.sim(provider).faults.add("status", status=200)
    with pytest.raises(UpstreamError) as caught:
        await upstreams.adapter(provider).fetch_window(
            upstreams.session(), ListQuery(upstreams.biggest_project(provider)), PageWindow(0, 5)
        )
    error = caught.value
    assert error.code is ErrorCode.UPSTREAM_BAD_REQUEST
    assert (error.upstream_status, error.upstream_code) == (200, code)
    assert "Simulated failure" in error.message


async def test_an_unknown_project_is_not_found_with_the_modelarts_error_code(
    upstreams: Upstreams,
) -> None:
    with pytest.raises(UpstreamError) as caught:
        await upstreams.adapter(P).fetch_window(
            upstreams.session(), ListQuery("nope"), PageWindow(0, 5)
        )
    error = caught.value
    assert error.code is ErrorCode.UPSTREAM_NOT_FOUND
    assert (error.upstream_status, error.upstream_code) == (404, "ModelArts.0105")
    assert "Project nope does not exist" in error.message

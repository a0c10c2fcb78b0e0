"""The workflow adapter: open-ended status words, no projects, no total, single-job lookups."""

from __future__ import annotations

import pytest

from resolvers.domain import CreatedOrder, JobFilterSpec, JobStatus
from resolvers.errors import BadUserInput, ErrorCode, UpstreamError
from resolvers.paging import PageWindow
from resolvers.providers.base import ListQuery
from resolvers.providers.workflow import workflow_status
from tests.adapters.conftest import Upstreams

P = "workflow"
# The statuses the simulator produces and what they mean.
STATUS_WORDS = {
    "Completed": JobStatus.SUCCEEDED,
    "Paused": JobStatus.PAUSED,
    "InProgress": JobStatus.RUNNING,
    "Cancelled": JobStatus.CANCELED,
    "Abandoned": JobStatus.CANCELED,
    "Scheduled": JobStatus.QUEUED,
    "Failed": JobStatus.FAILED,
    "Archived": JobStatus.UNKNOWN,
    "AwaitingSignOff": JobStatus.UNKNOWN,
}


async def test_each_status_word_maps_by_meaning_and_odd_ones_to_unknown(
    upstreams: Upstreams,
) -> None:
    jobs = await upstreams.all_jobs(P, ListQuery(None))
    raw = upstreams.raw(P, None)
    assert [j.status for j in jobs] == [STATUS_WORDS[r["metadata"]["status"]] for r in raw]
    assert {r["metadata"]["status"] for r in raw} == set(STATUS_WORDS)
    assert [j.raw_status for j in jobs] == [r["metadata"]["status"] for r in raw]
    assert [j.name for j in jobs] == [r["metadata"]["jobTitle"] for r in raw]
    assert all(j.project_id is None for j in jobs)


@pytest.mark.parametrize(
    ("word", "status"),
    [
        ("in progress", JobStatus.RUNNING),
        ("IN_PROGRESS", JobStatus.RUNNING),
        ("Not-Started", JobStatus.QUEUED),
        ("pending", JobStatus.QUEUED),
        ("Canceled", JobStatus.CANCELED),
        ("done", JobStatus.SUCCEEDED),
        ("Error", JobStatus.FAILED),
        ("on hold", JobStatus.PAUSED),
        ("Archived", JobStatus.UNKNOWN),
        ("", JobStatus.UNKNOWN),
        (None, JobStatus.UNKNOWN),
    ],
)
def test_status_words_are_read_ignoring_case_spaces_underscores_and_hyphens(
    word: str | None, status: JobStatus
) -> None:
    assert workflow_status(word) is status


async def test_ended_jobs_finish_when_their_last_step_ended_and_abandoned_ones_say_why(
    upstreams: Upstreams,
) -> None:
    jobs = await upstreams.all_jobs(P, ListQuery(None))
    completed = [j for j in jobs if j.raw_status == "Completed"]
    assert completed
    for job in completed:
        assert job.finished_at == job.payload.metadata.current_step.single_step.completed
    abandoned = [j for j in jobs if j.raw_status == "Abandoned"]
    assert abandoned
    assert all(j.error_message == j.payload.metadata.abandon_reason for j in abandoned)
    assert all(j.error_message for j in abandoned)
    assert all(j.finished_at is None for j in jobs if j.status is JobStatus.RUNNING)


async def test_pages_send_skip_and_limit_to_the_slash_terminated_path(
    upstreams: Upstreams,
) -> None:
    await upstreams.adapter(P).fetch_window(
        upstreams.session(), ListQuery(None), PageWindow(40, 47)
    )
    [entry] = upstreams.log(P).entries
    assert entry.path.endswith("/jobs/v1/")
    assert entry.query == (("skip", "40"), ("limit", "7"))


async def test_a_short_page_is_followed_up_once_and_an_empty_page_ends_the_list(
    upstreams: Upstreams,
) -> None:
    total = len(upstreams.raw(P, None))
    result = await upstreams.adapter(P).fetch_window(
        upstreams.session(), ListQuery(None), PageWindow(total - 3, total + 20)
    )
    assert len(result.items) == 3
    assert result.end == total and result.total is None
    assert result.requests == 2


async def test_a_short_page_below_a_page_size_already_seen_ends_the_list(
    upstreams: Upstreams,
) -> None:
    total = len(upstreams.raw(P, None))
    adapter = upstreams.adapter(P)
    await adapter.fetch_window(upstreams.session(), ListQuery(None), PageWindow(0, 50))
    result = await adapter.fetch_window(
        upstreams.session(), ListQuery(None), PageWindow(total - 3, total + 20)
    )
    assert len(result.items) == 3
    assert result.end == total
    assert result.requests == 1


async def test_length_probes_a_logarithmic_number_of_pages(upstreams: Upstreams) -> None:
    total = len(upstreams.raw(P, None))
    length = await upstreams.adapter(P).length(upstreams.session(), ListQuery(None))
    assert length == total
    requests = len(upstreams.log(P).entries)
    assert requests <= 2 * (total // 100 + 1).bit_length() + 3
    assert requests < total // 20


def test_workflow_has_no_projects(upstreams: Upstreams) -> None:
    adapter = upstreams.adapter(P)
    assert adapter.check_project(None) is None
    with pytest.raises(BadUserInput):
        adapter.check_project("anything")


def test_pushdown_leaves_filters_and_order_to_local_processing(upstreams: Upstreams) -> None:
    spec = JobFilterSpec(statuses=frozenset({JobStatus.PAUSED}), search="pump")
    pushdown = upstreams.adapter(P).pushdown(None, CreatedOrder.DESC, spec)
    assert pushdown.query == ListQuery(None)
    assert not pushdown.ordered and not pushdown.empty


async def test_fetch_by_ids_gets_each_job_by_its_bson_id(upstreams: Upstreams) -> None:
    ids = upstreams.raw_ids(P, None)
    wanted = [ids[0], ids[150], "5fa2a458980724000149rq40"]
    found = await upstreams.adapter(P).fetch_by_ids(upstreams.session(), None, wanted)
    assert sorted(found) == sorted(wanted[:2])
    assert found[ids[150]].payload.job_id == ids[150]
    assert upstreams.log(P).counts() == {"get": 3}


async def test_a_problem_details_error_gives_its_title_and_detail(upstreams: Upstreams) -> None:
    upstreams.suite.sim(P).faults.add("status", status=500)
    with pytest.raises(UpstreamError) as caught:
        await upstreams.adapter(P).fetch_window(
            upstreams.session(), ListQuery(None), PageWindow(0, 5)
        )
    assert caught.value.code is ErrorCode.UPSTREAM_UNAVAILABLE
    assert "Internal Server Error - Simulated failure" in caught.value.message

"""Guided-workflow jobs: skip/limit without a total, single job by BSON id, errors."""

from __future__ import annotations

import pytest

from simulators.workflow import TOKEN

PROVIDER = "workflow"
LIST = "/jobs/v1/"


def assert_problem(reply, status: int) -> None:
    assert reply.status == status
    assert reply.headers["Content-Type"].startswith("application/problem+json")
    assert reply.body["status"] == status
    assert reply.body["title"]


async def test_limit_defaults_to_20_and_skip_to_0(sims):
    reply = await sims.get(PROVIDER, LIST)
    assert reply.status == 200
    assert reply.body == sims.suite.jobs(PROVIDER, None)[:20]


async def test_default_order_is_oldest_first(sims):
    jobs = sims.suite.jobs(PROVIDER, None)
    created = [job["metadata"]["created"] for job in jobs]
    assert created == sorted(created)


async def test_skip_and_limit_select_a_window(sims):
    reply = await sims.get(PROVIDER, LIST, {"skip": 41, "limit": 9})
    assert reply.body == sims.suite.jobs(PROVIDER, None)[41:50]


async def test_a_page_shorter_than_limit_is_the_end(sims):
    reply = await sims.get(PROVIDER, LIST, {"skip": 260, "limit": 20})
    assert len(reply.body) == 3
    beyond = await sims.get(PROVIDER, LIST, {"skip": 263})
    assert beyond.body == []


async def test_there_is_no_cap_on_limit(sims):
    reply = await sims.get(PROVIDER, LIST, {"limit": 10_000})
    assert len(reply.body) == 263


async def test_no_total_is_returned_anywhere(sims):
    reply = await sims.get(PROVIDER, LIST, {"limit": 5})
    assert isinstance(reply.body, list)
    assert not any("count" in header.lower() for header in reply.headers)


async def test_list_path_without_trailing_slash_also_lists(sims):
    reply = await sims.get(PROVIDER, "/jobs/v1", {"limit": 3})
    assert reply.body == sims.suite.jobs(PROVIDER, None)[:3]


@pytest.mark.parametrize(
    "params", [{"skip": "-1"}, {"limit": "0"}, {"limit": "ten"}, {"skip": "1.0"}]
)
async def test_malformed_or_negative_paging_is_400_problem_details(sims, params):
    reply = await sims.get(PROVIDER, LIST, params)
    assert_problem(reply, 400)


async def test_single_job_by_bson_id(sims):
    job = sims.suite.jobs(PROVIDER, None)[100]
    reply = await sims.get(PROVIDER, f"/jobs/v1/bson/{job['jobId']}")
    assert reply.status == 200
    assert reply.body == job


async def test_unknown_bson_id_is_404(sims):
    reply = await sims.get(PROVIDER, "/jobs/v1/bson/5fa2a458980724000149rq40")
    assert_problem(reply, 404)


async def test_missing_token_is_401_with_www_authenticate(sims):
    reply = await sims.get(PROVIDER, LIST, headers={})
    assert_problem(reply, 401)
    assert reply.headers["WWW-Authenticate"].startswith("Bearer")


async def test_wrong_token_is_401(sims):
    reply = await sims.get(PROVIDER, LIST, headers={"Authorization": f"Basic {TOKEN}"})
    assert_problem(reply, 401)


def test_statuses_include_documented_and_odd_values(suite):
    statuses = {job["metadata"]["status"] for job in suite.jobs(PROVIDER, None)}
    assert {"Paused", "Completed", "InProgress", "Cancelled", "Abandoned"} <= statuses
    assert len(statuses - {"Paused", "Completed", "InProgress", "Cancelled", "Abandoned"}) >= 2


def test_current_step_objects_follow_the_documented_shape(suite):
    steps = [
        job["metadata"]["currentStep"]
        for job in suite.jobs(PROVIDER, None)
        if job["metadata"]["currentStep"] is not None
    ]
    assert steps
    for step in steps:
        assert set(step) == {"singleStep", "reportStep"}
        single = step["singleStep"]
        assert {"uniqueStepId", "stepNumber", "stepTitle", "started", "timeEvents"} <= set(single)
    assert any(job["metadata"]["currentStep"] is None for job in suite.jobs(PROVIDER, None))


def test_abandoned_jobs_say_why(suite):
    for job in suite.jobs(PROVIDER, None):
        reason = job["metadata"]["abandonReason"]
        assert (reason is not None) == (job["metadata"]["status"] == "Abandoned")

"""ModelArts training jobs: page/per_page, filters, sorts, workspaces, bounds and errors."""

from __future__ import annotations

import pytest

from simulators.modelarts import OTHER_WORKSPACE, PROJECTS, SORT_FIELDS

PROVIDER = "modelarts"
BIG, MID, TEN, ONE, EMPTY = (project for project, _, _ in PROJECTS)


def path(project: str = BIG) -> str:
    return f"/v1/{project}/training-jobs"


def assert_modelarts_error(reply, status: int, code: str) -> None:
    assert reply.status == status
    assert reply.body["is_success"] is False
    assert reply.body["error_code"] == code
    assert reply.body["error_message"]


async def test_defaults_are_page_1_of_10_sorted_by_job_name_ascending(sims):
    reply = await sims.get(PROVIDER, path())
    assert reply.status == 200
    jobs = sims.suite.jobs(PROVIDER, BIG)
    assert reply.body["jobs"] == jobs[:10]
    names = [job["job_name"] for job in jobs]
    assert names == sorted(names)


async def test_body_carries_success_total_and_quota_fields(sims):
    reply = await sims.get(PROVIDER, path())
    assert list(reply.body) == [
        "is_success",
        "quotas",
        "job_total_count",
        "job_count_limit",
        "jobs",
    ]
    assert reply.body["is_success"] is True
    assert reply.body["job_total_count"] == 365


async def test_page_and_per_page_select_a_window(sims):
    reply = await sims.get(PROVIDER, path(), {"page": 4, "per_page": 25})
    assert reply.body["jobs"] == sims.suite.jobs(PROVIDER, BIG)[75:100]


async def test_page_past_the_end_is_empty_with_the_total(sims):
    reply = await sims.get(PROVIDER, path(TEN), {"page": 2})
    assert reply.body["jobs"] == []
    assert reply.body["job_total_count"] == 10


@pytest.mark.parametrize(
    "params",
    [
        {"per_page": "0"},
        {"per_page": "1001"},
        {"page": "0"},
        {"page": "65536"},
        {"page": "one"},
        {"sortBy": "name"},
        {"order": "ASC"},
        {"status": "23"},
        {"status": "running"},
        {"search_content": "x" * 65},
    ],
)
async def test_out_of_range_or_malformed_parameters_are_400(sims, params):
    reply = await sims.get(PROVIDER, path(), params)
    assert_modelarts_error(reply, 400, "ModelArts.0104")


@pytest.mark.parametrize(
    "params",
    [{"per_page": "1000"}, {"page": "65535"}, {"per_page": "1"}, {"search_content": "x" * 64}],
)
async def test_bounds_themselves_are_accepted(sims, params):
    reply = await sims.get(PROVIDER, path(), params)
    assert reply.status == 200


async def test_status_filter(sims):
    reply = await sims.get(PROVIDER, path(), {"status": 11, "per_page": 1000})
    expected = [job for job in sims.suite.jobs(PROVIDER, BIG) if job["status"] == 11]
    assert expected and reply.body["jobs"] == expected
    assert reply.body["job_total_count"] == len(expected)


async def test_search_content_is_a_case_insensitive_name_substring(sims):
    reply = await sims.get(PROVIDER, path(), {"search_content": "RESNET", "per_page": 1000})
    expected = [
        job for job in sims.suite.jobs(PROVIDER, BIG) if "resnet" in job["job_name"].lower()
    ]
    assert expected and reply.body["jobs"] == expected


async def test_workspace_id_defaults_to_0_and_hides_other_workspaces(sims):
    other = await sims.get(PROVIDER, path(), {"workspace_id": OTHER_WORKSPACE, "per_page": 100})
    assert other.body["job_total_count"] == 9
    assert other.body["jobs"] == sims.suite.jobs(PROVIDER, BIG, workspace_id=OTHER_WORKSPACE)
    default = await sims.get(PROVIDER, path(), {"per_page": 1000})
    default_ids = {job["job_id"] for job in default.body["jobs"]}
    assert not default_ids & {job["job_id"] for job in other.body["jobs"]}


async def test_unknown_workspace_lists_nothing(sims):
    reply = await sims.get(PROVIDER, path(), {"workspace_id": "ffff"})
    assert reply.body["jobs"] == [] and reply.body["job_total_count"] == 0


@pytest.mark.parametrize("field", SORT_FIELDS)
@pytest.mark.parametrize("order", ["asc", "desc"])
async def test_sort_by_each_field_with_job_id_tie_break(sims, field, order):
    reply = await sims.get(PROVIDER, path(), {"sortBy": field, "order": order, "per_page": 1000})
    jobs = sims.suite.jobs(PROVIDER, BIG)
    expected = sorted(jobs, key=lambda job: (job[field], job["job_id"]), reverse=order == "desc")
    assert reply.body["jobs"] == expected


async def test_unknown_project_is_404(sims):
    reply = await sims.get(PROVIDER, path("0" * 32))
    assert_modelarts_error(reply, 404, "ModelArts.0105")


async def test_missing_token_is_401(sims):
    reply = await sims.get(PROVIDER, path(), headers={})
    assert_modelarts_error(reply, 401, "ModelArts.0101")


async def test_wrong_token_is_401(sims):
    reply = await sims.get(PROVIDER, path(), headers={"X-Auth-Token": "expired"})
    assert_modelarts_error(reply, 401, "ModelArts.0101")


async def test_bearer_authorization_is_not_an_iam_token(sims):
    reply = await sims.get(PROVIDER, path(), headers={"Authorization": "Bearer x"})
    assert_modelarts_error(reply, 401, "ModelArts.0101")


def test_every_status_code_0_to_22_appears(suite):
    sim = suite.sim(PROVIDER)
    codes = {job.payload["status"] for job in sim.dataset[BIG]}
    assert codes == set(range(23))


def test_jobs_have_epoch_millisecond_times_and_millisecond_durations(suite):
    for job in suite.jobs(PROVIDER, BIG):
        assert 1_700_000_000_000 < job["create_time"] < 1_800_000_000_000
        assert job["duration"] >= 0

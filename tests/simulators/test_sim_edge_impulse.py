"""Edge Impulse white-label jobs list: parameters, bounds, errors, auth, data shapes."""

from __future__ import annotations

import pytest

from simulators.datagen import GO_ZERO_TIME
from simulators.edge_impulse import JWT

PROVIDER = "edge_impulse"
BIG, MID, ONE, EMPTY = "4211", "4212", "4213", "4214"


def path(project: str = BIG, organization: str = "1") -> str:
    return f"/api/organizations/{organization}/whitelabel/projects/{project}/jobs"


async def test_list_answers_success_jobs_and_total_job_count(sims):
    reply = await sims.get(PROVIDER, path(), {"limit": 5})
    assert reply.status == 200
    assert list(reply.body) == ["success", "jobs", "totalJobCount"]
    assert reply.body["success"] is True
    assert reply.body["totalJobCount"] == 357


async def test_limit_defaults_to_20_and_offset_to_0(sims):
    reply = await sims.get(PROVIDER, path())
    assert reply.body["jobs"] == sims.suite.jobs(PROVIDER, BIG)[:20]


async def test_default_order_is_newest_first_then_highest_id(sims):
    jobs = sims.suite.jobs(PROVIDER, BIG)
    keys = [(job["created"], job["id"]) for job in jobs]
    assert keys == sorted(keys, reverse=True)


async def test_offset_and_limit_select_a_window(sims):
    reply = await sims.get(PROVIDER, path(), {"offset": 30, "limit": 7})
    assert reply.body["jobs"] == sims.suite.jobs(PROVIDER, BIG)[30:37]


async def test_offset_past_the_end_returns_no_jobs_but_the_total(sims):
    reply = await sims.get(PROVIDER, path(MID), {"offset": 37, "limit": 10})
    assert reply.body == {"success": True, "jobs": [], "totalJobCount": 37}


async def test_empty_project_lists_nothing(sims):
    reply = await sims.get(PROVIDER, path(EMPTY))
    assert reply.body == {"success": True, "jobs": [], "totalJobCount": 0}


@pytest.mark.parametrize(
    "params",
    [
        {"limit": "abc"},
        {"limit": "0"},
        {"limit": "-5"},
        {"limit": "2.5"},
        {"offset": "-1"},
        {"offset": ""},
        [("limit", "5"), ("limit", "6")],
    ],
)
async def test_malformed_or_out_of_range_paging_is_400_with_success_false(sims, params):
    reply = await sims.get(PROVIDER, path(), params)
    assert reply.status == 400
    assert reply.body["success"] is False
    assert reply.body["error"]


async def test_non_numeric_project_id_is_400(sims):
    reply = await sims.get(PROVIDER, path("my-project"))
    assert reply.status == 400
    assert reply.body["success"] is False


async def test_other_organization_is_403_with_success_false(sims):
    reply = await sims.get(PROVIDER, path(organization="2"))
    assert reply.status == 403
    assert reply.body["success"] is False


async def test_unknown_project_answers_http_200_with_success_false(sims):
    reply = await sims.get(PROVIDER, path("999999"))
    assert reply.status == 200
    assert reply.body == {"success": False, "error": "Project 999999 not found"}


async def test_missing_credentials_get_401_with_success_false(sims):
    reply = await sims.get(PROVIDER, path(), headers={})
    assert reply.status == 401
    assert reply.body["success"] is False


async def test_wrong_api_key_gets_401(sims):
    reply = await sims.get(PROVIDER, path(), headers={"x-api-key": "ei_wrong"})
    assert reply.status == 401
    assert reply.body["success"] is False


async def test_jwt_header_is_accepted(sims):
    reply = await sims.get(PROVIDER, path(), headers={"x-jwt-token": JWT})
    assert reply.status == 200


async def test_jwt_cookie_is_accepted(sims):
    reply = await sims.get(PROVIDER, path(), headers={"Cookie": f"jwt={JWT}"})
    assert reply.status == 200


async def test_there_is_no_single_job_route(sims):
    job_id = sims.suite.jobs(PROVIDER, BIG)[0]["id"]
    reply = await sims.get(PROVIDER, f"{path()}/{job_id}")
    assert reply.status == 404
    assert reply.body["success"] is False


def test_jobs_carry_the_required_fields(suite):
    for project in suite.projects(PROVIDER):
        for job in suite.jobs(PROVIDER, project):
            assert {
                "id",
                "key",
                "created",
                "category",
                "categoryKey",
                "jobNotificationUids",
            } <= set(job)


def _lifecycle(job: dict) -> str:
    started = job.get("started") not in (None, GO_ZERO_TIME)
    finished = job.get("finished") not in (None, GO_ZERO_TIME)
    if finished:
        return {True: "succeeded", False: "failed", None: "finished-unknown"}[
            job.get("finishedSuccessful")
        ]
    return "running" if started else "queued"


def test_every_lifecycle_state_appears_including_go_zero_times(suite):
    jobs = suite.jobs(PROVIDER, BIG)
    assert {_lifecycle(job) for job in jobs} == {
        "succeeded",
        "failed",
        "finished-unknown",
        "running",
        "queued",
    }
    assert any(job.get("started") == GO_ZERO_TIME for job in jobs)
    assert any(job.get("finished") == GO_ZERO_TIME and _lifecycle(job) == "running" for job in jobs)
    assert any("started" not in job for job in jobs)


def test_created_by_user_has_id_name_and_username_and_is_sometimes_absent(suite):
    jobs = suite.jobs(PROVIDER, BIG)
    users = [job["createdByUser"] for job in jobs if "createdByUser" in job]
    assert users and len(users) < len(jobs)
    assert all({"id", "name", "username"} <= set(user) for user in users)
    assert any("photo" in user for user in users)


def test_demo_source_names_organization_1_and_the_api_key(sims):
    (source,) = [
        s for s in sims.suite.demo_sources("http://127.0.0.1:8000/") if s["provider"] == PROVIDER
    ]
    assert source["name"] == "ei"
    assert source["organization_id"] == 1
    assert source["api_key_env"] in sims.suite.demo_environ()

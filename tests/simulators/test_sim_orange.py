"""Orange IaaS jobs: capped offset/limit paging, count headers, state filter, sort, errors."""

from __future__ import annotations

import pytest

from simulators.orange import API_KEY, PROJECTS, REQUESTER_ID, SERVER_CAP, TOKEN

PROVIDER = "orange"
BIG, HUNDRED, MID, FIFTY, ONE, EMPTY = (project for project, _ in PROJECTS)


def path(project: str = BIG) -> str:
    return f"/projects/{project}/jobs"


def assert_orange_error(reply, status: int, code: int) -> None:
    assert reply.status == status
    assert reply.body["code"] == code
    assert reply.body["message"]
    assert reply.body["description"]


async def test_default_limit_100_is_capped_at_50_items_per_response(sims):
    reply = await sims.get(PROVIDER, path())
    assert reply.status == 200
    assert len(reply.body) == SERVER_CAP == 50
    assert reply.headers["X-Total-Count"] == "412"
    assert reply.headers["X-Result-Count"] == "50"


async def test_first_page_is_short_while_more_jobs_exist(sims):
    reply = await sims.get(PROVIDER, path(HUNDRED), {"limit": 100})
    assert len(reply.body) == 50
    assert reply.headers["X-Total-Count"] == "100"


async def test_offset_defaults_to_0_and_order_is_oldest_first_then_id(sims):
    jobs = sims.suite.jobs(PROVIDER, BIG)
    reply = await sims.get(PROVIDER, path())
    assert reply.body == jobs[:50]
    keys = [(job["createdDate"], job["id"]) for job in jobs]
    assert keys == sorted(keys)


async def test_limit_below_the_cap_is_honoured(sims):
    reply = await sims.get(PROVIDER, path(), {"offset": 10, "limit": 7})
    assert reply.body == sims.suite.jobs(PROVIDER, BIG)[10:17]
    assert reply.headers["X-Result-Count"] == "7"


async def test_last_page_is_short_and_offset_past_the_end_is_empty(sims):
    last = await sims.get(PROVIDER, path(MID), {"offset": 50})
    assert len(last.body) == 7
    beyond = await sims.get(PROVIDER, path(MID), {"offset": 57})
    assert beyond.body == []
    assert beyond.headers["X-Total-Count"] == "57"
    assert beyond.headers["X-Result-Count"] == "0"


async def test_state_filter_counts_only_matching_jobs(sims):
    reply = await sims.get(PROVIDER, path(), {"state": "failed", "limit": 50})
    failed = [job for job in sims.suite.jobs(PROVIDER, BIG) if job["state"] == "failed"]
    assert reply.headers["X-Total-Count"] == str(len(failed))
    assert reply.body == failed[:50]


async def test_state_is_repeatable(sims):
    params = [("state", "acknowledged"), ("state", "in-progress")]
    reply = await sims.get(PROVIDER, path(), params)
    active = [
        job
        for job in sims.suite.jobs(PROVIDER, BIG)
        if job["state"] in ("acknowledged", "in-progress")
    ]
    assert active and reply.body == active


async def test_unknown_state_is_400(sims):
    reply = await sims.get(PROVIDER, path(), {"state": "running"})
    assert_orange_error(reply, 400, 28)


async def test_comma_joined_states_are_not_a_list(sims):
    reply = await sims.get(PROVIDER, path(), {"state": "failed,completed"})
    assert_orange_error(reply, 400, 28)


@pytest.mark.parametrize(
    "params",
    [
        {"offset": "-1"},
        {"offset": "x"},
        {"limit": "0"},
        {"limit": "-3"},
        {"limit": "2147483648"},
        {"offset": "2147483648"},
        {"limit": "1e3"},
    ],
)
async def test_out_of_range_or_malformed_paging_is_400(sims, params):
    reply = await sims.get(PROVIDER, path(), params)
    assert_orange_error(reply, 400, 28)


async def test_int32_maximum_limit_is_accepted_and_still_capped(sims):
    reply = await sims.get(PROVIDER, path(), {"limit": "2147483647"})
    assert reply.status == 200
    assert len(reply.body) == 50


async def test_sort_descending_by_created_date_breaks_ties_by_default_order(sims):
    reply = await sims.get(PROVIDER, path(MID), {"sort": "-createdDate"})
    jobs = sims.suite.jobs(PROVIDER, MID)
    expected = sorted(jobs, key=lambda job: job["createdDate"], reverse=True)
    assert reply.body == expected[:50]


async def test_sort_by_several_fields(sims):
    reply = await sims.get(PROVIDER, path(MID), {"sort": "-state,createdDate", "limit": 50})
    jobs = sims.suite.jobs(PROVIDER, MID)
    expected = sorted(
        sorted(jobs, key=lambda j: j["createdDate"]), key=lambda j: j["state"], reverse=True
    )
    assert reply.body == expected[:50]


async def test_sort_puts_missing_dates_last_ascending(sims):
    reply = await sims.get(PROVIDER, path(), {"sort": "endProcessingDate", "offset": 400})
    assert reply.status == 200
    tail = reply.body
    assert "endProcessingDate" not in tail[-1]


@pytest.mark.parametrize(
    "sort",
    ["createdDate,-id", "created date", "-", "", "x" * 101, "createdDate;id", "nope"],
)
async def test_sort_outside_the_documented_syntax_or_fields_is_400(sims, sort):
    reply = await sims.get(PROVIDER, path(), {"sort": sort})
    assert_orange_error(reply, 400, 28)


async def test_single_job_lookup_returns_the_job(sims):
    job = sims.suite.jobs(PROVIDER, MID)[3]
    reply = await sims.get(PROVIDER, f"{path(MID)}/{job['id']}")
    assert reply.status == 200
    assert reply.body == job


async def test_unknown_job_is_404_with_code_60(sims):
    reply = await sims.get(PROVIDER, f"{path(MID)}/00000000-0000-4000-8000-000000000000")
    assert_orange_error(reply, 404, 60)


async def test_job_of_another_project_is_404(sims):
    job = sims.suite.jobs(PROVIDER, ONE)[0]
    reply = await sims.get(PROVIDER, f"{path(MID)}/{job['id']}")
    assert_orange_error(reply, 404, 60)


async def test_unknown_project_is_404(sims):
    reply = await sims.get(PROVIDER, path("no-such-project"))
    assert_orange_error(reply, 404, 60)


async def test_missing_credentials_are_401_code_40(sims):
    reply = await sims.get(PROVIDER, path(), headers={})
    assert_orange_error(reply, 401, 40)


async def test_wrong_credentials_are_401_code_41(sims):
    reply = await sims.get(PROVIDER, path(), headers={"X-API-Key": "nope"})
    assert_orange_error(reply, 401, 41)


async def test_bearer_token_alone_is_accepted(sims):
    headers = {"Authorization": f"Bearer {TOKEN}"}
    reply = await sims.get(PROVIDER, path(), headers=headers)
    assert reply.status == 200


async def test_requester_id_header_is_accepted_alongside(sims):
    headers = {"X-API-Key": API_KEY, "X-Requester-Id": REQUESTER_ID}
    reply = await sims.get(PROVIDER, path(), headers=headers)
    assert reply.status == 200


async def test_post_is_405_with_orange_body(sims):
    reply = await sims.get(PROVIDER, path(), method="POST")
    assert_orange_error(reply, 405, 61)


def test_every_state_appears_with_consistent_dates_and_messages(suite):
    jobs = suite.jobs(PROVIDER, BIG)
    assert {job["state"] for job in jobs} == {"acknowledged", "in-progress", "completed", "failed"}
    for job in jobs:
        if job["state"] == "acknowledged":
            assert "startProcessingDate" not in job and "endProcessingDate" not in job
        if job["state"] == "in-progress":
            assert "startProcessingDate" in job and "endProcessingDate" not in job
        if job["state"] in ("completed", "failed"):
            assert "endProcessingDate" in job
        if job["state"] == "failed":
            assert job["messages"] and all(isinstance(m["code"], int) for m in job["messages"])
    assert any("description" not in message for job in jobs for message in job["messages"])


def test_href_is_an_absolute_uri_naming_the_job(suite):
    job = suite.jobs(PROVIDER, ONE)[0]
    assert job["hRef"].startswith("https://")
    assert job["hRef"].endswith(f"/projects/{ONE}/jobs/{job['id']}")


def test_demo_source_names_the_api_key_and_the_token(sims):
    (source,) = [
        s for s in sims.suite.demo_sources("http://127.0.0.1:8000/") if s["provider"] == PROVIDER
    ]
    environ = sims.suite.demo_environ()
    assert environ[source["api_key_env"]] == API_KEY
    assert environ[source["token_env"]] == TOKEN

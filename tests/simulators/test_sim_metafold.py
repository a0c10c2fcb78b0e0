"""Metafold jobs: the whole list, `q` search syntax, `sort=field:order`, single jobs, errors."""

from __future__ import annotations

import pytest

PROVIDER = "metafold"
BIG, MID, ONE, EMPTY, SMALL = "1024", "1031", "1040", "1041", "1077"


def path(project: str = BIG) -> str:
    return f"/projects/{project}/jobs"


def assert_metafold_error(reply, status: int) -> None:
    assert reply.status == status
    assert reply.body["code"] == status
    assert reply.body["name"]
    assert reply.body["description"]


async def ids(sims, params, project: str = BIG) -> list[str]:
    reply = await sims.get(PROVIDER, path(project), params)
    assert reply.status == 200, reply.body
    return [job["id"] for job in reply.body]


async def test_returns_the_whole_list_in_one_array(sims):
    reply = await sims.get(PROVIDER, path())
    assert reply.status == 200
    assert len(reply.body) == 388
    assert reply.body == sims.suite.jobs(PROVIDER, BIG)


async def test_default_order_is_id_descending(sims):
    listed = await ids(sims, None)
    assert listed == sorted(listed, key=int, reverse=True)


async def test_empty_project_is_an_empty_array(sims):
    reply = await sims.get(PROVIDER, path(EMPTY))
    assert reply.body == []


async def test_paging_parameters_are_ignored(sims):
    assert await ids(sims, {"limit": 5, "offset": 3}) == await ids(sims, None)


async def test_q_matches_a_field_exactly(sims):
    jobs = sims.suite.jobs(PROVIDER, BIG)
    expected = [job["id"] for job in jobs if job["state"] == "success"]
    assert await ids(sims, {"q": "state:success"}) == expected


async def test_q_value_match_is_case_insensitive(sims):
    assert await ids(sims, {"q": "state:SUCCESS"}) == await ids(sims, {"q": "state:success"})


async def test_q_star_is_a_wildcard(sims):
    jobs = sims.suite.jobs(PROVIDER, BIG)
    expected = [job["id"] for job in jobs if job["name"] and "lattice" in job["name"].lower()]
    assert expected and await ids(sims, {"q": "name:*lattice*"}) == expected


async def test_q_without_wildcard_does_not_match_substrings(sims):
    assert await ids(sims, {"q": "name:lattice"}) == []


async def test_q_quoted_value_may_contain_spaces_and_escaped_quotes(sims):
    jobs = sims.suite.jobs(PROVIDER, BIG)
    spaced = [job["id"] for job in jobs if job["name"] == "gyroid lattice 0.8mm"]
    quoted = [job["id"] for job in jobs if job["name"] == 'lattice "fine"']
    assert spaced and await ids(sims, {"q": 'name:"gyroid lattice 0.8mm"'}) == spaced
    assert quoted and await ids(sims, {"q": r'name:"lattice \"fine\""'}) == quoted


async def test_q_bang_negates_a_term(sims):
    jobs = sims.suite.jobs(PROVIDER, BIG)
    expected = [job["id"] for job in jobs if job["state"] != "failure"]
    assert await ids(sims, {"q": "!state:failure"}) == expected


async def test_q_terms_joined_by_and_must_all_match(sims):
    jobs = sims.suite.jobs(PROVIDER, BIG)
    expected = [
        job["id"] for job in jobs if job["type"] == "evaluate_graph" and job["state"] == "success"
    ]
    assert expected and await ids(sims, {"q": "type:evaluate_graph AND state:success"}) == expected


async def test_q_type_values_may_contain_a_slash(sims):
    jobs = sims.suite.jobs(PROVIDER, BIG)
    expected = [job["id"] for job in jobs if job["type"] == "implicit/from-mesh"]
    assert expected and await ids(sims, {"q": "type:implicit/from-mesh"}) == expected


async def test_q_by_id(sims):
    job = sims.suite.jobs(PROVIDER, BIG)[7]
    assert await ids(sims, {"q": f"id:{job['id']}"}) == [job["id"]]


async def test_q_name_never_matches_a_null_name_but_negation_does(sims):
    jobs = sims.suite.jobs(PROVIDER, BIG)
    nameless = [job["id"] for job in jobs if job["name"] is None]
    assert nameless
    assert not set(nameless) & set(await ids(sims, {"q": "name:*"}))
    assert set(nameless) <= set(await ids(sims, {"q": "!name:*"}))


@pytest.mark.parametrize(
    "q",
    [
        "state",
        "color:red",
        "state:success OR state:failure",
        "state:success and type:evaluate_graph",
        "state:success AND",
        'name:"unterminated',
        "(state:success)",
    ],
)
async def test_q_outside_the_syntax_is_400(sims, q):
    reply = await sims.get(PROVIDER, path(), {"q": q})
    assert_metafold_error(reply, 400)


@pytest.mark.parametrize("field", ["id", "name", "created", "started", "finished"])
@pytest.mark.parametrize("order", ["1", "-1"])
async def test_sort_by_each_field_and_order(sims, field, order):
    jobs = sims.suite.jobs(PROVIDER, BIG)
    descending = order == "-1"

    def key(job):
        value = int(job["id"]) if field == "id" else job[field]
        return (value is None, value if value is not None else "", int(job["id"]))

    present = [job for job in jobs if field == "id" or job[field] is not None]
    missing = [job for job in jobs if field != "id" and job[field] is None]
    ordered = sorted(present, key=key, reverse=descending)
    missing = sorted(missing, key=lambda job: int(job["id"]), reverse=descending)
    expected = missing + ordered if descending else ordered + missing
    assert await ids(sims, {"sort": f"{field}:{order}"}) == [job["id"] for job in expected]


@pytest.mark.parametrize("sort", ["created", "created:asc", "type:1", "created:0", ":1"])
async def test_sort_outside_field_colon_order_is_400(sims, sort):
    reply = await sims.get(PROVIDER, path(), {"sort": sort})
    assert_metafold_error(reply, 400)


async def test_single_job_lookup(sims):
    job = sims.suite.jobs(PROVIDER, MID)[5]
    reply = await sims.get(PROVIDER, f"{path(MID)}/{job['id']}")
    assert reply.status == 200
    assert reply.body == job


async def test_unknown_job_is_404(sims):
    reply = await sims.get(PROVIDER, f"{path(MID)}/1")
    assert_metafold_error(reply, 404)


async def test_unknown_project_is_404(sims):
    reply = await sims.get(PROVIDER, path("nope"))
    assert_metafold_error(reply, 404)


async def test_missing_token_is_401(sims):
    reply = await sims.get(PROVIDER, path(), headers={})
    assert_metafold_error(reply, 401)


async def test_wrong_token_is_401(sims):
    reply = await sims.get(PROVIDER, path(), headers={"Authorization": "Bearer expired"})
    assert_metafold_error(reply, 401)


def test_every_state_appears(suite):
    states = {job["state"] for job in suite.jobs(PROVIDER, BIG)}
    assert states == {"pending", "started", "success", "failure", "canceled"}


def test_needs_name_earlier_jobs_of_the_same_project_in_chains(suite):
    for project in suite.projects(PROVIDER):
        jobs = {job["id"]: job for job in suite.jobs(PROVIDER, project)}
        for job in jobs.values():
            for needed in job["needs"]:
                assert needed in jobs
                assert int(needed) < int(job["id"])
                assert jobs[needed]["workflow_id"] == job["workflow_id"] is not None
    chained = {job["id"]: job for job in suite.jobs(PROVIDER, BIG) if job["needs"]}
    assert any(len(job["needs"]) == 2 for job in chained.values())
    assert any(job["needs"][-1] in chained for job in chained.values()), "no chain of three"


def test_jobs_after_a_failed_upstream_are_canceled(suite):
    jobs = {job["id"]: job for job in suite.jobs(PROVIDER, BIG)}
    for job in jobs.values():
        upstream = [jobs[needed]["state"] for needed in job["needs"]]
        if {"failure", "canceled"} & set(upstream):
            assert job["state"] == "canceled"
        if job["state"] in ("started", "success", "failure"):
            assert all(state == "success" for state in upstream)


def test_unstarted_jobs_have_null_started_and_finished(suite):
    for job in suite.jobs(PROVIDER, BIG):
        if job["state"] == "pending":
            assert job["started"] is None and job["finished"] is None
        if job["state"] == "failure":
            assert job["error"]
        if job["state"] == "success":
            assert job["outputs"]["assets"]["volume"]["checksum"].startswith("sha256:")

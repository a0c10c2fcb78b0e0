"""Cached sorted and filtered views (`simulators/views.py`) never serve a list that went stale:
each test lists once (building the view), changes what the view is built from, and lists
again, comparing with the list computed afresh from the stored jobs."""

from __future__ import annotations

from typing import Any

import pytest

from simulators import SimulatorSuite
from simulators.ordering import sort_by
from simulators.views import ProjectViews
from tests.simulators.conftest import SimHTTP

ORANGE = "3f2b8c1e-6a4d-4e8b-9c27-5d1f0a7e4b93"
MODELARTS = "0f5c8a1e2b3d4c5e6f708192a3b4c5d6"
METAFOLD = "1024"
BIGGEST = {"orange": ORANGE, "modelarts": MODELARTS, "metafold": METAFOLD}
ID_KEY = {"orange": "id", "modelarts": "job_id", "metafold": "id"}
CREATED_KEY = {"orange": "createdDate", "modelarts": "create_time", "metafold": "created"}


@pytest.fixture(autouse=True)
def served_from_the_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """What the cached views serve on their own, without the suite-wide fresh build beside
    them (tests/conftest.py) that would fail a stale view before it is served."""
    monkeypatch.setattr(ProjectViews, "verify", False)


async def listed(sims: SimHTTP, provider: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    """Every job of the biggest project that the list endpoint gives for `params`."""
    project = BIGGEST[provider]
    if provider == "metafold":
        reply = await sims.list(provider, project, params)
        assert reply.status == 200
        return list(reply.body)
    if provider == "modelarts":
        reply = await sims.list(provider, project, {**params, "per_page": 1000})
        assert reply.status == 200
        return list(reply.body["jobs"])
    jobs: list[dict[str, Any]] = []
    while True:
        reply = await sims.list(provider, project, {**params, "offset": len(jobs)})
        assert reply.status == 200
        jobs += reply.body
        if len(jobs) >= int(reply.headers["X-Total-Count"]):
            return jobs


def fresh(suite: SimulatorSuite, provider: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    """The same list computed now from the stored jobs (the cases used below only)."""
    jobs = suite.jobs(provider, BIGGEST[provider])
    if provider == "orange":
        if "state" in params:
            jobs = [job for job in jobs if job["state"] == params["state"]]
        if "sort" in params:
            name = params["sort"].lstrip("-")
            jobs = sort_by(jobs, [(lambda job: job.get(name), params["sort"].startswith("-"))])
        return jobs
    if provider == "modelarts":
        if "status" in params:
            jobs = [job for job in jobs if job["status"] == params["status"]]
        field, descending = params.get("sortBy", "job_name"), params.get("order") == "desc"
        return sort_by(
            jobs, [(lambda job: job[field], descending), (lambda job: job["job_id"], descending)]
        )
    if "q" in params:
        state = params["q"].removeprefix("state:")
        jobs = [job for job in jobs if job["state"] == state]
    if "sort" in params:
        name, _, order = params["sort"].partition(":")
        descending = order == "-1"
        jobs = sort_by(
            jobs, [(lambda job: job[name], descending), (lambda job: int(job["id"]), descending)]
        )
    return jobs


def ids(provider: str, jobs: list[dict[str, Any]]) -> list[Any]:
    return [job[ID_KEY[provider]] for job in jobs]


SORTED = [
    ("orange", {"sort": "-createdDate"}),
    ("orange", {"state": "completed", "sort": "description"}),
    ("modelarts", {"sortBy": "create_time", "order": "desc"}),
    ("modelarts", {"status": 10, "sortBy": "duration"}),
    ("metafold", {"sort": "created:-1"}),
    ("metafold", {"q": "state:success", "sort": "name:1"}),
]


@pytest.mark.parametrize(("provider", "params"), SORTED)
async def test_a_cached_view_shows_jobs_created_after_it_was_built(make_sims, provider, params):
    sims = await make_sims(SimulatorSuite())
    before = await listed(sims, provider, params)
    assert before == fresh(sims.suite, provider, params)
    project = BIGGEST[provider]
    status, body = await sims.control(provider, "POST", "jobs", {"project": project, "create": 3})
    assert status == 200
    after = await listed(sims, provider, params)
    assert after == fresh(sims.suite, provider, params)
    all_ids = {job[ID_KEY[provider]] for job in sims.suite.jobs(provider, project)}
    assert set(body["created"]) <= all_ids
    if "state" not in params and "status" not in params and "q" not in params:
        assert len(after) == len(before) + 3


@pytest.mark.parametrize(("provider", "params"), SORTED)
async def test_a_cached_view_drops_jobs_deleted_after_it_was_built(make_sims, provider, params):
    sims = await make_sims(SimulatorSuite())
    before = await listed(sims, provider, params)
    gone = ids(provider, before[:2])
    body = {"project": BIGGEST[provider], "delete": gone}
    status, reply = await sims.control(provider, "POST", "jobs", body)
    assert (status, reply["deleted"]) == (200, 2)
    after = await listed(sims, provider, params)
    assert after == fresh(sims.suite, provider, params)
    assert ids(provider, after) == ids(provider, before)[2:]


# Views whose jobs the clock moves: filtered by a status that changes, sorted by a time or a
# duration that changes.
MOVED_BY_THE_CLOCK = [
    ("orange", {"state": "acknowledged"}),
    ("orange", {"sort": "-endProcessingDate"}),
    ("modelarts", {"status": 8}),
    ("modelarts", {"sortBy": "duration", "order": "desc"}),
    ("metafold", {"q": "state:pending"}),
    ("metafold", {"sort": "finished:-1"}),
]


@pytest.mark.parametrize(("provider", "params"), MOVED_BY_THE_CLOCK)
async def test_a_cached_view_follows_the_clock(make_sims, provider, params):
    sims = await make_sims(SimulatorSuite(clock=True))
    before = await listed(sims, provider, params)
    assert before == fresh(sims.suite, provider, params)
    status, _ = await sims.control(provider, "POST", "clock", {"advance_s": 6 * 3600})
    assert status == 200
    after = await listed(sims, provider, params)
    assert after == fresh(sims.suite, provider, params)
    assert after != before  # the clock did move these jobs


TIED = [
    ("orange", {"sort": "-createdDate"}),
    ("modelarts", {"sortBy": "create_time", "order": "desc"}),
    ("metafold", {"sort": "created:-1"}),
]


@pytest.mark.parametrize(("provider", "params"), TIED)
async def test_ties_shuffled_after_a_view_is_cached_come_in_a_new_order_on_every_request(
    make_sims, provider, params
):
    sims = await make_sims(SimulatorSuite())
    plain = await listed(sims, provider, params)
    status, _ = await sims.control(provider, "POST", "quirks", {"shuffle_ties": True})
    assert status == 200
    shuffled = [await listed(sims, provider, params) for _ in range(4)]
    assert len({tuple(ids(provider, jobs)) for jobs in shuffled}) == 4
    created = CREATED_KEY[provider]
    for jobs in shuffled:  # only jobs created at the same instant trade places
        assert [job[created] for job in jobs] == [job[created] for job in plain]
    await sims.control(provider, "POST", "quirks", {"shuffle_ties": False})
    assert await listed(sims, provider, params) == plain


async def test_busy_arrivals_are_in_every_list_of_a_cached_view(make_sims):
    sims = await make_sims(SimulatorSuite())
    params = {"sort": "-createdDate", "limit": 5}
    first = await sims.list("orange", ORANGE, params)
    await sims.control("orange", "POST", "quirks", {"busy": 2})
    second = await sims.list("orange", ORANGE, params)
    third = await sims.list("orange", ORANGE, params)
    totals = [int(reply.headers["X-Total-Count"]) for reply in (first, second, third)]
    assert totals == [412, 414, 416]
    newest = fresh(sims.suite, "orange", {"sort": "-createdDate"})[:5]
    assert third.body == newest
    assert ids("orange", third.body[:2]) != ids("orange", second.body[:2])


async def test_a_cap_switched_on_after_a_view_is_cached_caps_its_pages(make_sims):
    sims = await make_sims(SimulatorSuite())
    params = {"sortBy": "create_time", "per_page": 20}
    wide = await sims.list("modelarts", MODELARTS, params)
    await sims.control("modelarts", "POST", "quirks", {"cap": 7})
    capped = await sims.list("modelarts", MODELARTS, params)
    assert capped.body["jobs"] == wide.body["jobs"][:7]


async def test_literal_stars_switched_on_after_a_query_is_cached_change_what_it_finds(make_sims):
    sims = await make_sims(SimulatorSuite())
    params = {"q": 'name:"gyroid*"'}
    wildcard = await sims.list("metafold", METAFOLD, params)
    assert wildcard.body and all(job["name"].startswith("gyroid") for job in wildcard.body)
    await sims.control("metafold", "POST", "quirks", {"literal_star_in_quotes": True})
    assert (await sims.list("metafold", METAFOLD, params)).body == []
    await sims.control("metafold", "POST", "quirks", {"literal_star_in_quotes": False})
    assert (await sims.list("metafold", METAFOLD, params)).body == wildcard.body


async def test_a_job_edited_in_place_is_listed_as_edited_once_the_simulator_is_told(make_sims):
    sims = await make_sims(SimulatorSuite())
    params = {"state": "completed"}
    before = await listed(sims, "orange", params)
    sim = sims.suite.sim("orange")
    edited = next(job for job in sim.dataset[ORANGE] if job.payload["id"] == before[0]["id"])
    edited.payload["state"] = "failed"
    sim.changed(ORANGE)
    after = await listed(sims, "orange", params)
    assert ids("orange", after) == ids("orange", before)[1:]


async def test_in_verify_mode_a_view_stale_after_an_unannounced_edit_fails_the_request(
    make_sims, monkeypatch
):
    monkeypatch.setattr(ProjectViews, "verify", True)
    sims = await make_sims(SimulatorSuite())
    params = {"state": "completed", "limit": 5}
    before = await sims.list("orange", ORANGE, params)
    sim = sims.suite.sim("orange")
    edited = next(job for job in sim.dataset[ORANGE] if job.payload["id"] == before.body[0]["id"])
    edited.payload["state"] = "failed"
    assert (await sims.list("orange", ORANGE, params)).status == 500
    sim.changed(ORANGE)
    assert (await sims.list("orange", ORANGE, params)).status == 200


async def test_reset_keeps_cached_views_of_unchanged_data_exact(make_sims):
    sims = await make_sims(SimulatorSuite())
    params = {"sortBy": "create_time", "order": "desc"}
    before = await listed(sims, "modelarts", params)
    await sims.control("modelarts", "POST", "reset")
    assert (
        await listed(sims, "modelarts", params) == before == fresh(sims.suite, "modelarts", params)
    )

"""The Metafold adapter: state mapping, `q`/`sort` pushdown, whole-list by-id lookups."""

from __future__ import annotations

import re

import pytest

from resolvers.domain import CreatedOrder, JobFilterSpec, JobStatus
from resolvers.errors import ErrorCode, UpstreamError
from resolvers.paging import PageWindow
from resolvers.providers.base import ListQuery
from tests.adapters.conftest import Upstreams

P = "metafold"
STATE_STATUS = {
    "pending": JobStatus.QUEUED,
    "started": JobStatus.RUNNING,
    "success": JobStatus.SUCCEEDED,
    "failure": JobStatus.FAILED,
    "canceled": JobStatus.CANCELED,
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
    assert [j.name for j in jobs] == [r["name"] for r in raw]
    assert [j.error_message for j in jobs] == [r["error"] for r in raw]
    assert [j.payload.needs for j in jobs] == [r["needs"] for r in raw]
    with_assets = [j for j in jobs if j.payload.outputs.assets]
    assert with_assets and all(a.checksum for a in with_assets[0].payload.outputs.assets.values())


async def test_a_status_set_is_sent_as_negated_states_with_the_creation_sort(
    upstreams: Upstreams,
) -> None:
    project = upstreams.biggest_project(P)
    spec = JobFilterSpec(statuses=frozenset({JobStatus.SUCCEEDED, JobStatus.FAILED}))
    pushdown = upstreams.adapter(P).pushdown(project, CreatedOrder.DESC, spec)
    assert pushdown.ordered and not pushdown.empty
    assert pushdown.query.params == (
        ("q", "!state:pending AND !state:started AND !state:canceled"),
        ("sort", "created:-1"),
    )
    jobs = await upstreams.all_jobs(P, pushdown.query)
    assert {j.status for j in jobs} == {JobStatus.SUCCEEDED, JobStatus.FAILED}
    raw = upstreams.raw(P, project)
    assert len(jobs) == sum(r["state"] in ("success", "failure") for r in raw)
    created = [j.created_at for j in jobs]
    assert created == sorted(created, reverse=True)
    [entry] = upstreams.log(P).entries
    assert entry.param("q") == [pushdown.query.params[0][1]]
    assert entry.param("sort") == ["created:-1"]


def test_statuses_metafold_never_reports_make_the_listing_empty(upstreams: Upstreams) -> None:
    spec = JobFilterSpec(statuses=frozenset({JobStatus.PAUSED}))
    assert upstreams.adapter(P).pushdown("1024", CreatedOrder.ASC, spec).empty


@pytest.mark.parametrize(
    "term", ["Suzanne", "suzanne HÉAD", 'lattice "fine"', "MESH", "*", "back\\slash"]
)
@pytest.mark.parametrize("literal_star", [False, True])
async def test_search_sent_as_a_name_pattern_selects_a_superset_of_local_matches(
    upstreams: Upstreams, term: str, literal_star: bool
) -> None:
    # Whether `*` inside quotes is a wildcard is undocumented: the pattern must not need it.
    upstreams.suite.sim(P).quirks.literal_star_in_quotes = literal_star
    project = upstreams.biggest_project(P)
    spec = JobFilterSpec(search=term)
    pushdown = upstreams.adapter(P).pushdown(project, CreatedOrder.ASC, spec)
    everything = await upstreams.all_jobs(P, ListQuery(project))
    pushed = await upstreams.all_jobs(P, pushdown.query)
    expected = {j.native_id for j in everything if spec.matches(j)}
    assert expected <= {j.native_id for j in pushed}
    q = dict(pushdown.query.params).get("q")
    if q is None:  # no letter or digit to match on: filtered locally only
        assert not any(c.isascii() and c.isalnum() for c in term)
        return
    assert re.fullmatch(r"name:\*(?:[a-z0-9]+\*)+", q), q
    assert upstreams.log(P).count("list", q=q) == 1


def test_a_search_whose_every_letter_may_fold_differently_is_left_to_local_filtering(
    upstreams: Upstreams,
) -> None:
    # "ss" matches "ß" under casefold(), which Metafold's case-insensitive match does not.
    pushdown = upstreams.adapter(P).pushdown("1024", CreatedOrder.ASC, JobFilterSpec(search="ss"))
    assert pushdown.query.params == (("sort", "created:1"),)


async def test_search_narrows_the_upstream_list(upstreams: Upstreams) -> None:
    project = upstreams.biggest_project(P)
    pushdown = upstreams.adapter(P).pushdown(
        project, CreatedOrder.DESC, JobFilterSpec(search="Suzanne héad")
    )
    assert dict(pushdown.query.params)["q"].startswith("name:")
    pushed = await upstreams.all_jobs(P, pushdown.query)
    assert 0 < len(pushed) < len(upstreams.raw(P, project))


async def test_one_id_is_fetched_from_the_single_job_endpoint(upstreams: Upstreams) -> None:
    project = upstreams.biggest_project(P)
    job_id = upstreams.raw_ids(P, project)[5]
    found = await upstreams.adapter(P).fetch_by_ids(upstreams.session(), project, [job_id])
    assert list(found) == [job_id]
    assert upstreams.log(P).counts() == {"get": 1}


async def test_a_missing_single_id_is_absent(upstreams: Upstreams) -> None:
    project = upstreams.biggest_project(P)
    assert await upstreams.adapter(P).fetch_by_ids(upstreams.session(), project, ["1"]) == {}


async def test_several_ids_cost_one_unfiltered_list_request(upstreams: Upstreams) -> None:
    project = upstreams.biggest_project(P)
    ids = upstreams.raw_ids(P, project)
    wanted = [ids[0], ids[100], ids[-1], "1"]
    found = await upstreams.adapter(P).fetch_by_ids(upstreams.session(), project, wanted)
    assert sorted(found) == sorted(wanted[:3])
    [entry] = upstreams.log(P).entries
    assert entry.route == "list" and entry.query == ()


async def test_several_ids_share_the_unfiltered_listing_made_in_the_same_operation(
    upstreams: Upstreams,
) -> None:
    project = upstreams.biggest_project(P)
    adapter = upstreams.adapter(P)
    http = upstreams.session()
    ids = upstreams.raw_ids(P, project)
    await adapter.fetch_window(http, ListQuery(project), PageWindow(0, 10))
    found = await adapter.fetch_by_ids(http, project, ids[:3])
    assert len(found) == 3
    assert len(upstreams.log(P).entries) == 1


async def test_an_unknown_project_is_not_found_with_metafold_error_fields(
    upstreams: Upstreams,
) -> None:
    with pytest.raises(UpstreamError) as caught:
        await upstreams.adapter(P).fetch_window(
            upstreams.session(), ListQuery("999"), PageWindow(0, 10)
        )
    error = caught.value
    assert error.code is ErrorCode.UPSTREAM_NOT_FOUND
    assert (error.upstream_status, error.upstream_code) == (404, "404")
    assert "Not Found" in error.message and "project 999 not found" in error.message


async def test_a_window_of_the_whole_list_validates_and_builds_only_its_own_jobs(
    upstreams: Upstreams,
) -> None:
    project = upstreams.biggest_project(P)
    listed = [r["id"] for r in upstreams.raw(P, project)]
    broken = next(
        j for j in upstreams.suite.sim(P).dataset[project] if j.payload["id"] == listed[30]
    )
    del broken.payload["state"]
    adapter, query = upstreams.adapter(P), ListQuery(project)

    first = await adapter.fetch_window(upstreams.session(), query, PageWindow(0, 20))
    assert [job.native_id for job in first.items] == listed[:20]
    assert first.total == len(listed)
    with pytest.raises(UpstreamError) as caught:
        await adapter.fetch_window(upstreams.session(), query, PageWindow(20, 40))
    assert caught.value.code is ErrorCode.UPSTREAM_INVALID_RESPONSE
    assert "30.state" in caught.value.message

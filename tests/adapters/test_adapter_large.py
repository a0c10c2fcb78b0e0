"""Scans that span several upstream pages, on the simulators' large dataset."""

from __future__ import annotations

import pytest

from resolvers.paging import PageWindow
from resolvers.providers.base import ListQuery
from resolvers.providers.edge_impulse import MAX_LIMIT
from simulators import SimulatorSuite
from tests.adapters.conftest import Upstreams


@pytest.fixture(scope="module")
def large_suite() -> SimulatorSuite:
    return SimulatorSuite(sizes="large")


@pytest.fixture
def suite(large_suite: SimulatorSuite) -> SimulatorSuite:
    large_suite.reset()
    return large_suite


async def test_edge_impulse_by_id_scan_stops_at_the_page_holding_the_last_wanted_id(
    upstreams: Upstreams,
) -> None:
    raw_ids = upstreams.raw_ids("edge_impulse", "4211")
    assert len(raw_ids) > 5 * MAX_LIMIT
    wanted = [raw_ids[10], raw_ids[2 * MAX_LIMIT + 5]]
    found = await upstreams.adapter("edge_impulse").fetch_by_ids(
        upstreams.session(), "4211", wanted
    )
    assert sorted(found) == sorted(wanted)
    offsets = [e.param("offset") for e in upstreams.log("edge_impulse").entries]
    assert offsets == [["0"], [str(MAX_LIMIT)], [str(2 * MAX_LIMIT)]]


async def test_modelarts_by_id_scan_walks_pages_of_1000(upstreams: Upstreams) -> None:
    project = upstreams.biggest_project("modelarts")
    raw_ids = upstreams.raw_ids("modelarts", project)
    assert len(raw_ids) > 1000
    found = await upstreams.adapter("modelarts").fetch_by_ids(
        upstreams.session(), project, [raw_ids[1500]]
    )
    assert list(found) == [raw_ids[1500]]
    entries = upstreams.log("modelarts").entries
    assert [(e.param("page"), e.param("per_page")) for e in entries] == [
        (["1"], ["1000"]),
        (["2"], ["1000"]),
    ]


async def test_orange_walk_of_a_big_project_after_learning_the_cap_is_exact(
    upstreams: Upstreams,
) -> None:
    project = upstreams.biggest_project("orange")
    adapter = upstreams.adapter("orange")
    result = await adapter.fetch_window(
        upstreams.session(), ListQuery(project), PageWindow(0, 2000)
    )
    assert [j.native_id for j in result.items] == upstreams.raw_ids("orange", project)[:2000]
    assert adapter.hints(upstreams.session()).learned_cap == 50

"""Walking `jobs` forward or backward, in either order and with any page size, visits the
union of every source's jobs exactly once, in one merged creation-time order."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulators.datagen import BASE_TIME
from tests.conftest import Gateway
from tests.jobs.conftest import assert_merged, brute_force, walk

DESC, ASC = "CREATED_AT_DESC", "CREATED_AT_ASC"


async def test_newest_first_forward_walk_visits_every_job_once_in_merged_order(
    gateway: Gateway,
) -> None:
    walked = await walk(gateway, 100)
    assert_merged(gateway, walked.nodes, brute_force(gateway), DESC)


async def test_newest_first_is_the_default_order(gateway: Gateway) -> None:
    default = await gateway.data("{ jobs(first: 30) { nodes { id } } }")
    explicit = await gateway.data("{ jobs(first: 30, orderBy: CREATED_AT_DESC) { nodes { id } } }")
    assert default == explicit


async def test_newest_first_backward_walk_visits_every_job_once_in_merged_order(
    gateway: Gateway,
) -> None:
    walked = await walk(gateway, 100, backward=True)
    assert_merged(gateway, walked.nodes, brute_force(gateway), DESC)


async def test_oldest_first_forward_and_backward_walks_return_the_identical_order(
    gateway: Gateway,
) -> None:
    forward = await walk(gateway, 100, orderBy=ASC)
    backward = await walk(gateway, 87, backward=True, orderBy=ASC)
    assert_merged(gateway, forward.nodes, brute_force(gateway), ASC)
    assert backward.nodes == forward.nodes


async def test_walks_report_neighbouring_pages_exactly(gateway: Gateway) -> None:
    forward = await walk(gateway, 90, sources=["mf", "wf"])
    assert [p["pageInfo"]["hasPreviousPage"] for p in forward.pages] == [False] + [True] * (
        len(forward.pages) - 1
    )
    assert all(len(p["edges"]) == 90 for p in forward.pages[:-1])
    backward = await walk(gateway, 90, backward=True, sources=["mf", "wf"])
    assert [p["pageInfo"]["hasNextPage"] for p in backward.pages] == [False] + [True] * (
        len(backward.pages) - 1
    )


async def test_ties_in_creation_time_break_by_source_order_then_upstream_position(
    gateway: Gateway,
) -> None:
    # Every largest project holds jobs created at exactly the same instant.
    walked = await walk(gateway, 100, sources=["orange", "mf"])
    times = [node["createdAt"] for node in walked.nodes]
    assert len(times) > len(set(times)), "the dataset should hold equal creation times"
    assert_merged(gateway, walked.nodes, brute_force(gateway, sources=["orange", "mf"]), DESC)
    again = await walk(gateway, 77, sources=["orange", "mf"])
    assert again.nodes == walked.nodes


@settings(
    max_examples=5,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    size=st.integers(min_value=20, max_value=90),
    order=st.sampled_from([DESC, ASC]),
    backward=st.booleans(),
)
async def test_recent_jobs_walk_is_exact_for_any_page_size_order_and_direction(
    gateway: Gateway, size: int, order: str, backward: bool
) -> None:
    recent = {"createdAfter": (BASE_TIME - timedelta(days=1)).isoformat()}
    walked = await walk(gateway, size, backward=backward, orderBy=order, filter=recent)
    assert_merged(gateway, walked.nodes, brute_force(gateway, recent), order)

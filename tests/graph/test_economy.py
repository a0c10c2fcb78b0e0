"""Only the fields a query selects drive upstream work, and each scheme is served with as few
requests as it allows."""

from __future__ import annotations

import pytest

from resolvers.providers import registry
from tests.conftest import Gateway
from tests.graph.providers import FIELDS, native_ids
from tests.providers import PROJECT_PROVIDERS, PROVIDERS


def largest_project(gateway: Gateway, provider: str) -> str | None:
    if provider not in PROJECT_PROVIDERS:
        return None
    return max(gateway.suite.projects(provider), key=lambda p: len(gateway.suite.jobs(provider, p)))


def total_count_query(provider: str, project: str | None) -> str:
    spec = FIELDS[provider]
    args = spec.project_args(project)
    return f"{{ {spec.field}{f'({args})' if args else ''} {{ totalCount }} }}"


def reports_totals(provider: str) -> bool:
    return registry.provider_row(provider).reports_totals


@pytest.mark.parametrize("provider", [p for p in PROVIDERS if reports_totals(p)])
async def test_total_count_alone_costs_one_upstream_request(
    gateway: Gateway, provider: str
) -> None:
    project = largest_project(gateway, provider)
    spec = FIELDS[provider]
    data = await gateway.data(total_count_query(provider, project))
    assert data[spec.field]["totalCount"] == len(gateway.suite.jobs(provider, project))
    assert gateway.upstream_calls(provider) == 1


@pytest.mark.parametrize("provider", [p for p in PROVIDERS if not reports_totals(p)])
async def test_total_count_is_null_and_costs_nothing_where_no_total_is_reported(
    gateway: Gateway, provider: str
) -> None:
    spec = FIELDS[provider]
    project = largest_project(gateway, provider)
    data = await gateway.data(total_count_query(provider, project))
    assert data[spec.field]["totalCount"] is None
    assert gateway.upstream_calls(provider) == 0


@pytest.mark.parametrize("provider", [p for p in PROVIDERS if reports_totals(p)])
async def test_a_page_with_has_next_page_and_total_costs_one_request_where_total_is_known(
    gateway: Gateway, provider: str
) -> None:
    project = largest_project(gateway, provider)
    spec = FIELDS[provider]
    # A page well under the server's cap, so the one request holds its lookahead too.
    cap = spec.server_cap
    data = await gateway.data(spec.query(project), {"first": 20 if cap is None else cap // 2})
    assert data[spec.field]["pageInfo"]["hasNextPage"] is True
    assert data[spec.field]["totalCount"] == len(gateway.suite.jobs(provider, project))
    assert gateway.upstream_calls(provider) == 1


@pytest.mark.parametrize("start", [0, 3, 17, 99, 150, 283])
@pytest.mark.parametrize("size", [1, 20, 37, 100])
async def test_modelarts_serves_any_window_of_up_to_100_with_at_most_two_requests(
    gateway: Gateway, start: int, size: int
) -> None:
    project = largest_project(gateway, "modelarts")
    expected = native_ids("modelarts", gateway.suite.jobs("modelarts", project))
    spec = FIELDS["modelarts"]
    # Reach the window's start with the cursor of the item just before it.
    after = None
    position = 0
    while position < start:
        step = min(100, start - position)
        page = await gateway.data(spec.query(project), {"first": step, "after": after})
        after = page[spec.field]["pageInfo"]["endCursor"]
        position += step
    gateway.reset_counts()
    data = await gateway.data(
        spec.query(project, selection="edges { node { nativeId } }"),
        {"first": size, "after": after},
    )
    assert [e["node"]["nativeId"] for e in data[spec.field]["edges"]] == expected[
        start : start + size
    ]
    assert gateway.upstream_calls("modelarts") <= 2


async def test_orange_learns_its_server_cap_and_then_asks_in_parallel_pages(
    gateway: Gateway,
) -> None:
    project = largest_project(gateway, "orange")
    spec = FIELDS["orange"]
    first = await gateway.data(spec.query(project), {"first": 100})
    assert gateway.upstream_calls("orange") == 2  # 100 asked, the cap answered 50, then the rest
    gateway.reset_counts()
    await gateway.data(
        spec.query(project), {"first": 100, "after": first["orangeJobs"]["pageInfo"]["endCursor"]}
    )
    # Pages of the learned 50 at once; the cursor's own job is read again (to check that the
    # list has not moved under it), which here takes one request more: [99, 149), [149, 199),
    # [199, 200).
    assert gateway.upstream_calls("orange") == 3
    assert gateway.suite.sim("orange").log.count("list", limit="50") == 2


async def test_workflow_last_page_without_before_probes_logarithmically(gateway: Gateway) -> None:
    expected = native_ids("workflow", gateway.suite.jobs("workflow", None))
    spec = FIELDS["workflow"]
    data = await gateway.data(spec.query(None), {"last": 5})
    assert [e["node"]["nativeId"] for e in data[spec.field]["edges"]] == expected[-5:]
    assert data[spec.field]["pageInfo"]["hasNextPage"] is False
    probes = gateway.upstream_calls("workflow")
    assert probes <= 2 * (len(expected) // 100 + 1).bit_length() + 4
    assert probes < len(expected) / 20  # far fewer than a walk in default pages


async def test_workflow_has_next_page_comes_from_one_lookahead_item_in_the_same_request(
    gateway: Gateway,
) -> None:
    spec = FIELDS["workflow"]
    data = await gateway.data(spec.query(None), {"first": 10})
    assert data[spec.field]["pageInfo"]["hasNextPage"] is True
    assert gateway.suite.sim("workflow").log.count("list", limit="11") == 1
    assert gateway.upstream_calls("workflow") == 1


async def test_metafold_walk_in_pages_costs_one_request_per_page(gateway: Gateway) -> None:
    project = largest_project(gateway, "metafold")
    spec = FIELDS["metafold"]
    await gateway.data(spec.query(project), {"first": 10})
    assert gateway.upstream_calls("metafold") == 1

"""Walking any provider connection, forward or backward, with any page size, visits every
upstream job exactly once and in upstream order."""

from __future__ import annotations

from typing import Any

import pytest

from resolvers.providers.registry import provider_row
from tests.conftest import Gateway
from tests.graph.providers import FIELDS, native_ids

PAGE_SIZES = (1, 7, 10, 100)


async def walk_forward(
    gateway: Gateway, provider: str, project: str | None, size: int
) -> list[str]:
    spec = FIELDS[provider]
    seen: list[str] = []
    after = None
    has_previous_expected = False
    while True:
        data = await gateway.data(spec.query(project), {"first": size, "after": after})
        connection = data[spec.field]
        seen += [edge["node"]["nativeId"] for edge in connection["edges"]]
        info = connection["pageInfo"]
        assert info["hasPreviousPage"] is has_previous_expected or not connection["edges"]
        if not info["hasNextPage"]:
            return seen
        assert connection["edges"], "hasNextPage on an empty page"
        after = info["endCursor"]
        has_previous_expected = True


async def walk_backward(
    gateway: Gateway, provider: str, project: str | None, size: int
) -> list[str]:
    spec = FIELDS[provider]
    pages: list[list[str]] = []
    before = None
    while True:
        data = await gateway.data(spec.query(project), {"last": size, "before": before})
        connection = data[spec.field]
        pages.append([edge["node"]["nativeId"] for edge in connection["edges"]])
        if not connection["pageInfo"]["hasPreviousPage"]:
            return [job for page in reversed(pages) for job in page]
        before = connection["pageInfo"]["startCursor"]


def all_streams(suite: Any) -> list[tuple[str, str | None]]:
    streams: list[tuple[str, str | None]] = []
    for provider in FIELDS:
        if not provider_row(provider).has_projects:
            streams.append((provider, None))
        else:
            streams.extend((provider, project) for project in suite.projects(provider))
    return streams


def _stream_ids() -> list[tuple[str, str | None]]:
    from simulators import SimulatorSuite

    return all_streams(SimulatorSuite())


@pytest.mark.parametrize("size", PAGE_SIZES)
@pytest.mark.parametrize(("provider", "project"), _stream_ids())
async def test_forward_walk_visits_every_job_once_in_upstream_order(
    gateway: Gateway, provider: str, project: str | None, size: int
) -> None:
    expected = native_ids(provider, gateway.suite.jobs(provider, project))
    assert await walk_forward(gateway, provider, project, size) == expected


@pytest.mark.parametrize("size", PAGE_SIZES)
@pytest.mark.parametrize(("provider", "project"), _stream_ids())
async def test_backward_walk_visits_every_job_once_in_upstream_order(
    gateway: Gateway, provider: str, project: str | None, size: int
) -> None:
    expected = native_ids(provider, gateway.suite.jobs(provider, project))
    assert await walk_backward(gateway, provider, project, size) == expected

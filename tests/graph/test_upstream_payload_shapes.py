"""Payload shapes the platforms document or their SDKs accept: every date form, Metafold's
optional keys, and the workflow single job as an array of one. Each is a simulator switch."""

from __future__ import annotations

from datetime import UTC, datetime

import aiohttp
import pytest
from pydantic import TypeAdapter

from resolvers.providers.base import OptionalUtcDateTime, UtcDateTime
from tests.conftest import Gateway

METAFOLD_PROJECT = "1024"
METAFOLD_PAGE = """
query ($first: Int) {
  metafoldJobs(projectId: "1024", sort: "created:-1", first: $first) {
    totalCount
    nodes { nativeId name createdAt startedAt finishedAt errorMessage }
  }
}
"""
WORKFLOW_NODES = """
query ($ids: [ID!]!) { nodes(ids: $ids) { id ... on WorkflowJob { nativeId createdAt } } }
"""


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-01-01T00:00:00Z", datetime(2024, 1, 1, tzinfo=UTC)),
        ("2024-01-01T01:00:00.250+01:00", datetime(2024, 1, 1, 0, 0, 0, 250000, tzinfo=UTC)),
        ("2024-01-01T00:00:00", datetime(2024, 1, 1, tzinfo=UTC)),
        ("Mon, 01 Jan 2024 00:00:00 GMT", datetime(2024, 1, 1, tzinfo=UTC)),
        (1704067200000, datetime(2024, 1, 1, tzinfo=UTC)),
    ],
)
def test_every_documented_date_form_parses_to_the_same_instant(
    value: object, expected: datetime
) -> None:
    assert TypeAdapter(UtcDateTime).validate_python(value) == expected


@pytest.mark.parametrize(
    "zero", ["0001-01-01T00:00:00Z", "Mon, 01 Jan 0001 00:00:00 GMT", -62135596800000, None]
)
def test_go_zero_time_in_any_form_means_absent(zero: object) -> None:
    assert TypeAdapter(OptionalUtcDateTime).validate_python(zero) is None


async def _metafold_page(gateway: Gateway) -> dict[str, object]:
    return (await gateway.data(METAFOLD_PAGE, {"first": 100}))["metafoldJobs"]


@pytest.mark.parametrize("date_format", ["rfc1123", "epoch_ms", "iso_naive"])
async def test_metafold_lists_in_every_date_form_give_the_iso_answer(
    gateway: Gateway, date_format: str
) -> None:
    expected = await _metafold_page(gateway)
    gateway.suite.sim("metafold").quirks.date_format = date_format
    assert await _metafold_page(gateway) == expected


async def test_metafold_jobs_without_the_sdks_optional_keys_still_list(gateway: Gateway) -> None:
    sim = gateway.suite.sim("metafold")
    sim.quirks.omit_optional = True
    page = await _metafold_page(gateway)
    assert len(page["nodes"]) == 100
    assert {job["name"] for job in page["nodes"]} == {None}
    assert {job["errorMessage"] for job in page["nodes"]} == {None}


async def test_workflow_single_job_as_an_array_of_one_resolves(gateway: Gateway) -> None:
    listing = await gateway.data("{ workflowJobs(first: 3) { nodes { id nativeId createdAt } } }")
    jobs = listing["workflowJobs"]["nodes"]
    gateway.suite.sim("workflow").quirks.single_as_array = True
    data = await gateway.data(WORKFLOW_NODES, {"ids": [job["id"] for job in jobs]})
    assert data["nodes"] == [{"id": j["id"], "nativeId": j["nativeId"], "createdAt": j["createdAt"]}
                             for j in jobs]  # fmt: skip
    assert gateway.upstream_calls("workflow", "get") == 3


async def test_quirks_switch_over_http_and_reject_unknown_ones(
    gateway: Gateway, sim_root: str
) -> None:
    url = f"{sim_root}/_sim/metafold/_control/quirks"
    async with aiohttp.ClientSession() as http:
        async with http.post(url, json={"date_format": "rfc1123"}) as response:
            assert response.status == 200
            assert (await response.json())["date_format"] == "rfc1123"
        assert gateway.suite.sim("metafold").quirks.date_format == "rfc1123"
        async with http.post(url, json={"shout": True}) as bad:
            assert bad.status == 400
            assert "unknown quirk" in (await bad.json())["error"]
    # The gateway reads the switched list as before.
    assert len((await _metafold_page(gateway))["nodes"]) == 100

"""The request log: what each simulator was asked, with counters tests can assert on."""

from __future__ import annotations

import aiohttp
import pytest

PROJECT = "5e9d2a7b-c184-4f6e-a3b2-0f7c9d1e6a28"


async def test_counts_requests_per_route(sims):
    job = sims.suite.jobs("orange", PROJECT)[0]
    await sims.list("orange", PROJECT, {"limit": 10})
    await sims.list("orange", PROJECT, {"limit": 10, "offset": 10})
    await sims.get("orange", f"/projects/{PROJECT}/jobs/{job['id']}")
    log = sims.suite.sim("orange").log
    assert log.count() == 3
    assert log.count("list") == 2
    assert log.count("get") == 1
    assert log.counts() == {"get": 1, "list": 2}


async def test_counts_by_query_and_path_parameter_values(sims):
    await sims.list("orange", PROJECT, {"limit": 10})
    await sims.list("orange", PROJECT, {"limit": 10, "offset": 10})
    await sims.list("orange", PROJECT, [("state", "failed"), ("state", "completed")])
    log = sims.suite.sim("orange").log
    assert log.count("list", limit=10) == 2
    assert log.count("list", offset=10) == 1
    assert log.count("list", project_id=PROJECT) == 3
    assert log.count("list", state="completed") == 1
    assert log.count("list", project_id="other") == 0


async def test_entries_record_method_path_query_and_status(sims):
    await sims.list("modelarts", "c0ffee00deadbeef0123456789abcdef", {"page": 2})
    await sims.get("modelarts", "/v1/c0ffee00deadbeef0123456789abcdef/training-jobs", headers={})
    first, second = sims.suite.sim("modelarts").log.entries
    assert first.method == "GET"
    assert first.path == "/_sim/modelarts/v1/c0ffee00deadbeef0123456789abcdef/training-jobs"
    assert first.route == "list"
    assert first.query == (("page", "2"),)
    assert first.status == 200
    assert second.status == 401


async def test_entries_record_the_response_body_size(sims):
    reply = await sims.list("edge_impulse", "4212", {"limit": 5})
    (entry,) = sims.suite.sim("edge_impulse").log.entries
    assert reply.status == 200
    assert entry.body_bytes == len(reply.raw)


async def test_faulted_and_dropped_requests_are_logged(sims):
    sims.suite.sim("metafold").faults.add("drop")
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await sims.list("metafold", "1031")
    (entry,) = sims.suite.sim("metafold").log.entries
    assert entry.fault == "drop"
    assert entry.status is None


async def test_unknown_paths_are_logged_as_unmatched(sims):
    await sims.get("workflow", "/jobs/v2/")
    assert sims.suite.sim("workflow").log.counts() == {"unmatched": 1}


async def test_control_requests_are_not_logged(sims):
    await sims.control("workflow", "GET", "requests")
    await sims.control("workflow", "GET", "faults")
    assert sims.suite.sim("workflow").log.count() == 0


async def test_each_simulator_keeps_its_own_log(sims):
    await sims.list("workflow", None)
    assert sims.suite.sim("workflow").log.count() == 1
    assert sims.suite.sim("orange").log.count() == 0


async def test_control_endpoint_returns_entries_and_counts(sims):
    await sims.list("edge_impulse", "4212", {"limit": 5})
    status, body = await sims.control("edge_impulse", "GET", "requests")
    assert status == 200
    assert body["total"] == 1
    assert body["counts"] == {"list": 1}
    (entry,) = body["entries"]
    assert entry["query"] == [["limit", "5"]]
    assert entry["path_params"] == {"organization_id": "1", "project_id": "4212"}
    assert entry["status"] == 200


async def test_clear_empties_the_log(sims):
    await sims.list("workflow", None)
    sims.suite.sim("workflow").log.clear()
    assert sims.suite.sim("workflow").log.count() == 0

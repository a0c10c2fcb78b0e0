"""Fault injection, programmatic and over the control endpoints, on every simulator."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import orjson
import pytest

from simulators import FaultInjector
from simulators.faults import HTML_502, malformed_json, wrong_schema
from simulators.requestlog import LoggedRequest, RequestLog
from tests.providers import PROVIDERS, oracle

# A project of each provider (None where it has no projects).
PROJECT = {p: oracle(p).small_project for p in PROVIDERS}


def provider_error_fields(provider: str, body: dict) -> bool:
    """Whether `body` has the provider's documented error shape."""
    return oracle(provider).error_shape(body)


async def list_once(sims, provider):
    return await sims.list(provider, PROJECT[provider])


def chosen_delays(monkeypatch, faults):
    """The delay (s) the simulator picks for each request from now on, in arrival order: what
    `FaultInjector.delay_s` returned to the middleware that then sleeps it."""
    chosen = []
    pick = faults.delay_s

    def spy(fault):
        chosen.append(pick(fault))
        return chosen[-1]

    monkeypatch.setattr(faults, "delay_s", spy)
    return chosen


# asyncio may run a timer up to its clock's resolution early.
CLOCK_SLACK_S = 1e-6


def held_at_least(entry: LoggedRequest, seconds: float) -> bool:
    """Whether the simulator, by its own logged moments, answered `entry` no sooner than
    `seconds` after it arrived: a floor its sleep guarantees, however busy the machine is."""
    assert entry.finished is not None, entry
    return entry.finished - entry.started >= seconds - CLOCK_SLACK_S


async def finished(entry: LoggedRequest) -> None:
    while entry.finished is None:  # noqa: ASYNC110 (the simulator's log, no event to await)
        await asyncio.sleep(0.01)


async def arrived(log: RequestLog) -> None:
    while not log.entries:  # noqa: ASYNC110 (the simulator's log, no event to await)
        await asyncio.sleep(0.01)


async def test_status_fault_answers_the_provider_error_body(sims, provider):
    sims.suite.sim(provider).faults.add("status", status=503)
    reply = await list_once(sims, provider)
    assert reply.status == 503
    assert provider_error_fields(provider, reply.body)


async def test_status_fault_lasts_count_requests_then_recovers(sims, provider):
    sims.suite.sim(provider).faults.add("status", count=2, status=500)
    statuses = [(await list_once(sims, provider)).status for _ in range(3)]
    assert statuses == [500, 500, 200]


async def test_edge_impulse_status_fault_can_fail_with_http_200(sims):
    sims.suite.sim("edge_impulse").faults.add("status", status=200)
    reply = await list_once(sims, "edge_impulse")
    assert reply.status == 200
    assert reply.body["success"] is False


async def test_rate_limit_is_429_with_retry_after(sims, provider):
    sims.suite.sim(provider).faults.add("rate_limit", retry_after=7)
    reply = await list_once(sims, provider)
    assert reply.status == 429
    assert reply.headers["Retry-After"] == "7"
    assert provider_error_fields(provider, reply.body)


async def test_malformed_json_is_200_json_that_does_not_parse(sims, provider):
    sims.suite.sim(provider).faults.add("malformed_json")
    reply = await list_once(sims, provider)
    assert reply.status == 200
    assert reply.headers["Content-Type"].startswith("application/json")
    with pytest.raises(json.JSONDecodeError):
        json.loads(reply.raw)


async def test_html_502_is_an_html_gateway_page(sims, provider):
    sims.suite.sim(provider).faults.add("html_502")
    reply = await list_once(sims, provider)
    assert reply.status == 502
    assert reply.headers["Content-Type"].startswith("text/html")
    assert reply.raw == HTML_502


async def test_wrong_schema_is_valid_json_of_the_wrong_shape(sims, provider):
    real = (await list_once(sims, provider)).body
    sims.suite.sim(provider).faults.add("wrong_schema")
    reply = await list_once(sims, provider)
    assert reply.status == 200
    assert type(reply.body) is not type(real)


async def test_truncated_body_breaks_off_before_content_length(sims, provider):
    sims.suite.sim(provider).faults.add("truncated")
    response = await sims.request(provider, sims.list_path(provider, PROJECT[provider]))
    assert response.status == 200
    with pytest.raises(aiohttp.ClientPayloadError):
        await response.read()


async def test_drop_closes_the_connection_without_a_response(sims, provider):
    sims.suite.sim(provider).faults.add("drop")
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await list_once(sims, provider)
    assert (await list_once(sims, provider)).status == 200


async def test_hang_lasts_until_the_client_gives_up(sims, provider):
    sim = sims.suite.sim(provider)
    sim.faults.add("hang")
    path = sims.list_path(provider, PROJECT[provider])
    timeout = aiohttp.ClientTimeout(total=0.3)
    # The client's deadline is hit: no answer and no hang-up came before it.
    with pytest.raises(asyncio.TimeoutError):
        await sims.request(provider, path, client_timeout=timeout)
    (entry,) = sim.log.entries
    # The simulator lets go of the request once the client has gone (the hang cap is a minute
    # away; the bound only keeps a broken release from hanging the test), never having answered.
    await asyncio.wait_for(finished(entry), 10)
    assert (entry.fault, entry.status) == ("hang", None)
    assert (await list_once(sims, provider)).status == 200


async def test_hang_is_released_when_faults_are_cleared(sims):
    sim = sims.suite.sim("orange")
    sim.faults.add("hang")
    pending = asyncio.ensure_future(list_once(sims, "orange"))
    await asyncio.wait_for(arrived(sim.log), 10)  # the simulator holds it from now on
    sim.faults.clear()
    # The bounds here and below only keep a hang that is not released (for a minute) from
    # hanging the test.
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await asyncio.wait_for(pending, 10)


async def test_hang_is_capped_server_side(sims):
    faults = sims.suite.sim("metafold").faults
    faults.hang_cap_s = 0.2
    try:
        faults.add("hang")
        with pytest.raises(aiohttp.ServerDisconnectedError):
            await asyncio.wait_for(list_once(sims, "metafold"), 10)
    finally:
        faults.hang_cap_s = 60.0


async def test_oversized_body_is_valid_json_of_the_chosen_size(sims, provider):
    real = (await list_once(sims, provider)).body
    sims.suite.sim(provider).faults.add("oversized", size=3_000_000)
    reply = await list_once(sims, provider)
    assert reply.status == 200
    assert len(reply.raw) == 3_000_000
    assert orjson.loads(reply.raw) == real


async def test_fixed_latency_delays_every_request(sims, monkeypatch):
    sim = sims.suite.sim("workflow")
    sim.faults.set_latency(150)
    delays = chosen_delays(monkeypatch, sim.faults)
    await list_once(sims, "workflow")
    await list_once(sims, "workflow")
    assert delays == [0.15, 0.15]
    assert len(sim.log.entries) == 2
    assert all(held_at_least(entry, 0.15) for entry in sim.log.entries)


async def test_jittered_latency_stays_within_its_bounds(sims, monkeypatch):
    sim = sims.suite.sim("workflow")
    sim.faults.set_latency(50, jitter_ms=100)
    delays = chosen_delays(monkeypatch, sim.faults)
    for _ in range(3):
        await list_once(sims, "workflow")
    # Each request gets the fixed 50 ms plus its own share of at most 100 ms of jitter...
    assert len(delays) == 3 and all(0.05 <= delay <= 0.15 for delay in delays)
    assert len(set(delays)) == 3
    # ...and is held for it.
    assert len(sim.log.entries) == 3
    assert all(held_at_least(e, delay) for e, delay in zip(sim.log.entries, delays, strict=True))


async def test_latency_fault_delays_only_the_next_requests(sims, monkeypatch):
    sim = sims.suite.sim("orange")
    sim.faults.add("latency", count=1, latency_ms=200)
    delays = chosen_delays(monkeypatch, sim.faults)
    first = await list_once(sims, "orange")
    second = await list_once(sims, "orange")
    assert (first.status, second.status) == (200, 200)
    # The fault was used up by the first request: only it was delayed.
    assert delays == [0.2, 0.0]
    assert [(e.fault, e.status) for e in sim.log.entries] == [("latency", 200), (None, 200)]
    assert held_at_least(sim.log.entries[0], 0.2)
    assert sim.faults.pending == []


async def test_faults_are_served_first_in_first_out(sims):
    faults = sims.suite.sim("modelarts").faults
    faults.add("status", status=500)
    faults.add("rate_limit")
    faults.add("html_502")
    statuses = [(await list_once(sims, "modelarts")).status for _ in range(4)]
    assert statuses == [500, 429, 502, 200]


async def test_faults_hit_single_job_lookups_too(sims):
    job = sims.suite.jobs("metafold", "1031")[0]
    sims.suite.sim("metafold").faults.add("status", status=500)
    reply = await sims.get("metafold", f"/projects/1031/jobs/{job['id']}")
    assert reply.status == 500


async def test_faults_apply_before_authentication(sims):
    sims.suite.sim("orange").faults.add("status", status=503)
    reply = await sims.get("orange", sims.list_path("orange", PROJECT["orange"]), headers={})
    assert reply.status == 503


async def test_control_endpoint_adds_a_fault(sims, provider):
    status, state = await sims.control(
        provider, "POST", "faults", {"kind": "status", "status": 418, "count": 2}
    )
    assert status == 201
    assert state["pending"][0]["kind"] == "status"
    assert [(await list_once(sims, provider)).status for _ in range(3)] == [418, 418, 200]


async def test_control_endpoint_sets_latency_and_delete_clears_it(sims, monkeypatch):
    sim = sims.suite.sim("orange")
    delays = chosen_delays(monkeypatch, sim.faults)
    status, state = await sims.control("orange", "POST", "latency", {"latency_ms": 120})
    assert status == 200 and state["latency_ms"] == 120
    await list_once(sims, "orange")
    status, state = await sims.control("orange", "DELETE", "faults")
    assert state == {"latency_ms": 0, "jitter_ms": 0, "pending": []}
    await list_once(sims, "orange")
    # Control requests are neither delayed nor logged: the two list requests are.
    assert delays == [0.12, 0.0]
    (delayed, _) = sim.log.entries
    assert held_at_least(delayed, 0.12)


async def test_control_endpoint_deletes_pending_faults(sims):
    await sims.control("metafold", "POST", "faults", {"kind": "drop", "count": 5})
    await sims.control("metafold", "DELETE", "faults")
    assert (await list_once(sims, "metafold")).status == 200


async def test_control_endpoint_rejects_an_unknown_fault_kind(sims):
    status, body = await sims.control("orange", "POST", "faults", {"kind": "gremlins"})
    assert status == 400
    assert "gremlins" in body["error"]


async def test_control_endpoints_need_no_auth_and_ignore_faults(sims):
    sims.suite.sim("orange").faults.add("drop")
    response = await sims.client.get(sims.url("orange", "/_control/faults"))
    assert response.status == 200
    assert len((await response.json())["pending"]) == 1


async def test_reset_clears_faults_and_the_log(sims):
    await list_once(sims, "workflow")
    await sims.control("workflow", "POST", "faults", {"kind": "status"})
    status, _ = await sims.control("workflow", "POST", "reset")
    assert status == 200
    assert sims.suite.sim("workflow").faults.pending == []
    assert sims.suite.sim("workflow").log.entries == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kind": "nope"}, "unknown fault kind"),
        ({"kind": "status", "count": 0}, "count"),
        ({"kind": "status", "status": 700}, "status"),
        ({"kind": "latency", "latency_ms": -1}, "latency"),
    ],
)
def test_injector_rejects_invalid_faults(kwargs, message):
    with pytest.raises(ValueError, match=message):
        FaultInjector().add(**kwargs)


def test_malformed_json_always_fails_to_parse():
    for body in (b"[]", b"{}", b'{"a":1}', b'[{"id":"x"}]'):
        with pytest.raises(json.JSONDecodeError):
            json.loads(malformed_json(body))


def test_wrong_schema_flips_arrays_and_objects():
    assert isinstance(orjson.loads(wrong_schema(b"[1,2]")), dict)
    assert isinstance(orjson.loads(wrong_schema(b'{"jobs": []}')), list)

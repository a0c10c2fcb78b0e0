"""The optional clock: queued jobs start and running jobs finish as simulated time passes."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from aiohttp import web

from simulators import PROVIDERS, ClockDisabled, SimulatorSuite
from simulators.datagen import BASE_TIME, GO_ZERO_TIME
from tests.providers import oracle


def is_active(provider: str, job: dict) -> bool:
    """Queued or running, as the provider's raw job reads (the tests' status tables)."""
    return oracle(provider).normalize(job).status in ("QUEUED", "RUNNING")


def every_job(suite: SimulatorSuite, provider: str) -> list[dict]:
    sim = suite.sim(provider)
    return [job for jobs in sim.dataset.values() for job in sim.payloads(jobs)]


def test_advance_without_clock_raises(suite):
    with pytest.raises(ClockDisabled):
        suite.advance(10)


async def test_clock_control_endpoint_without_clock_is_409(sims):
    status, body = await sims.control("orange", "POST", "clock", {"advance_s": 10})
    assert status == 409
    assert "clock" in body["error"]


def test_clock_starts_at_the_datasets_now():
    assert SimulatorSuite(clock=True).now == BASE_TIME


def test_time_only_moves_forward():
    with pytest.raises(ValueError, match="forward"):
        SimulatorSuite(clock=True).advance(-1)


def test_after_two_days_no_job_is_queued_or_running(provider):
    suite = SimulatorSuite(clock=True)
    assert any(is_active(provider, job) for job in every_job(suite, provider))
    suite.advance(2 * 24 * 3600)
    assert not any(is_active(provider, job) for job in every_job(suite, provider))


def test_some_jobs_move_within_the_first_half_hour(provider):
    suite = SimulatorSuite(clock=True)
    before = every_job(suite, provider)
    suite.advance(1800)
    assert every_job(suite, provider) != before


def test_transitions_do_not_depend_on_the_step_size():
    one_step, many_steps = SimulatorSuite(clock=True), SimulatorSuite(clock=True)
    one_step.advance(5000)
    for _ in range(50):
        many_steps.advance(100)
    for provider in PROVIDERS:
        assert every_job(one_step, provider) == every_job(many_steps, provider)


def test_a_queued_edge_impulse_job_starts_then_finishes_at_its_scheduled_times():
    suite = SimulatorSuite(clock=True)
    sim = suite.sim("edge_impulse")
    job = next(j for jobs in sim.dataset.values() for j in jobs if len(j.events) == 2)
    start, finish = job.events
    suite.advance((start.at - BASE_TIME).total_seconds())
    assert job.payload["started"].startswith(start.at.strftime("%Y-%m-%dT%H:%M:%S"))
    assert job.payload.get("finished") in (None, GO_ZERO_TIME)
    suite.advance((finish.at - start.at).total_seconds())
    assert "finishedSuccessful" in job.payload
    assert job.payload["computeTime"] == round((finish.at - start.at).total_seconds(), 1)
    assert list(job.payload) == [k for k in sim.field_order if k in job.payload]


def test_metafold_jobs_downstream_of_a_failure_end_canceled():
    suite = SimulatorSuite(clock=True)
    suite.advance(2 * 24 * 3600)
    for project in suite.projects("metafold"):
        jobs = {job["id"]: job for job in suite.jobs("metafold", project)}
        for job in jobs.values():
            upstream = {jobs[needed]["state"] for needed in job["needs"]}
            if upstream & {"failure", "canceled"}:
                assert job["state"] == "canceled"
            if job["state"] == "success":
                assert upstream <= {"success"}
                assert all(jobs[n]["finished"] <= job["started"] for n in job["needs"])


def test_modelarts_running_durations_grow_with_the_clock():
    suite = SimulatorSuite(clock=True)
    sim = suite.sim("modelarts")
    running = [j for jobs in sim.dataset.values() for j in jobs if j.payload["status"] == 8]
    job = next(
        j for j in running if all(e.at > BASE_TIME + timedelta(seconds=60) for e in j.events)
    )
    before = job.payload["duration"]
    suite.advance(60)
    assert job.payload["duration"] == before + 60_000


async def test_clock_control_endpoint_moves_every_simulator(make_sims):
    sims = await make_sims(SimulatorSuite(clock=True))
    before = every_job(sims.suite, "workflow")
    status, body = await sims.control("orange", "POST", "clock", {"advance_s": 7200})
    assert status == 200
    assert body["now"] == (BASE_TIME + timedelta(hours=2)).isoformat()
    assert every_job(sims.suite, "workflow") != before
    status, body = await sims.control("metafold", "GET", "clock")
    assert body == {"enabled": True, "now": (BASE_TIME + timedelta(hours=2)).isoformat()}


async def test_live_clock_advances_in_the_background(aiohttp_client):
    suite = SimulatorSuite(clock=True, sizes="small")
    app = web.Application()
    suite.mount(app)
    app.cleanup_ctx.append(suite.live_clock(speed=600, interval_s=0.02))
    await aiohttp_client(app)
    # Waits for the clock to move (bounded), not for a fixed time: a loaded machine is slow.
    async with asyncio.timeout(30):
        while suite.now - BASE_TIME < timedelta(seconds=60):  # noqa: ASYNC110 (a clock)
            await asyncio.sleep(0.02)
    assert suite.now - BASE_TIME >= timedelta(seconds=60)

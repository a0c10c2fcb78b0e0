"""A demo that moves: new jobs keep appearing, start, and finish (or fail) a few seconds later.

`DemoActivity` clones a queued job of each simulator (one that had not started when the
dataset was generated) into a project every `every_s` seconds, taking the providers in
turn, and schedules its start and its outcome on the suite's clock, which runs in real time
(`SimulatorSuite(clock=True)` with `live_clock()`). The oldest jobs it made are deleted past
`keep` per provider, so a long demo's lists stay their size. `jobgraph demo` runs one.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import random
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

from aiohttp import web

from simulators.base import Simulator
from simulators.datagen import SimJob
from simulators.suite import PROVIDERS, SimulatorSuite

# Seconds from a demo job's creation to its start, and from its start to its outcome.
START_AFTER_S = (1.0, 4.0)
RUN_FOR_S = (3.0, 12.0)
FAILURE_SHARE = 0.25


class DemoActivity:
    """Creates, starts and finishes jobs on a suite whose clock runs (see module doc)."""

    def __init__(
        self, suite: SimulatorSuite, *, every_s: float = 3.0, keep: int = 50, seed: int = 16
    ) -> None:
        self.suite = suite
        self.every_s = every_s
        self.keep = keep
        self._rng = random.Random(seed)
        self._templates = {provider: _queued_job(suite.sim(provider)) for provider in PROVIDERS}
        self._made: dict[str, list[tuple[str | None, Any]]] = {p: [] for p in PROVIDERS}
        self._turn = 0

    def step(self) -> tuple[str, str | None, Any] | None:
        """Create one job (the next provider's turn) and schedule its life; returns
        (provider, project, id), or None where that provider has no queued job to clone."""
        provider = PROVIDERS[self._turn % len(PROVIDERS)]
        self._turn += 1
        template = self._templates[provider]
        if template is None:
            return None
        sim = self.suite.sim(provider)
        project = _busiest_project(sim)
        (new_id,) = sim.mutations.create(project, 1, template=template)
        job = next(j for j in sim.dataset[project] if j.payload[sim.shape.id_key] == new_id)
        now = self.suite.now
        start = now + timedelta(seconds=self._rng.uniform(*START_AFTER_S))
        outcome = "fail" if self._rng.random() < FAILURE_SHARE else "succeed"
        sim.schedule(job, start, "start")
        sim.schedule(job, start + timedelta(seconds=self._rng.uniform(*RUN_FOR_S)), outcome)
        made = self._made[provider]
        made.append((project, new_id))
        if len(made) > self.keep:
            old_project, old_id = made.pop(0)
            sim.mutations.delete(old_project, [old_id])
        return provider, project, new_id

    def cleanup_ctx(self) -> Callable[[web.Application], AsyncIterator[None]]:
        """An `app.cleanup_ctx` entry running `step()` every `every_s` seconds."""

        async def run(_app: web.Application) -> AsyncIterator[None]:
            async def loop() -> None:
                while True:
                    await asyncio.sleep(self.every_s)
                    self.step()

            task = asyncio.create_task(loop())
            yield
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

        return run


def _queued_job(sim: Simulator) -> SimJob | None:
    """A copy of a job of the busiest project that had not started when the dataset was made
    (its first scheduled transition is "start"), as it was then."""
    for job in sim.dataset[_busiest_project(sim)]:
        if job.events and job.events[0].action == "start":
            clone = copy.deepcopy(job)
            clone.events = []
            return clone
    return None


def _busiest_project(sim: Simulator) -> str | None:
    """Where a demo job goes: the project with the most jobs (None where the provider
    has one list and no projects)."""
    return max(sim.dataset, key=lambda project: len(sim.dataset[project]))

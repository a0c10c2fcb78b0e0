"""The simulators, one per registry row: one seed, one clock, mountable under one aiohttp app."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Any

from aiohttp import web

from resolvers.providers import registry
from resolvers.providers.registry import load
from simulators.base import Simulator
from simulators.clock import SimClock
from simulators.datagen import BASE_TIME

PROVIDERS = tuple(row.name for row in registry.PROVIDERS)
DEFAULT_SEED = 20250314
DEFAULT_PREFIX = "/_sim"

# One simulator per registry row, by provider.
_SIMULATORS: dict[str, type[Simulator]] = {
    row.name: load(row.simulator) for row in registry.PROVIDERS
}
# Env var name -> credential, for every env var the demo sources name.
DEMO_ENVIRON: dict[str, str] = {
    name: secret for sim in _SIMULATORS.values() for name, secret in sim.demo_secrets.items()
}


class SimulatorSuite:
    """Five seeded simulators sharing one clock.

    `sizes` is "default", "small" (every project capped at 23 jobs), "large" (projects of
    100+ jobs grow twentyfold, for benchmarks) or "big" (projects of 30+ jobs hold exactly
    5,000, for the big-project bench). With `clock=True`, `advance()` moves time so
    queued jobs start and running jobs finish; without it the data never changes.
    """

    def __init__(
        self, seed: int = DEFAULT_SEED, *, clock: bool = False, sizes: str = "default"
    ) -> None:
        self.seed = seed
        self.clock = SimClock(BASE_TIME, enabled=clock)
        self._sims: dict[str, Simulator] = {
            provider: cls(seed, self.clock, sizes=sizes, advance=self.advance)
            for provider, cls in _SIMULATORS.items()
        }

    def switch_on(self, *, realistic: bool = False, busy: int = 0) -> None:
        """Turn on each simulator's awkward-but-legal set of switches (`Simulator.realistic`)
        and/or busy mode (`busy` new jobs in a project before each list of it)."""
        for sim in self._sims.values():
            if realistic:
                sim.quirks.update(sim.realistic)
            if busy:
                sim.quirks.update({"busy": busy})

    def sim(self, provider: str) -> Simulator:
        try:
            return self._sims[provider]
        except KeyError:
            raise KeyError(f"unknown provider {provider!r}; expected one of {PROVIDERS}") from None

    def mount(self, app: web.Application, prefix: str = DEFAULT_PREFIX) -> None:
        """Add every simulator to `app` as a sub-app at `{prefix}/<provider>`."""
        for provider, sim in self._sims.items():
            app.add_subapp(f"{prefix.rstrip('/')}/{provider}", sim.app())

    def app(self) -> web.Application:
        """A fresh app with all five simulators under /_sim."""
        app = web.Application()
        self.mount(app)
        return app

    def projects(self, provider: str) -> list[str]:
        return self.sim(provider).projects()

    def jobs(self, provider: str, project: str | None, **view: Any) -> list[dict[str, Any]]:
        """A project's jobs exactly as the list endpoint returns them with no parameters.

        `view` is what the simulator's `jobs` takes beyond the project (a workspace, say); a
        provider without projects has the one project None.
        """
        return self.sim(provider).jobs(project, **view)

    def reset(self) -> None:
        """Clear every simulator's faults and request log (the data and clock stay)."""
        for sim in self._sims.values():
            sim.faults.clear()
            sim.log.clear()

    @property
    def now(self) -> datetime:
        return self.clock.now

    def advance(self, seconds: float) -> datetime:
        """Move the shared clock; raises ClockDisabled unless the suite has `clock=True`."""
        now = self.clock.advance(seconds)
        for sim in self._sims.values():
            sim.catch_up(now)
        return now

    def live_clock(
        self, *, speed: float = 1.0, interval_s: float = 1.0
    ) -> Callable[[web.Application], AsyncIterator[None]]:
        """An `app.cleanup_ctx` entry moving the clock `speed` times faster than real time."""

        async def tick(app: web.Application) -> AsyncIterator[None]:
            async def loop() -> None:
                while True:
                    await asyncio.sleep(interval_s)
                    self.advance(interval_s * speed)

            task = asyncio.create_task(loop())
            yield
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

        return tick

    def base_url(self, root_url: str, provider: str, prefix: str = DEFAULT_PREFIX) -> str:
        return f"{root_url.rstrip('/')}{prefix.rstrip('/')}/{provider}"

    def demo_sources(self, root_url: str, prefix: str = DEFAULT_PREFIX) -> list[dict[str, Any]]:
        """`[[sources]]` config entries for the mounted simulators, one per provider."""
        sources: list[dict[str, Any]] = []
        for provider, sim in self._sims.items():
            source: dict[str, Any] = {
                "name": sim.demo_name,
                "provider": provider,
                "base_url": self.base_url(root_url, provider, prefix),
                **sim.demo_keys,
            }
            if registry.provider_row(provider).has_projects:
                source["projects"] = self.projects(provider)
            source.update(sim.demo_credentials)
            sources.append(source)
        return sources

    def demo_environ(self) -> dict[str, str]:
        """Env var name -> credential, for the env vars `demo_sources()` names."""
        return dict(DEMO_ENVIRON)

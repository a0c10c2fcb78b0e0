"""Run the simulators alone (what `jobgraph simulate` does)."""

from __future__ import annotations

import asyncio
import contextlib

from aiohttp import web

from simulators.suite import DEFAULT_SEED, PROVIDERS, SimulatorSuite


def describe(suite: SimulatorSuite, root_url: str) -> str:
    """Each simulator's base URL, credentials and projects, for humans and scripts."""
    lines = [f"jobgraph simulators (seed {suite.seed}) at {root_url}"]
    for provider in PROVIDERS:
        sim = suite.sim(provider)
        lines.append(f"{provider:<13} {suite.base_url(root_url, provider)}")
        lines.append(f"  credentials: {getattr(sim, 'credentials_help', '')}")
        projects = sim.projects()
        if projects:
            sizes = ", ".join(f"{p} ({len(sim.jobs(p))})" for p in projects)
            lines.append(f"  projects: {sizes}")
        else:
            lines.append(f"  jobs: {len(sim.jobs(None))}")
    lines.append(
        "control: POST {base}/_control/faults {kind, count, status, ...}; "
        "POST {base}/_control/latency; DELETE {base}/_control/faults; "
        "GET {base}/_control/requests; POST {base}/_control/reset; "
        'POST {base}/_control/clock {"advance_s": N}; '
        'GET/POST {base}/_control/quirks; POST {base}/_control/jobs {"project", "create", "delete"}'
    )
    switched = {p: suite.sim(p).quirks.changed() for p in PROVIDERS}
    for provider, changed in switched.items():
        if changed:
            lines.append(f"switches on {provider}: {changed}")
    return "\n".join(lines)


async def serve_simulators(
    host: str,
    port: int,
    seed: int = DEFAULT_SEED,
    *,
    live_clock_speed: float | None = None,
    realistic: bool = False,
    busy: int = 0,
    sizes: str = "default",
) -> None:
    """Serve all five simulators until cancelled, printing where they listen."""
    suite = SimulatorSuite(seed, clock=live_clock_speed is not None, sizes=sizes)
    suite.switch_on(realistic=realistic, busy=busy)
    app = suite.app()
    if live_clock_speed is not None:
        app.cleanup_ctx.append(suite.live_clock(speed=live_clock_speed))
    runner = web.AppRunner(app)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound_host, bound_port = runner.addresses[0][:2]
        print(describe(suite, f"http://{bound_host}:{bound_port}"), flush=True)
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


def run_simulators(
    host: str,
    port: int,
    seed: int = DEFAULT_SEED,
    *,
    live_clock_speed: float | None = None,
    realistic: bool = False,
    busy: int = 0,
) -> None:
    """Blocking: serve the simulators on host:port (0 picks a free port) until interrupted.

    With `live_clock_speed`, simulated time runs that many times faster than real time.
    """
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(
            serve_simulators(
                host, port, seed, live_clock_speed=live_clock_speed, realistic=realistic, busy=busy
            )
        )

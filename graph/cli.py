"""`jobgraph`: demo, serve, export-schema, simulate."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import multiprocessing
import os
import signal
import socket
import sys
from collections.abc import Sequence

from aiohttp import web

from graph.http.jsonlog import configure_logging
from resolvers.config import Config, ConfigError, load_config, parse_config

log = logging.getLogger("jobgraph")

# CPython collects its youngest generation every 700 allocations, and each older collection
# walks every long-lived object (schema, config, modules): about a tenth of a page request's
# CPU. Once the app is built those objects are frozen out of collection, and the youngest
# generation waits for 10,000 allocations (a few requests' worth). The older generations keep
# CPython's ratios: waiting longer there bought little CPU and held more garbage (RSS 118 MB
# at (10_000, 20, 20), 101 MB here, 90 MB at the default; bench/README.md).
GC_THRESHOLDS = (10_000, 10, 10)
# The demo's sources poll this often for subscriptions: its jobs change every few seconds.
DEMO_POLL_INTERVAL_S = 2.0
_DEMO_ADDRESS_ENV = frozenset({"JOBGRAPH_SERVER__HOST", "JOBGRAPH_SERVER__PORT"})


def _use_uvloop() -> None:
    try:
        import uvloop
    except ImportError:
        return
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


def demo_app(
    port: int, host: str = "127.0.0.1", *, realistic: bool = False, busy: int = 0
) -> web.Application:
    """Simulators and gateway in one app: sources point back at this same port."""
    from graph.http.app import build_app
    from simulators import SimulatorSuite
    from simulators.activity import DemoActivity

    # The clock runs in real time and jobs keep coming and finishing: subscriptions show it.
    suite = SimulatorSuite(clock=True)
    suite.switch_on(realistic=realistic, busy=busy)
    activity = DemoActivity(suite)
    root = f"http://{host}:{port}"
    sources = [
        {**source, "poll_interval_s": DEMO_POLL_INTERVAL_S} for source in suite.demo_sources(root)
    ]
    # `JOBGRAPH_<SECTION>__<KEY>` overrides apply as in `serve`, but not to where it listens:
    # the demo's sources point back at the host and port given on the command line.
    environ = {k: v for k, v in os.environ.items() if k not in _DEMO_ADDRESS_ENV}
    config = parse_config({"server": {"host": host, "port": port}, "sources": sources}, environ)

    def setup(app: web.Application) -> None:
        suite.mount(app)
        app.cleanup_ctx.append(suite.live_clock())
        app.cleanup_ctx.append(activity.cleanup_ctx())

    return build_app(config, suite.demo_environ(), extra_setup=setup)


def _bound_socket(host: str, port: int, reuse_port: bool) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(1024)
    sock.set_inheritable(True)
    return sock


def settle_heap() -> None:
    """Freeze what exists now (the built app) out of garbage collection; collect the young
    generation less often."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def _run(app: web.Application, sock: socket.socket) -> None:
    settle_heap()
    web.run_app(app, sock=sock, print=None, access_log=None)


def _serve_worker(config_path: str, host: str, port: int, sock: socket.socket) -> None:
    from graph.http.app import build_app

    _use_uvloop()
    _run(build_app(load_config(config_path)), sock)


def serve(config: Config, config_path: str, host: str, port: int, workers: int) -> None:
    """Run the gateway; with several workers, processes share one listening socket."""
    from graph.http.app import build_app
    from graph.http.persisted import PersistedQueries

    # A bad trusted-documents file stops here, before any worker starts.
    PersistedQueries.from_server(config.server)
    sock = _bound_socket(host, port, reuse_port=workers > 1)
    print(f"jobgraph listening on http://{host}:{sock.getsockname()[1]}/graphql", flush=True)
    if workers == 1:
        _use_uvloop()
        _run(build_app(config), sock)
        return
    context = multiprocessing.get_context("fork")
    children = [
        context.Process(target=_serve_worker, args=(config_path, host, port, sock), daemon=True)
        for _ in range(workers)
    ]
    for child in children:
        child.start()

    def stop(signum: int, _frame: object) -> None:
        # Workers must not outlive the parent, however it is stopped.
        for child in children:
            child.terminate()
        for child in children:
            child.join(timeout=10)
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for child in children:
        child.join()


def _busy_count(text: str) -> int:
    value = int(text) if text.isdigit() else -1
    if not 0 <= value <= 100:
        raise argparse.ArgumentTypeError("must be a count of jobs from 0 to 100")
    return value


def _switch_arguments(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--realistic",
        action="store_true",
        help="simulators behave as awkwardly as the platforms legally may (caps, RFC 1123 "
        "dates, shuffled ties, gateway errors, unfiltered totals...)",
    )
    command.add_argument(
        "--busy",
        type=_busy_count,
        default=0,
        metavar="N",
        help="busy projects: N new jobs arrive before each list request (0-100)",
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="jobgraph", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="simulators + gateway on one port; no network needed")
    demo.add_argument("--port", type=int, default=8000)
    demo.add_argument("--host", default="127.0.0.1")
    _switch_arguments(demo)

    run = commands.add_parser("serve", help="the gateway against configured upstreams")
    run.add_argument("--config", required=True)
    run.add_argument("--host")
    run.add_argument("--port", type=int)
    run.add_argument("--workers", type=int)

    export = commands.add_parser("export-schema", help="print the schema's SDL")
    export.add_argument(
        "--subgraph",
        action="store_true",
        help="print the Apollo Federation v2 subgraph SDL instead of the public one",
    )

    simulate = commands.add_parser("simulate", help="only the five simulators")
    simulate.add_argument("--port", type=int, default=8100)
    simulate.add_argument("--host", default="127.0.0.1")
    simulate.add_argument("--seed", type=int)
    _switch_arguments(simulate)

    args = parser.parse_args(argv)
    configure_logging()
    try:
        if args.command == "demo":
            _use_uvloop()
            app = demo_app(args.port, args.host, realistic=args.realistic, busy=args.busy)
            print(f"jobgraph demo: open http://{args.host}:{args.port}/graphql", flush=True)
            web.run_app(app, host=args.host, port=args.port, print=None, access_log=None)
        elif args.command == "serve":
            config = load_config(args.config)
            server = config.server
            serve(
                config,
                args.config,
                args.host or server.host,
                server.port if args.port is None else args.port,
                args.workers or server.workers,
            )
        elif args.command == "export-schema":
            from graph.schema.build import export_sdl

            sys.stdout.write(export_sdl(subgraph=args.subgraph))
        elif args.command == "simulate":
            from simulators import DEFAULT_SEED
            from simulators.serve import run_simulators

            seed = DEFAULT_SEED if args.seed is None else args.seed
            run_simulators(args.host, args.port, seed, realistic=args.realistic, busy=args.busy)
    except ConfigError as exc:
        print(f"jobgraph: configuration error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"jobgraph: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

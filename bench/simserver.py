"""`python -m bench.simserver --port 0`: the five simulators on uvloop, so that the upstream
side costs as little CPU as it can and the gateway is what gets measured."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from collections.abc import Coroutine
from typing import Any

from simulators.datagen import SIZE_PROFILES
from simulators.serve import serve_simulators
from simulators.suite import DEFAULT_SEED


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.simserver", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--sizes", default="default", choices=SIZE_PROFILES)
    args = parser.parse_args()
    run_until_interrupted(serve_simulators(args.host, args.port, args.seed, sizes=args.sizes))


def run_until_interrupted(server: Coroutine[Any, Any, None]) -> None:
    """Run a bench server process's main coroutine (on uvloop where installed) until ^C."""
    try:
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    except ImportError:
        pass
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(server)


if __name__ == "__main__":
    main()

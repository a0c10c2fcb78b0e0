"""`python -m bench`: start the simulators and the gateway, measure the gateway's cost, write
bench/results.json and print a table. `--quick` is the seconds-long CI smoke run."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from bench.peers import PEERS_OUTPUT, render_peers, run_peers
from bench.report import publish, render
from bench.run import Options, run


def parse_options(argv: Sequence[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny workload (CI smoke test)")
    parser.add_argument("--requests", type=int, help="requests for the memory run (10000)")
    parser.add_argument("--seconds", type=float, help="length of each throughput run (10)")
    parser.add_argument("--samples", type=int, help="latency samples per overhead row (300)")
    parser.add_argument("--loadgen", choices=("auto", "wrk", "aiohttp"), help="default: auto")
    parser.add_argument("--workers", type=int, nargs="+", help="gateway worker counts (1 2)")
    parser.add_argument("--output", type=Path, help="default: bench/results.json")
    parser.add_argument("--label", default="", help="a name for this run in the output")
    parser.add_argument("--baseline", type=Path, help="an earlier results.json to compare with")
    parser.add_argument(
        "--peers",
        action="store_true",
        help="only the peers run: jobgraph, Tailcall and GraphQL Mesh on one fast upstream "
        "(needs `npm ci` in bench/; writes bench/peers.json unless --output)",
    )
    args = parser.parse_args(argv)
    options = Options.quick_mode() if args.quick else Options()
    overrides = {
        "requests": args.requests,
        "seconds": args.seconds,
        "samples": args.samples,
        "loadgen": args.loadgen,
        "workers": None if args.workers is None else tuple(sorted({1, *args.workers})),
        "output": args.output,
        "label": args.label,
        "baseline": args.baseline,
        "peers": args.peers or None,
    }
    if args.peers and args.output is None:
        overrides["output"] = PEERS_OUTPUT
    return replace(options, **{k: v for k, v in overrides.items() if v is not None})


def _stop(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds the run, which stops every server it started


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_options(argv)
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    if options.peers:
        results = asyncio.run(run_peers(options))
        publish(results, options.output, render_peers(results))
        return 0
    results = asyncio.run(run(options))
    print(render(results))
    print(f"\nwritten: {options.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

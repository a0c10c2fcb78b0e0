"""`python -m simulators --port N`: the simulators alone, without the gateway."""

from __future__ import annotations

import argparse

from simulators.serve import run_simulators
from simulators.suite import DEFAULT_SEED


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m simulators", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument(
        "--live-clock",
        type=float,
        metavar="SPEED",
        help="let time pass SPEED times faster than real time, so jobs start and finish",
    )
    args = parser.parse_args()
    run_simulators(args.host, args.port, args.seed, live_clock_speed=args.live_clock)


if __name__ == "__main__":
    main()

"""`python -m bench.profiled --config FILE --port 0 --out PREFIX`: one gateway process under
pyinstrument; on SIGINT it stops, writes PREFIX.html, PREFIX.txt and PREFIX.json (top items)."""

from __future__ import annotations

import argparse
import asyncio
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from aiohttp import web
from pyinstrument import Profiler

from graph.cli import _bound_socket
from graph.http.app import build_app
from resolvers.config import load_config

OWN_CODE = ("graph/", "resolvers/")


def _walk(frame: Any, self_times: dict[str, float], cumulative: dict[str, float]) -> None:
    key = f"{frame.function} ({frame.file_path_short}:{frame.line_no})"
    self_times[key] += frame.total_self_time
    if any(part in (frame.file_path or "") for part in OWN_CODE) and frame.function:
        cumulative[key] = max(cumulative[key], 0.0) + frame.time
    for child in frame.children:
        _walk(child, self_times, cumulative)


def top_items(profiler: Profiler, count: int = 15) -> dict[str, Any]:
    """The functions with the most self time, and our own functions with the most total time."""
    root = profiler.last_session.root_frame() if profiler.last_session else None
    if root is None:
        return {"total_s": 0.0, "self": [], "own_cumulative": []}
    self_times: dict[str, float] = defaultdict(float)
    cumulative: dict[str, float] = defaultdict(float)
    _walk(root, self_times, cumulative)
    total = root.time or 1.0

    def ranked(table: dict[str, float]) -> list[dict[str, Any]]:
        best = sorted(table.items(), key=lambda kv: kv[1], reverse=True)[:count]
        return [
            {"function": k, "seconds": round(v, 4), "share": round(v / total, 4)} for k, v in best
        ]

    return {
        "total_s": round(total, 3),
        "self": ranked(self_times),
        "own_cumulative": ranked(cumulative),
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.profiled", description=__doc__)
    parser.add_argument("--config", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    try:
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    except ImportError:
        pass
    sock = _bound_socket(args.host, args.port, reuse_port=False)
    print(f"jobgraph listening on http://{args.host}:{sock.getsockname()[1]}/graphql", flush=True)
    profiler = Profiler(interval=0.0005, async_mode="disabled")
    profiler.start()
    try:
        web.run_app(build_app(load_config(args.config)), sock=sock, print=None, access_log=None)
    finally:
        profiler.stop()
        out = Path(args.out)
        out.with_suffix(".html").write_text(profiler.output_html())
        out.with_suffix(".txt").write_text(profiler.output_text(unicode=True, show_all=False))
        out.with_suffix(".json").write_text(json.dumps(top_items(profiler), indent=2))


if __name__ == "__main__":
    main()

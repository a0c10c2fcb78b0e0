"""The printed table of a results.json."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any


def publish(results: Mapping[str, Any], output: Path, text: str) -> None:
    """A run's results written to `output` (JSON) and its report printed, saying where."""
    output.write_text(json.dumps(results, indent=2) + "\n")
    print(text)
    print(f"\nwritten: {output}")


def _row(cells: list[str], widths: list[int]) -> str:
    return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    return [_row(header, widths), _row(["-" * w for w in widths], widths)] + [
        _row(r, widths) for r in rows
    ]


def _mark(met: bool | None) -> str:
    return "n/a" if met is None else ("met" if met else "MISSED")


def _figure(value: Any) -> str:
    if value is None:
        return "-"
    return f"{value:g}" if isinstance(value, float) else str(value)


def render(results: Mapping[str, Any]) -> str:
    """A plain-text summary of every section."""
    out: list[str] = []
    layout = results["layout"]
    title = "jobgraph bench" + (f" [{results['label']}]" if results.get("label") else "")
    out += [title + (" (quick)" if results["quick"] else ""), f"cores: {layout['description']}", ""]

    out.append("1. Overhead (concurrency 1; direct = the same upstream requests sent straight)")
    rows = [
        [
            r["provider"],
            str(r["page"]),
            str(r["upstream_requests"]),
            f"{r['direct']['p50_ms']:.2f}/{r['direct']['p99_ms']:.2f}",
            f"{r['jobgraph']['p50_ms']:.2f}/{r['jobgraph']['p99_ms']:.2f}",
            f"{r['overhead_p50_ms']:+.2f}",
            f"{r['ratio_p50']:.2f}x",
        ]
        for r in results["overhead"]["rows"]
    ]
    out += _table(
        [
            "provider",
            "page",
            "upstream req",
            "direct p50/p99 ms",
            "jobgraph p50/p99 ms",
            "+p50 ms",
            "ratio p50",
        ],
        rows,
    )
    fan = results["fanout"]
    out += ["", f"2. Fan-out ({fan['latency_ms']} ms injected on every simulator)"]
    direct = fan.get("direct", {})
    out += _table(
        ["query", "p50 ms", "p99 ms", "upstream req", "direct p50/p99 ms"],
        [
            [
                k,
                f"{v['p50_ms']:.1f}",
                f"{v['p99_ms']:.1f}",
                str(direct[k]["upstream_requests"]) if k in direct else "-",
                f"{direct[k]['p50_ms']:.1f}/{direct[k]['p99_ms']:.1f}" if k in direct else "-",
            ]
            for k, v in fan["queries"].items()
        ],
    )
    federated = fan["ratio_federated"]
    out.append(
        f"ratio five fields / single: {fan['ratio_five_fields']:.2f}; federated jobs / single: "
        + ("not in the schema yet" if federated is None else f"{federated:.2f}")
    )
    if fan.get("direct_ratio_federated") is not None:
        out.append(
            "the same upstream requests sent straight, all at once (direct): five fields / "
            f"single {fan['direct_ratio_five_fields']:.2f}; federated / single "
            f"{fan['direct_ratio_federated']:.2f}"
        )
    tp = results["throughput"]
    out += ["", f"3. Throughput (20-job page, concurrency {tp['concurrency']})"]
    rows = []
    for key in sorted(k for k in tp if k.startswith("workers_")):
        t = tp[key]
        rows.append(
            [
                f"jobgraph, {key.split('_')[1]} worker(s)",
                f"{t['rps']:.0f}",
                f"{t['p50_ms']:.2f}",
                f"{t['p99_ms']:.2f}",
                f"{t['gateway_cpu_ms_per_request']:.3f}",
                str(t["errors"]),
                t["generator"],
            ]
        )
    up = tp["upstream_alone"]
    rows.append(
        [
            "simulator alone",
            f"{up['rps']:.0f}",
            f"{up['p50_ms']:.2f}",
            f"{up['p99_ms']:.2f}",
            "-",
            str(up["errors"]),
            up["generator"],
        ]
    )
    out += _table(["target", "req/s", "p50 ms", "p99 ms", "gw CPU ms/req", "errors", "load"], rows)
    out += _replicas(results.get("replicas"))
    eco = results["economy"]
    out += ["", "4. Request economy (upstream requests vs the planners' optimum)"]
    out += _table(
        ["workload", "queries", "upstream", "optimum", "per query", "at optimum"],
        [
            [
                w["workload"],
                str(w["graphql_queries"]),
                str(w["upstream_requests"]),
                "-"
                if w["optimum"] is None
                else str(w["optimum"])
                + (f" (+{w['allowance']} allowed)" if w.get("allowance") else ""),
                f"{w['per_query']:.2f}",
                _mark(w["at_optimum"]),
            ]
            for w in eco["workloads"]
        ],
    )
    if eco["not_yet_in_schema"]:
        out.append("not measured (not in the schema yet): " + ", ".join(eco["not_yet_in_schema"]))
    mem = results["memory"]
    out += [
        "",
        f"5. Memory: RSS {mem['rss_after_warmup_mb']:.1f} MB after warm-up, "
        f"{mem['rss_after_requests_mb']:.1f} MB after {mem['requests']} requests "
        f"({mem['growth_pct']:+.1f}%)",
    ]
    prof = results["profile"]
    out += ["", f"6. Profile ({prof['tool']}, {prof['requests']} requests): {prof['files'][0]}"]
    out += [f"   self  {p['share'] * 100:5.1f}%  {p['function']}" for p in prof["top_self"][:8]]
    out += [f"   total {p['share'] * 100:5.1f}%  {p['function']}" for p in prof["top_own"][:6]]
    comparison = results.get("comparison")
    if comparison:
        out += ["", f"Before ({comparison['baseline_label'] or 'baseline'}) and after"]
        out += _table(
            ["figure", "before", "after"],
            [[r["figure"], _figure(r["before"]), _figure(r["after"])] for r in comparison["rows"]],
        )
    out += ["", "Targets"]
    out += [
        f"  {name}: {value['value']} -> {_mark(value['met'])}"
        for name, value in results["targets"].items()
    ]
    return "\n".join(out)


def _replicas(section: Mapping[str, Any] | None) -> list[str]:
    if section is None:
        return []
    title = "3b. Replicas (20-job page, concurrency 16, cache_ttl_s on every source)"
    if "skipped" in section:
        return ["", f"{title}: skipped, {section['skipped']}"]
    rows = [
        [
            name.replace("_", " "),
            f"{run['rps']:.0f}",
            f"{run['p50_ms']:.2f}",
            f"{run['p99_ms']:.2f}",
            f"{run['gateway_cpu_ms_per_request']:.3f}",
            str(run["upstream_requests"]),
            str(run["errors"]),
        ]
        for name, run in section["runs"].items()
    ]
    header = ["run", "req/s", "p50 ms", "p99 ms", "gw CPU ms/req", "upstream req", "errors"]
    return ["", title, *_table(header, rows)]

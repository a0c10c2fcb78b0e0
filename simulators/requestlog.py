"""What a simulator was asked: one record per upstream request, with counters for assertions."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from typing import Any


@dataclass(slots=True)
class LoggedRequest:
    """One request as the simulator saw it; `status` is None while pending or when no response
    was sent (dropped connection, hang)."""

    seq: int
    method: str
    path: str
    route: str
    path_params: dict[str, str]
    query: tuple[tuple[str, str], ...]
    status: int | None
    fault: str | None
    # The W3C trace context the caller sent, if any (tracing tests).
    traceparent: str | None = None
    # Bytes of the response body as sent (None while pending or when no body was sent).
    body_bytes: int | None = None
    # When it arrived and when its answer was ready (time.monotonic): which requests were in
    # flight at once, and which waited for another to end.
    started: float = 0.0
    finished: float | None = None

    def param(self, name: str) -> list[str]:
        """Every value of a query parameter, or the path parameter of that name."""
        values = [value for key, value in self.query if key == name]
        if not values and name in self.path_params:
            values = [self.path_params[name]]
        return values

    def matches(self, route: str | None, params: dict[str, Any]) -> bool:
        if route is not None and self.route != route:
            return False
        return all(_as_text(expected) in self.param(name) for name, expected in params.items())

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "method": self.method,
            "path": self.path,
            "route": self.route,
            "path_params": self.path_params,
            "query": [list(pair) for pair in self.query],
            "status": self.status,
            "fault": self.fault,
            "traceparent": self.traceparent,
            "body_bytes": self.body_bytes,
        }


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class RequestLog:
    """Every non-control request a simulator served, in arrival order."""

    def __init__(self) -> None:
        self.entries: list[LoggedRequest] = []

    def record(
        self,
        *,
        method: str,
        path: str,
        route: str,
        path_params: dict[str, str],
        query: tuple[tuple[str, str], ...],
        status: int | None,
        fault: str | None,
        traceparent: str | None = None,
    ) -> LoggedRequest:
        entry = LoggedRequest(
            seq=len(self.entries) + 1,
            method=method,
            path=path,
            route=route,
            path_params=path_params,
            query=query,
            status=status,
            fault=fault,
            traceparent=traceparent,
            started=time.monotonic(),
        )
        self.entries.append(entry)
        return entry

    def count(self, route: str | None = None, **params: Any) -> int:
        """Requests to `route` (any when None) whose query or path parameters have these values.

        `log.count("list", project_id="4211", offset=0)` counts list requests for project 4211
        that sent `offset=0`; a parameter sent several times matches any of its values.
        """
        return sum(1 for entry in self.entries if entry.matches(route, params))

    def counts(self) -> dict[str, int]:
        """Number of requests per route name."""
        return dict(sorted(Counter(entry.route for entry in self.entries).items()))

    def clear(self) -> None:
        self.entries.clear()

    def to_json(self) -> dict[str, Any]:
        return {
            "total": len(self.entries),
            "counts": self.counts(),
            "entries": [entry.to_json() for entry in self.entries],
        }

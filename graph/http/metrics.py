"""Prometheus metrics, one registry per app (never the process-global one)."""

from __future__ import annotations

import re

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

from resolvers.snapshots import ListSnapshots

# Operation names are chosen by callers: keep the label set small and printable.
_OPERATION_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
MAX_OPERATION_NAMES = 200
OTHER_OPERATION = "other"
ANONYMOUS_OPERATION = "anonymous"

BREAKER_STATES = ("closed", "open", "half_open")
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


def safe_operation_name(name: str | None) -> str:
    """A caller-chosen operation name if it is a plain GraphQL name, else "other"."""
    if not name:
        return ANONYMOUS_OPERATION
    return name if _OPERATION_NAME.match(name) else OTHER_OPERATION


class GatewayMetrics:
    """Every metric the gateway exports; also the upstream client's observer."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._operation_names: set[str] = set()
        self.operations = Counter(
            "jobgraph_graphql_operations",
            "GraphQL operations executed, by operation name and outcome "
            "(ok, or the code of the first error).",
            ("operation", "outcome"),
            registry=self.registry,
        )
        self.requests = Counter(
            "jobgraph_http_requests",
            "HTTP requests served, by route and status.",
            ("route", "status"),
            registry=self.registry,
        )
        self.request_seconds = Histogram(
            "jobgraph_http_request_duration_seconds",
            "Time to answer an HTTP request, by route.",
            ("route",),
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.upstream_requests = Counter(
            "jobgraph_upstream_requests",
            "Requests made to upstreams, by source and HTTP status or error code.",
            ("source", "status"),
            registry=self.registry,
        )
        self.upstream_seconds = Histogram(
            "jobgraph_upstream_request_duration_seconds",
            "Upstream request latency, by source.",
            ("source",),
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.breaker_states = Gauge(
            "jobgraph_upstream_breaker_state",
            "Each source's circuit breaker: 1 for its current state (closed, open, half_open).",
            ("source", "state"),
            registry=self.registry,
        )
        self.cache_hits = Counter(
            "jobgraph_upstream_cache_hits",
            "Upstream responses answered from the cache, by source.",
            ("source",),
            registry=self.registry,
        )

        self.redis_errors = Counter(
            "jobgraph_redis_errors",
            "Calls to the shared Redis that failed or timed out and were answered without it, "
            "by operation (lookup, store, release, cool_down, ping, bucket).",
            ("operation",),
            registry=self.registry,
        )

    def operation_label(self, name: str | None) -> str:
        """A bounded, safe label for a caller-chosen operation name."""
        if not name:
            return ANONYMOUS_OPERATION
        if not _OPERATION_NAME.match(name):
            return OTHER_OPERATION
        if name not in self._operation_names:
            if len(self._operation_names) >= MAX_OPERATION_NAMES:
                return OTHER_OPERATION
            self._operation_names.add(name)
        return name

    def graphql_operation(self, name: str | None, outcome: str) -> None:
        self.operations.labels(self.operation_label(name), outcome).inc()

    def http_request(self, route: str, status: int, seconds: float) -> None:
        self.requests.labels(route, str(status)).inc()
        self.request_seconds.labels(route).observe(seconds)

    # --- resolvers.client.UpstreamObserver ------------------------------------------

    def upstream_request(self, source: str, outcome: str, seconds: float) -> None:
        self.upstream_requests.labels(source, outcome).inc()
        self.upstream_seconds.labels(source).observe(seconds)

    def cache_hit(self, source: str) -> None:
        self.cache_hits.labels(source).inc()

    def breaker_state(self, source: str, state: str) -> None:
        for each in BREAKER_STATES:
            self.breaker_states.labels(source, each).set(1 if each == state else 0)

    def redis_error(self, operation: str) -> None:
        self.redis_errors.labels(operation).inc()

    def track_snapshots(self, snapshots: ListSnapshots) -> None:
        """Export what the snapshots of lists read whole hold (read when scraped)."""
        held = Gauge(
            "jobgraph_snapshot_jobs",
            "Jobs held in the snapshots of lists the merge reads whole (max_staleness_s).",
            registry=self.registry,
        )
        held.set_function(lambda: snapshots.jobs_held)
        count = Gauge(
            "jobgraph_snapshots",
            "Snapshots held of lists the merge reads whole (one per caller, source and list).",
            registry=self.registry,
        )
        count.set_function(lambda: len(snapshots))

    def exposition(self) -> bytes:
        """The registry in Prometheus text format."""
        body: bytes = generate_latest(self.registry)
        return body

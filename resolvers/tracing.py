"""OpenTelemetry tracing, off unless `[tracing] otlp_endpoint` is set.

One tracer provider per app (never the process-global one), exporting in batches over
OTLP/HTTP from a background thread. W3C `traceparent` is read from callers and written on
upstream requests. Span attributes name sources, URL templates, statuses and outcomes only:
never a credential, a token, a variable or a full URL.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping

from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from resolvers.config import TracingConfig

TRACES_PATH = "/v1/traces"
# Spans wait at most this long in the batch before they are sent.
EXPORT_DELAY_MS = 500
EXPORT_TIMEOUT_S = 5.0

_PROPAGATOR = TraceContextTextMapPropagator()


def traces_url(endpoint: str) -> str:
    """The OTLP/HTTP traces URL for a collector's base URL (or the traces URL itself)."""
    endpoint = endpoint.rstrip("/")
    return endpoint if endpoint.endswith(TRACES_PATH) else endpoint + TRACES_PATH


class Tracing:
    """The app's tracer provider and tracer; `shutdown()` sends what is still batched."""

    def __init__(self, config: TracingConfig) -> None:
        self.provider = TracerProvider(
            resource=Resource.create({"service.name": config.service_name})
        )
        exporter = OTLPSpanExporter(
            endpoint=traces_url(config.otlp_endpoint), timeout=EXPORT_TIMEOUT_S
        )
        self.provider.add_span_processor(
            BatchSpanProcessor(exporter, schedule_delay_millis=EXPORT_DELAY_MS)
        )
        self.tracer: Tracer = self.provider.get_tracer("jobgraph")

    @classmethod
    def from_config(cls, config: TracingConfig) -> Tracing | None:
        return cls(config) if config.otlp_endpoint else None

    def shutdown(self) -> None:
        """Export the spans still batched, then stop (blocking: run it in a thread)."""
        self.provider.shutdown()


def caller_context(headers: Mapping[str, str]) -> Context:
    """The trace a caller's W3C `traceparent` (and `tracestate`) names, if any."""
    return _PROPAGATOR.extract(carrier=headers)


def inject_traceparent(headers: MutableMapping[str, str]) -> None:
    """Add the current span's `traceparent` (and `tracestate`) to outgoing headers."""
    _PROPAGATOR.inject(carrier=headers)

"""The outermost layer when tracing is on: one CLIENT span per logical GET."""

from __future__ import annotations

from opentelemetry.trace import SpanKind, StatusCode, Tracer
from yarl import URL

from resolvers.errors import UpstreamError
from resolvers.upstream.base import Layer, Upstream, UpstreamRequest, UpstreamResponse


class Traced(Layer):
    """A span `GET <source>` around the request, cache hits and retries included. Its
    attributes name the source, the URL template and the outcome, never what callers typed."""

    def __init__(self, inner: Upstream, tracer: Tracer) -> None:
        super().__init__(inner)
        self.tracer = tracer

    async def send(self, request: UpstreamRequest) -> UpstreamResponse:
        config = request.source.config
        attributes = {
            "jobgraph.source": config.name,
            "jobgraph.provider": config.provider.name,
            "http.request.method": "GET",
            # The template only: path parameters and the query may carry what callers typed.
            "url.template": _url_template(config.base_url, request.path),
        }
        with self.tracer.start_as_current_span(
            f"GET {config.name}",
            kind=SpanKind.CLIENT,
            attributes=attributes,
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            try:
                response = await self.inner.send(request)
            except UpstreamError as exc:
                if exc.upstream_status is not None:
                    span.set_attribute("http.response.status_code", exc.upstream_status)
                span.set_attribute("jobgraph.error_code", exc.code.value)
                span.set_status(StatusCode.ERROR, exc.code.value)
                raise
            span.set_attribute("http.response.status_code", response.status)
            return response


def _url_template(base_url: str, path: str) -> str:
    # A base URL's user and password (if any) never reach a span.
    base = URL(base_url).with_user(None).with_query(None)
    return f"{str(base).rstrip('/')}{path}"

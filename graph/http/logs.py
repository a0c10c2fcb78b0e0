"""One structured JSON log line and one set of metrics per HTTP request, with a request id.

The id comes from the caller's `X-Request-Id` when it is a sane token, else it is generated;
either way it is echoed in the response's `X-Request-Id`. The line never holds a header, a
query string, variables or a token: only what `_line` lists.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import orjson
from aiohttp import web
from aiohttp.typedefs import Handler, Middleware
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionResult

from graph.context import RequestContext
from graph.http.auth import PRINCIPAL
from graph.http.jsonlog import ACCESS_LOGGER
from graph.http.metrics import GatewayMetrics

access_log = logging.getLogger(ACCESS_LOGGER)

REQUEST_ID_HEADER = "X-Request-Id"
_SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

# Request keys filled while a request is answered, read when it is logged.
REQUEST_ID = web.RequestKey("jobgraph.request_id", str)
CONTEXT = web.RequestKey("jobgraph.context", RequestContext)
OPERATION = web.RequestKey("jobgraph.operation", str)
OUTCOME = web.RequestKey("jobgraph.outcome", str)
OK = "ok"


def request_id_for(request: web.Request) -> str:
    incoming = request.headers.get(REQUEST_ID_HEADER, "")
    return incoming if _SANE_REQUEST_ID.match(incoming) else uuid.uuid4().hex


def outcome_of(result: ExecutionResult) -> str:
    """`ok`, or the code of the response's first error."""
    for error in result.errors or ():
        code = (error.extensions or {}).get("code")
        return str(code) if code else "INTERNAL"
    return OK


def route_of(request: web.Request) -> str:
    """The matched route's template (bounded label values), not the raw path."""
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "unmatched"


class RecordOperation(SchemaExtension):
    """Notes the executed operation's name on the HTTP request, for the log and metrics."""

    def on_operation(self) -> Iterator[None]:
        try:
            yield
        finally:
            record_operation(self.execution_context.context, self.execution_context.operation_name)


def record_operation(context: object, name: str | None) -> None:
    if name is not None and isinstance(context, RequestContext) and context.request is not None:
        context.request[OPERATION] = name


def access_middleware(metrics: GatewayMetrics) -> Middleware:
    """Outermost middleware: request id, one access log line, HTTP and operation metrics."""

    @web.middleware
    async def observe(request: web.Request, handler: Handler) -> web.StreamResponse:
        request_id = request[REQUEST_ID] = request_id_for(request)
        started = time.perf_counter()
        status = 500
        try:
            response = await handler(request)
            status = response.status
            response.headers[REQUEST_ID_HEADER] = request_id
            return response
        except web.HTTPException as exc:
            status = exc.status
            exc.headers[REQUEST_ID_HEADER] = request_id
            raise
        finally:
            seconds = time.perf_counter() - started
            metrics.http_request(route_of(request), status, seconds)
            if OUTCOME in request:
                metrics.graphql_operation(request.get(OPERATION), request[OUTCOME])
            access_log.info(_line(request, request_id, status, seconds))

    return observe


def _line(request: web.Request, request_id: str, status: int, seconds: float) -> str:
    context = request.get(CONTEXT)
    principal = request.get(PRINCIPAL)
    record: dict[str, Any] = {
        "ts": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "request_id": request_id,
        "method": request.method,
        "path": request.path[:256],
        "status": status,
        "duration_ms": round(seconds * 1000, 3),
        "operation": request.get(OPERATION),
        "outcome": request.get(OUTCOME),
        "upstream_calls": context.http.calls if context is not None else 0,
        "principal": principal.name if principal is not None else None,
    }
    return orjson.dumps(record).decode()

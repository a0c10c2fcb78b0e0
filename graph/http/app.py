"""The aiohttp application: GraphQL view, health endpoints, and the services' lifecycle."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import os
import re
from collections.abc import AsyncIterator, Mapping
from typing import Any, cast

import orjson
from aiohttp import ClientConnectionResetError, web
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from graphql import GraphQLError, get_operation_ast, parse
from graphql.language import OperationType as AstOperation
from opentelemetry.trace import SpanKind, StatusCode
from strawberry.aiohttp.views import AiohttpWebSocketAdapter, GraphQLView
from strawberry.exceptions import ConnectionRejectionError, MissingQueryError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.subscriptions import (
    GRAPHQL_SSE_PROTOCOL,
    GRAPHQL_TRANSPORT_WS_PROTOCOL,
    GRAPHQL_WS_PROTOCOL,
)
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType
from strawberry.types.unset import UNSET, UnsetType

from graph.context import ANONYMOUS, RequestContext, Services
from graph.cursors import CursorCodec
from graph.http.auth import (
    PRINCIPAL,
    Authenticator,
    auth_middleware,
    credentials_from_connection_params,
)
from graph.http.cors import cors_middleware
from graph.http.graphiql import GraphiQLPage
from graph.http.logs import CONTEXT, OPERATION, OUTCOME, REQUEST_ID, access_middleware, outcome_of
from graph.http.metrics import GatewayMetrics, safe_operation_name
from graph.http.ops import Readiness, metrics_handler
from graph.http.persisted import PersistedQueries, PersistedQueryRefused, PersistedRequest
from graph.http.ratelimit import RateLimiter, rate_limit_middleware, rate_limited
from graph.http.responses import error_response
from graph.http.transport import (
    GRAPHQL_RESPONSE_JSON,
    GraphQLParams,
    RequestRefused,
    params_from_body,
    params_from_query_string,
    response_media_type,
)
from graph.limits import QueryLimitSettings, body_limit_middleware
from graph.schema.build import JobgraphSchema, build_schema
from graph.strawberry_private import core_schema
from resolvers.client import UpstreamClient, UpstreamObserver
from resolvers.config import Config, ConfigError
from resolvers.errors import ErrorCode, Unauthenticated
from resolvers.providers.registry import build_adapters
from resolvers.shared_state import RedisBucketStore, RedisUpstreamState
from resolvers.tracing import Tracing, caller_context
from resolvers.watch import JobWatch

SERVICES = web.AppKey("services", Services)
SCHEMA = web.AppKey("schema", JobgraphSchema)


def cursor_key(config: Config, environ: Mapping[str, str]) -> bytes:
    """The cursor signing key: a configured secret, else one derived from the config and its
    upstream secrets, so every replica with the same config (and restarts) agree."""
    env_name = config.server.cursor_secret_env
    if env_name is not None:
        secret = environ.get(env_name)
        if not secret:
            raise ConfigError(f"server.cursor_secret_env: env var {env_name} is not set")
        return hashlib.sha256(secret.encode()).digest()
    material = [config.model_dump_json()]
    for source in config.sources:
        material.extend(source.secrets(environ))
    return hashlib.sha256("\0".join(material).encode()).digest()


def build_services(
    config: Config,
    environ: Mapping[str, str],
    observer: UpstreamObserver | None = None,
    shared: RedisUpstreamState | None = None,
    tracing: Tracing | None = None,
) -> Services:
    tracer = tracing.tracer if tracing is not None else None
    client = UpstreamClient(
        config.sources,
        environ,
        observer,
        shared=shared,
        tracer=tracer,
        snapshot_max_jobs=config.server.snapshot_max_jobs,
    )
    return Services(
        shared=shared,
        tracing=tracing,
        config=config,
        client=client,
        adapters=build_adapters(config.sources),
        cursors=CursorCodec(cursor_key(config, environ)),
        watch=JobWatch(
            client,
            config.server.scan_ceiling,
            config.server.max_subscriptions,
            config.server.subscription_queue_size,
        ),
    )


# Requests that ask for a streamed answer (multipart or server-sent events) go Strawberry's way.
_STREAMING_ACCEPT = re.compile(r"multipart/mixed|text/event-stream", re.IGNORECASE)
# A plain POST answers one result: a subscription needs a WebSocket or an event stream.
_POST_OPERATIONS = OperationType.from_http("POST") - {OperationType.SUBSCRIPTION}
SUBSCRIPTION_TRANSPORTS = (
    "subscriptions are served over a WebSocket on /graphql (graphql-transport-ws)"
)
# A plain GET answers queries only (a streamed one, over SSE, may subscribe).
_GET_OPERATIONS = frozenset({OperationType.QUERY})
# The query text of a request that named it by a persisted query's hash.
_RESOLVED_QUERY = web.RequestKey("jobgraph.resolved_query", str)
# `connection_ack` without a payload (Strawberry's UNSET is untyped).
_NO_ACK_PAYLOAD: UnsetType = UNSET


_STREAM_CHECK_TOKENS = 10_000
_JSON_ACCEPT = re.compile(r"application/(graphql-response\+)?json", re.IGNORECASE)


def _wants_stream(accept: str, params: GraphQLParams) -> bool:
    """Whether a request goes Strawberry's streaming way: it accepts a stream and either takes
    nothing else or is a subscription. A client listing JSON too (urql sends
    `..., application/json, text/event-stream, multipart/mixed` with every request) gets
    one JSON answer for a query, as it would from a server that streams nothing."""
    if not _STREAMING_ACCEPT.search(accept):
        return False
    if not _JSON_ACCEPT.search(accept):
        return True
    return _is_subscription(params.query, params.operation_name)


def _is_subscription(query: str | None, operation_name: str | None) -> bool:
    if not query:
        return False
    try:
        # Bounded: an over-long text is refused with its coded error on the JSON path.
        document = parse(query, no_location=True, max_tokens=_STREAM_CHECK_TOKENS)
    except GraphQLError:
        return False  # answered as a coded syntax error on the JSON path
    operation = get_operation_ast(document, operation_name)
    return operation is not None and operation.operation is AstOperation.SUBSCRIPTION


class TextWebSocketAdapter(AiohttpWebSocketAdapter):
    """graphql-transport-ws messages are text frames (clients refuse binary ones). A message
    the client's socket has not taken within `server.websocket_send_timeout_s` drops the
    connection: a client that stopped reading holds no task and no events for ever."""

    async def send_json(self, message: Mapping[str, object]) -> None:
        view = cast("JobgraphView", self.view)
        timeout = view.services.config.server.websocket_send_timeout_s
        try:
            async with asyncio.timeout(timeout):
                await self.ws.send_str(orjson.dumps(message).decode())
        except TimeoutError:
            # No close frame can pass a full buffer: the connection is cut.
            transport = self.request.transport
            if transport is not None:
                transport.abort()
            raise WebSocketDisconnected from None
        except (RuntimeError, ClientConnectionResetError) as exc:
            raise WebSocketDisconnected from exc


class JobgraphView(GraphQLView):
    """Strawberry's aiohttp view with our per-operation context and orjson responses."""

    websocket_adapter_class = TextWebSocketAdapter  # type: ignore[assignment]

    def __init__(
        self,
        services: Services,
        authenticator: Authenticator,
        graphiql: GraphiQLPage | None = None,
        persisted: PersistedQueries | None = None,
        limiter: RateLimiter | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.services = services
        self.authenticator = authenticator
        self.jobgraph_schema: JobgraphSchema = kwargs["schema"]
        self.graphiql = graphiql
        self.persisted = persisted if persisted is not None else PersistedQueries()
        self.limiter = limiter

    async def reject_websocket(self, request: web.Request) -> web.Response:
        """A handshake from a page of an origin `server.cors_origins` does not list: a coded
        403 (Strawberry's is plain text), before anything else runs."""
        origin = request.headers.get("Origin", "")[:100]
        return error_response(403, f"origin {origin!r} is not allowed", ErrorCode.FORBIDDEN)

    async def __call__(self, request: web.Request) -> web.StreamResponse:
        media_type = response_media_type(request.headers.get("Accept"))
        try:
            if request.headers.get("Upgrade", "").lower() == "websocket":
                # graphql-transport-ws: Strawberry's own subscription handling.
                return await self.run(request=request)
            if request.method == "GET" and self.should_render_graphql_ide(
                self.request_adapter_class(request)
            ):
                return await self.run(request=request)
            persisted = self.persisted.resolve(await self._read_params(request))
            over_budget = await self._charge_cost(request, persisted.params, media_type)
            if over_budget is not None:
                return over_budget
            if _wants_stream(request.headers.get("Accept", ""), persisted.params):
                return await self._stream(request, persisted)
            return await self._answer(request, persisted, media_type)
        except RequestRefused as refused:
            return error_response(
                400, str(refused), ErrorCode.BAD_USER_INPUT, media_type=media_type
            )
        except PersistedQueryRefused as refused:
            return error_response(
                refused.status, refused.message, refused.code, refused.headers, media_type
            )
        except HTTPException as exc:
            # Strawberry's own refusals on the streaming path, as coded JSON.
            return error_response(
                exc.status_code, exc.reason, ErrorCode.BAD_USER_INPUT, media_type=media_type
            )

    async def execute_single(  # type: ignore[override]
        self,
        request: web.Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: web.Response,
        context: RequestContext,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        """Strawberry's one-result execution (a streamed request no stream transport took,
        e.g. multipart without a subscription spec), refusing subscriptions as ours does."""
        post = request_adapter.method == "POST"
        allowed = set(_POST_OPERATIONS if post else _GET_OPERATIONS)
        try:
            return await self.schema.execute(
                request_data.query,
                root_value=root_value,
                variable_values=request_data.variables,
                context_value=context,
                operation_name=request_data.operation_name,
                allowed_operation_types=allowed,
                operation_extensions=request_data.extensions,
            )
        except InvalidOperationTypeError as exc:
            if exc.operation_type is OperationType.SUBSCRIPTION:
                raise HTTPException(400, SUBSCRIPTION_TRANSPORTS) from None
            raise HTTPException(400, exc.as_http_error_reason(request_adapter.method)) from None
        except CannotGetOperationTypeError as exc:
            raise HTTPException(400, exc.as_http_error_reason()) from None
        except MissingQueryError:
            raise HTTPException(400, "No GraphQL query found in the request") from None

    def decode_json(self, data: str | bytes) -> object:
        """orjson, else the standard library for what only it reads (NaN, integers past 64
        bits); anything unreadable (bad UTF-8, nesting too deep for the parser) is the error
        Strawberry words as a 400, never an exception it would let through as a 500."""
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            pass
        try:
            return json.loads(data)
        except (ValueError, RecursionError) as exc:
            raise json.JSONDecodeError(str(exc)[:200], "", 0) from None

    async def _read_params(self, request: web.Request) -> GraphQLParams:
        """The request's GraphQL parameters, checked (see graph.http.transport)."""
        if request.method == "GET":
            query = request.query
            return params_from_query_string(
                query, lambda name: len(query.getall(name, ())) > 1, self.decode_json
            )
        if request.content_type != "application/json":
            raise RequestRefused("Unsupported content type: send application/json")
        try:
            body = self.decode_json(await request.read())
        except json.JSONDecodeError:
            raise RequestRefused("Unable to parse request body as JSON") from None
        if isinstance(body, list):
            raise RequestRefused("the request body must be a JSON object (batches are not served)")
        return params_from_body(body)

    async def _charge_cost(
        self, request: web.Request, params: GraphQLParams, media_type: str
    ) -> web.Response | None:
        """With `[rate_limits] cost_per_minute`: takes the operation's cost estimate from the
        caller's cost bucket before it runs; the refusal when the bucket cannot pay it."""
        limiter, lane = self.limiter, self.jobgraph_schema.fast_lane
        if limiter is None or not limiter.charges_cost or lane is None or PRINCIPAL not in request:
            return None
        cost = lane.cost(
            core_schema(self.jobgraph_schema), params.query, params.operation_name, params.variables
        )
        refusal = await limiter.refuse_cost(request[PRINCIPAL].name, cost)
        if refusal is None:
            return None
        if refusal.code is ErrorCode.QUERY_TOO_COMPLEX:
            return error_response(400, refusal.message, refusal.code, media_type=media_type)
        return rate_limited(refusal.message, refusal.wait, media_type)

    async def _stream(
        self, request: web.Request, persisted: PersistedRequest
    ) -> web.StreamResponse:
        """Strawberry's way (which reads the request again), given the query text a persisted
        query's hash stands for (see `parse_http_body`)."""
        request[_RESOLVED_QUERY] = persisted.params.query
        response = await self.run(request=request)
        context = request.get(CONTEXT)
        if context is not None and context.executed:
            self.persisted.remember(persisted)
        return response

    async def parse_http_body(self, request: Any) -> GraphQLRequestData | list[GraphQLRequestData]:
        data = await super().parse_http_body(request)
        resolved = request.request.get(_RESOLVED_QUERY)
        if isinstance(data, GraphQLRequestData) and not data.query and resolved:
            data = dataclasses.replace(data, query=resolved)
        return data

    def should_render_graphql_ide(self, request: Any) -> bool:
        # A GET naming a persisted query by its hash has no `query`, yet is an operation.
        return "extensions" not in request.query_params and super().should_render_graphql_ide(
            request
        )

    async def _answer(
        self, request: web.Request, persisted: PersistedRequest, media_type: str
    ) -> web.Response:
        """`_execute`, in a span of its own when tracing is on (a child of the caller's
        `traceparent`, if it sent one)."""
        tracing = self.services.tracing
        if tracing is None:
            return await self._execute(request, persisted, media_type)
        with tracing.tracer.start_as_current_span(
            "graphql",
            context=caller_context(request.headers),
            kind=SpanKind.SERVER,
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            response = await self._execute(request, persisted, media_type)
            # Names and codes only: never the document, the variables or a token.
            name = safe_operation_name(request.get(OPERATION))
            outcome = request.get(OUTCOME, "ok")
            span.update_name(f"graphql {name}")
            span.set_attribute("graphql.operation.name", name)
            span.set_attribute("jobgraph.outcome", outcome)
            span.set_attribute("jobgraph.request_id", request.get(REQUEST_ID, ""))
            span.set_attribute("http.response.status_code", response.status)
            if outcome != "ok":
                span.set_status(StatusCode.ERROR, outcome)
            return response

    async def _execute(
        self, request: web.Request, persisted: PersistedRequest, media_type: str
    ) -> web.Response:
        """Execute one operation and answer it as `media_type` asks: a request error (one
        raised before execution began: syntax, validation, limits, the operation's name,
        variables) is a 400 without `data` as application/graphql-response+json, and a 200
        with `data: null` as application/json; anything executed is a 200. A persisted
        query's text is remembered once it has passed every check and run."""
        params = persisted.params
        allowed = _GET_OPERATIONS if request.method == "GET" else _POST_OPERATIONS
        context = await self.get_context(request)
        try:
            result = await self.jobgraph_schema.execute(
                params.query,
                params.variables,
                context,
                None,
                params.operation_name,
                allowed,
                params.extensions,
            )
        except InvalidOperationTypeError as exc:
            if exc.operation_type is OperationType.SUBSCRIPTION and request.method == "POST":
                if media_type == GRAPHQL_RESPONSE_JSON:
                    return error_response(
                        400,
                        SUBSCRIPTION_TRANSPORTS,
                        ErrorCode.BAD_USER_INPUT,
                        media_type=media_type,
                    )
                # application/json: a request error is a 200 with `data: null`, as for others.
                code = {"code": ErrorCode.BAD_USER_INPUT.value}
                refusal = {
                    "data": None,
                    "errors": [{"message": SUBSCRIPTION_TRANSPORTS, "extensions": code}],
                }
                return web.Response(
                    body=orjson.dumps(refusal), content_type=media_type, charset="utf-8"
                )
            return error_response(
                405,
                exc.as_http_error_reason(request.method),
                ErrorCode.BAD_USER_INPUT,
                headers={"Allow": "POST"},
                media_type=media_type,
            )
        if context.executed:
            self.persisted.remember(persisted)
        body: dict[str, Any] = dict(await self.process_result(request, result))
        status = 200
        if media_type == GRAPHQL_RESPONSE_JSON and result.errors and not context.executed:
            status = 400
            body.pop("data", None)
        return web.Response(
            status=status, body=orjson.dumps(body), content_type=media_type, charset="utf-8"
        )

    async def get_context(  # type: ignore[override]
        self, request: web.Request, response: web.StreamResponse | None = None
    ) -> RequestContext:
        principal = request.get(PRINCIPAL, ANONYMOUS)
        context = RequestContext(self.services, principal=principal, request=request)
        request[CONTEXT] = context  # the access log reads its upstream call count
        return context

    async def on_ws_connect(  # type: ignore[override]
        self, context: RequestContext
    ) -> UnsetType | dict[str, object] | None:
        """Authenticate a WebSocket at `connection_init`: a token in its payload decides (see
        graph.http.auth.credentials_from_connection_params), else the upgrade's `Authorization`
        header (already checked by auth_middleware). No valid token where one is needed:
        the socket closes with 4403 Forbidden, as graphql-transport-ws specifies."""
        credentials = credentials_from_connection_params(context.connection_params)
        if credentials is None:
            if self.authenticator.mode == "none" or "Authorization" in context.request.headers:
                return _NO_ACK_PAYLOAD
            raise ConnectionRejectionError({"code": ErrorCode.UNAUTHENTICATED.value})
        try:
            principal = await self.authenticator.authenticate(credentials)
        except Unauthenticated:
            raise ConnectionRejectionError({"code": ErrorCode.UNAUTHENTICATED.value}) from None
        context.act_as(principal)
        return _NO_ACK_PAYLOAD

    async def render_graphql_ide(self, request: web.Request) -> web.Response:
        if self.graphiql is None:
            raise web.HTTPNotFound()
        return await self.graphiql.render(request)

    async def process_result(  # type: ignore[override]
        self, request: web.Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        request[OUTCOME] = outcome_of(result)
        return await super().process_result(request, result)

    def encode_json(self, data: GraphQLHTTPResponse | list[GraphQLHTTPResponse]) -> bytes:  # type: ignore[override]
        return orjson.dumps(data)


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def build_app(
    config: Config,
    environ: Mapping[str, str] | None = None,
    *,
    extra_setup: Any = None,
) -> web.Application:
    """The gateway app for `config`; secrets are read from `environ` (default: os.environ)."""
    env = dict(os.environ if environ is None else environ)
    server = config.server
    metrics = GatewayMetrics()
    # Upstream responses, 429 cool-downs and per-caller buckets: in this process, or in Redis
    # where replicas share them.
    shared: RedisUpstreamState | None = None
    buckets: RedisBucketStore | None = None
    if config.cache.backend == "redis" and config.cache.redis_url:
        shared = RedisUpstreamState.from_url(config.cache.redis_url, on_error=metrics.redis_error)
        buckets = RedisBucketStore.from_url(
            config.cache.redis_url, on_error=lambda: metrics.redis_error("bucket")
        )
    tracing = Tracing.from_config(config.tracing)
    services = build_services(config, env, observer=metrics, shared=shared, tracing=tracing)
    metrics.track_snapshots(services.client.snapshots)
    authenticator = Authenticator(config.auth, env)
    limiter = RateLimiter(config.rate_limits, buckets)
    app = web.Application(
        client_max_size=server.max_body_bytes,
        middlewares=[
            access_middleware(metrics),
            cors_middleware(server.cors_origins),
            auth_middleware(authenticator),
            rate_limit_middleware(limiter),
            body_limit_middleware(server.max_body_bytes),
        ],
    )
    app[SERVICES] = services

    async def upstream_session(_app: web.Application) -> AsyncIterator[None]:
        # The upstream stack (resolvers.upstream.stack) is built here and closed here.
        await services.client.start()
        yield
        await services.watch.close()
        await services.client.close()
        if buckets is not None:
            await buckets.close()
        if shared is not None:
            await shared.close()
        if tracing is not None:
            # Sends what is still batched; blocking, so off the event loop.
            await asyncio.to_thread(tracing.shutdown)

    app.cleanup_ctx.append(upstream_session)
    if authenticator.jwt is not None:
        jwt_verifier = authenticator.jwt

        async def load_jwks(_app: web.Application) -> None:
            await jwt_verifier.start()

        app.on_startup.append(load_jwks)
    persisted = PersistedQueries.from_server(server)
    schema = build_schema(
        limits=QueryLimitSettings.from_server(server),
        introspection=server.introspection,
        trusted=persisted.trusted if persisted.only_persisted else None,
        limiter=limiter,
        fast_path=server.fast_path,
    )
    app[SCHEMA] = schema
    graphiql = GraphiQLPage(config, core_schema(schema)) if server.graphiql else None
    view = JobgraphView(
        services,
        authenticator,
        graphiql=graphiql,
        persisted=persisted,
        limiter=limiter,
        schema=schema,
        graphql_ide="graphiql" if graphiql is not None else None,
        # Counted by graph.schema.subscriptions instead, with a coded error (Strawberry's has none).
        max_subscriptions_per_connection=None,
        # A WebSocket is outside CORS: a page of another origin may open one only if that
        # origin may read answers over HTTP (pages of the gateway's own host always may).
        allowed_origins=server.cors_origins,
        # graphql-transport-ws (and the legacy graphql-ws) on the upgrade; GraphQL over SSE
        # (graphql-sse's distinct-connections mode) for a POST that accepts text/event-stream.
        subscription_protocols=(
            GRAPHQL_TRANSPORT_WS_PROTOCOL,
            GRAPHQL_WS_PROTOCOL,
            GRAPHQL_SSE_PROTOCOL,
        ),
    )
    app.router.add_route("GET", "/graphql", view)
    app.router.add_route("POST", "/graphql", view)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", Readiness(services).handle)
    app.router.add_get("/metrics", metrics_handler(metrics))
    if graphiql is not None:
        graphiql.add_routes(app)
    if extra_setup is not None:
        extra_setup(app)
    return app

"""The aiohttp application: GraphQL view, health endpoints, and the services' lifecycle."""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import AsyncIterator, Mapping
from typing import Any

import orjson
from aiohttp import web
from cross_web import HTTPException
from strawberry.aiohttp.views import GraphQLView
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from graph.auth import PRINCIPAL, Authenticator, auth_middleware
from graph.context import ANONYMOUS, RequestContext, Services
from graph.cors import cors_middleware
from graph.cursors import CursorCodec
from graph.graphiql import GraphiQLPage
from graph.limits import QueryLimitSettings, body_limit_middleware
from graph.logs import CONTEXT, OUTCOME, access_middleware, outcome_of
from graph.metrics import GatewayMetrics
from graph.ops import Readiness, metrics_handler
from graph.responses import error_response
from graph.schema import JobgraphSchema, build_schema
from resolvers.client import UpstreamClient, UpstreamObserver
from resolvers.config import Config, ConfigError
from resolvers.errors import ErrorCode
from resolvers.providers.registry import build_adapters

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
    config: Config, environ: Mapping[str, str], observer: UpstreamObserver | None = None
) -> Services:
    return Services(
        config=config,
        client=UpstreamClient(config.sources, environ, observer),
        adapters=build_adapters(config.sources),
        cursors=CursorCodec(cursor_key(config, environ)),
        environ=environ,
    )


# Requests that ask for a streamed answer (multipart or server-sent events) go Strawberry's way.
_STREAMING_ACCEPT = re.compile(r"multipart/mixed|text/event-stream", re.IGNORECASE)
_POST_OPERATIONS = OperationType.from_http("POST")


class JobgraphView(GraphQLView):
    """Strawberry's aiohttp view with our per-operation context and orjson responses."""

    def __init__(
        self, services: Services, graphiql: GraphiQLPage | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.services = services
        self.jobgraph_schema: JobgraphSchema = kwargs["schema"]
        self.graphiql = graphiql

    async def __call__(self, request: web.Request) -> web.StreamResponse:
        try:
            if request.method == "POST" and request.content_type == "application/json":
                answered = await self._answer_json(request)
                if answered is not None:
                    return answered
            return await self.run(request=request)
        except HTTPException as exc:
            # Strawberry's request errors (no query, bad JSON, unknown operation) as coded JSON.
            return error_response(exc.status_code, exc.reason, ErrorCode.BAD_USER_INPUT)

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

    async def _answer_json(self, request: web.Request) -> web.Response | None:
        """A JSON POST: refused here if its body is not a JSON object (or list of them),
        which Strawberry's view would fail on; answered here if it is an operation the
        schema's fast lane knows, without Strawberry's view machinery (content negotiation,
        sub-responses, batching, which such a request never needs). None: `run` answers."""
        try:
            data = self.decode_json(await request.read())
        except json.JSONDecodeError:
            return error_response(
                400, "Unable to parse request body as JSON", ErrorCode.BAD_USER_INPUT
            )
        if not isinstance(data, dict | list):
            return error_response(
                400, "the request body must be a JSON object", ErrorCode.BAD_USER_INPUT
            )
        lane = self.jobgraph_schema.fast_lane
        if (
            lane is None
            or not isinstance(data, dict)
            or _STREAMING_ACCEPT.search(request.headers.get("Accept", ""))
        ):
            return None
        query = data.get("query")
        variables = data.get("variables")
        name = data.get("operationName")
        extensions = data.get("extensions")
        if (
            not isinstance(query, str)
            or not isinstance(variables, dict | None)
            or not isinstance(name, str | None)
            or not isinstance(extensions, dict | None)
            or lane.prepared(query, name, variables, _POST_OPERATIONS) is None
        ):
            return None
        context = await self.get_context(request)
        result = await self.jobgraph_schema.execute(
            query,
            variables,
            context,
            None,
            name,
            _POST_OPERATIONS,
            extensions,
        )
        body = await self.process_result(request, result)
        return web.Response(body=orjson.dumps(body), content_type="application/json")

    async def get_context(  # type: ignore[override]
        self, request: web.Request, response: web.StreamResponse | None = None
    ) -> RequestContext:
        principal = request.get(PRINCIPAL, ANONYMOUS)
        context = RequestContext(self.services, principal=principal, request=request)
        request[CONTEXT] = context  # the access log reads its upstream call count
        return context

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
    services = build_services(config, env, observer=metrics)
    app = web.Application(
        client_max_size=server.max_body_bytes,
        middlewares=[
            access_middleware(metrics),
            cors_middleware(server.cors_origins),
            auth_middleware(Authenticator(config.auth, env)),
            body_limit_middleware(server.max_body_bytes),
        ],
    )
    app[SERVICES] = services

    async def upstream_session(_app: web.Application) -> AsyncIterator[None]:
        await services.client.start()
        yield
        await services.client.close()

    app.cleanup_ctx.append(upstream_session)
    schema = build_schema(
        limits=QueryLimitSettings.from_server(server), introspection=server.introspection
    )
    app[SCHEMA] = schema
    graphiql = GraphiQLPage(config, schema._schema) if server.graphiql else None
    view = JobgraphView(
        services,
        graphiql=graphiql,
        schema=schema,
        graphql_ide="graphiql" if graphiql is not None else None,
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

"""The aiohttp application: GraphQL view, health endpoints, and the services' lifecycle."""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator, Mapping
from typing import Any

import orjson
from aiohttp import web
from strawberry.aiohttp.views import GraphQLView
from strawberry.http import GraphQLHTTPResponse

from graph.context import ANONYMOUS, RequestContext, Services
from graph.cursors import CursorCodec
from graph.schema import build_schema
from resolvers.client import UpstreamClient
from resolvers.config import Config, ConfigError
from resolvers.providers.registry import build_adapters

SERVICES = web.AppKey("services", Services)


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


def build_services(config: Config, environ: Mapping[str, str]) -> Services:
    return Services(
        config=config,
        client=UpstreamClient(config.sources, environ),
        adapters=build_adapters(config.sources),
        cursors=CursorCodec(cursor_key(config, environ)),
        environ=environ,
    )


class JobgraphView(GraphQLView):
    """Strawberry's aiohttp view with our per-operation context and orjson responses."""

    def __init__(self, services: Services, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.services = services

    async def get_context(  # type: ignore[override]
        self, request: web.Request, response: web.StreamResponse
    ) -> RequestContext:
        principal = request.get("principal", ANONYMOUS)
        return RequestContext(self.services, principal=principal, request=request)

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
    services = build_services(config, env)
    app = web.Application(client_max_size=config.server.max_body_bytes)
    app[SERVICES] = services

    async def upstream_session(_app: web.Application) -> AsyncIterator[None]:
        await services.client.start()
        yield
        await services.client.close()

    app.cleanup_ctx.append(upstream_session)
    schema = build_schema()
    view = JobgraphView(
        services,
        schema=schema,
        graphql_ide="graphiql" if config.server.graphiql else None,
    )
    app.router.add_route("GET", "/graphql", view)
    app.router.add_route("POST", "/graphql", view)
    app.router.add_get("/healthz", healthz)
    if extra_setup is not None:
        extra_setup(app)
    return app

"""CORS for browser apps on other origins: only the origins `server.cors_origins` lists."""

from __future__ import annotations

from collections.abc import Sequence

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware
from multidict import CIMultiDict

from graph.http.responses import error_response
from resolvers.errors import ErrorCode

ALLOWED_METHODS = "GET, POST, OPTIONS"
ALLOWED_HEADERS = "Authorization, Content-Type, X-Request-Id"
EXPOSED_HEADERS = "X-Request-Id"
PREFLIGHT_MAX_AGE_S = "600"


def _allow(headers: CIMultiDict[str], origin: str) -> None:
    headers["Access-Control-Allow-Origin"] = origin
    headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
    headers.add("Vary", "Origin")


def cors_middleware(origins: Sequence[str]) -> Middleware:
    """Answers preflights and marks responses readable by the allowed origins ("*": any)."""
    allowed = frozenset(origin.rstrip("/") for origin in origins)
    any_origin = "*" in allowed

    def permits(origin: str) -> bool:
        return any_origin or origin in allowed

    @web.middleware
    async def cors(request: web.Request, handler: Handler) -> web.StreamResponse:
        origin = request.headers.get("Origin")
        if origin is None:
            return await handler(request)
        if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
            if not permits(origin):
                return error_response(
                    403, f"origin {origin[:100]!r} is not allowed", ErrorCode.FORBIDDEN
                )
            preflight = web.Response(status=204)
            preflight.headers["Access-Control-Allow-Methods"] = ALLOWED_METHODS
            preflight.headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
            preflight.headers["Access-Control-Max-Age"] = PREFLIGHT_MAX_AGE_S
            _allow(preflight.headers, origin)
            return preflight
        if not permits(origin):
            return await handler(request)
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            _allow(exc.headers, origin)
            raise
        _allow(response.headers, origin)
        return response

    return cors

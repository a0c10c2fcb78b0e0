"""GraphQL-shaped JSON error responses for requests refused before GraphQL runs."""

from __future__ import annotations

from collections.abc import Mapping

import orjson
from aiohttp import web

from resolvers.errors import ErrorCode


def error_response(
    status: int,
    message: str,
    code: ErrorCode,
    headers: Mapping[str, str] | None = None,
    media_type: str = "application/json",
) -> web.Response:
    """`{"errors": [{"message", "extensions": {"code"}}]}` with an HTTP status (no `data`:
    nothing was executed)."""
    body = {"errors": [{"message": message, "extensions": {"code": code.value}}]}
    return web.Response(
        status=status,
        body=orjson.dumps(body),
        content_type=media_type,
        charset="utf-8",
        headers=headers,
    )

"""Who may call: `Authorization: Bearer <token>` resolved to a `Principal` for every request.

Tokens are read once, at startup, from the env vars `[[auth.tokens]]` names; only their
SHA-256 digests are kept. A presented token is compared with every configured digest in
constant time (`hmac.compare_digest`, no early exit), so timing tells nothing about which
token, or how much of one, matched. With `mode = "jwt"` (or `"token+jwt"`) a bearer JWT is
verified by `graph.http.jwtauth.JwtVerifier` instead.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from graph.context import ANONYMOUS, Principal
from graph.http.jwtauth import JwtVerifier, looks_like_jwt
from graph.http.responses import error_response
from resolvers.config import AuthConfig, ConfigError
from resolvers.errors import ErrorCode, Forbidden, Unauthenticated

PRINCIPAL = web.RequestKey("principal", Principal)  # read by JobgraphView.get_context
GRAPHQL_PATH = "/graphql"
METRICS_PATH = "/metrics"
# Open without a token: probes, GraphiQL's page and assets (they carry no data).
OPEN_PATHS = frozenset({"/healthz", "/readyz"})
OPEN_PREFIXES = ("/graphiql/static/",)
REALM = 'Bearer realm="jobgraph"'
# The caller on open paths when tokens are required: may read no source.
NOBODY = Principal("anonymous", frozenset())


@dataclass(frozen=True, slots=True)
class CallerToken:
    principal: Principal
    digest: bytes


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).digest()


class Authenticator:
    """Resolves a request's `Authorization` header to the calling principal."""

    def __init__(self, config: AuthConfig, environ: Mapping[str, str]) -> None:
        self.mode = config.mode
        self._tokens: list[CallerToken] = []
        self.jwt = JwtVerifier(config) if config.uses_jwt else None
        if not config.uses_tokens:
            return
        seen: set[bytes] = set()
        for entry in config.tokens:
            value = environ.get(entry.token_env, "")
            if not value.strip():
                raise ConfigError(
                    f"auth.tokens.{entry.name}.token_env: env var {entry.token_env} is not set"
                )
            digest = _digest(value.strip())
            if digest in seen:
                raise ConfigError(f"auth.tokens.{entry.name}: the same token is configured twice")
            seen.add(digest)
            sources = None if entry.sources is None else frozenset(entry.sources)
            self._tokens.append(CallerToken(Principal(entry.name, sources), digest))

    async def authenticate(self, authorization: str | None) -> Principal:
        """The principal for an `Authorization` header value; Unauthenticated if none."""
        if self.mode == "none":
            return ANONYMOUS
        if authorization is None:
            raise Unauthenticated("this gateway needs an `Authorization: Bearer <token>` header")
        scheme, _, presented = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not presented.strip():
            raise Unauthenticated("expected an `Authorization: Bearer <token>` header")
        presented = presented.strip()
        found = self._static_token(presented) if self._tokens else None
        if (
            found is None
            and self.jwt is not None
            and (self.mode == "jwt" or looks_like_jwt(presented))
        ):
            return await self.jwt.verify(presented)
        if found is None:
            raise Unauthenticated("the bearer token is not valid")
        return found

    def _static_token(self, presented: str) -> Principal | None:
        digest = _digest(presented)
        found: Principal | None = None
        for token in self._tokens:
            # Every digest is compared, whichever matches.
            matches = hmac.compare_digest(digest, token.digest)
            if matches and found is None:
                found = token.principal
        return found


def credentials_from_connection_params(params: Mapping[str, object] | None) -> str | None:
    """The `Authorization` value a WebSocket client sent in its `connection_init` payload.

    Read, in this order: `Authorization` / `authorization` (`"Bearer <token>"`), the same
    inside `headers` (what clients that reuse their HTTP headers send), then `token` /
    `authToken` (the bare token). A value that is not a string counts as a bad credential.
    """
    if not params:
        return None
    places: list[Mapping[str, object]] = [params]
    headers = params.get("headers")
    if isinstance(headers, Mapping):
        places.append(headers)
    for place in places:
        for key in ("Authorization", "authorization"):
            if key in place:
                value = place[key]
                return value if isinstance(value, str) else ""
    for key in ("token", "authToken"):
        if key in params:
            value = params[key]
            return f"Bearer {value}" if isinstance(value, str) else ""
    return None


def awaits_connection_init(request: web.Request) -> bool:
    """A WebSocket upgrade without an `Authorization` header: its token, if any, comes in the
    `connection_init` payload (browsers cannot set the header), checked by the view."""
    return (
        request.path == GRAPHQL_PATH
        and request.headers.get("Upgrade", "").lower() == "websocket"
        and "Authorization" not in request.headers
    )


def is_open(request: web.Request) -> bool:
    """Requests served without a token."""
    path = request.path
    if path in OPEN_PATHS or path.startswith(OPEN_PREFIXES):
        return True
    if awaits_connection_init(request):
        return True
    # GraphiQL's page: a GET with no `query` parameter (nor `extensions`, which may name a
    # persisted query) that is no WebSocket upgrade (which would carry operations) never
    # executes anything.
    return (
        path == GRAPHQL_PATH
        and request.method == "GET"
        and "query" not in request.query
        and "extensions" not in request.query
        and request.headers.get("Upgrade", "").lower() != "websocket"
    )


def auth_middleware(authenticator: Authenticator) -> Middleware:
    """Puts the caller's `Principal` on the request, or answers 401 (or 403 for /metrics)."""

    @web.middleware
    async def authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
        if authenticator.mode == "none":
            request[PRINCIPAL] = ANONYMOUS
            return await handler(request)
        if is_open(request):
            request[PRINCIPAL] = NOBODY
            return await handler(request)
        try:
            principal = await authenticator.authenticate(request.headers.get("Authorization"))
        except Unauthenticated as exc:
            challenge = REALM
            if "Authorization" in request.headers:
                challenge += ', error="invalid_token"'
            return error_response(
                401, exc.message, ErrorCode.UNAUTHENTICATED, {"WWW-Authenticate": challenge}
            )
        if request.path == METRICS_PATH and principal.sources is not None:
            # Metrics name every source; only a token that may read them all sees them.
            denied = Forbidden("metrics need a token that may read every source")
            return error_response(403, denied.message, ErrorCode.FORBIDDEN)
        request[PRINCIPAL] = principal
        return await handler(request)

    return authenticate

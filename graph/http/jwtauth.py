"""JWT callers: bearer JWTs verified against a JWKS (PyJWT), mapped to a `Principal`.

The JWKS comes from `jwks_url` (fetched at start) or `jwks_file`; a token whose `kid` is not in
the set refetches it, at most once per `jwks_refresh_min_s`, so rotated keys are picked up while
a flood of made-up kids costs the identity provider nothing. Every kind of bad token gets its
own message; none repeats the token or a claim's value.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import aiohttp
import jwt

from graph.context import Principal
from resolvers.config import AuthConfig, ConfigError
from resolvers.errors import Unauthenticated

log = logging.getLogger("jobgraph.auth")

SCOPE_PREFIX = "jobs:read:"
JWKS_TIMEOUT_S = 5.0
JWKS_MAX_BYTES = 512 * 1024


def looks_like_jwt(token: str) -> bool:
    """Three dot-separated parts: what a compact JWS is."""
    return token.count(".") == 2


class JwtVerifier:
    """Verifies bearer JWTs against the configured JWKS, issuer, audience and algorithms."""

    def __init__(self, config: AuthConfig) -> None:
        self._config = config
        self._keys: dict[str, jwt.PyJWK] = {}
        self._last_fetch = float("-inf")
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        """Load the JWKS once at start; a failure is logged and retried on the first token."""
        try:
            await self._refresh()
        except ConfigError as exc:
            log.warning("JWKS not loaded at start: %s", exc)

    async def _read_jwks(self) -> Any:
        if self._config.jwks_file:
            try:
                text = await asyncio.to_thread(Path(self._config.jwks_file).read_text)
                return json.loads(text)
            except (OSError, ValueError) as exc:
                raise ConfigError(f"auth.jwks_file: cannot read a JSON JWKS ({exc})") from None
        timeout = aiohttp.ClientTimeout(total=JWKS_TIMEOUT_S)
        try:
            async with (
                aiohttp.ClientSession(timeout=timeout) as session,
                session.get(self._config.jwks_url) as response,
            ):
                if response.status != 200:
                    raise ConfigError(f"auth.jwks_url: answered HTTP {response.status}")
                body = await response.content.read(JWKS_MAX_BYTES + 1)
                if len(body) > JWKS_MAX_BYTES:
                    raise ConfigError("auth.jwks_url: the JWKS is too large")
                return json.loads(body)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise ConfigError(
                f"auth.jwks_url: cannot fetch the JWKS ({type(exc).__name__})"
            ) from None

    async def _refresh(self) -> None:
        self._last_fetch = time.monotonic()
        data = await self._read_jwks()
        keys: dict[str, jwt.PyJWK] = {}
        for entry in data.get("keys", []) if isinstance(data, dict) else []:
            # Symmetric (oct) keys never verify anything here: HS* is refused outright.
            if not isinstance(entry, dict) or entry.get("kty") == "oct" or "kid" not in entry:
                continue
            try:
                keys[str(entry["kid"])] = jwt.PyJWK.from_dict(entry)
            except jwt.PyJWKError:
                log.warning("JWKS key %r skipped: not a usable key", str(entry["kid"])[:64])
        self._keys = keys

    async def _key_for(self, kid: str) -> jwt.PyJWK | None:
        key = self._keys.get(kid)
        if key is not None:
            return key
        async with self._lock:
            key = self._keys.get(kid)
            due = time.monotonic() - self._last_fetch >= self._config.jwks_refresh_min_s
            if key is None and due:
                try:
                    await self._refresh()
                except ConfigError as exc:
                    log.warning("JWKS refresh failed: %s", exc)
                key = self._keys.get(kid)
        return key

    async def verify(self, token: str) -> Principal:
        """The principal a valid JWT names; Unauthenticated, with the reason, otherwise."""
        config = self._config
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError:
            raise Unauthenticated("the bearer token is not a well-formed JWT") from None
        alg = header.get("alg")
        if not isinstance(alg, str) or alg.lower() == "none":
            raise Unauthenticated("the JWT is unsigned (alg none is refused)")
        if alg not in config.algorithms:
            raise Unauthenticated("the JWT's algorithm is not one this gateway accepts")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise Unauthenticated("the JWT has no key id (kid)")
        key = await self._key_for(kid)
        if key is None:
            raise Unauthenticated("the JWT's key id (kid) is not in the JWKS")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key=key,
                algorithms=[alg],
                issuer=config.issuer,
                audience=config.audience,
                leeway=config.leeway_s,
                options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("the JWT has expired") from None
        except jwt.ImmatureSignatureError:
            raise Unauthenticated("the JWT is not valid yet (nbf/iat in the future)") from None
        except jwt.InvalidIssuerError:
            raise Unauthenticated("the JWT's issuer is not the configured one") from None
        except jwt.InvalidAudienceError:
            raise Unauthenticated("the JWT's audience is not this gateway") from None
        except jwt.MissingRequiredClaimError as exc:
            raise Unauthenticated(f"the JWT lacks the {exc.claim!r} claim") from None
        except jwt.InvalidSignatureError:
            raise Unauthenticated("the JWT's signature does not verify") from None
        except (jwt.InvalidTokenError, jwt.PyJWKError):
            raise Unauthenticated("the JWT is not valid") from None
        return principal_from_claims(claims, config)


def principal_from_claims(claims: Mapping[str, Any], config: AuthConfig) -> Principal:
    """Name from `principal_claim`; sources from `sources_claim` and `jobs:read:<source>` scopes."""
    name = claims.get(config.principal_claim)
    if not isinstance(name, str | int) or str(name) == "":
        raise Unauthenticated(f"the JWT lacks the {config.principal_claim!r} claim")
    sources: set[str] = set()
    listed = claims.get(config.sources_claim)
    if isinstance(listed, list):
        sources.update(s for s in listed if isinstance(s, str))
    scopes: Any = claims.get("scope", claims.get("scp", []))
    if isinstance(scopes, str):
        scopes = scopes.split()
    if isinstance(scopes, list):
        sources.update(
            s[len(SCOPE_PREFIX) :]
            for s in scopes
            if isinstance(s, str) and s.startswith(SCOPE_PREFIX)
        )
    return Principal(str(name), frozenset(sources))

"""`[auth] mode = "jwt"` / `"token+jwt"`: bearer JWTs verified against a JWKS served by a real
local HTTP server, with keys generated here; every bad-token kind is a distinct 401."""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import jwt
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from graph.http.app import build_app
from resolvers.config import ConfigError, parse_config
from simulators import SimulatorSuite

ISSUER = "https://idp.test/"
AUDIENCE = "jobgraph"
SOURCES = "{ sources { name } }"


class KeyServer:
    """A JWKS endpoint whose key set the test changes (rotation) and whose fetches it counts."""

    def __init__(self) -> None:
        self.keys: dict[str, Any] = {}
        self.fetches = 0

    def add(self, kid: str, key: Any) -> None:
        self.keys[kid] = key

    def jwks(self) -> dict[str, Any]:
        entries = []
        for kid, key in self.keys.items():
            entry = json.loads(_public_jwk(key))
            entry["kid"] = kid
            entries.append(entry)
        return {"keys": entries}

    async def handle(self, _request: web.Request) -> web.Response:
        self.fetches += 1
        return web.json_response(self.jwks())


def _public_jwk(key: Any) -> str:
    public = key.public_key()
    if isinstance(key, rsa.RSAPrivateKey):
        return jwt.algorithms.RSAAlgorithm.to_jwk(public)
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return jwt.algorithms.ECAlgorithm.to_jwk(public)
    return jwt.algorithms.OKPAlgorithm.to_jwk(public)


def sign(key: Any, kid: str, alg: str = "RS256", **claims: Any) -> str:
    now = int(time.time())
    body = {"iss": ISSUER, "aud": AUDIENCE, "sub": "alice", "iat": now, "exp": now + 300}
    body.update(claims)
    return jwt.encode(body, key, algorithm=alg, headers={"kid": kid})


@pytest.fixture
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
async def keys(
    aiohttp_server: Callable[..., Any], rsa_key: rsa.RSAPrivateKey
) -> tuple[KeyServer, str]:
    server = KeyServer()
    server.add("k1", rsa_key)
    app = web.Application()
    app.router.add_get("/.well-known/jwks.json", server.handle)
    running: TestServer = await aiohttp_server(app)
    return server, str(running.make_url("/.well-known/jwks.json"))


async def make_gateway(
    aiohttp_client: Callable[..., Any],
    sim_root: str,
    suite: SimulatorSuite,
    auth: dict[str, Any],
    environ: dict[str, str] | None = None,
) -> Any:
    config = parse_config({"sources": suite.demo_sources(sim_root), "auth": auth}, environ={})
    return await aiohttp_client(build_app(config, {**suite.demo_environ(), **(environ or {})}))


def jwt_auth(url: str, **extra: Any) -> dict[str, Any]:
    return {
        "mode": "jwt",
        "jwks_url": url,
        "issuer": ISSUER,
        "audience": AUDIENCE,
        "jwks_refresh_min_s": 0,
        **extra,
    }


GatewayOpener = Callable[..., Awaitable[Any]]


@pytest.fixture
def open_gateway(
    aiohttp_client: Callable[..., Any], sim_root: str, suite: SimulatorSuite, keys: Any
) -> GatewayOpener:
    """Starts a gateway when called (not before: tests change the key server first):
    `jwt_auth(<the key server's url>, **extra)` by default, or the `auth` given."""

    async def open_(
        auth: dict[str, Any] | None = None, environ: dict[str, str] | None = None, **extra: Any
    ) -> Any:
        settings = jwt_auth(keys[1], **extra) if auth is None else auth
        return await make_gateway(aiohttp_client, sim_root, suite, settings, environ)

    return open_


async def ask(client: Any, token: str) -> tuple[int, dict[str, Any]]:
    response = await client.post(
        "/graphql", json={"query": SOURCES}, headers={"Authorization": f"Bearer {token}"}
    )
    return response.status, await response.json()


async def test_a_valid_jwt_reads_the_sources_its_claim_lists(
    open_gateway: GatewayOpener,
    rsa_key: Any,
) -> None:
    client = await open_gateway()
    status, body = await ask(client, sign(rsa_key, "k1", jobgraph_sources=["ei", "mf"]))
    assert status == 200, body
    assert {s["name"] for s in body["data"]["sources"]} == {"ei", "mf"}


async def test_jobs_read_scopes_grant_sources(
    open_gateway: GatewayOpener,
    rsa_key: Any,
) -> None:
    client = await open_gateway()
    token = sign(rsa_key, "k1", scope="openid jobs:read:orange jobs:write:ei")
    status, body = await ask(client, token)
    assert status == 200, body
    assert [s["name"] for s in body["data"]["sources"]] == ["orange"]


async def test_a_jwt_without_source_claims_reads_no_source(
    open_gateway: GatewayOpener,
    rsa_key: Any,
) -> None:
    client = await open_gateway()
    status, body = await ask(client, sign(rsa_key, "k1"))
    assert status == 200, body
    assert body["data"]["sources"] == []


async def test_es256_and_eddsa_keys_verify(open_gateway: GatewayOpener, keys: Any) -> None:
    server = keys[0]
    server.add("ec", ec.generate_private_key(ec.SECP256R1()))
    server.add("ed", ed25519.Ed25519PrivateKey.generate())
    client = await open_gateway()
    for kid, alg in (("ec", "ES256"), ("ed", "EdDSA")):
        status, body = await ask(client, sign(server.keys[kid], kid, alg, jobgraph_sources=["wf"]))
        assert status == 200, (alg, body)
        assert body["data"]["sources"] == [{"name": "wf"}]


async def test_a_rotated_key_is_fetched_on_its_unknown_kid(
    open_gateway: GatewayOpener, keys: Any
) -> None:
    server = keys[0]
    client = await open_gateway()
    assert server.fetches == 1  # at start
    new_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    server.keys = {"k2": new_key}  # the identity provider rotates: k1 is gone
    status, body = await ask(client, sign(new_key, "k2", jobgraph_sources=["ei"]))
    assert status == 200, body
    assert body["data"]["sources"] == [{"name": "ei"}]
    assert server.fetches == 2


async def test_unknown_kids_refetch_the_jwks_at_a_bounded_rate(
    open_gateway: GatewayOpener, keys: Any, rsa_key: Any
) -> None:
    server = keys[0]
    client = await open_gateway(jwks_refresh_min_s=3600)
    for n in range(5):
        status, body = await ask(client, sign(rsa_key, f"made-up-{n}"))
        assert status == 401
        assert body["errors"][0]["message"] == "the JWT's key id (kid) is not in the JWKS"
    assert server.fetches == 1


def _bad_tokens(rsa_key: Any) -> dict[str, str]:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = int(time.time())
    unsigned = jwt.encode(
        {"iss": ISSUER, "aud": AUDIENCE, "sub": "x", "exp": now + 60}, None, "none"
    )
    return {
        "expired": sign(rsa_key, "k1", exp=now - 3600),
        "not yet valid": sign(rsa_key, "k1", nbf=now + 3600),
        "wrong issuer": sign(rsa_key, "k1", iss="https://evil.test/"),
        "wrong audience": sign(rsa_key, "k1", aud="someone-else"),
        "bad signature": sign(other, "k1"),
        "unknown kid": sign(rsa_key, "nope"),
        "alg none": unsigned,
        "hs256 with the public key": jwt.encode(
            {"iss": ISSUER, "aud": AUDIENCE, "sub": "x", "exp": now + 60},
            "a-shared-secret-of-thirty-two-bytes!",
            "HS256",
            headers={"kid": "k1"},
        ),
    }


async def test_each_bad_token_kind_is_a_distinct_401(
    open_gateway: GatewayOpener,
    rsa_key: Any,
) -> None:
    client = await open_gateway(leeway_s=5)
    messages = {}
    for kind, token in _bad_tokens(rsa_key).items():
        response = await client.post(
            "/graphql", json={"query": SOURCES}, headers={"Authorization": f"Bearer {token}"}
        )
        body = await response.json()
        assert response.status == 401, (kind, body)
        assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
        error = body["errors"][0]
        assert error["extensions"]["code"] == "UNAUTHENTICATED", kind
        assert token not in json.dumps(body)
        messages[kind] = error["message"]
    assert len(set(messages.values())) == len(messages), messages


async def test_leeway_accepts_a_token_expired_within_it(
    open_gateway: GatewayOpener,
    rsa_key: Any,
) -> None:
    client = await open_gateway(leeway_s=120)
    status, _ = await ask(client, sign(rsa_key, "k1", exp=int(time.time()) - 30))
    assert status == 200
    strict = await open_gateway(leeway_s=0)
    status, body = await ask(strict, sign(rsa_key, "k1", exp=int(time.time()) - 30))
    assert (status, body["errors"][0]["message"]) == (401, "the JWT has expired")


async def test_principal_claim_names_the_caller_in_the_access_log(
    open_gateway: GatewayOpener,
    rsa_key: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = await open_gateway(principal_claim="email")
    token = sign(rsa_key, "k1", email="bob@example.test")
    with caplog.at_level("INFO", logger="jobgraph.access"):
        status, _ = await ask(client, token)
    assert status == 200
    lines = [r.getMessage() for r in caplog.records if r.name == "jobgraph.access"]
    assert any(json.loads(line)["principal"] == "bob@example.test" for line in lines), lines
    assert all(token not in line for line in lines)


async def test_jwks_file_is_read_at_start(
    open_gateway: GatewayOpener, rsa_key: Any, tmp_path: Any
) -> None:
    server = KeyServer()
    server.add("f1", rsa_key)
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(server.jwks()))
    auth = {"mode": "jwt", "jwks_file": str(path), "issuer": ISSUER, "audience": AUDIENCE}
    client = await open_gateway(auth)
    status, body = await ask(client, sign(rsa_key, "f1", jobgraph_sources=["ma"]))
    assert status == 200, body
    assert body["data"]["sources"] == [{"name": "ma"}]


async def test_token_plus_jwt_accepts_both_kinds(
    open_gateway: GatewayOpener,
    rsa_key: Any,
) -> None:
    client = await open_gateway(
        environ={"TEST_SCRIPT_TOKEN": "static-script-token"},
        mode="token+jwt",
        tokens=[{"name": "script", "token_env": "TEST_SCRIPT_TOKEN", "sources": ["orange"]}],
    )
    status, body = await ask(client, "static-script-token")
    assert (status, body["data"]["sources"]) == (200, [{"name": "orange"}])
    status, body = await ask(client, sign(rsa_key, "k1", jobgraph_sources=["ei"]))
    assert (status, body["data"]["sources"]) == (200, [{"name": "ei"}])
    status, body = await ask(client, "not-a-token")
    assert (status, body["errors"][0]["extensions"]["code"]) == (401, "UNAUTHENTICATED")


@pytest.mark.parametrize(
    ("auth", "fault"),
    [
        ({"mode": "jwt", "issuer": ISSUER, "audience": AUDIENCE}, "jwks_url, jwks_file"),
        ({"mode": "jwt", "jwks_file": "x", "audience": AUDIENCE}, "issuer and audience"),
        (
            {
                "mode": "jwt",
                "jwks_file": "x",
                "issuer": ISSUER,
                "audience": AUDIENCE,
                "algorithms": ["HS256"],
            },
            "'HS256' is not allowed",
        ),
        (
            {
                "mode": "jwt",
                "jwks_file": "x",
                "issuer": ISSUER,
                "audience": AUDIENCE,
                "algorithms": ["none"],
            },
            "'none' is not allowed",
        ),
    ],
)
def test_bad_jwt_config_is_rejected_naming_the_key(auth: dict[str, Any], fault: str) -> None:
    with pytest.raises(ConfigError, match=fault):
        parse_config({"auth": auth}, environ={})

"""The secrets scan for JWT callers: no JWT a caller sent — good, expired, badly signed or
with a made-up kid — and no private key material of the JWKS (even one wrongly published with
its private part) ever appears in a response, a log line or the metrics."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from tests.service.conftest import TOKEN_AUTH, TOKEN_ENVIRON, CapturedLines, Service
from tests.service.test_service_secrets import exercise, transcript

ISSUER = "https://idp.test/"
AUDIENCE = "jobgraph"


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def leaked_ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def private_jwk(key: Any, kid: str) -> dict[str, Any]:
    algorithm = (
        jwt.algorithms.RSAAlgorithm
        if isinstance(key, rsa.RSAPrivateKey)
        else (jwt.algorithms.ECAlgorithm)
    )
    entry: dict[str, Any] = json.loads(algorithm.to_jwk(key))
    entry["kid"] = kid
    return entry


@pytest.fixture
def auth_settings(tmp_path: Path, rsa_key: Any, leaked_ec_key: Any) -> dict[str, Any]:
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(rsa_key.public_key()))
    # The second key is published with its private part, as a careless operator might.
    keys = [{**public, "kid": "k1"}, private_jwk(leaked_ec_key, "leaky")]
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": keys}))
    return {
        **TOKEN_AUTH,
        "mode": "token+jwt",
        "jwks_file": str(path),
        "issuer": ISSUER,
        "audience": AUDIENCE,
    }


def sign(key: Any, kid: str, alg: str = "RS256", **claims: Any) -> str:
    now = int(time.time())
    body = {"iss": ISSUER, "aud": AUDIENCE, "sub": "svc-user", "exp": now + 300, **claims}
    return jwt.encode(body, key, algorithm=alg, headers={"kid": kid})


def key_material(*keys: Any) -> list[str]:
    """Each private key's PEM body lines and its JWK private parameters."""
    found: list[str] = []
    for key in keys:
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        found += [line for line in pem.splitlines() if line and not line.startswith("-----")]
        jwk = private_jwk(key, "x")
        found += [jwk[p] for p in ("d", "p", "q", "dp", "dq", "qi") if p in jwk]
    return found


async def test_no_jwt_or_private_key_appears_in_any_response_log_line_or_metric(
    service: Service, captured_logs: CapturedLines, rsa_key: Any, leaked_ec_key: Any
) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = int(time.time())
    tokens = [
        sign(rsa_key, "k1", jobgraph_sources=["mf"]),
        sign(leaked_ec_key, "leaky", "ES256", jobgraph_sources=["wf"]),
        sign(rsa_key, "k1", exp=now - 3600),
        sign(other, "k1"),
        sign(rsa_key, "made-up-kid"),
        sign(rsa_key, "k1", iss="https://evil.test/"),
    ]
    replies = []
    for token in tokens:
        replies.append(await service.graphql("{ sources { name } }", token=token))
        replies.append(await service.request("GET", "/metrics", token=token))
    assert [r.status for r in replies[:4]] == [200, 403, 200, 403]  # both good JWTs were read
    assert {r.status for r in replies[4:]} == {401}
    replies += await exercise(service)
    corpus = {
        "responses": "\n".join(transcript(r) for r in replies),
        "logs": "\n".join(captured_logs.lines),
        "metrics": str(replies[-1].body),
    }
    assert "jobgraph_http_requests_total" in corpus["metrics"]
    secrets = [*tokens, *(t.rsplit(".", 1)[1] for t in tokens), *TOKEN_ENVIRON.values()]
    secrets += key_material(rsa_key, leaked_ec_key)
    assert all(len(s) >= 12 for s in secrets)
    for where, text in corpus.items():
        for secret in secrets:
            assert secret not in text, f"a JWT or private key appears in the {where}"

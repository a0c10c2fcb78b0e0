"""Trusted documents: `[server] persisted_documents` (Apollo's persisted-query manifest, or a
plain {hash: query} map) and `only_persisted = true`, which refuses every other operation with
PERSISTED_QUERY_REQUIRED before any upstream call, on HTTP (POST and GET) and WebSocket alike."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientResponse

from graph.http.app import build_app
from resolvers.config import ConfigError, parse_config
from tests.conftest import Gateway

TRUSTED = "query Trusted { workflowJobs(first: 2) { nodes { id } } }"
TRUSTED_HASH = hashlib.sha256(TRUSTED.encode()).hexdigest()
MAPPED = "query Mapped { workflowJobs(first: 1) { nodes { id name } } }"
MAPPED_HASH = hashlib.sha256(MAPPED.encode()).hexdigest()
OTHER = "query Other { workflowJobs(first: 3) { nodes { id } } }"
OTHER_HASH = hashlib.sha256(OTHER.encode()).hexdigest()


def apollo_manifest(*bodies: str) -> dict[str, Any]:
    return {
        "format": "apollo-persisted-query-manifest",
        "version": 1,
        "operations": [
            {
                "id": hashlib.sha256(body.encode()).hexdigest(),
                "name": body.split()[1],
                "type": "query",
                "body": body,
            }
            for body in bodies
        ],
    }


def persisted(sha256_hash: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": sha256_hash}}


async def post(gateway: Gateway, body: dict[str, Any]) -> ClientResponse:
    return await gateway.client.post("/graphql", json=body)


def assert_refused(body: dict[str, Any]) -> None:
    assert "data" not in body
    assert [e["extensions"]["code"] for e in body["errors"]] == ["PERSISTED_QUERY_REQUIRED"]


class TestOnlyPersisted:
    @pytest.fixture
    def gateway_settings(self, tmp_path: Path) -> dict[str, Any]:
        manifest = tmp_path / "manifest.json"
        manifest.write_text(json.dumps(apollo_manifest(TRUSTED)))
        return {"server": {"persisted_documents": str(manifest), "only_persisted": True}}

    async def test_a_trusted_document_runs_by_its_hash(self, gateway: Gateway) -> None:
        response = await post(gateway, {"extensions": persisted(TRUSTED_HASH)})
        body = await response.json()
        assert response.status == 200
        assert len(body["data"]["workflowJobs"]["nodes"]) == 2

    async def test_a_trusted_document_runs_by_its_hash_over_get(self, gateway: Gateway) -> None:
        response = await gateway.client.get(
            "/graphql", params={"extensions": json.dumps(persisted(TRUSTED_HASH))}
        )
        assert response.status == 200
        assert "errors" not in await response.json()

    async def test_a_trusted_document_runs_when_sent_as_full_text(self, gateway: Gateway) -> None:
        response = await post(gateway, {"query": TRUSTED})
        assert "errors" not in await response.json()

    async def test_any_other_query_is_refused_before_any_upstream_call(
        self, gateway: Gateway
    ) -> None:
        gateway.reset_counts()
        response = await post(gateway, {"query": OTHER})
        assert response.status == 403
        assert_refused(await response.json())
        get = await gateway.client.get("/graphql", params={"query": OTHER})
        assert get.status == 403
        assert_refused(await get.json())
        assert gateway.upstream_calls("workflow") == 0

    async def test_an_unknown_hash_is_refused_not_offered_for_registration(
        self, gateway: Gateway
    ) -> None:
        response = await post(gateway, {"extensions": persisted(OTHER_HASH)})
        assert response.status == 403
        assert_refused(await response.json())

    async def test_registering_a_new_query_by_apq_is_refused_and_stores_nothing(
        self, gateway: Gateway
    ) -> None:
        gateway.reset_counts()
        response = await post(gateway, {"query": OTHER, "extensions": persisted(OTHER_HASH)})
        assert response.status == 403
        assert_refused(await response.json())
        again = await post(gateway, {"extensions": persisted(OTHER_HASH)})
        assert_refused(await again.json())
        assert gateway.upstream_calls("workflow") == 0

    async def test_an_untrusted_operation_over_websocket_is_refused(self, gateway: Gateway) -> None:
        async with gateway.client.ws_connect(
            "/graphql", protocols=["graphql-transport-ws"]
        ) as socket:
            await socket.send_json({"type": "connection_init"})
            assert (await socket.receive_json(timeout=10))["type"] == "connection_ack"
            await socket.send_json({"id": "1", "type": "subscribe", "payload": {"query": OTHER}})
            refused = await socket.receive_json(timeout=10)
            await socket.send_json({"id": "2", "type": "subscribe", "payload": {"query": TRUSTED}})
            answered = await socket.receive_json(timeout=10)
        assert refused["type"] == "error", refused
        assert [e["extensions"]["code"] for e in refused["payload"]] == ["PERSISTED_QUERY_REQUIRED"]
        assert answered["type"] == "next", answered
        assert len(answered["payload"]["data"]["workflowJobs"]["nodes"]) == 2


class TestPersistedDocumentsAlone:
    """Without only_persisted the manifest's documents run by hash (no registration needed),
    and anything else still runs."""

    @pytest.fixture
    def gateway_settings(self, tmp_path: Path) -> dict[str, Any]:
        manifest = tmp_path / "documents.json"
        manifest.write_text(json.dumps({MAPPED_HASH: MAPPED}))
        return {"server": {"persisted_documents": str(manifest)}}

    async def test_a_plain_map_document_runs_by_hash_without_registration(
        self, gateway: Gateway
    ) -> None:
        response = await post(gateway, {"extensions": persisted(MAPPED_HASH)})
        body = await response.json()
        assert len(body["data"]["workflowJobs"]["nodes"]) == 1

    async def test_other_queries_still_run(self, gateway: Gateway) -> None:
        response = await post(gateway, {"query": OTHER})
        assert response.status == 200
        assert "errors" not in await response.json()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read the file"),
        ("{not json", "not valid JSON"),
        ("[]", "expected a JSON object"),
        (json.dumps({"format": "apollo-persisted-query-manifest", "version": 2}), "version"),
        (
            json.dumps(
                {"format": "apollo-persisted-query-manifest", "version": 1, "operations": 1}
            ),
            "`operations` must be a list",
        ),
        (
            json.dumps(
                {
                    "format": "apollo-persisted-query-manifest",
                    "version": 1,
                    "operations": [{"id": "x", "body": ""}],
                }
            ),
            "operations[0].body",
        ),
        (json.dumps({OTHER_HASH: TRUSTED}), "is not the SHA-256 of its document"),
        (json.dumps({"an-id": 5}), "must be a non-empty string"),
    ],
)
def test_a_bad_documents_file_is_a_config_error_at_start(
    tmp_path: Path, content: str | None, message: str
) -> None:
    path = tmp_path / "documents.json"
    if content is not None:
        path.write_text(content)
    config = parse_config({"server": {"persisted_documents": str(path)}}, environ={})
    with pytest.raises(ConfigError) as raised:
        build_app(config, {})
    assert "server.persisted_documents" in str(raised.value)
    assert message in str(raised.value)


def test_only_persisted_without_a_documents_file_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="only_persisted = true needs persisted_documents"):
        parse_config({"server": {"only_persisted": True}}, environ={})


def test_the_keys_can_be_set_from_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "documents.json"
    config = parse_config(
        {},
        environ={
            "JOBGRAPH_SERVER__PERSISTED_DOCUMENTS": str(path),
            "JOBGRAPH_SERVER__ONLY_PERSISTED": "true",
        },
    )
    assert config.server.persisted_documents == str(path)
    assert config.server.only_persisted is True

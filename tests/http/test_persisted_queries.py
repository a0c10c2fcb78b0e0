"""Apollo's automatic persisted queries over real HTTP, POST and GET: an unknown hash is
`PersistedQueryNotFound`, the retry with the text is checked against its hash, run and
remembered, and later requests by hash alone run it."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from aiohttp import ClientResponse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graph.http.persisted import PersistedQueryStore
from resolvers.errors import ErrorCode
from tests.conftest import Gateway
from tests.http.test_request_fuzz import accepts, junk

QUERY = "query Two { workflowJobs(first: 2) { nodes { id } } }"
HASH = hashlib.sha256(QUERY.encode()).hexdigest()


def persisted(sha256_hash: str = HASH, version: int = 1) -> dict[str, Any]:
    return {"persistedQuery": {"version": version, "sha256Hash": sha256_hash}}


async def post(gateway: Gateway, body: dict[str, Any], **headers: str) -> ClientResponse:
    return await gateway.client.post("/graphql", json=body, headers=headers)


async def get(gateway: Gateway, params: dict[str, Any], **headers: str) -> ClientResponse:
    query = {k: json.dumps(v) if isinstance(v, dict) else v for k, v in params.items()}
    return await gateway.client.get("/graphql", params=query, headers=headers)


async def test_an_unknown_hash_is_persisted_query_not_found_as_apollo_server_answers(
    gateway: Gateway,
) -> None:
    gateway.reset_counts()
    response = await post(gateway, {"extensions": persisted()})
    body = await response.json()
    assert response.status == 200
    assert body == {
        "errors": [
            {
                "message": "PersistedQueryNotFound",
                "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"},
            }
        ]
    }
    assert "no-cache" in response.headers["Cache-Control"]
    assert gateway.upstream_calls("workflow") == 0


async def test_a_hash_with_its_query_runs_and_is_then_known_by_hash_alone(
    gateway: Gateway,
) -> None:
    registered = await post(gateway, {"query": QUERY, "extensions": persisted()})
    assert registered.status == 200
    first = await registered.json()
    assert "errors" not in first
    by_hash = await post(gateway, {"extensions": persisted(), "operationName": "Two"})
    assert by_hash.status == 200
    assert await by_hash.json() == first


async def test_get_requests_register_and_run_by_hash(gateway: Gateway) -> None:
    miss = await get(gateway, {"extensions": persisted()}, Accept="application/json")
    assert (await miss.json())["errors"][0]["message"] == "PersistedQueryNotFound"
    registered = await get(gateway, {"query": QUERY, "extensions": persisted()})
    assert registered.status == 200
    expected = await registered.json()
    assert "errors" not in expected
    # `Accept: */*` with no `query` would be GraphiQL's page were the extension not seen.
    hit = await get(gateway, {"extensions": persisted()}, Accept="*/*")
    assert hit.status == 200
    assert await hit.json() == expected


# urql's default Accept: such requests take Strawberry's streaming-capable path.
STREAMING_ACCEPT = (
    "application/graphql-response+json, application/graphql+json, application/json, "
    "text/event-stream, multipart/mixed"
)


async def test_a_client_that_accepts_streams_registers_and_runs_by_hash(gateway: Gateway) -> None:
    miss = await get(gateway, {"extensions": persisted()}, Accept=STREAMING_ACCEPT)
    assert (await miss.json())["errors"][0]["message"] == "PersistedQueryNotFound"
    registered = await get(
        gateway, {"query": QUERY, "extensions": persisted()}, Accept=STREAMING_ACCEPT
    )
    expected = await registered.json()
    assert "errors" not in expected, expected
    hit = await get(gateway, {"extensions": persisted()}, Accept=STREAMING_ACCEPT)
    assert hit.status == 200
    assert await hit.json() == expected


async def test_a_hash_that_is_not_its_querys_sha256_is_refused_and_not_stored(
    gateway: Gateway,
) -> None:
    other = "{ workflowJobs(first: 1) { nodes { id } } }"
    gateway.reset_counts()
    response = await post(gateway, {"query": other, "extensions": persisted()})
    body = await response.json()
    assert response.status == 400
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "does not match" in body["errors"][0]["message"]
    assert gateway.upstream_calls("workflow") == 0
    again = await post(gateway, {"extensions": persisted()})
    assert (await again.json())["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"


async def test_a_query_that_fails_validation_is_not_remembered(gateway: Gateway) -> None:
    invalid = "{ noSuchField }"
    sha = hashlib.sha256(invalid.encode()).hexdigest()
    response = await post(gateway, {"query": invalid, "extensions": persisted(sha)})
    assert (await response.json())["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    again = await post(gateway, {"extensions": persisted(sha)})
    assert (await again.json())["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"


@pytest.mark.parametrize(
    ("extension", "message"),
    [
        ({"persistedQuery": {"version": 2, "sha256Hash": HASH}}, "version"),
        ({"persistedQuery": {"version": 1}}, "sha256Hash"),
        ({"persistedQuery": {"version": 1, "sha256Hash": 7}}, "sha256Hash"),
        ({"persistedQuery": "abc"}, "must be an object"),
    ],
)
async def test_a_malformed_persisted_query_extension_is_a_coded_400(
    gateway: Gateway, extension: dict[str, Any], message: str
) -> None:
    response = await post(gateway, {"extensions": extension})
    body = await response.json()
    assert response.status == 400
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert message in body["errors"][0]["message"]


async def test_a_request_with_neither_query_nor_persisted_query_is_still_refused(
    gateway: Gateway,
) -> None:
    response = await post(gateway, {"extensions": {"other": 1}})
    assert response.status == 400
    assert "No GraphQL query" in (await response.json())["errors"][0]["message"]


async def test_a_persisted_query_runs_the_fast_path_the_same_as_its_text(
    gateway: Gateway,
) -> None:
    # The third run of the text takes the prepared (fast) path; by hash it must agree.
    variables = {"n": 3}
    text = "query N($n: Int!) { workflowJobs(first: $n) { nodes { id name status } } }"
    sha = hashlib.sha256(text.encode()).hexdigest()
    first = await post(
        gateway, {"query": text, "variables": variables, "extensions": persisted(sha)}
    )
    expected = await first.json()
    assert "errors" not in expected
    for _ in range(2):
        again = await post(gateway, {"extensions": persisted(sha), "variables": variables})
        assert await again.json() == expected


class TestWithTokens:
    @pytest.fixture
    def gateway_settings(self) -> dict[str, Any]:
        return {"auth": {"mode": "token", "tokens": [{"name": "a", "token_env": "TEST_TOKEN_A"}]}}

    @pytest.fixture
    def extra_environ(self) -> dict[str, str]:
        return {"TEST_TOKEN_A": "token-a-secret"}

    async def test_a_get_by_hash_alone_still_needs_a_token(self, gateway: Gateway) -> None:
        await post(
            gateway,
            {"query": QUERY, "extensions": persisted()},
            Authorization="Bearer token-a-secret",
        )
        response = await get(gateway, {"extensions": persisted()})
        assert response.status == 401
        assert (await response.json())["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


persisted_queries = st.one_of(
    junk,
    st.fixed_dictionaries(
        {
            "version": st.sampled_from([1, 2, "1", None]) | junk,
            "sha256Hash": st.sampled_from([HASH, HASH.upper(), "", "x" * 300]) | junk,
        }
    ),
)


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    extension=persisted_queries,
    query=st.none() | st.sampled_from([QUERY, "{ __typename }", "{", ""]),
    accept=accepts,
    method=st.sampled_from(["GET", "POST"]),
)
async def test_any_persisted_query_extension_gets_a_coded_answer(
    gateway: Gateway, extension: Any, query: str | None, accept: str | None, method: str
) -> None:
    body: dict[str, Any] = {"extensions": {"persistedQuery": extension}}
    if query is not None:
        body["query"] = query
    headers = {} if accept is None else {"Accept": accept}
    if method == "GET":
        params = {"extensions": json.dumps(body["extensions"]), "query": query or ""}
        response = await gateway.client.get("/graphql", params=params, headers=headers)
    else:
        response = await gateway.client.post("/graphql", json=body, headers=headers)
    assert response.status < 500, await response.text()
    answer = await response.json(content_type=None)
    assert "data" in answer or "errors" in answer, answer
    for error in answer.get("errors", []):
        assert error["extensions"]["code"] in {code.value for code in ErrorCode}, error
        assert "Traceback" not in error["message"]


def test_the_store_forgets_the_least_recently_used_text_first() -> None:
    store = PersistedQueryStore(max_queries=2, max_text=100)
    store.put("a", "{ a }")
    store.put("b", "{ b }")
    assert store.get("a") == "{ a }"
    store.put("c", "{ c }")
    assert store.get("b") is None
    assert store.get("a") == "{ a }"
    assert store.get("c") == "{ c }"
    store.put("d", "x" * 101)  # longer than the whole store holds: never kept
    assert store.get("d") is None
    store.put("e", "y" * 98)  # forces the others out by total text
    assert len(store) == 1

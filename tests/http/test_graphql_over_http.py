"""GraphQL over HTTP as its spec words it: well-formed requests, the two response media
types, and the status each kind of error gets under each."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import ClientResponse

from tests.conftest import Gateway

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"

# Each is a GraphQL request error: raised before execution begins.
REQUEST_ERRORS: dict[str, dict[str, Any]] = {
    "syntax": {"query": "{"},
    "validation": {"query": "{ noSuchField }"},
    "variable-coercion": {"query": "query($n: Int!) { workflowJobs(first: $n) { totalCount } }"},
    "variable-type": {
        "query": "query($n: Int) { workflowJobs(first: $n) { totalCount } }",
        "variables": {"n": "three"},
    },
    "ambiguous-operation": {"query": "query A { __typename } query B { __typename }"},
    "unknown-operation": {
        "query": "query A { __typename } query B { __typename }",
        "operationName": "C",
    },
}


async def post(gateway: Gateway, body: object, accept: str | None) -> ClientResponse:
    headers = {} if accept is None else {"Accept": accept}
    return await gateway.client.post("/graphql", json=body, headers=headers)


async def coded_errors(response: ClientResponse) -> list[str]:
    body = await response.json(content_type=None)
    return [error["extensions"]["code"] for error in body["errors"]]


@pytest.mark.parametrize("name", [{}, ["A"], True, 7, 1.5], ids=repr)
async def test_a_non_string_operation_name_is_refused_as_a_coded_400(
    gateway: Gateway, name: object
) -> None:
    response = await post(gateway, {"query": "{ __typename }", "operationName": name}, JSON)
    assert response.status == 400
    assert response.content_type == JSON
    body = await response.json()
    assert body == {
        "errors": [
            {
                "message": body["errors"][0]["message"],
                "extensions": {"code": "BAD_USER_INPUT"},
            }
        ]
    }
    assert body["errors"][0]["message"].startswith("`operationName` must be a string or null")


async def test_a_boolean_operation_name_is_worded_as_json_not_python(gateway: Gateway) -> None:
    response = await post(gateway, {"query": "{ __typename }", "operationName": True}, JSON)
    message = (await response.json())["errors"][0]["message"]
    assert "True" not in message
    assert "a boolean" in message


@pytest.mark.parametrize(
    "accept",
    [
        GRAPHQL_RESPONSE,
        f"{GRAPHQL_RESPONSE}, {JSON}",
        f"{JSON};q=0.9, {GRAPHQL_RESPONSE}",
        f"{GRAPHQL_RESPONSE};charset=utf-8",
    ],
)
async def test_a_client_that_prefers_graphql_response_json_gets_it(
    gateway: Gateway, accept: str
) -> None:
    response = await post(gateway, {"query": "{ __typename }"}, accept)
    assert response.status == 200
    assert response.content_type == GRAPHQL_RESPONSE
    assert response.charset == "utf-8"
    assert await response.json(content_type=None) == {"data": {"__typename": "Query"}}


@pytest.mark.parametrize(
    "accept", [None, JSON, "*/*", f"{GRAPHQL_RESPONSE};q=0.5, {JSON}", "text/plain"]
)
async def test_a_client_that_does_not_prefer_it_gets_application_json(
    gateway: Gateway, accept: str | None
) -> None:
    response = await post(gateway, {"query": "{ __typename }"}, accept)
    assert response.status == 200
    assert response.content_type == JSON


@pytest.mark.parametrize("kind", sorted(REQUEST_ERRORS))
async def test_a_request_error_is_a_400_without_data_as_graphql_response_json(
    gateway: Gateway, kind: str
) -> None:
    response = await post(gateway, REQUEST_ERRORS[kind], GRAPHQL_RESPONSE)
    assert response.status == 400
    assert response.content_type == GRAPHQL_RESPONSE
    body = await response.json(content_type=None)
    assert "data" not in body
    assert await coded_errors(response) == ["BAD_USER_INPUT"]


@pytest.mark.parametrize("kind", sorted(REQUEST_ERRORS))
async def test_a_request_error_stays_a_200_with_null_data_as_application_json(
    gateway: Gateway, kind: str
) -> None:
    response = await post(gateway, REQUEST_ERRORS[kind], JSON)
    assert response.status == 200
    assert response.content_type == JSON
    body = await response.json()
    assert body["data"] is None
    assert await coded_errors(response) == ["BAD_USER_INPUT"]


async def test_an_error_during_execution_is_a_200_with_data_as_graphql_response_json(
    gateway: Gateway,
) -> None:
    response = await post(
        gateway, {"query": "{ workflowJobs(first: 100000) { totalCount } }"}, GRAPHQL_RESPONSE
    )
    assert response.status == 200
    assert response.content_type == GRAPHQL_RESPONSE
    body = await response.json(content_type=None)
    assert "data" in body
    assert await coded_errors(response) == ["BAD_USER_INPUT"]


@pytest.mark.parametrize("accept", [JSON, GRAPHQL_RESPONSE])
async def test_an_ambiguous_document_and_an_unknown_operation_name_answer_alike(
    gateway: Gateway, accept: str
) -> None:
    ambiguous = await post(gateway, REQUEST_ERRORS["ambiguous-operation"], accept)
    unknown = await post(gateway, REQUEST_ERRORS["unknown-operation"], accept)
    assert ambiguous.status == unknown.status
    assert ambiguous.content_type == unknown.content_type == accept
    assert (await ambiguous.json(content_type=None)).keys() == (
        await unknown.json(content_type=None)
    ).keys()


@pytest.mark.parametrize(
    ("member", "text"), [("variables", "{x"), ("extensions", "[1,"), ("variables", "nope")]
)
async def test_a_get_with_unreadable_json_parameters_names_the_parameter(
    gateway: Gateway, member: str, text: str
) -> None:
    response = await gateway.client.get(
        "/graphql",
        params={"query": "{ __typename }", member: text},
        headers={"Accept": JSON},
    )
    assert response.status == 400
    body = await response.json()
    assert body["errors"] == [
        {"message": f"`{member}` is not valid JSON", "extensions": {"code": "BAD_USER_INPUT"}}
    ]


async def test_a_get_with_variables_as_json_text_runs(gateway: Gateway) -> None:
    response = await gateway.client.get(
        "/graphql",
        params={
            "query": "query($n: Int) { workflowJobs(first: $n) { nodes { nativeId } } }",
            "variables": '{"n": 2}',
        },
        headers={"Accept": GRAPHQL_RESPONSE},
    )
    assert response.status == 200
    assert response.content_type == GRAPHQL_RESPONSE
    body = await response.json(content_type=None)
    assert len(body["data"]["workflowJobs"]["nodes"]) == 2


async def test_a_get_may_not_run_a_mutation(gateway: Gateway) -> None:
    response = await gateway.client.get(
        "/graphql", params={"query": "mutation { x }"}, headers={"Accept": JSON}
    )
    assert response.status == 405
    assert response.headers["Allow"] == "POST"
    assert await coded_errors(response) == ["BAD_USER_INPUT"]


async def test_a_post_without_a_json_content_type_is_a_coded_400(gateway: Gateway) -> None:
    response = await gateway.client.post(
        "/graphql", data=b'{"query": "{ __typename }"}', headers={"Content-Type": "text/plain"}
    )
    assert response.status == 400
    assert await coded_errors(response) == ["BAD_USER_INPUT"]

"""Hostile cursors, ids and arguments get BAD_USER_INPUT, never a wrong page or a crash."""

from __future__ import annotations

import base64

import pytest

from tests.conftest import Gateway
from tests.graph.providers import FIELDS

QUERY = FIELDS["orange"].query


def project(gateway: Gateway) -> str:
    return max(gateway.suite.projects("orange"), key=lambda p: len(gateway.suite.jobs("orange", p)))


async def code_of(gateway: Gateway, query: str, variables: dict[str, object]) -> str:
    body = await gateway.post(query, variables)
    assert "errors" in body, body
    code: str = body["errors"][0]["extensions"]["code"]
    return code


async def a_cursor(gateway: Gateway) -> str:
    data = await gateway.data(QUERY(project(gateway)), {"first": 3})
    cursor: str = data["orangeJobs"]["pageInfo"]["endCursor"]
    return cursor


@pytest.mark.parametrize(
    "cursor",
    ["", "garbage", "%%%", "a" * 5000, base64.urlsafe_b64encode(b"[1,2,3]").decode(), "null"],
)
async def test_garbage_cursor_is_bad_user_input(gateway: Gateway, cursor: str) -> None:
    assert (
        await code_of(gateway, QUERY(project(gateway)), {"first": 3, "after": cursor})
        == "BAD_USER_INPUT"
    )


async def test_tampered_cursor_is_bad_user_input(gateway: Gateway) -> None:
    cursor = await a_cursor(gateway)
    raw = bytearray(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    raw[len(raw) // 3] ^= 0x01
    tampered = base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
    assert (
        await code_of(gateway, QUERY(project(gateway)), {"first": 3, "after": tampered})
        == "BAD_USER_INPUT"
    )


async def test_cursor_from_other_arguments_is_bad_user_input(gateway: Gateway) -> None:
    cursor = await a_cursor(gateway)
    other = QUERY(project(gateway), extra="states: [FAILED]")
    assert await code_of(gateway, other, {"first": 3, "after": cursor}) == "BAD_USER_INPUT"


async def test_cursor_from_another_project_is_bad_user_input(gateway: Gateway) -> None:
    cursor = await a_cursor(gateway)
    others = [p for p in gateway.suite.projects("orange") if p != project(gateway)]
    assert (
        await code_of(gateway, QUERY(others[0]), {"first": 3, "after": cursor}) == "BAD_USER_INPUT"
    )


async def test_cursor_from_another_provider_field_is_bad_user_input(gateway: Gateway) -> None:
    cursor = await a_cursor(gateway)
    query = FIELDS["workflow"].query(None)
    assert await code_of(gateway, query, {"first": 3, "after": cursor}) == "BAD_USER_INPUT"


async def test_cursor_survives_a_gateway_restart_with_the_same_config(
    gateway: Gateway, aiohttp_client: object
) -> None:
    from graph.http.app import build_app

    cursor = await a_cursor(gateway)
    client = await aiohttp_client(build_app(gateway.config, gateway.suite.demo_environ()))  # type: ignore[operator]
    response = await client.post(
        "/graphql",
        json={"query": QUERY(project(gateway)), "variables": {"first": 2, "after": cursor}},
    )
    body = await response.json()
    expected = [str(j["id"]) for j in gateway.suite.jobs("orange", project(gateway))[3:5]]
    assert [e["node"]["nativeId"] for e in body["data"]["orangeJobs"]["edges"]] == expected


@pytest.mark.parametrize("variables", [{"first": -1}, {"first": 101}, {"last": -5}, {"last": 1000}])
async def test_page_size_out_of_bounds_is_bad_user_input(
    gateway: Gateway, variables: dict[str, object]
) -> None:
    assert await code_of(gateway, QUERY(project(gateway)), variables) == "BAD_USER_INPUT"
    assert gateway.upstream_calls("orange") == 0


@pytest.mark.parametrize("bad", ["a/b", "..", "x?y=1", "x#y", "%2e%2e", "a\\b", ""])
async def test_hostile_project_id_never_reaches_the_upstream(gateway: Gateway, bad: str) -> None:
    query = "{ orangeJobs(projectId: $p, first: 1) { totalCount } }".replace(
        "$p", '"' + bad.replace("\\", "\\\\") + '"'
    )
    body = await gateway.post(query)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert gateway.upstream_calls("orange") == 0


@pytest.mark.parametrize(
    "bad_id",
    ["", "nope", "am9iOg", base64.urlsafe_b64encode(b'job:["orange","p","../x"]').decode()],
)
async def test_malformed_node_id_is_bad_user_input(gateway: Gateway, bad_id: str) -> None:
    body = await gateway.post("query($id: ID!) { node(id: $id) { id } }", {"id": bad_id})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert body["data"]["node"] is None


async def test_malformed_query_is_a_coded_error(gateway: Gateway) -> None:
    body = await gateway.post("{ orangeJobs(projectId: ")
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_unknown_field_is_a_coded_error(gateway: Gateway) -> None:
    body = await gateway.post("{ nope }")
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_unknown_source_is_bad_user_input(gateway: Gateway) -> None:
    body = await gateway.post('{ orangeJobs(source: "nope", projectId: "p") { totalCount } }')
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_source_of_another_provider_is_bad_user_input(gateway: Gateway) -> None:
    body = await gateway.post('{ orangeJobs(source: "mf", projectId: "p") { totalCount } }')
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_wrong_edge_impulse_organization_is_bad_user_input(gateway: Gateway) -> None:
    body = await gateway.post(
        "{ edgeImpulseJobs(organizationId: 999, projectId: 1) { totalCount } }"
    )
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert gateway.upstream_calls("edge_impulse") == 0


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"[" * 30_000 + b"]" * 30_000, "Unable to parse request body as JSON"),
        (
            b'{"query": "{ sources { name } }", "variables": {"v": '
            + b"[" * 20_000
            + b"]" * 20_000
            + b"}}",
            "Unable to parse request body as JSON",
        ),
        (b"\xff\xfe{", "Unable to parse request body as JSON"),
        (b'{"query": "{ sources { name } }"', "Unable to parse request body as JSON"),
        (b'"{ sources { name } }"', "the request body must be a JSON object"),
        (b"42", "the request body must be a JSON object"),
        (b"null", "the request body must be a JSON object"),
    ],
    ids=["deep-body", "deep-variables", "not-utf8", "cut-short", "string", "number", "null"],
)
async def test_an_unreadable_json_body_is_a_coded_400(
    gateway: Gateway, body: bytes, message: str
) -> None:
    response = await gateway.client.post(
        "/graphql", data=body, headers={"Content-Type": "application/json"}
    )
    assert response.status == 400
    reply = await response.json()
    assert reply["errors"] == [{"message": message, "extensions": {"code": "BAD_USER_INPUT"}}]


async def test_json_only_the_standard_library_reads_still_works(gateway: Gateway) -> None:
    # NaN and a 100-digit integer: orjson refuses both; the variable's coercion answers.
    for value in (b"NaN", b"1" * 100):
        response = await gateway.client.post(
            "/graphql",
            data=b'{"query": "query($n: Int) { workflowJobs(first: $n) { totalCount } }", '
            b'"variables": {"n": ' + value + b"}}",
            headers={"Content-Type": "application/json"},
        )
        assert response.status == 200
        reply = await response.json()
        assert reply["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
        assert "Int cannot represent" in reply["errors"][0]["message"]

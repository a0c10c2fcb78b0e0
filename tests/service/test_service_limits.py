"""Demand control: depth, aliases, tokens and cost are refused with QUERY_TOO_COMPLEX before any
upstream call; body size, introspection and CORS are configurable."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import get_introspection_query

from tests.providers import PROVIDERS
from tests.service.conftest import ADMIN_TOKEN, Service


def no_upstream_calls(service: Service) -> bool:
    return all(service.upstream_calls(p) == 0 for p in PROVIDERS)


@pytest.fixture
def server_settings() -> dict[str, Any]:
    return {"max_depth": 4, "max_aliases": 3, "max_tokens": 60, "max_cost": 60}


async def test_a_query_deeper_than_max_depth_is_refused_before_any_upstream_call(
    service: Service,
) -> None:
    reply = await service.graphql(
        "{ workflowJobs(first: 1) { nodes { ... on WorkflowJob "
        "{ currentStep { singleStep { stepTitle } } } } } }"
    )
    assert reply.codes == ["QUERY_TOO_COMPLEX"]
    assert "5 fields deep" in reply.body["errors"][0]["message"]
    assert reply.body["data"] is None
    assert no_upstream_calls(service)


async def test_a_query_at_max_depth_runs(service: Service) -> None:
    reply = await service.graphql(
        "{ workflowJobs(first: 1) { nodes { ... on WorkflowJob { currentStep { reportStep } } } } }"
    )
    assert "errors" not in reply.body, reply.body


async def test_more_aliases_than_max_aliases_are_refused_before_any_upstream_call(
    service: Service,
) -> None:
    reply = await service.graphql(
        "{ a: sources { name } b: sources { name } c: sources { name } d: sources { name } }"
    )
    assert reply.codes == ["QUERY_TOO_COMPLEX"]
    assert "4 aliases" in reply.body["errors"][0]["message"]
    assert no_upstream_calls(service)


async def test_more_tokens_than_max_tokens_are_refused_before_any_upstream_call(
    service: Service,
) -> None:
    names = " ".join(["name"] * 60)
    reply = await service.graphql(f"{{ workflowJobs(first: 1) {{ nodes {{ {names} }} }} }}")
    assert reply.codes == ["QUERY_TOO_COMPLEX"]
    assert "more than 60 tokens" in reply.body["errors"][0]["message"]
    assert no_upstream_calls(service)


async def test_comments_do_not_count_as_tokens(service: Service) -> None:
    comment = "# " + "padding " * 50 + "\n"
    reply = await service.graphql(comment * 10 + "{ sources { name } }")
    assert "errors" not in reply.body, reply.body


async def test_cost_multiplies_the_selection_by_first_from_a_variable(service: Service) -> None:
    query = "query($n: Int) { workflowJobs(first: $n) { nodes { id name status nativeId } } }"
    # 1 + n * (1 + 4): 56 for n = 11 is within 60, 61 for n = 12 is not.
    assert "errors" not in (await service.graphql(query, {"n": 11})).body
    service.reset_counts()
    reply = await service.graphql(query, {"n": 12})
    assert reply.codes == ["QUERY_TOO_COMPLEX"]
    assert "may cost 61" in reply.body["errors"][0]["message"]
    assert no_upstream_calls(service)


async def test_cost_counts_a_connection_without_first_or_last_as_a_full_page(
    service: Service,
) -> None:
    # max_page_size is 100: 1 + 100 * (1 + 1) is over 60 although no `first` is given.
    reply = await service.graphql("{ workflowJobs { nodes { id } } }")
    assert reply.codes == ["QUERY_TOO_COMPLEX"]
    assert no_upstream_calls(service)


async def test_cost_multiplies_nodes_by_the_number_of_ids(service: Service) -> None:
    ids = [f"id-{i}" for i in range(30)]
    reply = await service.graphql(
        "query($ids: [ID!]!) { nodes(ids: $ids) { id ... on Job { name } } }", {"ids": ids}
    )
    assert reply.codes == ["QUERY_TOO_COMPLEX"]


class TestDefaults:
    @pytest.fixture
    def server_settings(self) -> dict[str, Any]:
        return {}

    async def test_graphiqls_introspection_query_is_within_the_default_limits(
        self, service: Service
    ) -> None:
        query = get_introspection_query(
            descriptions=True, specified_by_url=True, directive_is_repeatable=True
        )
        reply = await service.graphql(query)
        assert "errors" not in reply.body
        assert reply.body["data"]["__schema"]["queryType"]["name"] == "Query"

    async def test_a_full_page_of_a_rich_query_is_within_the_default_limits(
        self, service: Service
    ) -> None:
        project = service.suite.projects("orange")[0]
        reply = await service.graphql(
            "query($p: String!) { orangeJobs(projectId: $p, first: 100) { totalCount "
            "pageInfo { hasNextPage endCursor } edges { cursor node { id name status rawStatus "
            "createdAt startedAt finishedAt durationSeconds messages { code message } } } } }",
            {"p": project},
        )
        assert "errors" not in reply.body, reply.body

    async def test_first_above_max_page_size_stays_bad_user_input(self, service: Service) -> None:
        reply = await service.graphql("{ workflowJobs(first: 1000) { totalCount } }")
        assert reply.codes == ["BAD_USER_INPUT"]


class TestBodySize:
    @pytest.fixture
    def server_settings(self) -> dict[str, Any]:
        return {"max_body_bytes": 2048}

    async def test_a_body_over_max_body_bytes_is_a_coded_413(self, service: Service) -> None:
        reply = await service.graphql("{ sources { name } }", {"pad": "x" * 4096})
        assert reply.status == 413
        assert reply.codes == ["QUERY_TOO_COMPLEX"]
        assert "2048-byte limit" in reply.body["errors"][0]["message"]

    async def test_a_chunked_body_over_max_body_bytes_is_a_coded_413(
        self, service: Service
    ) -> None:
        async def chunks() -> Any:
            yield b'{"query": "{ sources { name } }", "variables": {"pad": "'
            for _ in range(8):
                yield b"x" * 512
            yield b'"}}'

        reply = await service.request(
            "POST",
            "/graphql",
            token=ADMIN_TOKEN,
            headers={"Content-Type": "application/json"},
            data=chunks(),
        )
        assert reply.status == 413
        assert reply.codes == ["QUERY_TOO_COMPLEX"]


class TestIntrospectionOff:
    @pytest.fixture
    def server_settings(self) -> dict[str, Any]:
        return {"introspection": False}

    async def test_introspection_can_be_turned_off(self, service: Service) -> None:
        reply = await service.graphql("{ __schema { queryType { name } } }")
        assert reply.body.get("data") is None
        assert set(reply.codes) == {"BAD_USER_INPUT"}
        assert "introspection has been disabled" in reply.body["errors"][0]["message"]

    async def test_typename_still_works_with_introspection_off(self, service: Service) -> None:
        reply = await service.graphql("{ __typename }")
        assert reply.body == {"data": {"__typename": "Query"}}


class TestCors:
    @pytest.fixture
    def server_settings(self) -> dict[str, Any]:
        return {"cors_origins": ["https://dash.example.com"]}

    async def test_a_preflight_from_an_allowed_origin_is_answered_without_a_token(
        self, service: Service
    ) -> None:
        reply = await service.request(
            "OPTIONS",
            "/graphql",
            headers={
                "Origin": "https://dash.example.com",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization, content-type",
            },
        )
        assert reply.status == 204
        assert reply.headers["Access-Control-Allow-Origin"] == "https://dash.example.com"
        assert "POST" in reply.headers["Access-Control-Allow-Methods"]
        assert "Authorization" in reply.headers["Access-Control-Allow-Headers"]

    async def test_a_preflight_from_another_origin_is_refused(self, service: Service) -> None:
        reply = await service.request(
            "OPTIONS",
            "/graphql",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
        )
        assert reply.status == 403
        assert "Access-Control-Allow-Origin" not in reply.headers

    async def test_responses_to_an_allowed_origin_are_readable_by_it(
        self, service: Service
    ) -> None:
        allowed = await service.graphql(
            "{ sources { name } }", headers={"Origin": "https://dash.example.com"}
        )
        assert allowed.headers["Access-Control-Allow-Origin"] == "https://dash.example.com"
        assert "X-Request-Id" in allowed.headers["Access-Control-Expose-Headers"]
        other = await service.graphql(
            "{ sources { name } }", headers={"Origin": "https://evil.example"}
        )
        assert "Access-Control-Allow-Origin" not in other.headers

    @pytest.mark.parametrize(
        "origin",
        [
            None,  # a client outside a browser
            "https://dash.example.com",  # listed in cors_origins
            "same-host",  # a page of the gateway's own host (GraphiQL)
        ],
    )
    async def test_a_websocket_opens_for_no_origin_its_own_host_or_an_allowed_origin(
        self, service: Service, origin: str | None
    ) -> None:
        host = service.url.removeprefix("http://")
        headers = (
            {} if origin is None else {"Origin": origin.replace("same-host", f"http://{host}")}
        )
        async with service.http.ws_connect(
            service.graphql_url, protocols=["graphql-transport-ws"], headers=headers
        ) as ws:
            auth = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
            await ws.send_json({"type": "connection_init", "payload": auth})
            assert (await ws.receive_json(timeout=10))["type"] == "connection_ack"

    async def test_a_websocket_from_another_origin_is_refused_before_it_opens(
        self, service: Service
    ) -> None:
        # Outside CORS, a page of any origin could open a socket and read what it answers.
        reply = await service.request(
            "GET",
            "/graphql",
            headers={
                "Origin": "https://evil.example",
                "Connection": "Upgrade",
                "Upgrade": "websocket",
                "Sec-WebSocket-Version": "13",
                "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
                "Sec-WebSocket-Protocol": "graphql-transport-ws",
            },
        )
        assert reply.status == 403
        assert reply.codes == ["FORBIDDEN"]
        assert "evil.example" in reply.body["errors"][0]["message"]

    async def test_an_unauthenticated_answer_is_still_readable_by_an_allowed_origin(
        self, service: Service
    ) -> None:
        reply = await service.graphql(
            "{ sources { name } }", token=None, headers={"Origin": "https://dash.example.com"}
        )
        assert reply.status == 401
        assert reply.headers["Access-Control-Allow-Origin"] == "https://dash.example.com"

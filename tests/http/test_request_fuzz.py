"""No request body, Accept header or query string gets a 5xx or a plain-text answer: random
JSON bodies (every member of every JSON type, arrays, nested junk) and random GET query
strings all get a coded GraphQL error, or data, with the status the spec gives them."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import ClientResponse
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from resolvers.errors import ErrorCode
from tests.conftest import Gateway

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
CODES = {code.value for code in ErrorCode}
MEMBERS = ("query", "operationName", "variables", "extensions")

FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

junk: st.SearchStrategy[Any] = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
queries = st.sampled_from(
    [
        "{ __typename }",
        "query Q { __typename }",
        "query A { __typename } query B { __typename }",
        "query($n: Int) { workflowJobs(first: $n) { totalCount } }",
        "query($n: Int!) { workflowJobs(first: $n) { pageInfo { hasNextPage } } }",
        "mutation { x }",
        "subscription { x }",
        "fragment F on Query { __typename }",
        "{ nope }",
        "{",
        "",
    ]
) | st.text(max_size=40)
names = st.sampled_from(["Q", "A", "B", "", "True"]) | st.text(max_size=10)
variable_maps = st.dictionaries(st.sampled_from(["n", "x", ""]), junk, max_size=3)
accepts = st.one_of(
    st.none(),
    st.sampled_from(
        [JSON, GRAPHQL_RESPONSE, "*/*", f"{GRAPHQL_RESPONSE}, {JSON};q=0.9", "text/plain"]
    ),
    st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=60),
)
# Each member: absent, a plausible value, or anything at all.
plausible = {
    "query": queries,
    "operationName": st.none() | names,
    "variables": st.none() | variable_maps,
    "extensions": st.none() | variable_maps,
}


@st.composite
def bodies(draw: st.DrawFn) -> Any:
    if draw(st.integers(0, 9)) == 0:
        return draw(junk)  # not an object at all
    body: dict[str, Any] = draw(st.dictionaries(st.text(max_size=8), junk, max_size=2))
    for member in MEMBERS:
        choice = draw(st.integers(0, 3))
        if choice == 1:
            body[member] = draw(plausible[member])
        elif choice >= 2:
            body[member] = draw(plausible[member] if choice == 2 else junk)
    return body


def well_formed_body(body: Any) -> bool:
    """The GraphQL-over-HTTP spec's well-formed request (batches are not served)."""
    return (
        isinstance(body, dict)
        and isinstance(body.get("query"), str)
        and body["query"] != ""
        and isinstance(body.get("operationName"), str | None)
        and isinstance(body.get("variables"), dict | None)
        and isinstance(body.get("extensions"), dict | None)
    )


async def assert_coded_graphql_answer(
    response: ClientResponse, accept: str | None, well_formed: bool
) -> None:
    """A GraphQL response in a JSON media type, with coded errors and the spec's status."""
    assert response.status < 500, await response.text()
    assert response.content_type in (JSON, GRAPHQL_RESPONSE), response.content_type
    if response.content_type == GRAPHQL_RESPONSE:
        assert "graphql-response" in (accept or "").lower()
    body = await response.json(content_type=None)
    assert isinstance(body, dict) and ("data" in body or "errors" in body), body
    for error in body.get("errors", []):
        assert isinstance(error["message"], str)
        assert error["extensions"]["code"] in CODES, error
    if response.status == 405:
        return  # a mutation or subscription on GET
    if not well_formed:
        assert response.status == 400, body
        assert "data" not in body
    elif response.content_type == GRAPHQL_RESPONSE:
        assert response.status == (200 if "data" in body else 400), body
        assert "data" in body or body["errors"]
    else:
        assert response.status == 200, body
        assert "data" in body


@FUZZ
@given(body=bodies(), accept=accepts)
@example(body={"query": "subscription { x }"}, accept=None)  # hypothesis found: was a 400
async def test_any_json_body_gets_a_coded_graphql_answer(
    gateway: Gateway, body: Any, accept: str | None
) -> None:
    headers = {"Content-Type": JSON, **({} if accept is None else {"Accept": accept})}
    response = await gateway.client.post("/graphql", data=json.dumps(body), headers=headers)
    await assert_coded_graphql_answer(response, accept, well_formed_body(body))


def json_text_of_object_or_null(text: str | None) -> bool:
    """A GET's `variables` or `extensions`: absent, empty, or the JSON text of a map or null."""
    if not text:
        return True
    try:
        return isinstance(json.loads(text), dict | None)
    except ValueError:
        return False


parameter_values = st.one_of(
    queries, names, junk.map(json.dumps), st.text(max_size=30), st.just("")
)


@FUZZ
@given(
    pairs=st.lists(st.tuples(st.sampled_from([*MEMBERS, "other"]), parameter_values), max_size=6),
    accept=st.sampled_from([None, JSON, GRAPHQL_RESPONSE, f"{GRAPHQL_RESPONSE}, {JSON}"]),
)
async def test_any_get_query_string_gets_a_coded_graphql_answer(
    gateway: Gateway, pairs: list[tuple[str, str]], accept: str | None
) -> None:
    # Without `query` and with a browser's Accept, GET /graphql is GraphiQL: not sent here.
    headers = {"Accept": accept or JSON}
    response = await gateway.client.get("/graphql", params=pairs, headers=headers)
    given_names = [name for name, _ in pairs]
    values = dict(reversed(pairs))  # the first of each name
    well_formed = (
        all(given_names.count(name) <= 1 for name in MEMBERS)
        and bool(values.get("query"))
        and json_text_of_object_or_null(values.get("variables"))
        and json_text_of_object_or_null(values.get("extensions"))
    )
    await assert_coded_graphql_answer(response, headers["Accept"], well_formed)

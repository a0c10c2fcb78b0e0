"""Property tests: whatever arguments a caller sends, the gateway answers with data or coded
errors — never a 5xx, an INTERNAL error, a malformed body or a credential."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulators import SimulatorSuite
from tests.conftest import Gateway
from tests.providers import PROVIDERS, demo_source, enum_value
from tests.resilience.conftest import DESIGN_CODES

EXAMPLES = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
SUITE = SimulatorSuite()
STATUSES = ["QUEUED", "RUNNING", "PAUSED", "SUCCEEDED", "FAILED", "CANCELED", "UNKNOWN"]
ENUM_VALUES = [enum_value(p) for p in PROVIDERS]
SOURCES = [demo_source(p) for p in PROVIDERS]

texts = st.text(max_size=40) | st.sampled_from(
    ["", " ", "%", "../..", "a/b", "?x=1", "#", "\x00", "ß", "İ", "' OR 1=1 --", "${jndi:x}"]
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=8,
)
ints = st.integers(min_value=-(2**40), max_value=2**40) | st.sampled_from([0, 1, 100, 101, -1])
maybe_ints = st.none() | ints
cursors = st.none() | texts | st.binary(max_size=60).map(lambda b: b.hex()) | json_values


def project_ids(provider: str) -> st.SearchStrategy[Any]:
    return st.sampled_from(SUITE.projects(provider)[:2]) | texts | json_values


def window() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {},
        optional={
            "first": maybe_ints | json_values,
            "last": maybe_ints,
            "after": cursors,
            "before": cursors,
        },
    )


WINDOW_VARS = "$first: Int, $after: String, $last: Int, $before: String"
WINDOW_ARGS = "first: $first, after: $after, last: $last, before: $before"


def case(query: str, fixed: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
    return st.tuples(st.just(query), st.fixed_dictionaries(fixed), window())


filters = (
    st.none()
    | json_values
    | st.fixed_dictionaries(
        {},
        optional={
            "status": st.lists(st.sampled_from(STATUSES) | texts, max_size=3) | json_values,
            "providers": st.lists(st.sampled_from(ENUM_VALUES) | texts, max_size=3),
            "search": st.none() | texts,
            "createdAfter": st.none() | texts | st.just("2024-01-01T00:00:00Z"),
            "createdBefore": st.none() | texts | st.just("9999-12-31T23:59:59Z"),
        },
    )
)

CASES = st.one_of(
    case(
        f"query($sources: [String!], $filter: JobFilter, $orderBy: JobOrder, {WINDOW_VARS}) {{ "
        f"jobs(sources: $sources, filter: $filter, orderBy: $orderBy, {WINDOW_ARGS}) {{ "
        "totalCount pageInfo { hasNextPage endCursor } failures { source code } "
        "nodes { id source nativeId status } } }",
        {
            "sources": st.none() | st.lists(st.sampled_from(SOURCES) | texts, max_size=3),
            "filter": filters,
            "orderBy": st.none() | st.sampled_from(["CREATED_AT_DESC", "CREATED_AT_ASC"]) | texts,
        },
    ),
    case(
        f"query($project: String!, $states: [OrangeJobState!], $sort: String, {WINDOW_VARS}) {{ "
        f"orangeJobs(projectId: $project, states: $states, sort: $sort, {WINDOW_ARGS}) {{ "
        "totalCount nodes { nativeId } } }",
        {
            "project": project_ids("orange"),
            "states": st.none() | st.lists(texts, max_size=3),
            "sort": st.none()
            | texts
            | st.sampled_from(["-createdDate", "createdDate", "state", "-", "+x"]),
        },
    ),
    case(
        f"query($project: String!, $q: String, $sort: String, {WINDOW_VARS}) {{ "
        f"metafoldJobs(projectId: $project, q: $q, sort: $sort, {WINDOW_ARGS}) {{ "
        "totalCount nodes { nativeId } } }",
        {
            "project": project_ids("metafold"),
            "q": st.none() | texts | json_values,
            "sort": st.none() | texts | st.sampled_from(["created:desc", "name:asc", "x:y:z"]),
        },
    ),
    case(
        "query($project: String!, $status: Int, $search: String, $sortBy: ModelArtsSortField, "
        f"$order: SortOrder, $workspaceId: String, {WINDOW_VARS}) {{ "
        "modelArtsJobs(projectId: $project, status: $status, search: $search, sortBy: $sortBy, "
        f"order: $order, workspaceId: $workspaceId, {WINDOW_ARGS}) {{ "
        "totalCount nodes { nativeId } } }",
        {
            "project": project_ids("modelarts"),
            "status": maybe_ints | json_values,
            "search": st.none() | texts,
            "sortBy": st.none() | texts,
            "order": st.none() | st.sampled_from(["ASC", "DESC"]) | texts,
            "workspaceId": st.none() | texts | st.just("0"),
        },
    ),
    case(
        f"query($org: Int!, $project: Int!, {WINDOW_VARS}) {{ "
        f"edgeImpulseJobs(organizationId: $org, projectId: $project, {WINDOW_ARGS}) {{ "
        "totalCount nodes { nativeId } } }",
        {
            "org": ints | json_values,
            "project": st.sampled_from([int(p) for p in SUITE.projects("edge_impulse")[:2]])
            | ints
            | json_values,
        },
    ),
    case(
        f"query({WINDOW_VARS}) {{ workflowJobs({WINDOW_ARGS}) {{ nodes {{ nativeId }} }} }}",
        {},
    ),
    st.tuples(
        st.just(
            "query($id: ID!, $ids: [ID!]!) { node(id: $id) { id } job(id: $id) { id } "
            "nodes(ids: $ids) { id } }"
        ),
        st.fixed_dictionaries({"id": texts | json_values, "ids": st.lists(texts, max_size=4)}),
        st.just({}),
    ),
)


@pytest.fixture
def source_settings() -> dict[str, Any]:
    """The default deadlines: no faults here, so nothing should time out."""
    return {}


async def assert_well_behaved(gateway: Gateway, query: str, variables: dict[str, Any]) -> None:
    response = await gateway.client.post("/graphql", json={"query": query, "variables": variables})
    raw = await response.read()
    assert response.status < 500, raw[:500]
    body = orjson.loads(raw)
    assert isinstance(body, dict)
    assert "data" in body or "errors" in body
    for error in body.get("errors") or []:
        code = error["extensions"]["code"]
        assert code in DESIGN_CODES, error
        assert code != "INTERNAL", error
        assert "Traceback" not in error["message"]
    text = raw.decode()
    for secret in gateway.suite.demo_environ().values():
        assert secret not in text


@EXAMPLES
@given(case=CASES)
async def test_hostile_arguments_get_data_or_coded_errors(
    gateway: Gateway, case: tuple[str, dict[str, Any], dict[str, Any]]
) -> None:
    query, fixed, paging = case
    await assert_well_behaved(gateway, query, {**fixed, **paging})


@EXAMPLES
@given(cursor=texts, mutation=st.integers(min_value=0, max_value=200), char=st.characters())
async def test_tampered_real_cursors_get_data_or_coded_errors(
    gateway: Gateway, cursor: str, mutation: int, char: str
) -> None:
    query = (
        "query($after: String) { jobs(first: 3, after: $after) "
        "{ pageInfo { endCursor } nodes { id } } }"
    )
    body = await gateway.post(query, {"after": None})
    real = body["data"]["jobs"]["pageInfo"]["endCursor"] or ""
    at = mutation % (len(real) + 1)
    tampered = real[:at] + char + real[at + 1 :] + cursor
    await assert_well_behaved(gateway, query, {"after": tampered})


async def test_unknown_enum_value_in_a_variable_is_bad_user_input(gateway: Gateway) -> None:
    body = await gateway.post(
        "query($order: JobOrder) { jobs(orderBy: $order, first: 1) { nodes { id } } }",
        {"order": "SIDEWAYS"},
    )
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"]


async def test_unparsable_datetime_in_a_variable_is_bad_user_input(gateway: Gateway) -> None:
    body = await gateway.post(
        "query($filter: JobFilter) { jobs(filter: $filter, first: 1) { nodes { id } } }",
        {"filter": {"createdAfter": "yesterday-ish"}},
    )
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"]
